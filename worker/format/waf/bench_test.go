package waf

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

// The worker's CPU per GB of WAF logs must stay within twice the floor:
// decompressing, splitting the lines and decoding, with encoding/json, the
// fields the decoder reads. BenchmarkDecode and BenchmarkFloor measure the
// two the same way (the worker's own decompression and line scanner, the
// same generated object), so their MB/s compare directly.

// benchObject is a generated object of a regional and a CloudFront web ACL
// and the size of its content.
func benchObject(b *testing.B) (format.Object, []byte, int64) {
	b.Helper()
	c, err := NewCorpus(CorpusOptions{Seed: 7, Objects: 2, RequestsPerObject: 2000, Regions: []string{"eu-west-1"}})
	if err != nil {
		b.Fatal(err)
	}
	var stored bytes.Buffer
	for i := range c.Objects() {
		if err := c.WriteObject(&stored, i); err != nil {
			b.Fatal(err)
		}
	}
	// Two gzip members in a row read as one stream.
	return format.Object{Bucket: "bench", Key: c.Objects()[0].Key}, stored.Bytes(), int64(len(gunzip(b, stored.Bytes())))
}

func BenchmarkDecode(b *testing.B) {
	w, err := New(format.Options{})
	if err != nil {
		b.Fatal(err)
	}
	o, stored, size := benchObject(b)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		dec := w.Decoder(o)
		formattest.EachLine(b, stored, func(rec []byte, n int) {
			if _, err := dec.Decode(rec, n); err != nil {
				b.Fatal(err)
			}
		})
	}
}

func BenchmarkFloor(b *testing.B) {
	_, stored, size := benchObject(b)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		formattest.EachLine(b, stored, func(rec []byte, _ int) {
			var r floorRecord
			if err := json.Unmarshal(rec, &r); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkDecodeOnly is the decoder alone, over records already in memory.
func BenchmarkDecodeOnly(b *testing.B) {
	w, err := New(format.Options{})
	if err != nil {
		b.Fatal(err)
	}
	o, stored, size := benchObject(b)
	var lines [][]byte
	formattest.EachLine(b, stored, func(rec []byte, _ int) { lines = append(lines, bytes.Clone(rec)) })
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		dec := w.Decoder(o)
		for i, l := range lines {
			if _, err := dec.Decode(l, i+1); err != nil {
				b.Fatal(err)
			}
		}
	}
}
