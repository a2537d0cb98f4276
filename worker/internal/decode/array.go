package decode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ArrayScanner reads the elements of one array member at the top level of a
// JSON document ({"Records":[...]}), one at a time: however large the
// document, it holds one element (bounded by maxRecord) and a read buffer.
// Members other than the array are skipped unread. An element's position is
// its 1-based place in the array.
//
// It checks the document's structure (strings, nesting, separators), not
// each element's grammar: the format's decoder validates the element it is
// given, and a broken element is dead-lettered like a broken line.
type ArrayScanner struct {
	r       io.Reader
	field   string
	maxRec  int
	data    []byte // read buffer; data[pos:end] is unread
	pos     int
	end     int
	eof     bool
	readErr error
	state   int // before the array, in it, after it
	n       int // elements returned
	rec     []byte
	head    []byte
	offset  int64 // bytes consumed before data[0]
}

const (
	beforeArray = iota
	inArray
	afterArray
)

// SyntaxError reports a document whose structure is broken: it will not read
// better a second time.
type SyntaxError struct {
	Offset int64
	Reason string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("not a JSON document with a %s array: %s at byte %d", "Records", e.Reason, e.Offset)
}

var arrayBufPool = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// NewArrayScanner reads the elements of the array member named field of
// the JSON object that r holds. Elements longer than maxRecord bytes are
// reported as a *LineError (their head kept) and skipped.
func NewArrayScanner(r io.Reader, field string, maxRecord int) *ArrayScanner {
	if maxRecord <= 0 {
		maxRecord = DefaultMaxLine
	}
	buf := arrayBufPool.Get().(*[]byte)
	return &ArrayScanner{r: r, field: field, maxRec: maxRecord, data: *buf}
}

// Close gives the read buffer back; the scanner must not be used after.
func (s *ArrayScanner) Close() {
	if s.data != nil {
		b := s.data[:cap(s.data)]
		arrayBufPool.Put(&b)
		s.data = nil
	}
}

// fill reads more bytes; it reports false at the end of the stream or on a
// read error (kept in readErr).
func (s *ArrayScanner) fill() bool {
	if s.eof {
		return false
	}
	if s.pos > 0 {
		copy(s.data, s.data[s.pos:s.end])
		s.offset += int64(s.pos)
		s.end -= s.pos
		s.pos = 0
	}
	for {
		n, err := s.r.Read(s.data[s.end:])
		s.end += n
		if err != nil {
			s.eof = true
			if !errors.Is(err, io.EOF) {
				s.readErr = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
}

func (s *ArrayScanner) errorf(format string, a ...any) error {
	if s.readErr != nil {
		return s.readErr
	}
	return &SyntaxError{Offset: s.offset + int64(s.pos), Reason: fmt.Sprintf(format, a...)}
}

// peek returns the next byte that is not white space, without consuming it.
func (s *ArrayScanner) peek() (byte, bool) {
	for {
		for s.pos < s.end {
			switch c := s.data[s.pos]; c {
			case ' ', '\t', '\n', '\r':
				s.pos++
			case 0xef: // a byte order mark before the document
				if s.offset == 0 && s.pos == 0 {
					for s.end < 3 && s.fill() {
					}
					if s.end >= 3 && bytes.Equal(s.data[:3], bom) {
						s.pos = 3
						continue
					}
				}
				return c, true
			default:
				return c, true
			}
		}
		if !s.fill() {
			return 0, false
		}
	}
}

// expect consumes c, the next byte that is not white space.
func (s *ArrayScanner) expect(c byte, what string) error {
	got, ok := s.peek()
	if !ok {
		return s.errorf("unexpected end of the document, expecting %s", what)
	}
	if got != c {
		return s.errorf("unexpected %q, expecting %s", got, what)
	}
	s.pos++
	return nil
}

// value consumes one JSON value, calling keep with each run of its bytes
// (nil keep skips it). It tracks strings and nesting only.
func (s *ArrayScanner) value(keep func([]byte)) error {
	if _, ok := s.peek(); !ok {
		return s.errorf("unexpected end of the document, expecting a value")
	}
	depth := 0
	inString := false
	escaped := false
	for {
		if s.pos >= s.end && !s.fill() {
			return s.errorf("unexpected end of the document inside a value")
		}
		start := s.pos
		for s.pos < s.end {
			c := s.data[s.pos]
			if inString {
				if escaped {
					escaped = false
					s.pos++
					continue
				}
				// Jump to the next quote or backslash: most of a record's
				// bytes are inside strings.
				i := bytes.IndexAny(s.data[s.pos:s.end], `"\`)
				if i < 0 {
					s.pos = s.end
					break
				}
				s.pos += i
				if s.data[s.pos] == '\\' {
					escaped = true
				} else {
					inString = false
				}
				s.pos++
				if !inString && depth == 0 {
					if keep != nil {
						keep(s.data[start:s.pos])
					}
					return nil
				}
				continue
			}
			switch c {
			case '"':
				inString = true
			case '{', '[':
				depth++
			case '}', ']':
				if depth == 0 {
					// The end of the enclosing array or object: a scalar
					// value ended just before.
					if keep != nil {
						keep(s.data[start:s.pos])
					}
					return nil
				}
				depth--
				if depth == 0 {
					s.pos++
					if keep != nil {
						keep(s.data[start:s.pos])
					}
					return nil
				}
			case ',', ' ', '\t', '\n', '\r':
				if depth == 0 {
					if keep != nil {
						keep(s.data[start:s.pos])
					}
					return nil
				}
			}
			s.pos++
		}
		if keep != nil {
			keep(s.data[start:s.pos])
		}
	}
}

// key consumes a member name and reports whether it is field.
func (s *ArrayScanner) key() (bool, error) {
	var name []byte
	if c, ok := s.peek(); !ok || c != '"' {
		if !ok {
			return false, s.errorf("unexpected end of the document, expecting a member name")
		}
		return false, s.errorf("unexpected %q, expecting a member name", c)
	}
	if err := s.value(func(b []byte) {
		if len(name) <= len(s.field)+2 {
			name = append(name, b...)
		}
	}); err != nil {
		return false, err
	}
	return len(name) == len(s.field)+2 && string(name[1:len(name)-1]) == s.field, nil
}

// seekArray reads the object's members up to the array's opening bracket.
func (s *ArrayScanner) seekArray(first bool) error {
	for {
		if !first {
			c, ok := s.peek()
			switch {
			case !ok:
				return s.errorf("unexpected end of the document, expecting ',' or '}'")
			case c == '}':
				s.pos++
				return s.errorf("the document has no %s array", s.field)
			case c != ',':
				return s.errorf("unexpected %q, expecting ',' or '}'", c)
			}
			s.pos++
		}
		first = false
		isField, err := s.key()
		if err != nil {
			return err
		}
		if err := s.expect(':', "':'"); err != nil {
			return err
		}
		if isField {
			return s.expect('[', "the "+s.field+" array")
		}
		if err := s.value(nil); err != nil {
			return err
		}
	}
}

// finish reads what follows the array: other members, the end of the
// object, then nothing but white space.
func (s *ArrayScanner) finish() error {
	for {
		c, ok := s.peek()
		switch {
		case !ok:
			return s.errorf("unexpected end of the document, expecting ',' or '}'")
		case c == '}':
			s.pos++
			if c, ok := s.peek(); ok {
				return s.errorf("unexpected %q after the document", c)
			}
			if s.readErr != nil {
				return s.readErr
			}
			return io.EOF
		case c != ',':
			return s.errorf("unexpected %q, expecting ',' or '}'", c)
		}
		s.pos++
		if _, err := s.key(); err != nil {
			return err
		}
		if err := s.expect(':', "':'"); err != nil {
			return err
		}
		if err := s.value(nil); err != nil {
			return err
		}
	}
}

// Next returns the next element and its position. The slice is valid until
// the following call. At the end of the document it returns io.EOF; a
// *LineError concerns only the element it names; other errors end the
// stream (a *SyntaxError means the document is broken).
func (s *ArrayScanner) Next() ([]byte, int, error) {
	switch s.state {
	case afterArray:
		return nil, s.n, io.EOF
	case beforeArray:
		if _, ok := s.peek(); !ok && s.readErr == nil {
			s.state = afterArray
			return nil, 0, io.EOF // an empty object holds no records
		}
		if err := s.expect('{', "a JSON object"); err != nil {
			return nil, 0, err
		}
		if err := s.seekArray(true); err != nil {
			return nil, 0, err
		}
		s.state = inArray
		if c, ok := s.peek(); ok && c == ']' {
			s.pos++
			s.state = afterArray
			return nil, s.n, s.finish()
		}
	case inArray:
		c, ok := s.peek()
		switch {
		case !ok:
			return nil, s.n, s.errorf("unexpected end of the document, expecting ',' or ']'")
		case c == ']':
			s.pos++
			s.state = afterArray
			return nil, s.n, s.finish()
		case c != ',':
			return nil, s.n, s.errorf("unexpected %q, expecting ',' or ']'", c)
		}
		s.pos++
	}
	s.n++
	s.rec = s.rec[:0]
	size := 0
	tooLong := false
	err := s.value(func(b []byte) {
		size += len(b)
		switch {
		case tooLong:
		case len(s.rec)+len(b) > s.maxRec:
			tooLong = true
			s.head = append(s.head[:0], s.rec[:min(len(s.rec), HeadBytes)]...)
			if n := HeadBytes - len(s.head); n > 0 {
				s.head = append(s.head, b[:min(len(b), n)]...)
			}
			s.rec = s.rec[:0]
		default:
			s.rec = append(s.rec, b...)
		}
	})
	if err != nil {
		return nil, s.n, err
	}
	if tooLong {
		return nil, s.n, &LineError{Line: s.n, Reason: fmt.Sprintf("record longer than %d bytes", s.maxRec), Head: append([]byte(nil), s.head...), Size: size}
	}
	return s.rec, s.n, nil
}
