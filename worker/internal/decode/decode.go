// Package decode turns an object's byte stream into records: it detects gzip by
// its magic bytes, reads JSON Lines one line at a time with a bounded line
// length, skips blank lines and numbers every line as it appears in the object.
package decode

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
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

// Open wraps r so that gzip-compressed content is decompressed and plain text
// passes through unchanged. An empty stream is valid and yields no records.
func Open(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(2)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return br, nil
		}
		return nil, err
	}
	if magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip header: %w", err)
		}
		return zr, nil
	}
	return br, nil
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
	return &Scanner{r: bufio.NewReaderSize(r, 64<<10), maxLine: maxLine}
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
