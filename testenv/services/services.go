// Package services gives tests the settings of the local services that
// testenv/services.sh starts and testenv/env.sh exports (OPENSEARCH_URL,
// AWS_ENDPOINT_URL, …).
package services

import (
	"os"
	"testing"
)

// Env returns the environment variable name, and fails the test when it is
// not set: a test that needs the local services must not pass without them.
func Env(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: run the tests with `make test` (or `make chaos`), which starts the local services and sources testenv/env.sh", name)
	}
	return v
}
