package floor

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"time"

	kgzip "github.com/klauspost/compress/gzip"

	"github.com/logtide/logtide/bench/internal/corpus"
)

// RunFormat is the decode floor of a format: every object of s inflated
// when it is gzip (with klauspost/compress, as the worker does) and read by
// the format's own floor function (cut into records, fields parsed), on one
// goroutine, whole passes repeated until at least minCPU of process CPU.
func RunFormat(s *corpus.Set, read func(io.Reader) (int, error), minCPU time.Duration, maxPasses int) (Decode, error) {
	var d Decode
	runtime.GC()
	c0, err := processCPU()
	if err != nil {
		return d, err
	}
	w0 := time.Now()
	for d.Passes < maxPasses {
		for _, ob := range s.Objects {
			var content io.Reader = bytes.NewReader(ob.Gz)
			if len(ob.Gz) >= 2 && ob.Gz[0] == 0x1f && ob.Gz[1] == 0x8b {
				zr, err := kgzip.NewReader(content)
				if err != nil {
					return d, fmt.Errorf("%s: %w", ob.Key, err)
				}
				content = zr
			}
			cr := &countingReader{r: content}
			n, err := read(cr)
			if err != nil {
				return d, fmt.Errorf("%s: %w", ob.Key, err)
			}
			d.Lines += int64(n)
			d.Raw += cr.n
		}
		d.Passes++
		c, err := processCPU()
		if err != nil {
			return d, err
		}
		if c-c0 >= minCPU {
			break
		}
	}
	c1, err := processCPU()
	if err != nil {
		return d, err
	}
	d.CPU, d.Wall = c1-c0, time.Since(w0)
	return d, nil
}
