package config

import (
	"bytes"
	"errors"
	"flag"
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
