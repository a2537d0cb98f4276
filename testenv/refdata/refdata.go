// Package refdata locates the public reference samples kept beside the
// repository, in ../shared/data (real AWS logs and notifications from
// permissively licensed projects; their PROVENANCE.md says where each comes
// from). The project does not ship them: its own fixtures, in testdata/
// folders and from its generators, cover every case its tests need, and the
// tests below read the samples as a second, independent check.
//
// Where the folder is missing (a clone of the repository alone), the tests
// that read it are skipped and `make test` says so in one line. CI sets
// LOGTIDE_REQUIRE_SHARED_DATA=1, which turns a missing folder into a
// failure, so there they always run.
package refdata

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RequireEnv, when set to 1, makes a missing folder a failure.
const RequireEnv = "LOGTIDE_REQUIRE_SHARED_DATA"

// Find returns the reference data folder when sub exists in it: for tests
// that merely take extra inputs from it (fuzz seeds).
func Find(sub string) (string, bool) {
	dir := os.Getenv("SHARED_DATA")
	if dir == "" {
		_, file, _, ok := runtime.Caller(0)
		if !ok {
			return "", false
		}
		// This file is <repo>/testenv/refdata/refdata.go.
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "data")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	_, err = os.Stat(filepath.Join(abs, sub))
	return abs, err == nil
}

// Dir returns the reference data folder ($SHARED_DATA, or ../shared/data
// beside the repository), after checking that sub exists in it. Without it
// the test is skipped, or fails when RequireEnv is set.
func Dir(tb testing.TB, sub string) string {
	tb.Helper()
	abs, ok := Find(sub)
	if !ok {
		where := filepath.Join(abs, sub)
		if abs == "" {
			where = "../shared/data/" + sub
		}
		if os.Getenv(RequireEnv) == "1" {
			tb.Fatalf("reference samples not found at %s (%s=1)", where, RequireEnv)
		}
		tb.Skipf("reference samples not found at %s: skipped (CI runs this test)", where)
	}
	return abs
}
