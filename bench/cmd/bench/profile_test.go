package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

func TestParseRaw(t *testing.T) {
	raw := `PeriodType: cpu nanoseconds
Period: 10000000
Samples:
samples/count cpu/nanoseconds
         21  210000000: 1 2 
                part:[s3]
         17  170000000: 3 2 
          1   10000000: 1 
                other:[x]
                part:[loop]
          2   20000000: 3 
Locations
     1: 0x4a2f1 M=1 net/http.(*conn).serve /go/src/net/http/server.go:1 s=0
     2: 0x4a2f2 M=1 main.main /tmp/main.go:3 s=0
     3: 0x4a2f3 M=1 runtime.memmove /go/src/runtime/memmove.s:1 s=0
             github.com/aws/smithy-go/middleware.decoratedHandler.Handle /m.go:57 s=54
Mappings
1: 0x0/0x0/0x0   
`
	p, err := parseRaw(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.total(), 410*time.Millisecond; got != want {
		t.Errorf("total %v, want %v", got, want)
	}
	want := map[string]time.Duration{"s3": 210 * time.Millisecond, "": 190 * time.Millisecond, "loop": 10 * time.Millisecond}
	got := p.byLabel("part")
	if len(got) != len(want) {
		t.Fatalf("by label: got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("label %q: got %v, want %v", k, got[k], v)
		}
	}
	// The inlined function of location 3 counts; location 1 is a plain one.
	if got, want := p.matching(func(fn string) bool { return strings.HasPrefix(fn, "github.com/aws/") }), 190*time.Millisecond; got != want {
		t.Errorf("stacks through the SDK: %v, want %v", got, want)
	}
	if got, want := p.matching(func(fn string) bool { return strings.HasPrefix(fn, "net/http.") }), 220*time.Millisecond; got != want {
		t.Errorf("stacks through net/http: %v, want %v", got, want)
	}
	if _, err := parseRaw("nothing here"); err == nil {
		t.Error("no samples section: want an error")
	}
}

// TestReadProfileOfRealProfile checks the parser against what go tool
// pprof prints for a real labelled profile of this test.
func TestReadProfileOfRealProfile(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatal("go not on PATH")
	}
	file := filepath.Join(t.TempDir(), "cpu.pprof")
	writeLabelledProfile(t, file)
	p, err := readProfile(t.Context(), file)
	if err != nil {
		t.Fatal(err)
	}
	got := p.byLabel("part")
	if got["spin"] < 100*time.Millisecond {
		t.Errorf("part=spin: %v of CPU, want most of the 300 ms spun (all: %v)", got["spin"], got)
	}
	if spun := p.matching(func(fn string) bool { return strings.HasSuffix(fn, ".writeLabelledProfile.func1") }); spun == 0 || spun > got["spin"] {
		t.Errorf("stacks through the spinning function: %v, want some of the labelled %v (samples taken outside Go code, as under -race, have no Go stack)", spun, got["spin"])
	}
}

// writeLabelledProfile profiles 300 ms of spinning under the label
// part=spin into file.
func writeLabelledProfile(t *testing.T, file string) {
	t.Helper()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	pprof.Do(context.Background(), pprof.Labels("part", "spin"), func(context.Context) {
		x, end := 0, time.Now().Add(300*time.Millisecond)
		for time.Now().Before(end) {
			x++
		}
		_ = x
	})
	pprof.StopCPUProfile()
}
