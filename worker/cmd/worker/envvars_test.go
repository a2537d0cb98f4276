package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/logtide/logtide/worker/internal/config"
)

var envRE = regexp.MustCompile(`LOGTIDE_[A-Z0-9_]+`)

// TestDeployedEnvironmentIsKnown: every LOGTIDE_* variable that the deployment
// files set is one the worker reads; a typo there would silently fall back to
// a default in production.
func TestDeployedEnvironmentIsKnown(t *testing.T) {
	known := map[string]bool{config.PasswordEnv: true}
	for _, cmd := range []string{"run", "generate", "healthcheck"} {
		var out bytes.Buffer
		if code := run(context.Background(), []string{cmd, "--help"}, &out, &out); code != 0 {
			t.Fatalf("%s --help exited %d", cmd, code)
		}
		for _, v := range envRE.FindAllString(out.String(), -1) {
			known[v] = true
		}
	}
	if len(known) < 20 {
		t.Fatalf("only %d variables found in the help texts", len(known))
	}
	files := []string{"deploy/cloudformation.yaml", "docker-compose.yml"}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("..", "..", "..", f))
		if err != nil {
			t.Fatal(err)
		}
		used := envRE.FindAllString(string(b), -1)
		if len(used) == 0 {
			t.Errorf("%s sets no LOGTIDE_ variable", f)
		}
		for _, v := range used {
			if !known[v] {
				t.Errorf("%s sets %s, which no worker command reads", f, v)
			}
		}
	}
}
