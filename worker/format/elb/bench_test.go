package elb

import (
	"bytes"
	"io"
	"testing"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
	"github.com/logtide/logtide/worker/internal/decode"
)

// benchObjects renders a corpus of every kind (five ALB objects in seven)
// as stored, and counts its uncompressed bytes.
func benchObjects(b *testing.B) (keys []string, stored [][]byte, raw int64) {
	b.Helper()
	c := mustCorpus(b, format.GenerateOptions{Seed: 7, Objects: 7, RecordsPerObject: 2000})
	for i, o := range c.Objects() {
		s := objectBytes(b, c, i)
		in, err := decode.Open(bytes.NewReader(s))
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, in)
		in.Close()
		if err != nil {
			b.Fatal(err)
		}
		keys, stored, raw = append(keys, o.Key), append(stored, s), raw+n
	}
	return keys, stored, raw
}

// BenchmarkDecode reads generated objects as the worker does: decompressed
// (gzip for ALB and NLB objects), cut into lines, each line decoded into
// its document. MB/s and cpu-s/GB are of uncompressed content; set them
// against BenchmarkFloor.
func BenchmarkDecode(b *testing.B) {
	f := mustELB(b, format.Options{})
	keys, stored, raw := benchObjects(b)
	formattest.Measure(b, raw, func() {
		for i, s := range stored {
			dec := f.Decoder(format.Object{Bucket: "bench", Key: keys[i]})
			formattest.EachLine(b, s, func(rec []byte, n int) {
				if _, err := dec.Decode(rec, n); err != nil {
					b.Fatal(err)
				}
			})
		}
	})
}

// BenchmarkFloor reads the same objects the cheapest way any consumer that
// looks inside every line could (Spec.Floor): decompressed, cut into lines,
// the lines into their quoted fields, the numbers read with strconv.
func BenchmarkFloor(b *testing.B) {
	_, stored, raw := benchObjects(b)
	formattest.Measure(b, raw, func() {
		for _, s := range stored {
			in, err := decode.Open(bytes.NewReader(s))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Spec.Floor(in); err != nil {
				b.Fatal(err)
			}
			in.Close()
		}
	})
}

// BenchmarkDecodeLines is Decode alone, on lines already decompressed and
// cut.
func BenchmarkDecodeLines(b *testing.B) {
	f := mustELB(b, format.Options{})
	keys, stored, raw := benchObjects(b)
	type object struct {
		dec   format.Decoder
		lines [][]byte
	}
	var objects []object
	for i, s := range stored {
		in, err := decode.Open(bytes.NewReader(s))
		if err != nil {
			b.Fatal(err)
		}
		content, err := io.ReadAll(in)
		in.Close()
		if err != nil {
			b.Fatal(err)
		}
		objects = append(objects, object{f.Decoder(format.Object{Bucket: "bench", Key: keys[i]}), bytes.Split(bytes.TrimSpace(content), []byte("\n"))})
	}
	formattest.Measure(b, raw, func() {
		for _, o := range objects {
			for n, l := range o.lines {
				if _, err := o.dec.Decode(l, n+1); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
