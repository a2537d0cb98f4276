package formattest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/format"
)

// CheckGenerator holds the generator of spec to what the worker's generate
// command, the benchmark and the tests rely on, with the corpus options o
// give:
//   - the same options plan the same objects and render them to the same
//     bytes, whatever was rendered before; the next seed gives every
//     object another key and other bytes;
//   - every key is unique, follows o.Prefix (with a '/' added) and is
//     claimed by the format; every object has a content type and records,
//     and is gzip exactly when its key ends in .gz;
//   - Records is the sum of the objects' records, and Objects a copy;
//   - format.WriteDir writes every object at its key;
//   - an object out of range, and a writer's error, are errors;
//   - negative counts, a malformed account or region, and every option
//     set of bad are refused; the zero options plan DefaultObjects
//     objects, each claimed by the format.
func CheckGenerator(t testing.TB, spec format.Spec, o format.GenerateOptions, bad ...format.GenerateOptions) {
	t.Helper()
	f, err := spec.New(format.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := generate(t, spec, o), generate(t, spec, o)
	objects := a.Objects()
	if len(objects) == 0 || !reflect.DeepEqual(objects, b.Objects()) {
		t.Fatalf("the same options planned %d objects, then others", len(objects))
	}
	stored := make([][]byte, len(objects))
	for i := range objects {
		stored[i] = ObjectBytes(t, a, i)
	}
	for i := len(objects) - 1; i >= 0; i-- {
		if !bytes.Equal(ObjectBytes(t, b, i), stored[i]) {
			t.Fatalf("%s: another corpus of the same options, writing its objects last to first, wrote other bytes", objects[i].Key)
		}
		if !bytes.Equal(ObjectBytes(t, a, i), stored[i]) {
			t.Fatalf("%s: other bytes the second time it was written", objects[i].Key)
		}
	}
	next := o
	next.Seed++
	other := generate(t, spec, next)
	if n := len(other.Objects()); n != len(objects) {
		t.Fatalf("seed %d planned %d objects, seed %d %d", o.Seed, len(objects), next.Seed, n)
	}
	for i, ob := range other.Objects() {
		if ob.Key == objects[i].Key || bytes.Equal(ObjectBytes(t, other, i), stored[i]) {
			t.Errorf("object %d: seeds %d and %d gave the same key or the same bytes", i, o.Seed, next.Seed)
		}
	}

	prefix := o.Prefix
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	seen := map[string]bool{}
	records := 0
	for i, ob := range objects {
		if seen[ob.Key] {
			t.Errorf("key %s planned twice", ob.Key)
		}
		seen[ob.Key] = true
		if rest, ok := strings.CutPrefix(ob.Key, prefix); !ok || strings.HasPrefix(rest, "/") {
			t.Errorf("key %s does not follow the prefix %q", ob.Key, prefix)
		}
		if claim := f.Claim(format.ParseKey(ob.Key)); claim != format.Read {
			t.Errorf("%s: the format does not claim a key of its own sample (claim %d)", ob.Key, claim)
		}
		if ob.ContentType == "" || ob.Records <= 0 {
			t.Errorf("%s: content type %q, %d records", ob.Key, ob.ContentType, ob.Records)
		}
		if gz := isGzip(stored[i]); gz != strings.HasSuffix(ob.Key, ".gz") {
			t.Errorf("%s: gzip %v", ob.Key, gz)
		}
		records += ob.Records
	}
	if records != a.Records() {
		t.Errorf("the objects hold %d records, the corpus says %d", records, a.Records())
	}
	objects[0].Key = "changed"
	if a.Objects()[0].Key == "changed" {
		t.Error("Objects returned the corpus's own list")
	}

	dir := t.TempDir()
	if err := format.WriteDir(a, dir); err != nil {
		t.Fatal(err)
	}
	for i, ob := range a.Objects() {
		if got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(ob.Key))); err != nil || !bytes.Equal(got, stored[i]) {
			t.Errorf("%s: WriteDir wrote %d bytes (%v), WriteObject %d", ob.Key, len(got), err, len(stored[i]))
		}
	}

	for _, i := range []int{-1, len(objects)} {
		if err := a.WriteObject(io.Discard, i); err == nil {
			t.Errorf("WriteObject accepted object %d of %d", i, len(objects))
		}
	}
	boom := errors.New("boom")
	for i, ob := range objects {
		if err := a.WriteObject(failWriter{boom}, i); !errors.Is(err, boom) {
			t.Errorf("%s: WriteObject on a failing writer returned %v", ob.Key, err)
		}
	}

	for _, o := range append([]format.GenerateOptions{
		{Objects: -1}, {RecordsPerObject: -1}, {Accounts: []string{"12345"}}, {Regions: []string{"US_EAST_1"}},
	}, bad...) {
		if _, err := spec.Generate(o); err == nil {
			t.Errorf("Generate(%+v) accepted bad options", o)
		}
	}
	d := generate(t, spec, format.GenerateOptions{})
	if n := len(d.Objects()); n != format.DefaultObjects {
		t.Errorf("the default corpus has %d objects, want %d", n, format.DefaultObjects)
	}
	for _, ob := range d.Objects() {
		if claim := f.Claim(format.ParseKey(ob.Key)); claim != format.Read || strings.HasPrefix(ob.Key, "/") {
			t.Errorf("default key %s: claim %d", ob.Key, claim)
		}
	}
}

func generate(t testing.TB, spec format.Spec, o format.GenerateOptions) format.Corpus {
	t.Helper()
	c, err := spec.Generate(o)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", o, err)
	}
	return c
}

func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

// CheckStreaming writes object i of the corpus spec generates with o, and
// of the one it generates with small records per object instead, and
// holds the heap to what streaming needs (a compressor, a buffer, a
// record), whatever the object's size: writing the larger object grows it
// by at most 4 MiB, and by at most 1 MiB more than the smaller one. It
// returns how much the larger object grew the heap and its size, for the
// format's own bounds.
func CheckStreaming(t testing.TB, spec format.Spec, o format.GenerateOptions, small, i int) (grew int64, size int) {
	t.Helper()
	less := o
	less.RecordsPerObject = small
	smallGrew, _ := heapGrowth(t, spec, less, i)
	grew, size = heapGrowth(t, spec, o, i)
	if grew > 4<<20 || grew > smallGrew+1<<20 {
		t.Errorf("object %d: the heap grew by %d bytes for %d records, by %d for %d", i, grew, o.RecordsPerObject, smallGrew, small)
	}
	return grew, size
}

// heapGrowth writes object i of the corpus spec generates with o, and
// returns how much the live heap grew at most while it was written, and
// the object's size.
func heapGrowth(t testing.TB, spec format.Spec, o format.GenerateOptions, i int) (grew int64, size int) {
	t.Helper()
	c := generate(t, spec, o)
	// A low GC target keeps garbage from hiding what is really retained.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	hw := &heapWriter{}
	start := time.Now()
	if err := c.WriteObject(hw, i); err != nil {
		t.Fatal(err)
	}
	grew = int64(hw.peak) - int64(before.HeapAlloc)
	t.Logf("object %d of %d records: %d bytes in %v; the heap grew by at most %d bytes",
		i, o.RecordsPerObject, hw.n, time.Since(start).Round(time.Millisecond), grew)
	return grew, hw.n
}

// heapWriter discards what it is given and samples the live heap.
type heapWriter struct {
	n, next int
	peak    uint64
}

func (h *heapWriter) Write(p []byte) (int, error) {
	h.n += len(p)
	if h.n >= h.next {
		h.next = h.n + 32<<10
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		h.peak = max(h.peak, ms.HeapAlloc)
	}
	return len(p), nil
}
