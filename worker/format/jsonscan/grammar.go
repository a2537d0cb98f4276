package jsonscan

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// The grammar, RFC 8259. Each method reads what it is named for at the
// cursor and reports whether it was valid; the first error is kept in s.err.

// space moves past white space. Records are mostly written without any:
// the test for a token at the cursor is inlined, the loop is not.
func (s *Scanner) space() {
	if s.i < len(s.b) && s.b[s.i] > ' ' {
		return
	}
	s.skipSpace()
}

func (s *Scanner) skipSpace() {
	i := s.i
	for i < len(s.b) && (s.b[i] == ' ' || s.b[i] == '\n' || s.b[i] == '\r' || s.b[i] == '\t') {
		i++
	}
	if i > s.i {
		s.i, s.spaced = i, true
	}
}

// value reads the value at the cursor.
func (s *Scanner) value() bool {
	if s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			_, ok := s.str(s.checkUTF8)
			return ok
		case c == '{':
			return s.object()
		case c == '[':
			return s.array()
		case c == '-' || c >= '0' && c <= '9':
			return s.number()
		case c == 't':
			return s.literal("true")
		case c == 'f':
			return s.literal("false")
		case c == 'n':
			return s.literal("null")
		}
	}
	return s.fail("unexpected %s, expecting a value", s.found())
}

// enter moves into the object or array that opens at the cursor.
func (s *Scanner) enter() bool {
	if s.depth >= s.max {
		return s.fail("nesting deeper than %d", s.max)
	}
	s.depth++
	s.i++
	return true
}

func (s *Scanner) object() bool {
	if !s.enter() {
		return false
	}
	for first := true; ; first = false {
		more, ok := s.separator(first, '}')
		if !more {
			return ok
		}
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return s.fail("unexpected %s, expecting a member name", s.found())
		}
		if _, ok := s.str(s.checkUTF8); !ok || !s.colon() || !s.value() {
			return false
		}
	}
}

func (s *Scanner) array() bool {
	if !s.enter() {
		return false
	}
	for first := true; ; first = false {
		more, ok := s.separator(first, ']')
		if !more {
			return ok
		}
		if !s.value() {
			return false
		}
	}
}

// separator reads what comes before a member or an element of the container
// that closing ends: nothing before the first, a comma before the others.
// It reports whether one follows; at the closing bracket it moves past it
// and reports false.
func (s *Scanner) separator(first bool, closing byte) (more, ok bool) {
	s.space()
	if s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == closing:
			s.i++
			s.depth--
			return false, true
		case first:
			return true, true
		case c == ',':
			s.i++
			s.space()
			return true, true
		}
	}
	return false, s.badSeparator(first, closing)
}

func (s *Scanner) badSeparator(first bool, closing byte) bool {
	switch {
	case first && closing == '}':
		return s.fail("unexpected %s, expecting a member name", s.found())
	case first:
		return s.fail("unexpected %s, expecting a value", s.found())
	case s.i >= len(s.b) && closing == '}':
		return s.fail("unexpected end of input in an object")
	case s.i >= len(s.b):
		return s.fail("unexpected end of input in an array")
	case closing == '}':
		return s.fail("unexpected %s after an object member, expecting ',' or '}'", s.found())
	}
	return s.fail("unexpected %s after an array element, expecting ',' or ']'", s.found())
}

// colon reads the colon after a member name, and the space around it.
func (s *Scanner) colon() bool {
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != ':' {
		return s.fail("unexpected %s after a member name, expecting ':'", s.found())
	}
	s.i++
	s.space()
	return true
}

// What str found in a string besides bytes it holds as they are.
const (
	escapes  = 1 << iota // escape sequences
	nonASCII             // bytes of multi-byte UTF-8 sequences (or invalid)
)

// plain and plainASCII mark the bytes a string holds as they are: not the
// quote, the backslash or a control character, and for plainASCII, not the
// bytes of multi-byte UTF-8 sequences either.
var plain, plainASCII = func() (p, a [256]bool) {
	for c := 0x20; c < 256; c++ {
		p[c] = c != '"' && c != '\\'
		a[c] = p[c] && c < utf8.RuneSelf
	}
	return p, a
}()

// Masks of the bytes of a word.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// str reads the string that opens at the cursor and says what it found
// besides the bytes it holds as they are. With ascii, it stops at every
// byte that is not ASCII, to tell (and, for a scanner that checks UTF-8,
// check) them.
func (s *Scanner) str(ascii bool) (found uint8, ok bool) {
	b := s.b
	table, high := &plain, uint64(0)
	if ascii {
		table, high = &plainASCII, highs
	}
	i := s.i + 1
	for {
		// Eight bytes at a time while none of them needs attention: the
		// lowest flagged byte of m is the first that does (flags above it
		// may be false).
		for i+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[i:])
			q, bs := w^('"'*ones), w^('\\'*ones)
			m := (w-0x20*ones)&^w | (q-ones)&^q | (bs-ones)&^bs
			if m = m&highs | w&high; m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i+8 > len(b) {
			for i < len(b) && table[b[i]] {
				i++
			}
		}
		if i >= len(b) {
			s.i = i
			return 0, s.fail("unexpected end of input in a string")
		}
		switch c := b[i]; {
		case c == '"':
			s.i = i + 1
			return found, true
		case c == '\\':
			n := s.escape(i)
			if n == 0 {
				return 0, false
			}
			i += n
			found |= escapes
		case c < 0x20:
			s.i = i
			return 0, s.fail("control character 0x%02x in a string", c)
		case !s.checkUTF8:
			i++
			found |= nonASCII
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				s.i = i
				return 0, s.fail("invalid UTF-8 in a string")
			}
			i += size
			found |= nonASCII
		}
	}
}

// escape reads the escape sequence at b[i] and returns its length, 0 when
// it is invalid.
func (s *Scanner) escape(i int) int {
	b := s.b
	i++
	if i < len(b) {
		switch b[i] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			return 2
		case 'u':
			for k := i + 1; k < i+5; k++ {
				if k >= len(b) || !isHex(b[k]) {
					s.i = k
					s.fail("invalid \\u escape in a string")
					return 0
				}
			}
			return 6
		}
	}
	s.i = i
	if i >= len(b) {
		s.fail("unexpected end of input in a string escape")
	} else {
		s.fail("invalid escape %s in a string", s.found())
	}
	return 0
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// digits is the offset of the first byte from b[i] on that is not a digit.
func digits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *Scanner) number() bool {
	b, i := s.b, s.i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i+1)
	default:
		s.i = i
		return s.fail("invalid number: unexpected %s, expecting a digit", s.found())
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			s.i = i
			return s.fail("invalid number: expecting a digit after the decimal point")
		}
		i = digits(b, i+1)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			s.i = i
			return s.fail("invalid number: expecting a digit in the exponent")
		}
		i = digits(b, i+1)
	}
	s.i = i
	return true
}

func (s *Scanner) literal(word string) bool {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return s.fail("invalid literal, expecting %s", word)
	}
	s.i += len(word)
	return true
}
