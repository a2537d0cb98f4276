package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/internal/metrics"
)

func healthcheck(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"healthcheck"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestHealthcheck(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			t.Errorf("method %s", r.Method)
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/down", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/created", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/healthz", http.StatusFound)
	})
	mux.HandleFunc("/slow", func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"200", []string{"--url", srv.URL + "/healthz"}, 0, ""},
		{"503", []string{"--url", srv.URL + "/down"}, 1, "503"},
		{"2xx other than 200", []string{"--url", srv.URL + "/created"}, 1, "204"},
		{"redirect not followed", []string{"--url", srv.URL + "/moved"}, 1, "302"},
		{"timeout", []string{"--url", srv.URL + "/slow", "--timeout", "100ms"}, 1, "unhealthy"},
		{"not an http URL", []string{"--url", "ftp://x/healthz"}, 1, "--url"},
		{"bad timeout", []string{"--url", srv.URL + "/healthz", "--timeout", "0s"}, 1, "--timeout"},
		// Docker reserves exit status 2 in health checks: bad options are 1.
		{"unknown option", []string{"--nope"}, 1, "nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			code, stdout, stderr := healthcheck(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.msg) {
				t.Errorf("stderr %q lacks %q", stderr, tc.msg)
			}
			if code == 0 && strings.TrimSpace(stdout) != "ok" {
				t.Errorf("stdout %q", stdout)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}

func TestHealthcheckConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more
	code, _, stderr := healthcheck(t, "--url", "http://"+addr+"/healthz")
	if code != 1 || !strings.Contains(stderr, "unhealthy") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestHealthcheckEnvironment(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/custom" {
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	t.Setenv("LOGTIDE_HEALTHCHECK_URL", srv.URL+"/custom")
	t.Setenv("LOGTIDE_HEALTHCHECK_TIMEOUT", "1s")
	if code, _, stderr := healthcheck(t); code != 0 {
		t.Errorf("exit %d with the URL from the environment: %s", code, stderr)
	}
	// The command line wins over the environment.
	if code, _, _ := healthcheck(t, "--url", srv.URL+"/other"); code != 1 {
		t.Errorf("exit %d, want 1 for the flag's URL (404)", code)
	}
}

func TestHealthcheckHelp(t *testing.T) {
	code, stdout, _ := healthcheck(t, "--help")
	if code != 0 || !strings.Contains(stdout, "$LOGTIDE_HEALTHCHECK_URL") || !strings.Contains(stdout, "http://127.0.0.1:9108/healthz") {
		t.Errorf("exit %d, help %q", code, stdout)
	}
}

// TestHealthcheckAgainstWorkerServer probes the handler `worker run` really
// serves, so the default path and the expected status stay in step with it.
func TestHealthcheckAgainstWorkerServer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- serveHTTP(ctx, "127.0.0.1:0", metrics.New("test").Handler(nil), 30*time.Second, func(a net.Addr) { addr <- a })
	}()
	var a net.Addr
	select {
	case a = <-addr:
	case err := <-done:
		t.Fatal(err)
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	if code, _, stderr := healthcheck(t, "--url", "http://"+a.String()+"/healthz"); code != 0 {
		t.Errorf("exit %d: %s", code, stderr)
	}
}
