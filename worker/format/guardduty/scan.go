package guardduty

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// The transform reads a handful of fields of a record that is otherwise
// passed through untouched, but the whole record must be valid JSON: one
// broken line in a bulk body would fail the request for every document in
// it. encoding/json's Unmarshal validates the whole input and then decodes it
// in a second pass, byte by byte through a state machine, which made it the
// largest CPU cost of the worker. fields does both in one pass over the
// record, with tight loops over strings (most of a finding's bytes).

// maxDepth is how deeply arrays and objects may nest, as in encoding/json.
const maxDepth = 10000

// recordFields are the parts of a finding the transform needs, as raw JSON
// values (nil when absent; the last occurrence of a duplicated key wins, as
// with encoding/json).
type recordFields struct {
	arn, createdAt, updatedAt, typ []byte
	// service is the raw service value; action is service.action when
	// service is an object.
	service, action []byte
}

// syntaxError says where and why a record is not valid JSON.
type syntaxError struct {
	offset int
	msg    string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.offset) }

// parser is a validating recursive-descent JSON parser that records the raw
// values of the fields it is asked for. Its grammar is RFC 8259, exactly the
// one json.Valid accepts (bytes of strings are not checked for UTF-8,
// like encoding/json).
type parser struct {
	b     []byte
	i     int
	depth int
	f     recordFields
}

// scanRecord validates b as one JSON value and collects the record fields.
func scanRecord(b []byte) (recordFields, error) {
	p := parser{b: b}
	p.skipSpace()
	if err := p.value(levelTop); err != nil {
		return recordFields{}, err
	}
	p.skipSpace()
	if p.i < len(p.b) {
		return recordFields{}, p.errorf("unexpected %s after the top-level value", p.describe())
	}
	return p.f, nil
}

// level says which fields an object's members may be.
type level uint8

const (
	levelOther   level = iota
	levelTop           // the record itself
	levelService       // the record's service object
)

func (p *parser) errorf(format string, a ...any) error {
	return &syntaxError{offset: p.i, msg: fmt.Sprintf(format, a...)}
}

// describe names the byte at the cursor for an error message.
func (p *parser) describe() string {
	if p.i >= len(p.b) {
		return "end of input"
	}
	c := p.b[p.i]
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("character %q", c)
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (p *parser) skipSpace() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// value parses one value at the cursor; lv is the level an object value
// would have.
func (p *parser) value(lv level) error {
	if p.i >= len(p.b) {
		return p.errorf("unexpected end of input, expecting a value")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object(lv)
	case c == '[':
		return p.array()
	case c == '"':
		_, err := p.str()
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	default:
		return p.errorf("unexpected %s, expecting a value", p.describe())
	}
}

func (p *parser) literal(word string) error {
	if len(p.b)-p.i < len(word) || string(p.b[p.i:p.i+len(word)]) != word {
		return p.errorf("invalid literal, expecting %s", word)
	}
	p.i += len(word)
	return nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errorf("nesting deeper than %d", maxDepth)
	}
	return nil
}

func (p *parser) object(lv level) error {
	if err := p.enter(); err != nil {
		return err
	}
	p.i++ // {
	p.skipSpace()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		p.depth--
		return nil
	}
	for {
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return p.errorf("unexpected %s, expecting a member name", p.describe())
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		p.skipSpace()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return p.errorf("unexpected %s after a member name, expecting ':'", p.describe())
		}
		p.i++
		p.skipSpace()
		start := p.i
		var dst *[]byte
		sub := levelOther
		switch {
		case lv == levelTop && keyIs(key, "arn"):
			dst = &p.f.arn
		case lv == levelTop && keyIs(key, "createdAt"):
			dst = &p.f.createdAt
		case lv == levelTop && keyIs(key, "updatedAt"):
			dst = &p.f.updatedAt
		case lv == levelTop && keyIs(key, "type"):
			dst = &p.f.typ
		case lv == levelTop && keyIs(key, "service"):
			dst, sub = &p.f.service, levelService
			// A later service member replaces an earlier one, action
			// included.
			p.f.action = nil
		case lv == levelService && keyIs(key, "action"):
			dst = &p.f.action
		}
		if err := p.value(sub); err != nil {
			return err
		}
		if dst != nil {
			*dst = p.b[start:p.i]
		}
		if done, err := p.separator('}', "an object", "an object member"); done || err != nil {
			return err
		}
	}
}

func (p *parser) array() error {
	if err := p.enter(); err != nil {
		return err
	}
	p.i++ // [
	p.skipSpace()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		p.depth--
		return nil
	}
	for {
		if err := p.value(levelOther); err != nil {
			return err
		}
		if done, err := p.separator(']', "an array", "an array element"); done || err != nil {
			return err
		}
	}
}

// separator reads what follows a member or an element: a comma (more to
// come) or the closing bracket (done).
func (p *parser) separator(closing byte, in, after string) (done bool, err error) {
	p.skipSpace()
	if p.i >= len(p.b) {
		return false, p.errorf("unexpected end of input in %s", in)
	}
	switch p.b[p.i] {
	case ',':
		p.i++
		p.skipSpace()
		return false, nil
	case closing:
		p.i++
		p.depth--
		return true, nil
	}
	return false, p.errorf("unexpected %s after %s, expecting ',' or '%c'", p.describe(), after, closing)
}

// plain marks the string bytes that need no attention: not a quote, not a
// backslash, not a control character.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str parses a string at the cursor and returns it with its quotes.
func (p *parser) str() ([]byte, error) {
	start := p.i
	p.i++ // opening quote
	b := p.b
	for {
		i := p.i
		for i < len(b) && plain[b[i]] {
			i++
		}
		p.i = i
		if i >= len(b) {
			return nil, p.errorf("unexpected end of input in a string")
		}
		switch c := b[i]; {
		case c == '"':
			p.i++
			return b[start:p.i], nil
		case c == '\\':
			if err := p.escape(); err != nil {
				return nil, err
			}
		default:
			return nil, p.errorf("control character 0x%02x in a string", c)
		}
	}
}

func (p *parser) escape() error {
	p.i++ // backslash
	if p.i >= len(p.b) {
		return p.errorf("unexpected end of input in a string escape")
	}
	switch p.b[p.i] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		p.i++
		return nil
	case 'u':
		p.i++
		for range 4 {
			if p.i >= len(p.b) || !isHex(p.b[p.i]) {
				return p.errorf("invalid \\u escape in a string")
			}
			p.i++
		}
		return nil
	default:
		return p.errorf("invalid escape %s in a string", p.describe())
	}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (p *parser) number() error {
	b := p.b
	if b[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(b) && b[p.i] == '0':
		p.i++
	case p.i < len(b) && b[p.i] >= '1' && b[p.i] <= '9':
		for p.i < len(b) && isDigit(b[p.i]) {
			p.i++
		}
	default:
		return p.errorf("invalid number: unexpected %s", p.describe())
	}
	if p.i < len(b) && b[p.i] == '.' {
		p.i++
		if p.i >= len(b) || !isDigit(b[p.i]) {
			return p.errorf("invalid number: expecting a digit after the decimal point")
		}
		for p.i < len(b) && isDigit(b[p.i]) {
			p.i++
		}
	}
	if p.i < len(b) && (b[p.i] == 'e' || b[p.i] == 'E') {
		p.i++
		if p.i < len(b) && (b[p.i] == '+' || b[p.i] == '-') {
			p.i++
		}
		if p.i >= len(b) || !isDigit(b[p.i]) {
			return p.errorf("invalid number: expecting a digit in the exponent")
		}
		for p.i < len(b) && isDigit(b[p.i]) {
			p.i++
		}
	}
	return nil
}

// keyIs reports whether a quoted member name is name, exactly (names with
// escapes, which are rare, are decoded first).
func keyIs(quoted []byte, name string) bool {
	inner := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner) == name
	}
	return decodeString(quoted) == name
}

// decodeString decodes a quoted JSON string the way encoding/json does
// (escapes resolved, invalid UTF-8 replaced with U+FFFD). quoted must be a
// string the parser accepted.
func decodeString(quoted []byte) string {
	inner := quoted[1 : len(quoted)-1]
	simple := utf8.Valid(inner)
	for _, c := range inner {
		if c == '\\' {
			simple = false
			break
		}
	}
	if simple {
		return string(inner)
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return ""
	}
	return s
}

// members calls fn with each member of a JSON object that the parser has
// already accepted (as part of a record), in order; fn gets the quoted name
// and the raw value. A value that is not an object yields nothing.
func members(obj []byte, fn func(name, value []byte)) {
	if len(obj) == 0 || obj[0] != '{' {
		return
	}
	p := parser{b: obj, i: 1}
	p.skipSpace()
	for p.i < len(p.b) && p.b[p.i] == '"' {
		name, err := p.str()
		if err != nil {
			return
		}
		p.skipSpace()
		p.i++ // :
		p.skipSpace()
		start := p.i
		if p.value(levelOther) != nil {
			return
		}
		fn(name, p.b[start:p.i])
		p.skipSpace()
		if p.i < len(p.b) && p.b[p.i] == ',' {
			p.i++
			p.skipSpace()
		}
	}
}

// member is the raw value of the last member called name of an accepted
// object (nil when absent or when obj is not an object).
func member(obj []byte, name string) []byte {
	var v []byte
	members(obj, func(n, value []byte) {
		if keyIs(n, name) {
			v = value
		}
	})
	return v
}

// elements calls fn with each element of an accepted JSON array.
func elements(arr []byte, fn func(value []byte)) {
	if len(arr) == 0 || arr[0] != '[' {
		return
	}
	p := parser{b: arr, i: 1}
	p.skipSpace()
	for p.i < len(p.b) && p.b[p.i] != ']' {
		start := p.i
		if p.value(levelOther) != nil {
			return
		}
		fn(p.b[start:p.i])
		p.skipSpace()
		if p.i < len(p.b) && p.b[p.i] == ',' {
			p.i++
			p.skipSpace()
		}
	}
}

func isNull(raw []byte) bool { return len(raw) == 0 || string(raw) == "null" }
