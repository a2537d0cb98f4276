// Package floor measures what the worker cannot beat: the CPU cost of
// decompressing and parsing the findings once (decode floor), and the rate at
// which a plain loop can move notifications and objects through the same
// S3/SQS servers (I/O floor).
package floor

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"syscall"
	"time"

	kgzip "github.com/klauspost/compress/gzip"

	"github.com/logtide/logtide/bench/internal/corpus"
)

// Parse chooses what the decode floor does with each line.
type Parse int

const (
	// Unmarshal parses each line into a generic value (maps, slices,
	// float64s), as a consumer that looks inside a finding must at least do.
	Unmarshal Parse = iota
	// Valid only checks that each line is JSON: the cheapest full scan.
	Valid
)

func (p Parse) String() string {
	if p == Valid {
		return "json.Valid"
	}
	return "json.Unmarshal"
}

// Decode is the result of a decode floor.
type Decode struct {
	Parse  Parse
	Passes int
	Lines  int64
	Raw    int64 // uncompressed bytes parsed
	CPU    time.Duration
	Wall   time.Duration
}

// MBPerCPUSecond is the uncompressed throughput per CPU-second.
func (d Decode) MBPerCPUSecond() float64 { return float64(d.Raw) / 1e6 / d.CPU.Seconds() }

// LinesPerCPUSecond is findings per CPU-second.
func (d Decode) LinesPerCPUSecond() float64 { return float64(d.Lines) / d.CPU.Seconds() }

// CPUPerGB is CPU-seconds per GB (1e9 bytes) of uncompressed findings.
func (d Decode) CPUPerGB() float64 { return d.CPU.Seconds() / (float64(d.Raw) / 1e9) }

// RunDecode gunzips every object of s and parses every line, on one
// goroutine, repeating whole passes until at least minCPU of process CPU
// time was spent (at most maxPasses), so small corpora are timed over more
// than a scheduler tick. CPU time is the whole process's (getrusage), so
// garbage collection on other threads is counted; nothing else in the
// process should be busy meanwhile.
func RunDecode(s *corpus.Set, p Parse, minCPU time.Duration, maxPasses int) (Decode, error) {
	d := Decode{Parse: p}
	runtime.GC()
	c0, err := processCPU()
	if err != nil {
		return d, err
	}
	w0 := time.Now()
	for d.Passes < maxPasses {
		for _, ob := range s.Objects {
			n, raw, err := decodeObject(ob.Gz, p)
			if err != nil {
				return d, fmt.Errorf("%s: %w", ob.Key, err)
			}
			d.Lines += n
			d.Raw += raw
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

func decodeObject(gz []byte, p Parse) (lines, raw int64, err error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return 0, 0, err
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 0, 64<<10), 8<<20)
	for sc.Scan() {
		line := sc.Bytes()
		raw += int64(len(line)) + 1
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		switch p {
		case Valid:
			if !json.Valid(line) {
				return lines, raw, fmt.Errorf("line %d is not JSON", lines+1)
			}
		default:
			var v any
			if err := json.Unmarshal(line, &v); err != nil {
				return lines, raw, fmt.Errorf("line %d: %w", lines+1, err)
			}
		}
		lines++
	}
	return lines, raw, sc.Err()
}

// processCPU is user plus system time of this process so far.
func processCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return RusageCPU(&ru), nil
}

// RusageCPU is user plus system time of a rusage.
func RusageCPU(ru *syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ProcessCPU is user plus system time of this process so far.
func ProcessCPU() (time.Duration, error) { return processCPU() }

// GunzipValid is a Reader that inflates a gzip object (with klauspost/
// compress, as the worker does, reusing its inflater from object to object)
// and checks that every line is JSON: the least a worker must do with an
// object besides fetching it, if it refuses lines that are not JSON itself.
func GunzipValid() Reader {
	var zr *kgzip.Reader
	br, lr := bufio.NewReaderSize(nil, 64<<10), bufio.NewReaderSize(nil, 64<<10)
	var line []byte
	return func(body io.Reader) (int64, error) {
		cr := &countingReader{r: body}
		br.Reset(cr)
		if zr == nil {
			var err error
			if zr, err = kgzip.NewReader(br); err != nil {
				return cr.n, err
			}
		} else if err := zr.Reset(br); err != nil {
			return cr.n, err
		}
		lr.Reset(zr)
		for n := 1; ; n++ {
			var err error
			line, err = appendLine(line[:0], lr)
			if len(bytes.TrimSpace(line)) > 0 && !json.Valid(line) {
				return cr.n, fmt.Errorf("line %d is not JSON", n)
			}
			if err == io.EOF {
				return cr.n, nil
			}
			if err != nil {
				return cr.n, err
			}
		}
	}
}

// appendLine appends the next line of r (without its newline) to dst.
func appendLine(dst []byte, r *bufio.Reader) ([]byte, error) {
	for {
		chunk, err := r.ReadSlice('\n')
		dst = append(dst, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		return bytes.TrimSuffix(dst, []byte("\n")), err
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
