package s3access

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

// benchObject is one generated access log object of n lines, as stored
// (plain text: the worker has nothing to decompress).
func benchObject(b *testing.B, n int) []byte {
	b.Helper()
	c := mustCorpus(b, format.GenerateOptions{Seed: 7, Objects: 1, RecordsPerObject: n})
	return objectBytes(b, c, 0)
}

// BenchmarkDecode cuts a generated object into lines and decodes each
// (make bench measures the whole worker).
func BenchmarkDecode(b *testing.B) {
	raw := benchObject(b, 2000)
	f := mustNew(b, format.Options{})
	formattest.Measure(b, int64(len(raw)), func() {
		dec := f.Decoder(format.Object{Bucket: "logs", Key: simpleKey})
		n := 0
		for rest := raw; len(rest) > 0; {
			i := bytes.IndexByte(rest, '\n')
			line := rest[:i]
			rest = rest[i+1:]
			n++
			if _, err := dec.Decode(line, n); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFloor is the least any decoder of this format does, the
// yardstick of BenchmarkDecode: cut the lines, cut each into its fields
// (brackets and quotes included) and read the numbers. The decoder should
// need no more than twice its CPU per byte.
func BenchmarkFloor(b *testing.B) {
	raw := benchObject(b, 2000)
	var fields [][]byte
	var sum int64
	formattest.Measure(b, int64(len(raw)), func() {
		for rest := raw; len(rest) > 0; {
			i := bytes.IndexByte(rest, '\n')
			line := rest[:i]
			rest = rest[i+1:]
			fields = splitBytes(fields[:0], line)
			if len(fields) < minFields {
				b.Fatal("line cut short")
			}
			for _, fi := range numFields {
				if v, err := strconv.ParseInt(string(fields[fi]), 10, 64); err == nil {
					sum += v
				}
			}
		}
	})
	if sum == 0 {
		b.Fatal("no numbers read")
	}
}
