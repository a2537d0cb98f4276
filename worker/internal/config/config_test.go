package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestPrecedence(t *testing.T) {
	t.Setenv("LOGTIDE_CONCURRENCY", "3")
	t.Setenv("LOGTIDE_ES_URL", "http://a:9200,http://b:9200")
	t.Setenv("LOGTIDE_EXIT_WHEN_IDLE", "5s")
	var c Run
	f := RunFlags(&c)
	if err := f.Parse([]string{"--queue-url", "http://q", "--concurrency", "7"}); err != nil {
		t.Fatal(err)
	}
	if c.Concurrency != 7 {
		t.Errorf("flag did not win over env: %d", c.Concurrency)
	}
	if strings.Join(c.ESURLs, " ") != "http://a:9200 http://b:9200" {
		t.Errorf("env list: %v", c.ESURLs)
	}
	if c.ExitWhenIdle != 5*time.Second || c.IndexPrefix != "guardduty" || !c.InstallTemplate {
		t.Errorf("env or defaults lost: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("valid config rejected: %v", err)
	}
}

func TestListFlagReplacesEnv(t *testing.T) {
	t.Setenv("LOGTIDE_ES_URL", "http://env:9200")
	var c Run
	f := RunFlags(&c)
	if err := f.Parse([]string{"--es-url", "http://flag1:9200", "--es-url", "http://flag2:9200"}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.ESURLs, " ") != "http://flag1:9200 http://flag2:9200" {
		t.Errorf("got %v", c.ESURLs)
	}
}

func TestRepeatedListReplacesDefault(t *testing.T) {
	var c Run
	f := RunFlags(&c)
	if err := f.Parse([]string{"--es-url", "https://x:443", "--es-url", "https://y:443"}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.ESURLs, " ") != "https://x:443 https://y:443" {
		t.Errorf("got %v", c.ESURLs)
	}
}

func TestBadEnvIsAnError(t *testing.T) {
	t.Setenv("LOGTIDE_CONCURRENCY", "many")
	var c Run
	err := RunFlags(&c).Parse(nil)
	if err == nil || !strings.Contains(err.Error(), "LOGTIDE_CONCURRENCY") {
		t.Errorf("got %v", err)
	}
}

func TestValidate(t *testing.T) {
	var c Run
	if err := RunFlags(&c).Parse([]string{"--es-url", "ftp://x", "--es-url", "https://user:secret@host", "--concurrency", "0", "--wait-time", "30s", "--log-level", "loud"}); err != nil {
		t.Fatal(err)
	}
	err := c.Validate()
	for _, want := range []string{"--queue-url is required", `"ftp://x"`, "credentials in the URL", "--concurrency 0", "--wait-time 30s", "--log-level"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "secret") {
		t.Error("the error repeats a password")
	}
}

func TestValidateIndexNames(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // "" for valid
	}{
		{nil, ""},
		{[]string{"--index-prefix", "gd", "--dead-letter-index", "gd-deadletter"}, `--dead-letter-index "gd-deadletter": must lie outside the findings' gd-* indices`},
		{[]string{"--index-prefix", "gd.v2", "--dead-letter-index", "gd.v2-deadletter"}, "outside the findings' gd.v2-* indices"},
		{[]string{"--index-prefix", "gd.v2", "--dead-letter-index", "gd-deadletter"}, ""},
		{[]string{"--index-prefix", ""}, `--index-prefix "": empty`},
		{[]string{"--index-prefix", "GuardDuty"}, `--index-prefix "GuardDuty": must be lower case`},
		{[]string{"--index-prefix", "_gd"}, `--index-prefix "_gd": must not start`},
		{[]string{"--dead-letter-index", "dead letters"}, `--dead-letter-index "dead letters": must contain none of`},
		{[]string{"--dead-letter-index", ""}, `--dead-letter-index "": empty`},
	} {
		var c Run
		args := append([]string{"--queue-url", "https://sqs.eu-west-1.amazonaws.com/1/q"}, tc.args...)
		if err := RunFlags(&c).Parse(args); err != nil {
			t.Fatal(err)
		}
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.args, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: got %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestHelpListsEveryOptionWithEnv(t *testing.T) {
	var c Run
	f := RunFlags(&c)
	if err := f.Parse([]string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("got %v", err)
	}
	var b bytes.Buffer
	f.PrintUsage(&b)
	n := 0
	f.fs.VisitAll(func(fl *flag.Flag) {
		n++
		line := ""
		for _, l := range strings.Split(b.String(), "\n") {
			if strings.Contains(l, "--"+fl.Name+" ") {
				line = l
			}
		}
		if !strings.Contains(line, "$LOGTIDE_") || !strings.Contains(line, "(default ") {
			t.Errorf("--%s: help line %q lacks its environment variable or default", fl.Name, line)
		}
	})
	if n < 14 {
		t.Errorf("only %d options", n)
	}
}

func TestSearchConnectionOptions(t *testing.T) {
	t.Setenv("LOGTIDE_ES_USERNAME", "logtide")
	t.Setenv("LOGTIDE_ES_PASSWORD", "hunter2-secret")
	t.Setenv("LOGTIDE_ES_CA_FILE", "/etc/ca.pem")
	var c Run
	if err := RunFlags(&c).Parse([]string{"--queue-url", "http://q"}); err != nil {
		t.Fatal(err)
	}
	if c.ESUsername != "logtide" || c.ESPassword != "hunter2-secret" || c.ESCAFile != "/etc/ca.pem" {
		t.Errorf("environment not read: %q %q", c.ESUsername, c.ESCAFile)
	}
	if c.ESSigV4 || c.ESInsecureSkipVerify || c.ESSigV4Service != "es" || c.ESRegion != "" {
		t.Errorf("defaults: sigv4=%v insecure=%v service=%q region=%q", c.ESSigV4, c.ESInsecureSkipVerify, c.ESSigV4Service, c.ESRegion)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("valid config rejected: %v", err)
	}
	if s := fmt.Sprintf("%v %+v", c, c); strings.Contains(s, "hunter2") {
		t.Errorf("printing the options shows the password: %s", s)
	}
}

func TestSearchConnectionValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"sigv4 and username", map[string]string{"LOGTIDE_ES_PASSWORD": "hunter2-secret"}, []string{"--es-sigv4", "--es-username", "u"}, "mutually exclusive"},
		{"sigv4 and password file", nil, []string{"--es-sigv4", "--es-password-file", "/run/secrets/pw"}, "mutually exclusive"},
		{"unknown service", nil, []string{"--es-sigv4", "--es-sigv4-service", "s3"}, `--es-sigv4-service "s3"`},
		{"password env and file", map[string]string{"LOGTIDE_ES_PASSWORD": "hunter2-secret"}, []string{"--es-username", "u", "--es-password-file", "/f"}, "both set"},
		{"password without user", map[string]string{"LOGTIDE_ES_PASSWORD": "hunter2-secret"}, nil, "without --es-username"},
		{"user without password", nil, []string{"--es-username", "u"}, "--es-username needs"},
		{"ca and skip verify", nil, []string{"--es-ca-file", "/ca.pem", "--es-insecure-skip-verify"}, "contradict"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("LOGTIDE_ES_PASSWORD", "") // the caller's environment must not leak in
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var r Run
			if err := RunFlags(&r).Parse(append([]string{"--queue-url", "http://q"}, c.args...)); err != nil {
				t.Fatal(err)
			}
			err := r.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want %q", err, c.want)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error repeats the password: %v", err)
			}
		})
	}
	var r Run
	if err := RunFlags(&r).Parse([]string{"--queue-url", "http://q", "--es-sigv4", "--es-sigv4-service", "aoss", "--es-region", "eu-west-1"}); err != nil {
		t.Fatal(err)
	}
	if err := r.Validate(); err != nil {
		t.Errorf("SigV4 for aoss rejected: %v", err)
	}
}

func TestHelpNamesPasswordEnv(t *testing.T) {
	var c Run
	var b bytes.Buffer
	RunFlags(&c).PrintUsage(&b)
	if !strings.Contains(b.String(), "$LOGTIDE_ES_PASSWORD ") && !strings.Contains(b.String(), "$LOGTIDE_ES_PASSWORD or") {
		t.Errorf("help does not say where the password comes from:\n%s", b.String())
	}
}
