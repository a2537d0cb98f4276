// Package decode turns an object's byte stream into records: it detects gzip by
// its magic bytes (and refuses other encodings by theirs), reads lines one at
// a time with a bounded line length, skips blank lines and byte order marks,
// and numbers every line as it appears in the object.
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
	br *bufio.Reader // the object as stored
	zr *gzip.Reader  // nil for plain text
	// content is what Read reads: br, or a buffer over zr whose first
	// bytes were looked at.
	content *bufio.Reader
}

// Buffers and decompressors are reused across objects: a worker reading many
// small objects would otherwise allocate ~100 KiB for each.
var (
	bufPool  = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}
	gzipPool sync.Pool // *gzip.Reader
)

// UnsupportedError reports an object in an encoding the worker does not
// read (another compression, an archive, a binary format).
type UnsupportedError struct {
	// What names what was found, e.g. "zstd-compressed data".
	What string
}

func (e *UnsupportedError) Error() string {
	return "unsupported encoding: " + e.What + " (objects are read as gzip or plain text)"
}

// sniffBytes is how much of a stream is looked at to tell what it holds.
const sniffBytes = 512

// Open wraps r so that gzip-compressed content is decompressed and plain text
// passes through unchanged; anything else is an *UnsupportedError. An empty
// stream is valid and yields no records.
func Open(r io.Reader) (*Reader, error) {
	br := bufPool.Get().(*bufio.Reader)
	br.Reset(r)
	out := &Reader{br: br, content: br}
	head, err := br.Peek(sniffBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		out.Close()
		return nil, err
	}
	if len(head) < 2 || head[0] != 0x1f || head[1] != 0x8b {
		if err := sniff(head); err != nil {
			out.Close()
			return nil, err
		}
		return out, nil
	}
	zr, _ := gzipPool.Get().(*gzip.Reader)
	if zr == nil {
		zr, err = gzip.NewReader(br)
	} else {
		err = zr.Reset(br)
	}
	if err != nil {
		if zr != nil {
			gzipPool.Put(zr)
		}
		out.Close()
		return nil, fmt.Errorf("gzip header: %w", err)
	}
	out.zr = zr
	// What the gzip stream holds must be text too.
	out.content = bufPool.Get().(*bufio.Reader)
	out.content.Reset(zr)
	// A read error here (a truncated stream) comes back on the first Read:
	// the bytes before it are still records.
	head, _ = out.content.Peek(sniffBytes)
	if err := sniff(head); err != nil {
		out.Close()
		return nil, fmt.Errorf("inside gzip: %w", err)
	}
	return out, nil
}

// magics are the first bytes of encodings an object may arrive in that the
// worker does not read.
var magics = []struct {
	prefix, what string
}{
	{"\x28\xb5\x2f\xfd", "zstd-compressed data"},
	{"\xfd7zXZ\x00", "xz-compressed data"},
	{"\x04\x22\x4d\x18", "LZ4-compressed data"},
	{"\xff\x06\x00\x00sNaPpY", "Snappy-compressed data"},
	{"PK\x03\x04", "a zip archive"},
	{"PK\x05\x06", "an empty zip archive"},
	{"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"},
	{"PAR1", "Parquet"},
	{"ORC", "ORC"},
	{"Obj\x01", "Avro"},
}

// sniff refuses content that is not text: a known magic, or control bytes
// no log line holds.
func sniff(head []byte) error {
	for _, m := range magics {
		if bytes.HasPrefix(head, []byte(m.prefix)) {
			return &UnsupportedError{What: m.what}
		}
	}
	if len(head) >= 4 && head[0] == 'B' && head[1] == 'Z' && head[2] == 'h' && head[3] >= '1' && head[3] <= '9' {
		return &UnsupportedError{What: "bzip2-compressed data"}
	}
	for i, c := range head {
		if c == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') {
			return &UnsupportedError{What: fmt.Sprintf("binary data (byte 0x%02x at offset %d)", c, i)}
		}
	}
	return nil
}

// Read reads decompressed content.
func (r *Reader) Read(p []byte) (int, error) { return r.content.Read(p) }

// Close returns the buffers to their pools; the Reader must not be used after.
func (r *Reader) Close() {
	if r.content != nil && r.content != r.br {
		r.content.Reset(nil)
		bufPool.Put(r.content)
	}
	r.content = nil
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

// bom is the UTF-8 byte order mark some tools write at the start of a file
// (and some at the start of every line); it is not part of a record.
var bom = []byte("\xef\xbb\xbf")

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
		if len(rec) >= len(bom) && rec[0] == bom[0] && bytes.HasPrefix(rec, bom) {
			rec = bytes.TrimSpace(rec[len(bom):])
		}
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
