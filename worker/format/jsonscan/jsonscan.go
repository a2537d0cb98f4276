// Package jsonscan validates a JSON text and hands out the parts of it a
// caller asks for in the same pass, without allocating. Formats whose
// records are indexed as delivered use it: the whole record must be valid
// JSON (one broken document fails a whole bulk request), and the document
// needs a few of its fields. encoding/json would validate the record and then
// decode it a second time through reflection.
//
// A Scanner is read pull-style: Object and Array enter a container (when
// the value at the cursor is one), Member and Element step through it, and
// Value returns a value as written, moving past it. A value the caller does
// not ask for is validated and skipped when the next member or element is
// asked for, so a caller names only the members it wants, at the levels it
// wants them:
//
//	s := jsonscan.New(record)
//	if s.Object() {
//		for s.Member() {
//			switch string(s.Name()) {
//			case "id":
//				id = s.Value()
//			case "user":
//				if s.Object() {
//					for s.Member() {
//						if string(s.Name()) == "name" {
//							name = s.Value()
//						}
//					}
//				}
//			}
//		}
//	}
//	if err := s.End(); err != nil {
//		// not valid JSON
//	}
//
// Member and Element are only called in a container that Object or Array
// entered, and a loop over them runs until they report false: the container
// is then closed. The first error stops the scan: every method then reports
// nothing more, and End returns it.
package jsonscan

import (
	"fmt"
)

// MaxDepth is how deeply New lets arrays and objects nest, as encoding/json
// does.
const MaxDepth = 10000

// SyntaxError says what is wrong with the input and at which byte.
type SyntaxError struct {
	// Offset is where the problem was found, in bytes from the start of the
	// input.
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.Msg, e.Offset) }

// state is where the scanner is in the container it reads.
type state uint8

const (
	// wantValue: a value is next (at the start, and after Member or
	// Element); the next Member or Element skips it if it is not read.
	wantValue state = iota
	// opened: an object or array was just entered.
	opened
	// read: a value was just read; a comma or the closing bracket is next.
	read
)

// Scanner reads one JSON text. Its zero value is not usable: make one with
// New or NewStrict.
type Scanner struct {
	b     []byte
	i     int
	depth int
	max   int
	// checkUTF8: strings must be valid UTF-8.
	checkUTF8 bool
	state     state
	// spaced is set once white space is skipped.
	spaced bool
	// name is the last member's name, quoted; nameHas says what str found
	// in it.
	name    []byte
	nameHas uint8
	decoded []byte // name decoded, when it needs to be
	err     *SyntaxError
}

// New returns a scanner of b that accepts what encoding/json accepts
// (json.Valid): RFC 8259, with bytes of strings not checked for UTF-8 and
// nesting at most MaxDepth deep.
func New(b []byte) Scanner {
	return Scanner{b: b, max: MaxDepth}
}

// NewStrict returns a scanner of b that also refuses what a search cluster
// would: strings that are not valid UTF-8, and containers nested more than
// maxDepth deep.
func NewStrict(b []byte, maxDepth int) Scanner {
	return Scanner{b: b, max: maxDepth, checkUTF8: true}
}

// Object enters the object at the cursor and reports true; read its members
// with Member. It reports false, and moves nowhere, when the value there is
// something else (or the input is invalid).
func (s *Scanner) Object() bool {
	if s.err != nil || s.state != wantValue {
		return false
	}
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '{' || !s.enter() {
		return false
	}
	s.state = opened
	return true
}

// Array enters the array at the cursor and reports true; read its elements
// with Element. It reports false, and moves nowhere, when the value there is
// something else (or the input is invalid).
func (s *Scanner) Array() bool {
	if s.err != nil || s.state != wantValue {
		return false
	}
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '[' || !s.enter() {
		return false
	}
	s.state = opened
	return true
}

// Member moves to the next member of the object being read, past the value
// of the previous one if it was not read, and reports whether there is one:
// its name is Name, and its value is at the cursor. At the end of the object
// it closes it and reports false.
func (s *Scanner) Member() bool {
	if !s.next('}') {
		return false
	}
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return s.fail("unexpected %s, expecting a member name", s.found())
	}
	start := s.i
	// Names that are not ASCII are told apart: they are decoded as other
	// strings are.
	found, ok := s.str(true)
	if !ok {
		return false
	}
	s.name, s.nameHas = s.b[start:s.i], found
	if !s.colon() {
		return false
	}
	s.state = wantValue
	return true
}

// Name is the name of the member Member moved to, decoded (see String). It
// is valid until the next call to Member.
func (s *Scanner) Name() []byte {
	if s.nameHas == 0 {
		return s.name[1 : len(s.name)-1]
	}
	s.decoded = AppendString(s.decoded[:0], s.name)
	return s.decoded
}

// Element moves to the next element of the array being read, past the
// previous one if it was not read, and reports whether there is one: it is
// at the cursor. At the end of the array it closes it and reports false.
func (s *Scanner) Element() bool {
	if !s.next(']') {
		return false
	}
	s.state = wantValue
	return true
}

// next reads up to the next member or element of the container being read,
// which closing ends, and reports whether there is one.
func (s *Scanner) next(closing byte) bool {
	if s.err != nil {
		return false
	}
	if s.state == wantValue && !s.value() {
		return false
	}
	first := s.state == opened
	s.state = read
	more, ok := s.separator(first, closing)
	return more && ok
}

// Value reads the value at the cursor and returns it as written: nil when
// the input is invalid, or when no value is due (the previous one was
// read, or an object or array was just entered).
func (s *Scanner) Value() []byte {
	if s.err != nil || s.state != wantValue {
		return nil
	}
	s.space()
	start := s.i
	if !s.value() {
		return nil
	}
	s.state = read
	return s.b[start:s.i]
}

// Offset is the cursor's place in the input: after Member, where the
// member's value starts; after Value or the end of a container, just past
// it.
func (s *Scanner) Offset() int { return s.i }

// Spaced reports whether white space was found between the tokens read so
// far (or around them): json.Compact would change the input.
func (s *Scanner) Spaced() bool { return s.spaced }

// End reads what is left of the input once the loops over the objects and
// arrays entered are done: the top-level value, if it was not read, then
// nothing but white space. It returns the first error found in the input,
// if any: a *SyntaxError.
func (s *Scanner) End() error {
	if s.err == nil && s.state == wantValue {
		s.Value()
	}
	if s.err == nil {
		s.space()
		if s.i < len(s.b) {
			s.fail("unexpected %s after the top-level value", s.found())
		}
	}
	if s.err != nil {
		return s.err
	}
	return nil
}

// fail records the first error, at the cursor, and returns false.
func (s *Scanner) fail(format string, a ...any) bool {
	if s.err == nil {
		s.err = &SyntaxError{Offset: s.i, Msg: fmt.Sprintf(format, a...)}
	}
	return false
}

// found names the byte at the cursor for an error message.
func (s *Scanner) found() string {
	if s.i >= len(s.b) {
		return "end of input"
	}
	c := s.b[s.i]
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("character %q", c)
	}
	return fmt.Sprintf("byte 0x%02x", c)
}
