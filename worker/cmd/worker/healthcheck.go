package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/logtide/logtide/worker/internal/config"
)

// cmdHealthcheck probes the running worker's /healthz. It exists because the
// container image (distroless) has no shell and no curl, while Docker and ECS
// health checks run a command inside the container.
func cmdHealthcheck(ctx context.Context, args []string, stdout, _ io.Writer) error {
	var (
		target  string
		timeout time.Duration
	)
	f := config.NewFlags("healthcheck", "LOGTIDE_HEALTHCHECK_", "GET the health endpoint of a worker running in this container (or host) and exit 0\n"+
		"if it answers 200, 1 otherwise. Meant as the container health check command.")
	f.StringVar(&target, "url", "http://127.0.0.1:9108/healthz", "health endpoint of the worker (see `worker run --metrics-addr`)")
	f.DurationVar(&timeout, "timeout", 2*time.Second, "time allowed for the whole request")
	if err := parseFlags(f, args, stdout); err != nil {
		return healthcheckExit(err)
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--url %q: want http(s)://host[:port]/path", target)
	}
	if timeout <= 0 {
		return fmt.Errorf("--timeout %s: want a positive duration", timeout)
	}
	if err := probe(ctx, target, timeout); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, "ok")
	return err
}

// healthcheckExit keeps bad options at exit status 1: Docker reserves 2 in a
// health check command, and to ECS any failure is simply "unhealthy".
// --help still exits 0.
func healthcheckExit(err error) error {
	var ue usageError
	if errors.As(err, &ue) {
		return ue.error
	}
	return err
}

// probe succeeds only on a 200 from target itself: no redirects followed, no
// proxy from the environment (a task may set HTTPS_PROXY for AWS calls, and
// the probe must not leave the container), no connection kept.
func probe(ctx context.Context, target string, timeout time.Duration) error {
	client := &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("unhealthy: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: %s answered %s", target, resp.Status)
	}
	return nil
}
