package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestMistakesAreRefusedAtStart: options that cannot work end the command
// with status 2 and a message naming them, before it reaches any service.
func TestMistakesAreRefusedAtStart(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--dead-letter-index", "guardduty"}, `--dead-letter-index "guardduty": must lie outside the guardduty indices (guardduty-*)`},
		{[]string{"--index-prefix", "gd", "--dead-letter-index", "gd-deadletter"}, "must lie outside the guardduty indices (gd-*)"},
		{[]string{"--index-prefix", "Findings"}, "must be lower case"},
		{[]string{"--shutdown-grace", "-1s"}, "shutdown-grace must not be negative"},
		{[]string{"--route", "exports/*=netflow"}, `no format "netflow"`},
		{[]string{"--route", "exports/*"}, "want PATTERN=FORMAT"},
		{[]string{"--bulk-timeout", "0s"}, "bulk-timeout must be positive"},
	} {
		var stdout, stderr bytes.Buffer
		args := append([]string{"run", "--queue-url", "http://127.0.0.1:1/q", "--es-url", "http://127.0.0.1:1"}, c.args...)
		code := run(context.Background(), args, &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr.String(), c.want)
		}
	}
}
