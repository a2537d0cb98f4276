package waf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// A WAF record is indexed as delivered, but it must be valid JSON as a
// whole (one broken document would fail a whole bulk request), and a dozen
// of its fields feed the ECS fields. scanRecord does both in one pass:
// encoding/json would validate the record and then decode it again, byte by
// byte, which would double the CPU the worker spends on each request logged.

// maxDepth is how deeply arrays and objects may nest, as in encoding/json.
const maxDepth = 10000

// recordFields are the raw JSON values the decoder reads (nil when absent;
// of a member named twice, the last one counts, as with encoding/json).
type recordFields struct {
	timestamp, webACLID, action, sourceName, responseCode []byte
	// reserved is the name of the first top-level member that the worker
	// writes itself (the ECS roots), when the record has one.
	reserved string
	// space is set when a carriage return sits between tokens: it is valid
	// JSON but must not reach a bulk body, where lines end records.
	space bool
	http  httpFields
}

// httpFields are the members of httpRequest that the decoder reads.
type httpFields struct {
	clientIP, uri, args, version, method, requestID, host, scheme []byte
	// hostHeader and userAgent are the quoted values of the first Host and
	// User-Agent headers; xff holds the value of every X-Forwarded-For.
	hostHeader, userAgent []byte
	xff                   [][]byte
}

// syntaxError says where and why a record is not valid JSON.
type syntaxError struct {
	offset int
	msg    string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.offset) }

// level says which of the fields an object's members may be.
type level uint8

const (
	levelOther   level = iota
	levelTop           // the record itself
	levelHTTP          // the record's httpRequest
	levelHeaders       // httpRequest.headers (an array)
	levelHeader        // one element of httpRequest.headers
)

// parser is a validating recursive-descent JSON parser (RFC 8259, the
// grammar json.Valid accepts) that keeps the raw values of the fields it
// reads.
type parser struct {
	b     []byte
	i     int
	depth int
	f     recordFields
}

// scanRecord validates b as one JSON value and collects the record fields
// into f, whose xff slice is reused.
func scanRecord(b []byte, f *recordFields) error {
	xff := f.xffScratch()
	p := parser{b: b}
	p.f.http.xff = xff
	p.skipSpace()
	if err := p.value(levelTop); err != nil {
		return err
	}
	p.skipSpace()
	if p.i < len(p.b) {
		return p.errorf("unexpected %s after the top-level value", p.describe())
	}
	*f = p.f
	return nil
}

// xffScratch is f's X-Forwarded-For list, emptied for the next record.
func (f *recordFields) xffScratch() [][]byte {
	xff := f.http.xff[:0]
	for i := range f.http.xff {
		f.http.xff[i] = nil // let the previous record's bytes go
	}
	return xff
}

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
		case ' ', '\t':
			p.i++
		case '\r', '\n':
			p.f.space = true
			p.i++
		default:
			return
		}
	}
}

// value parses the value at the cursor; lv is the level an object or array
// there would have.
func (p *parser) value(lv level) error {
	if p.i >= len(p.b) {
		return p.errorf("unexpected end of input, expecting a value")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object(lv)
	case c == '[':
		return p.array(lv)
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

// header is what one element of httpRequest.headers holds.
type header struct{ name, value []byte }

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
	var h header
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
		dst, sub := p.member(lv, key, &h)
		if err := p.value(sub); err != nil {
			return err
		}
		if dst != nil {
			*dst = p.b[start:p.i]
		}
		done, err := p.separator('}', "an object", "an object member")
		if err != nil {
			return err
		}
		if done {
			break
		}
	}
	if lv == levelHeader {
		p.f.http.addHeader(h)
	}
	return nil
}

// member says where the value of member key of an object at level lv goes
// (nil: nowhere) and the level of its value.
func (p *parser) member(lv level, key []byte, h *header) (*[]byte, level) {
	switch lv {
	case levelTop:
		switch name := keyName(key); string(name) {
		case "timestamp":
			return &p.f.timestamp, levelOther
		case "webaclId":
			return &p.f.webACLID, levelOther
		case "action":
			return &p.f.action, levelOther
		case "httpSourceName":
			return &p.f.sourceName, levelOther
		case "responseCodeSent":
			return &p.f.responseCode, levelOther
		case "httpRequest":
			// A later httpRequest replaces an earlier one entirely.
			p.f.http = httpFields{xff: p.f.http.xff[:0]}
			return nil, levelHTTP
		case "@timestamp", "event", "source", "destination", "network", "user",
			"cloud", "url", "http", "user_agent", "related":
			// The ECS roots, which the decoder writes itself.
			if p.f.reserved == "" {
				p.f.reserved = string(name)
			}
		}
	case levelHTTP:
		h := &p.f.http
		switch string(keyName(key)) {
		case "clientIp":
			return &h.clientIP, levelOther
		case "uri":
			return &h.uri, levelOther
		case "args":
			return &h.args, levelOther
		case "httpVersion":
			return &h.version, levelOther
		case "httpMethod":
			return &h.method, levelOther
		case "requestId":
			return &h.requestID, levelOther
		case "host":
			return &h.host, levelOther
		case "scheme":
			return &h.scheme, levelOther
		case "headers":
			h.hostHeader, h.userAgent, h.xff = nil, nil, h.xff[:0]
			return nil, levelHeaders
		}
	case levelHeader:
		switch string(keyName(key)) {
		case "name":
			return &h.name, levelOther
		case "value":
			return &h.value, levelOther
		}
	}
	return nil, levelOther
}

// addHeader keeps the headers the decoder reads. Header names are
// case-insensitive; elements whose name or value is not a string are
// ignored.
func (h *httpFields) addHeader(e header) {
	if len(e.name) < 2 || e.name[0] != '"' || len(e.value) < 2 || e.value[0] != '"' {
		return
	}
	name := keyName(e.name)
	switch {
	case asciiEqualFold(name, "host"):
		if h.hostHeader == nil {
			h.hostHeader = e.value
		}
	case asciiEqualFold(name, "user-agent"):
		if h.userAgent == nil {
			h.userAgent = e.value
		}
	case asciiEqualFold(name, "x-forwarded-for"):
		h.xff = append(h.xff, e.value)
	}
}

// asciiEqualFold reports whether name is lower, ignoring ASCII case only:
// header names are ASCII tokens, and Unicode folding would take "hoſt" for
// "host".
func asciiEqualFold(name []byte, lower string) bool {
	if len(name) != len(lower) {
		return false
	}
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func (p *parser) array(lv level) error {
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
	sub := levelOther
	if lv == levelHeaders {
		sub = levelHeader
	}
	for {
		if err := p.value(sub); err != nil {
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

// str parses the string at the cursor and returns it with its quotes.
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

func (p *parser) digits() {
	for p.i < len(p.b) && isDigit(p.b[p.i]) {
		p.i++
	}
}

func (p *parser) number() error {
	b := p.b
	if b[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(b) && b[p.i] == '0':
		p.i++
	case p.i < len(b) && b[p.i] >= '1' && b[p.i] <= '9':
		p.digits()
	default:
		return p.errorf("invalid number: unexpected %s", p.describe())
	}
	if p.i < len(b) && b[p.i] == '.' {
		p.i++
		if p.i >= len(b) || !isDigit(b[p.i]) {
			return p.errorf("invalid number: expecting a digit after the decimal point")
		}
		p.digits()
	}
	if p.i < len(b) && (b[p.i] == 'e' || b[p.i] == 'E') {
		p.i++
		if p.i < len(b) && (b[p.i] == '+' || b[p.i] == '-') {
			p.i++
		}
		if p.i >= len(b) || !isDigit(b[p.i]) {
			return p.errorf("invalid number: expecting a digit in the exponent")
		}
		p.digits()
	}
	return nil
}

// keyName is a quoted member name without its quotes, decoded when it has
// escapes. Names without escapes (all of them in practice) stay in place, and
// switching on string(keyName(...)) does not allocate.
func keyName(quoted []byte) []byte {
	inner := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner
	}
	return []byte(decodeString(quoted))
}

// decodeString decodes a quoted JSON string the way encoding/json does
// (escapes resolved, invalid UTF-8 replaced with U+FFFD). quoted must be a
// string the parser accepted.
func decodeString(quoted []byte) string {
	inner := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return ""
	}
	return s
}

// stringValue is a raw value decoded when it is a JSON string; ok is false
// for anything else (absent, null, a number...).
func stringValue(raw []byte) (s string, ok bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	return decodeString(raw), true
}
