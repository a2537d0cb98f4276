// Package decode turns an object's byte stream into records: it detects gzip by
// its magic bytes, reads JSON Lines one line at a time with a bounded line
// length, skips blank lines and numbers every line as it appears in the object.
package decode

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	// Its inflate is about a quarter faster than compress/gzip's, and its
	// errors are compress/gzip's and compress/flate's own values.
	"github.com/klauspost/compress/gzip"
)

// DefaultMaxLine bounds one record; GuardDuty findings are far smaller.
const DefaultMaxLine = 4 << 20

// LineError reports a line that cannot be read as a record. The scanner can go
// on past it: the error is about one line, not the stream.
type LineError struct {
	Line   int
	Reason string
	// Head is the start of the line (at most HeadBytes) and Size its full
	// length, so the record can still be dead-lettered with a trace.
	Head []byte
	Size int
}

// HeadBytes is how much of an unreadable line a LineError keeps.
const HeadBytes = 16 << 10

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// Reader is an object's content, decompressed when it is gzip. Close it to
// give its buffers back for the next object.
type Reader struct {
	br *bufio.Reader
	zr *gzip.Reader // nil for plain text
}

// Buffers and decompressors are reused across objects: a worker reading many
// small objects would otherwise allocate ~100 KiB for each.
var (
	bufPool  = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}
	gzipPool sync.Pool // *gzip.Reader
)

// Open wraps r so that gzip-compressed content is decompressed and plain text
// passes through unchanged. An empty stream is valid and yields no records.
func Open(r io.Reader) (*Reader, error) {
	br := bufPool.Get().(*bufio.Reader)
	br.Reset(r)
	out := &Reader{br: br}
	magic, err := br.Peek(2)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		out.Close()
		return nil, err
	}
	if magic[0] == 0x1f && magic[1] == 0x8b {
		zr, _ := gzipPool.Get().(*gzip.Reader)
		if zr == nil {
			zr, err = gzip.NewReader(br)
		} else {
			err = zr.Reset(br)
		}
		if err != nil {
			out.Close()
			return nil, fmt.Errorf("gzip header: %w", err)
		}
		out.zr = zr
	}
	return out, nil
}

// Read reads decompressed content.
func (r *Reader) Read(p []byte) (int, error) {
	if r.zr != nil {
		return r.zr.Read(p)
	}
	return r.br.Read(p)
}

// Close returns the buffers to their pools; the Reader must not be used after.
func (r *Reader) Close() {
	if r.zr != nil {
		gzipPool.Put(r.zr)
		r.zr = nil
	}
	if r.br != nil {
		r.br.Reset(nil)
		bufPool.Put(r.br)
		r.br = nil
	}
}

// Scanner reads newline-delimited records.
type Scanner struct {
	r       *bufio.Reader
	maxLine int
	line    int
	buf     []byte
	head    []byte
}

// NewScanner reads records from r; lines longer than maxLine bytes are reported
// as a *LineError and skipped. maxLine <= 0 means DefaultMaxLine.
func NewScanner(r io.Reader, maxLine int) *Scanner {
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	br := bufPool.Get().(*bufio.Reader)
	br.Reset(r)
	return &Scanner{r: br, maxLine: maxLine}
}

// Close returns the scanner's buffer to its pool; the Scanner must not be
// used after.
func (s *Scanner) Close() {
	if s.r != nil {
		s.r.Reset(nil)
		bufPool.Put(s.r)
		s.r = nil
	}
}

// Next returns the next non-blank record and its 1-based line number. The
// returned slice is valid until the following call. At the end of the stream it
// returns io.EOF; a missing final newline is accepted. A *LineError concerns
// only the line it names; other errors end the stream.
func (s *Scanner) Next() ([]byte, int, error) {
	for {
		s.buf = s.buf[:0]
		tooLong := false
		size := 0
		for {
			chunk, err := s.r.ReadSlice('\n')
			size += len(chunk)
			if !tooLong {
				if len(s.buf)+len(chunk) > s.maxLine+2 { // room for "\r\n"
					tooLong = true
					s.head = append(s.head[:0], s.buf[:min(len(s.buf), HeadBytes)]...)
					if n := HeadBytes - len(s.head); n > 0 {
						s.head = append(s.head, chunk[:min(len(chunk), n)]...)
					}
					s.buf = s.buf[:0]
				} else {
					s.buf = append(s.buf, chunk...)
				}
			}
			if err == nil {
				break
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if errors.Is(err, io.EOF) {
				if len(chunk) == 0 && len(s.buf) == 0 && !tooLong {
					return nil, s.line, io.EOF
				}
				break
			}
			return nil, s.line, err
		}
		s.line++
		if tooLong {
			return nil, s.line, s.tooLong(s.head, size)
		}
		rec := bytes.TrimSpace(s.buf)
		if len(rec) == 0 {
			continue
		}
		if len(rec) > s.maxLine {
			return nil, s.line, s.tooLong(rec[:min(len(rec), HeadBytes)], len(rec))
		}
		return rec, s.line, nil
	}
}

func (s *Scanner) tooLong(head []byte, size int) *LineError {
	return &LineError{
		Line:   s.line,
		Reason: fmt.Sprintf("longer than %d bytes", s.maxLine),
		Head:   append([]byte(nil), head...),
		Size:   size,
	}
}
