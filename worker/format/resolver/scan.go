package resolver

import (
	"fmt"
	"unicode/utf8"
)

// A record is indexed as delivered, so the whole of it must be valid JSON
// before it goes into a bulk body: one broken line would fail the request
// for every document in it. scanner validates a record and hands out the raw
// values of its members in the same pass, so that the record is read once.
//
// Its grammar is the one json.Valid accepts, with two more rules, both about
// what the cluster would refuse anyway: strings must be valid UTF-8 (the
// cluster's JSON parser rejects invalid bytes), and containers nest at most
// maxDepth deep (a resolver record nests three levels; the cluster refuses
// objects nested beyond its mapping depth limit of 20).

// maxDepth is how deeply arrays and objects may nest in a record.
const maxDepth = 64

// syntaxError says where and why a record is not valid JSON.
type syntaxError struct {
	offset int
	msg    string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.offset) }

// scanner is a validating JSON reader over b. Its methods return false once
// the input is found invalid; err then says why.
type scanner struct {
	b     []byte
	i     int
	depth int
	err   *syntaxError
}

// fail records the first error, at the cursor, and returns false.
func (s *scanner) fail(format string, a ...any) bool {
	if s.err == nil {
		s.err = &syntaxError{offset: s.i, msg: fmt.Sprintf(format, a...)}
	}
	return false
}

// found names the byte at the cursor for an error message.
func (s *scanner) found() string {
	if s.i >= len(s.b) {
		return "end of record"
	}
	return fmt.Sprintf("%q", s.b[s.i])
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// end checks that nothing but space follows the value just read.
func (s *scanner) end() bool {
	s.space()
	if s.i < len(s.b) {
		return s.fail("unexpected %s after the record", s.found())
	}
	return true
}

// value validates the value at the cursor and returns it raw.
func (s *scanner) value() ([]byte, bool) {
	start := s.i
	ok := false
	if s.i >= len(s.b) {
		return nil, s.fail("unexpected end of record, expecting a value")
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, ok = s.str()
	case c == '{':
		ok = s.object()
	case c == '[':
		ok = s.array()
	case c == '-' || c >= '0' && c <= '9':
		ok = s.number()
	case c == 't':
		ok = s.literal("true")
	case c == 'f':
		ok = s.literal("false")
	case c == 'n':
		ok = s.literal("null")
	default:
		return nil, s.fail("unexpected %s, expecting a value", s.found())
	}
	return s.b[start:s.i], ok
}

// enter opens a container at the cursor.
func (s *scanner) enter() bool {
	if s.depth++; s.depth > maxDepth {
		return s.fail("nested more than %d deep", maxDepth)
	}
	s.i++
	return true
}

// next moves past the space, and the comma, before the next member or
// element of the container being read and reports whether there is one; at
// the closing byte it moves past it, closes the container and reports false.
func (s *scanner) next(first bool, closing byte) (more, ok bool) {
	s.space()
	if s.i >= len(s.b) {
		return false, s.fail("unexpected end of record, expecting %q", closing)
	}
	if s.b[s.i] == closing {
		s.i++
		s.depth--
		return false, true
	}
	if !first {
		if s.b[s.i] != ',' {
			return false, s.fail("unexpected %s, expecting ',' or %q", s.found(), closing)
		}
		s.i++
		s.space()
	}
	return true, true
}

func (s *scanner) object() bool {
	if !s.enter() {
		return false
	}
	for first := true; ; first = false {
		more, ok := s.next(first, '}')
		if !more {
			return ok
		}
		if _, _, ok := s.name(); !ok {
			return false
		}
		if _, ok := s.value(); !ok {
			return false
		}
	}
}

func (s *scanner) array() bool {
	if !s.enter() {
		return false
	}
	for first := true; ; first = false {
		more, ok := s.next(first, ']')
		if !more {
			return ok
		}
		if _, ok := s.value(); !ok {
			return false
		}
	}
}

// name reads a member's name and the colon after it, leaving the cursor at
// the value. It returns the name's raw contents, without quotes, and whether
// they hold escapes.
func (s *scanner) name() (name []byte, escaped, ok bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false, s.fail("unexpected %s, expecting a member name", s.found())
	}
	start := s.i
	if escaped, ok = s.str(); !ok {
		return nil, false, false
	}
	name = s.b[start+1 : s.i-1]
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != ':' {
		return nil, false, s.fail("unexpected %s, expecting ':' after a member name", s.found())
	}
	s.i++
	s.space()
	return name, escaped, true
}

// plain marks the bytes a string holds as they are: printable ASCII but the
// quote and the backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str validates the string at the cursor and reports whether it holds
// escapes.
func (s *scanner) str() (escaped, ok bool) {
	b := s.b
	i := s.i + 1
	for {
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i >= len(b) {
			s.i = len(b)
			return false, s.fail("unterminated string")
		}
		switch c := b[i]; {
		case c == '"':
			s.i = i + 1
			return escaped, true
		case c == '\\':
			escaped = true
			s.i = i
			n, ok := s.escape()
			if !ok {
				return false, false
			}
			i += n
		case c < 0x20:
			s.i = i
			return false, s.fail("control character %q in a string", c)
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				s.i = i
				return false, s.fail("invalid UTF-8 in a string")
			}
			i += size
		}
	}
}

// escape validates the escape at the cursor and returns its length.
func (s *scanner) escape() (int, bool) {
	b := s.b[s.i:]
	if len(b) < 2 {
		return 0, s.fail("unterminated string")
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, true
	case 'u':
		for k := 2; k < 6; k++ {
			if k >= len(b) || !isHex(b[k]) {
				return 0, s.fail("invalid \\u escape in a string")
			}
		}
		return 6, true
	}
	return 0, s.fail("invalid escape %q in a string", b[:2])
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

// number validates -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *scanner) number() bool {
	if s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.digits() == 0:
		return s.fail("invalid number: expecting a digit")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			return s.fail("invalid number: expecting a digit after the decimal point")
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.digits() == 0 {
			return s.fail("invalid number: expecting a digit in the exponent")
		}
	}
	return true
}

func (s *scanner) literal(word string) bool {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return s.fail("invalid literal, expecting %s", word)
	}
	s.i += len(word)
	return true
}

// members calls fn with the name and raw value of each member of obj, a
// validated JSON object, until fn returns an error.
func members(obj []byte, fn func(name, v []byte) error) error {
	s := scanner{b: obj}
	s.enter()
	for first := true; ; first = false {
		if more, _ := s.next(first, '}'); !more {
			return nil
		}
		from := s.i
		name, escaped, _ := s.name()
		v, _ := s.value()
		if escaped {
			name = unquote(obj[from : s.i-len(v)])
		}
		if err := fn(name, v); err != nil {
			return err
		}
	}
}
