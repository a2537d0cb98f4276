package resolver

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

// The worker's CPU per GB for this format must stay within twice the
// floor: decompressing an object, splitting it into lines and parsing the
// fields the decoder reads of each record with encoding/json. BenchmarkDecode
// and BenchmarkFloor do exactly that over the same generated object, through
// the worker's own decompression and line splitting, and report MB/s of
// decompressed records and the CPU seconds used per GB of them (cpu-s/GB,
// which holds on a busy machine where MB/s does not); BenchmarkDecodeRecords
// is the decoder alone.

// benchObject is a generated object as stored (gzip) and its records.
func benchObject(b *testing.B) (stored []byte, records [][]byte, size int) {
	b.Helper()
	c, err := NewCorpus(format.GenerateOptions{Seed: 7, Objects: 1, RecordsPerObject: 20000})
	if err != nil {
		b.Fatal(err)
	}
	var gz bytes.Buffer
	if err := c.WriteObject(&gz, 0); err != nil {
		b.Fatal(err)
	}
	formattest.EachLine(b, gz.Bytes(), func(rec []byte, _ int) {
		records = append(records, bytes.Clone(rec))
		size += len(rec) + 1
	})
	return gz.Bytes(), records, size
}

// BenchmarkDecode is the worker's work on an object of this format:
// decompress, split, decode every record into its document.
func BenchmarkDecode(b *testing.B) {
	r, err := New(format.Options{})
	if err != nil {
		b.Fatal(err)
	}
	stored, _, size := benchObject(b)
	o := format.Object{Bucket: "bench", Key: "AWSLogs/123456789012/vpcdnsquerylogs/vpc-1/2026/01/05/x.log.gz"}
	formattest.Measure(b, int64(size), func() {
		dec := r.Decoder(o)
		formattest.EachLine(b, stored, func(rec []byte, n int) {
			if _, err := dec.Decode(rec, n); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// BenchmarkFloor is the floor BenchmarkDecode is held to: decompress,
// split, and json.Unmarshal every record into a struct of the fields the
// decoder reads.
func BenchmarkFloor(b *testing.B) {
	stored, _, size := benchObject(b)
	formattest.Measure(b, int64(size), func() {
		formattest.EachLine(b, stored, func(rec []byte, _ int) {
			var f floorRecord
			if err := json.Unmarshal(rec, &f); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// BenchmarkDecodeRecords is the decoder alone, over records already
// decompressed and split.
func BenchmarkDecodeRecords(b *testing.B) {
	r, err := New(format.Options{})
	if err != nil {
		b.Fatal(err)
	}
	_, records, size := benchObject(b)
	dec := r.Decoder(format.Object{Bucket: "bench", Key: "k"})
	formattest.Measure(b, int64(size), func() {
		for n, rec := range records {
			if _, err := dec.Decode(rec, n+1); err != nil {
				b.Fatal(err)
			}
		}
	})
}
