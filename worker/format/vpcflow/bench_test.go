package vpcflow

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
	"github.com/logtide/logtide/worker/internal/decode"
)

// The benchmarks compare the decoder with the least any reader of flow
// logs does: cut the lines into fields and read the numbers. BenchmarkDecode
// and BenchmarkFloor do that over lines already decompressed and split;
// BenchmarkObject and BenchmarkObjectFloor add what the worker does before
// (gunzip, lines), so that their ratio is the worker's CPU per GB against
// that floor's.

// benchObjects are the gzip-compressed objects the benchmarks read: one of
// each of the generator's flow logs (four default, one custom, one transit
// gateway), 5,000 records each.
func benchObjects(b *testing.B) (*Corpus, [][]byte) {
	b.Helper()
	c := mustCorpus(b, format.GenerateOptions{Seed: 7, Objects: len(slots), RecordsPerObject: 5000})
	objs := make([][]byte, len(slots))
	for i := range objs {
		objs[i] = objectBytes(b, c, i)
	}
	return c, objs
}

// benchLines are the objects' lines, decompressed, and their total size.
func benchLines(b *testing.B) (*Corpus, [][][]byte, int64) {
	c, objs := benchObjects(b)
	var size int64
	lines := make([][][]byte, len(objs))
	for i, o := range objs {
		raw := gunzip(b, o)
		size += int64(len(raw))
		lines[i] = bytes.Split(bytes.TrimSuffix(raw, []byte("\n")), []byte("\n"))
	}
	return c, lines, size
}

func BenchmarkDecode(b *testing.B) {
	v := mustNew(b, format.Options{})
	c, lines, size := benchLines(b)
	m := meter(b, size)
	for b.Loop() {
		for i, obj := range lines {
			d := v.Decoder(format.Object{Bucket: "bench", Key: c.objects[i].Key})
			for n, l := range obj {
				if _, err := d.Decode(l, n+1); err != nil && n > 0 {
					b.Fatal(err)
				}
			}
		}
	}
	m.stop()
}

func BenchmarkFloor(b *testing.B) {
	_, lines, size := benchLines(b)
	m := meter(b, size)
	var sum int64
	for b.Loop() {
		for _, obj := range lines {
			var f floor
			for _, l := range obj {
				sum += f.line(l)
			}
		}
	}
	m.stop()
	_ = sum
}

func BenchmarkObject(b *testing.B) {
	v := mustNew(b, format.Options{})
	c, objs := benchObjects(b)
	m := meter(b, rawSize(b, objs))
	for b.Loop() {
		for i, o := range objs {
			d := v.Decoder(format.Object{Bucket: "bench", Key: c.objects[i].Key})
			eachLine(b, o, func(l []byte, n int) {
				if _, err := d.Decode(l, n); err != nil && n > 1 {
					b.Fatal(err)
				}
			})
		}
	}
	m.stop()
}

func BenchmarkObjectFloor(b *testing.B) {
	_, objs := benchObjects(b)
	m := meter(b, rawSize(b, objs))
	var sum int64
	for b.Loop() {
		for _, o := range objs {
			var f floor
			eachLine(b, o, func(l []byte, _ int) { sum += f.line(l) })
		}
	}
	m.stop()
	_ = sum
}

// cpuMeter reports a benchmark's process CPU time per operation and the
// megabytes of flow log text read per CPU second.
type cpuMeter struct {
	b     *testing.B
	start time.Duration
	bytes int64
}

func meter(b *testing.B, bytes int64) *cpuMeter {
	b.SetBytes(bytes)
	b.ReportAllocs()
	return &cpuMeter{b: b, start: formattest.CPUTime(), bytes: bytes}
}

func (m *cpuMeter) stop() {
	used := formattest.CPUTime() - m.start
	if used <= 0 || m.b.N == 0 {
		return
	}
	m.b.ReportMetric(float64(used.Nanoseconds())/float64(m.b.N), "cpu-ns/op")
	m.b.ReportMetric(float64(m.bytes)*float64(m.b.N)/used.Seconds()/1e6, "cpu-MB/s")
}

func rawSize(b *testing.B, objs [][]byte) int64 {
	var n int64
	for _, o := range objs {
		n += int64(len(gunzip(b, o)))
	}
	return n
}

// eachLine reads a stored object as the worker does: decompressed, cut in
// lines.
func eachLine(b *testing.B, stored []byte, fn func([]byte, int)) {
	in, err := decode.Open(bytes.NewReader(stored))
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	sc := decode.NewScanner(in, decode.DefaultMaxLine)
	defer sc.Close()
	for {
		l, n, err := sc.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			b.Fatal(err)
		}
		fn(l, n)
	}
}
