//go:build integration

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/logtide/logtide/testenv/awslocal"
	"github.com/logtide/logtide/testenv/syncbuf"
)

// TestSIGTERMExitsCleanly runs the real binary against an empty queue and
// stops it with SIGTERM: it must stop receiving at once and exit 0.
func TestSIGTERMExitsCleanly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "worker")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	_, st, name, esURL := newStack(t, ctx, "sigterm", awslocal.Options{})
	cmd := exec.CommandContext(ctx, bin, "run", "--queue-url", st.QueueURL, "--es-url", esURL,
		"--index-prefix", name, "--metrics-addr", "127.0.0.1:0", "--wait-time", "20s")
	var logs syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.Env = os.Environ()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // gone with the test process
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until it is long-polling (the test event is deleted first).
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), "serving /metrics") {
		if time.Now().After(deadline) {
			t.Fatalf("worker did not start:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
	}
	// The in-progress 20 s long poll is abandoned, not waited out.
	if d := time.Since(sent); d > 5*time.Second {
		t.Errorf("took %s to stop", d)
	}
	if !strings.Contains(logs.String(), `"msg":"worker stopped"`) {
		t.Errorf("no clean stop in the logs:\n%s", logs.String())
	}
}
