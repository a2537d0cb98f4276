package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/guardduty"
)

func TestPrecedence(t *testing.T) {
	t.Setenv("LOGTIDE_CONCURRENCY", "3")
	t.Setenv("LOGTIDE_ES_URL", "http://a:9200,http://b:9200")
	t.Setenv("LOGTIDE_EXIT_WHEN_IDLE", "5s")
	t.Setenv("LOGTIDE_INDEX_TIME_ZONE", "Asia/Tokyo")
	t.Setenv("LOGTIDE_ROUTE", "exports/*=guardduty,other/*.gz=guardduty")
	var c Run
	f := RunFlags(&c)
	if err := f.Parse([]string{"--queue-url", "http://q", "--concurrency", "7", "--bulk-max-docs", "50"}); err != nil {
		t.Fatal(err)
	}
	if c.Pipeline.Concurrency != 7 || c.Pipeline.Bulk.MaxDocs != 50 {
		t.Errorf("flags did not win over env: %d %d", c.Pipeline.Concurrency, c.Pipeline.Bulk.MaxDocs)
	}
	if strings.Join(c.Sink.URLs, " ") != "http://a:9200 http://b:9200" {
		t.Errorf("env list: %v", c.Sink.URLs)
	}
	if c.Pipeline.ExitWhenIdle != 5*time.Second || c.Location.String() != "Asia/Tokyo" || fmt.Sprint(c.Routes) != "[exports/*=guardduty other/*.gz=guardduty]" {
		t.Errorf("env lost: %v %v %v", c.Pipeline.ExitWhenIdle, c.Location, c.Routes)
	}
	// The defaults are the packages' own.
	if len(c.IndexPrefixes) != 0 || !c.InstallTemplate || c.Pipeline.Bulk.Concurrency != 4 || c.Pipeline.DeadLetterIndex != "logtide-deadletter" {
		t.Errorf("defaults lost: %+v", c)
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
	if strings.Join(c.Sink.URLs, " ") != "http://flag1:9200 http://flag2:9200" {
		t.Errorf("got %v", c.Sink.URLs)
	}
}

func TestRepeatedListReplacesDefault(t *testing.T) {
	var c Run
	f := RunFlags(&c)
	if err := f.Parse([]string{"--es-url", "https://x:443", "--es-url", "https://y:443"}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Sink.URLs, " ") != "https://x:443 https://y:443" {
		t.Errorf("got %v", c.Sink.URLs)
	}
}

func TestBadEnvIsAnError(t *testing.T) {
	for env, v := range map[string]string{"LOGTIDE_CONCURRENCY": "many", "LOGTIDE_INDEX_TIME_ZONE": "Mars/Olympus", "LOGTIDE_ROUTE": "no-format"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, v)
			var c Run
			err := RunFlags(&c).Parse(nil)
			if err == nil || !strings.Contains(err.Error(), env) {
				t.Errorf("got %v", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	var c Run
	if err := RunFlags(&c).Parse([]string{"--es-url", "ftp://x", "--es-url", "https://user:secret@host", "--concurrency", "0",
		"--bulk-concurrency", "0", "--wait-time", "30s", "--log-level", "loud", "--dead-letter-index", "Dead"}); err != nil {
		t.Fatal(err)
	}
	err := c.Validate()
	for _, want := range []string{"--queue-url is required", `"ftp://x"`, "credentials in the URL", "concurrency 0", "bulk-concurrency 0",
		"--wait-time 30s", "--log-level", `dead-letter-index "Dead": must be lower case`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "secret") {
		t.Error("the error repeats a password")
	}
}

func TestCheckIndexNames(t *testing.T) {
	gd := func(prefix string) format.Format {
		f, err := guardduty.New(format.Options{IndexPrefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	for _, tc := range []struct {
		prefix, index string
		ok            bool
	}{
		{"guardduty", "logtide-deadletter", true},
		{"gd", "gd-deadletter", false},
		{"gd.v2", "gd.v2-deadletter", false},
		{"gd.v2", "gd-deadletter", true},
		{"gd", "gd", false}, // the prefix itself: its template's pattern is gd-*, but the name is taken
		{"gd", "gdx", true},
	} {
		err := CheckIndexNames(tc.index, []format.Format{gd(tc.prefix)})
		if (err == nil) != tc.ok {
			t.Errorf("prefix %q, dead-letter index %q: %v", tc.prefix, tc.index, err)
		}
		if err != nil && !strings.Contains(err.Error(), "must lie outside the guardduty indices ("+tc.prefix+"-*)") {
			t.Errorf("error %v does not name the pattern", err)
		}
	}
	// Two formats whose indices overlap: a's pattern a-* covers a-b-*.
	if err := CheckIndexNames("dl", []format.Format{gd("a"), gd("a-b")}); err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Errorf("overlapping prefixes: %v", err)
	}
	if err := CheckIndexNames("dl", []format.Format{gd("ab"), gd("a")}); err != nil {
		t.Errorf("ab-* and a-* do not overlap: %v", err)
	}
	// History indices count too.
	hist, err := guardduty.New(format.Options{IndexPrefix: "gd", History: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckIndexNames("history-gd-dl", []format.Format{hist}); err == nil || !strings.Contains(err.Error(), "must lie outside the guardduty history indices (history-gd-*)") {
		t.Errorf("dead-letter index among the history indices: %v", err)
	}
	if err := CheckIndexNames("dl", []format.Format{hist, gd("history")}); err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Errorf("a prefix covering the history indices: %v", err)
	}
}

func TestIndexPrefixes(t *testing.T) {
	var c Run
	if err := RunFlags(&c).Parse([]string{"--index-prefix", "gd", "--index-prefix", "cloudtrail=ct,vpcflow=flow"}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(c.IndexPrefixes) != "map[cloudtrail:ct guardduty:gd vpcflow:flow]" {
		t.Errorf("got %v", c.IndexPrefixes)
	}
	if err := RunFlags(&c).Parse([]string{"--index-prefix", "cloudtrail="}); err == nil {
		t.Error("an empty prefix was accepted")
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
	f.VisitAll(func(fl *flag.Flag) {
		n++
		line := ""
		for _, l := range strings.Split(b.String(), "\n") {
			if strings.HasPrefix(l, "  --"+fl.Name+" ") {
				line = l
			}
		}
		if !strings.Contains(line, "$"+f.Env(fl.Name)+" ") || !strings.Contains(line, "(default ") {
			t.Errorf("--%s: help line %q lacks its environment variable or default", fl.Name, line)
		}
	})
	if n < 25 {
		t.Errorf("only %d options", n)
	}
	if !regexp.MustCompile(`--index-time-zone +\$LOGTIDE_INDEX_TIME_ZONE .*\(default UTC\)`).MatchString(b.String()) {
		t.Errorf("help:\n%s", b.String())
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
	s := c.Search
	if s.Username != "logtide" || s.Password != "hunter2-secret" || s.CAFile != "/etc/ca.pem" {
		t.Errorf("environment not read: %q %q", s.Username, s.CAFile)
	}
	if s.SigV4 || s.InsecureSkipVerify || s.SigV4Service != "es" || s.Region != "" {
		t.Errorf("defaults: sigv4=%v insecure=%v service=%q region=%q", s.SigV4, s.InsecureSkipVerify, s.SigV4Service, s.Region)
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
		{"sigv4 and username", map[string]string{"LOGTIDE_ES_PASSWORD": "hunter2-secret"}, []string{"--es-sigv4", "--es-region", "eu-west-1", "--es-username", "u"}, "mutually exclusive"},
		{"sigv4 and password file", nil, []string{"--es-sigv4", "--es-region", "eu-west-1", "--es-password-file", "/run/secrets/pw"}, "mutually exclusive"},
		{"sigv4 without region", nil, []string{"--es-sigv4"}, "needs a region"},
		{"unknown service", nil, []string{"--es-sigv4", "--es-region", "eu-west-1", "--es-sigv4-service", "s3"}, `service "s3"`},
		{"password env and file", map[string]string{"LOGTIDE_ES_PASSWORD": "hunter2-secret"}, []string{"--es-username", "u", "--es-password-file", "/f"}, "both a password and a password file"},
		{"password without user", map[string]string{"LOGTIDE_ES_PASSWORD": "hunter2-secret"}, nil, "without a username"},
		{"user without password", nil, []string{"--es-username", "u"}, "without a password"},
		{"ca and skip verify", nil, []string{"--es-ca-file", "/ca.pem", "--es-insecure-skip-verify"}, "contradict"},
		{"api key and user", map[string]string{"LOGTIDE_ES_API_KEY": "hunter2-key", "LOGTIDE_ES_PASSWORD": "hunter2-secret"}, []string{"--es-username", "u"}, "API key excludes basic authentication"},
		{"api key env and file", map[string]string{"LOGTIDE_ES_API_KEY": "hunter2-key"}, []string{"--es-api-key-file", "/k"}, "both a key and a key file"},
	} {
		t.Run(c.name, func(t *testing.T) {
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
	// OpenSearch Serverless is refused, with the reason.
	if err := r.Validate(); err == nil || !strings.Contains(err.Error(), "OpenSearch Serverless is not supported") || !strings.Contains(err.Error(), "document ids") {
		t.Errorf("SigV4 for aoss: %v", err)
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

func TestBackfillArguments(t *testing.T) {
	for _, args := range [][]string{
		{"s3://b/p/x", "--since", "2026-01-02", "--until", "2026-01-03"},
		{"--since", "2026-01-02", "s3://b/p/x", "--until", "2026-01-03"},
		{"--since", "2026-01-02", "--until", "2026-01-03", "s3://b/p/x"},
	} {
		var c Backfill
		f := BackfillFlags(&c)
		rest, err := f.ParseArgs(args, 1)
		if err != nil || len(rest) != 1 {
			t.Fatalf("%q: %v %v", args, rest, err)
		}
		if c.Bucket, c.Prefix, err = ParseS3URL(rest[0]); err != nil {
			t.Fatal(err)
		}
		day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
		// --until names its whole day.
		if c.Bucket != "b" || c.Prefix != "p/x" || !c.Since.Equal(day("2026-01-02")) || !c.Until.Equal(day("2026-01-04")) || c.LogLevel != "warn" {
			t.Errorf("%q: %+v", args, c)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%q: %v", args, err)
		}
	}
	var c Backfill
	if _, err := BackfillFlags(&c).ParseArgs([]string{"s3://a", "s3://b"}, 1); err == nil || !strings.Contains(err.Error(), `unexpected argument "s3://b"`) {
		t.Errorf("two sources: %v", err)
	}
	for _, src := range []string{"b/p", "s3://", "https://b"} {
		if _, _, err := ParseS3URL(src); err == nil {
			t.Errorf("source %q accepted", src)
		}
	}
	c = Backfill{}
	f := BackfillFlags(&c)
	if _, err := f.ParseArgs([]string{"--since", "2026-01-05", "--until", "2026-01-05T00:00:00Z"}, 1); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "bucket to load is required") || !strings.Contains(err.Error(), "--since must come before --until") {
		t.Errorf("validate: %v", err)
	}
	if _, err := BackfillFlags(&c).ParseArgs([]string{"--since", "yesterday"}, 1); err == nil {
		t.Error("--since yesterday accepted")
	}
}
