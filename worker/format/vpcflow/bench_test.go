package vpcflow

import (
	"bytes"
	"testing"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
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
	formattest.Measure(b, size, func() {
		for i, obj := range lines {
			d := v.Decoder(format.Object{Bucket: "bench", Key: c.objects[i].Key})
			for n, l := range obj {
				if _, err := d.Decode(l, n+1); err != nil && n > 0 {
					b.Fatal(err)
				}
			}
		}
	})
}

func BenchmarkFloor(b *testing.B) {
	_, lines, size := benchLines(b)
	var sum int64
	formattest.Measure(b, size, func() {
		for _, obj := range lines {
			var f floor
			for _, l := range obj {
				sum += f.line(l)
			}
		}
	})
	_ = sum
}

func BenchmarkObject(b *testing.B) {
	v := mustNew(b, format.Options{})
	c, objs := benchObjects(b)
	formattest.Measure(b, rawSize(b, objs), func() {
		for i, o := range objs {
			d := v.Decoder(format.Object{Bucket: "bench", Key: c.objects[i].Key})
			formattest.EachLine(b, o, func(l []byte, n int) {
				if _, err := d.Decode(l, n); err != nil && n > 1 {
					b.Fatal(err)
				}
			})
		}
	})
}

func BenchmarkObjectFloor(b *testing.B) {
	_, objs := benchObjects(b)
	var sum int64
	formattest.Measure(b, rawSize(b, objs), func() {
		for _, o := range objs {
			var f floor
			formattest.EachLine(b, o, func(l []byte, _ int) { sum += f.line(l) })
		}
	})
	_ = sum
}

func rawSize(b *testing.B, objs [][]byte) int64 {
	var n int64
	for _, o := range objs {
		n += int64(len(gunzip(b, o)))
	}
	return n
}
