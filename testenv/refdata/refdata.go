// Package refdata locates the public reference samples (real AWS logs and
// notifications from permissively licensed projects; their PROVENANCE.md
// says where each comes from) in the folder SHARED_DATA names; the Makefile
// and .ci/run set it. The Go code assumes no place outside the repository.
// The project does not ship the samples: its own fixtures, in testdata/
// folders and from its generators, cover every case its tests need, and the
// tests that read the samples are a second, independent check.
//
// Where the folder is missing (a clone of the repository alone) or
// SHARED_DATA is not set (a plain go test), the tests
// that read it are skipped and `make test` says so in one line. CI sets
// LOGTIDE_REQUIRE_SHARED_DATA=1, which turns a missing folder into a
// failure, so there they always run.
package refdata

import (
	"os"
	"path/filepath"
	"testing"
)

// RequireEnv, when set to 1, makes a missing folder a failure.
const RequireEnv = "LOGTIDE_REQUIRE_SHARED_DATA"

// Env names the reference data folder.
const Env = "SHARED_DATA"

// Find returns the reference data folder when sub exists in it: for tests
// that merely take extra inputs from it (fuzz seeds).
func Find(sub string) (string, bool) {
	dir := os.Getenv(Env)
	if dir == "" {
		return "", false
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	_, err = os.Stat(filepath.Join(abs, sub))
	return abs, err == nil
}

// Dir returns the reference data folder ($SHARED_DATA), after checking
// that sub exists in it. Without it the test is skipped, or fails when
// RequireEnv is set.
func Dir(tb testing.TB, sub string) string {
	tb.Helper()
	abs, ok := Find(sub)
	if !ok {
		where := filepath.Join(abs, sub)
		if abs == "" {
			where = sub + " in $" + Env + " (not set; make and .ci/run set it)"
		}
		if os.Getenv(RequireEnv) == "1" {
			tb.Fatalf("reference samples not found at %s (%s=1)", where, RequireEnv)
		}
		tb.Skipf("reference samples not found at %s: skipped (CI runs this test)", where)
	}
	return abs
}
