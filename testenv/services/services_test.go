package services

import "testing"

func TestEnv(t *testing.T) {
	t.Setenv("LOGTIDE_TEST_SETTING", "http://127.0.0.1:1")
	if got := Env(t, "LOGTIDE_TEST_SETTING"); got != "http://127.0.0.1:1" {
		t.Errorf("got %q", got)
	}
	ft := &fatalRecorder{TB: t}
	func() {
		defer func() { _ = recover() }()
		Env(ft, "LOGTIDE_TEST_SETTING_NOT_SET")
	}()
	if !ft.failed {
		t.Error("an unset variable did not fail the test")
	}
}

// fatalRecorder records Fatalf instead of ending the test.
type fatalRecorder struct {
	testing.TB
	failed bool
}

func (f *fatalRecorder) Fatalf(string, ...any) {
	f.failed = true
	panic("fatal")
}

func (f *fatalRecorder) Helper() {}
