package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
	"github.com/logtide/logtide/worker/internal/decode"
)

// The benchmarks come in pairs: the decoder, and the floor it is held to
// (CPU per GB within twice the floor): encoding/json decoding each record
// into a struct of the fields the decoder reads. BenchmarkDecode and
// BenchmarkFloor take the records already cut out of the file;
// BenchmarkReadObject and BenchmarkFloorObject read the gzip file through
// the worker's decompression and Records streaming as well.

// perGB runs the benchmark loop and reports, beside MB/s, the CPU seconds
// used per GB of records: on a busy machine wall time says little, and CPU
// per GB is what the worker is held to.
func perGB(b *testing.B, size int, op func()) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	start, ops := formattest.CPUTime(), 0
	for b.Loop() {
		op()
		ops++
	}
	if used := formattest.CPUTime() - start; used > 0 && ops > 0 {
		b.ReportMetric(used.Seconds()/(float64(size)*float64(ops)/1e9), "cpu-s/GB")
	}
}

// benchObject is a generated log file, gzip-compressed, and its records.
func benchObject(b *testing.B) (gz []byte, records [][]byte, size int) {
	b.Helper()
	c, err := NewCorpus(CorpusOptions{Seed: 7, Objects: 1, RecordsPerObject: 4000})
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := c.WriteObject(&buf, 0); err != nil {
		b.Fatal(err)
	}
	in, err := decode.Open(bytes.NewReader(buf.Bytes()))
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	s := decode.NewArrayScanner(in, "Records", decode.DefaultMaxLine)
	defer s.Close()
	for {
		rec, _, err := s.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		records = append(records, bytes.Clone(rec))
		size += len(rec)
	}
	return buf.Bytes(), records, size
}

// BenchmarkDecode runs the decoder over generated records; MB/s are of
// the records' bytes.
func BenchmarkDecode(b *testing.B) {
	_, records, size := benchObject(b)
	dec := mustCT(b, format.Options{}).Decoder(format.Object{Bucket: "b", Key: "k"})
	perGB(b, size, func() {
		for i, r := range records {
			if _, err := dec.Decode(r, i+1); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFloor decodes the same records with encoding/json into a
// struct of the fields the decoder reads.
func BenchmarkFloor(b *testing.B) {
	_, records, size := benchObject(b)
	perGB(b, size, func() {
		for _, r := range records {
			var f floorRecord
			if err := json.Unmarshal(r, &f); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// readAll streams the records of a gzip file through fn.
func readAll(b *testing.B, gz []byte, fn func(rec []byte, n int) error) {
	in, err := decode.Open(bytes.NewReader(gz))
	if err != nil {
		b.Fatal(err)
	}
	s := decode.NewArrayScanner(in, "Records", decode.DefaultMaxLine)
	for {
		rec, n, err := s.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		if err := fn(rec, n); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	in.Close()
}

// BenchmarkReadObject: gunzip, stream the Records array, decode each
// record; MB/s are of the uncompressed file.
func BenchmarkReadObject(b *testing.B) {
	gz, _, size := benchObject(b)
	ct := mustCT(b, format.Options{})
	perGB(b, size, func() {
		dec := ct.Decoder(format.Object{Bucket: "b", Key: "k"})
		readAll(b, gz, func(rec []byte, n int) error {
			_, err := dec.Decode(rec, n)
			return err
		})
	})
}

// BenchmarkFloorObject: gunzip, stream the Records array, json.Unmarshal
// each record into the struct of the fields read.
func BenchmarkFloorObject(b *testing.B) {
	gz, _, size := benchObject(b)
	perGB(b, size, func() {
		readAll(b, gz, func(rec []byte, _ int) error {
			var f floorRecord
			return json.Unmarshal(rec, &f)
		})
	})
}

// BenchmarkGenerate renders a log file, gzip included; MB/s are of the
// uncompressed file.
func BenchmarkGenerate(b *testing.B) {
	_, _, size := benchObject(b)
	c, err := NewCorpus(CorpusOptions{Seed: 7, Objects: 1, RecordsPerObject: 4000})
	if err != nil {
		b.Fatal(err)
	}
	perGB(b, size, func() {
		if err := c.WriteObject(io.Discard, 0); err != nil {
			b.Fatal(err)
		}
	})
}
