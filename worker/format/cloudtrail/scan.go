package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// A CloudTrail record is indexed as delivered, but the whole of it must be
// valid JSON (one broken document fails a whole bulk request) and the
// document needs a handful of its fields. scanRecord does both in one pass,
// with tight loops over strings (most of a record's bytes), where
// encoding/json would validate the record and then decode it a second time
// through reflection.

// maxDepth is how deeply arrays and objects may nest, as in encoding/json.
const maxDepth = 10000

// field names a part of a record the document is built from.
type field uint8

const (
	// The members of the record.
	eventTime field = iota
	eventID
	eventName
	eventSource
	eventType
	eventCategory
	awsRegion
	sourceIP
	userAgent
	errorCode
	recipientAccount
	// userIdentity's userName, arn and accountId, and the userName of its
	// sessionContext.sessionIssuer.
	userName
	userARN
	userAccount
	issuerName
	// insightDetails' eventSource and insightType.
	insightSource
	insightType
	// responseElements.ConsoleLogin: "Success" or "Failure" for a sign-in.
	consoleLogin

	numFields
	none = numFields
)

// fields are the raw JSON values of the parts of a record the document is
// built from (nil when absent). Each may appear once: a record naming one
// of them twice is refused, since the cluster would refuse its document.
type fields [numFields][]byte

// level says which object the parser is in, for the members it looks for.
type level uint8

const (
	inOther level = iota
	inRecord
	inIdentity
	inSession
	inIssuer
	inWebID
	inInsight
	inResponse
)

// want is what a member's value may be.
type want uint8

const (
	anyValue want = iota
	// objectOrNull: the free-form blocks, which the template maps as one
	// object field: a scalar there would make the cluster refuse the
	// document.
	objectOrNull
)

// syntaxError says where and why a record is not valid JSON.
type syntaxError struct {
	offset int
	msg    string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.offset) }

// parser is a validating recursive-descent JSON parser (RFC 8259, the
// grammar json.Valid accepts; string bytes are not checked for UTF-8, as
// with encoding/json) that records the raw values of the fields it is asked
// for.
type parser struct {
	b     []byte
	i     int
	depth int
	// spaced is set when white space separates tokens: the record must be
	// compacted onto one line.
	spaced bool
	f      fields
	// err is a reason the record cannot be used although it is valid JSON.
	err error
}

// scanRecord validates rec as one JSON object and collects its fields.
// spaced reports white space between tokens. Its errors are the reason
// the record cannot be used.
func scanRecord(rec []byte) (f fields, spaced bool, err error) {
	p := parser{b: rec}
	p.skipSpace()
	if p.i >= len(p.b) || p.b[p.i] != '{' {
		return fields{}, false, errors.New("not a JSON object")
	}
	err = p.object(inRecord)
	if err == nil {
		p.skipSpace()
		if p.i < len(p.b) {
			err = p.errorf("unexpected %s after the record", p.describe())
		}
	}
	switch {
	case err != nil:
		return fields{}, false, fmt.Errorf("invalid JSON: %w", err)
	case p.err != nil:
		return fields{}, false, p.err
	}
	return p.f, p.spaced, nil
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
	start := p.i
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			p.spaced = p.spaced || p.i > start
			return
		}
	}
	p.spaced = p.spaced || p.i > start
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

// isECSName reports whether name is a member the document adds beside the
// record's own: a record holding one would give its document the member
// twice, which the cluster refuses.
func isECSName(name []byte) bool {
	switch string(name) {
	case "@timestamp", "event", "source", "destination", "network", "user",
		"cloud", "url", "http", "user_agent", "related":
		return true
	}
	return false
}

// member says what the parser does with the member called name of an
// object at level lv: the field its raw value is (none: no field), the
// level of its value if it is an object, and what the value may be.
func (p *parser) member(lv level, name []byte) (dst field, sub level, w want) {
	dst = none
	switch lv {
	case inRecord:
		switch string(name) {
		case "eventTime":
			dst = eventTime
		case "eventID":
			dst = eventID
		case "eventName":
			dst = eventName
		case "eventSource":
			dst = eventSource
		case "eventType":
			dst = eventType
		case "eventCategory":
			dst = eventCategory
		case "awsRegion":
			dst = awsRegion
		case "sourceIPAddress":
			dst = sourceIP
		case "userAgent":
			dst = userAgent
		case "errorCode":
			dst = errorCode
		case "recipientAccountId":
			dst = recipientAccount
		case "userIdentity":
			return none, inIdentity, objectOrNull
		case "insightDetails":
			return none, inInsight, objectOrNull
		case "responseElements":
			return none, inResponse, objectOrNull
		case "requestParameters", "additionalEventData", "serviceEventDetails", "edgeDeviceDetails":
			return none, inOther, objectOrNull
		default:
			if isECSName(name) {
				p.err = fmt.Errorf("the record has a member %q, a name the document's ECS fields use", name)
			}
		}
	case inIdentity:
		switch string(name) {
		case "userName":
			dst = userName
		case "arn":
			dst = userARN
		case "accountId":
			dst = userAccount
		case "sessionContext":
			sub = inSession
		}
	case inSession:
		switch string(name) {
		case "sessionIssuer":
			sub = inIssuer
		case "webIdFederationData":
			sub = inWebID
		}
	case inWebID:
		if string(name) == "attributes" {
			w = objectOrNull
		}
	case inIssuer:
		if string(name) == "userName" {
			dst = issuerName
		}
	case inInsight:
		switch string(name) {
		case "eventSource":
			dst = insightSource
		case "insightType":
			dst = insightType
		}
	case inResponse:
		if string(name) == "ConsoleLogin" {
			dst = consoleLogin
		}
	}
	return dst, sub, w
}

// levelNames name the objects in error messages.
var levelNames = [...]string{inRecord: "", inIdentity: "userIdentity.", inSession: "userIdentity.sessionContext.",
	inIssuer: "userIdentity.sessionContext.sessionIssuer.", inWebID: "userIdentity.sessionContext.webIdFederationData.", inInsight: "insightDetails.", inResponse: "responseElements."}

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
		dst, sub, w := none, inOther, anyValue
		var name []byte
		if lv != inOther {
			name = keyName(key)
			dst, sub, w = p.member(lv, name)
		}
		start := p.i
		if err := p.value(sub); err != nil {
			return err
		}
		if lv != inOther && p.err == nil {
			raw := p.b[start:p.i]
			switch {
			case dst != none && p.f[dst] != nil:
				p.err = fmt.Errorf("%s%s appears twice", levelNames[lv], name)
			case dst != none:
				p.f[dst] = raw
			case w == objectOrNull && raw[0] != '{' && !isNull(raw):
				p.err = fmt.Errorf("%s%s is not an object", levelNames[lv], name)
			}
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
		if err := p.value(inOther); err != nil {
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

// keyName is a quoted member name without its quotes, escapes resolved
// (names with escapes are rare: only they are copied).
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

func isNull(raw []byte) bool { return len(raw) == 0 || string(raw) == "null" }

// compact appends rec without the white space between its tokens. rec must
// be a JSON value the parser accepted: its strings hold no raw white space
// but spaces, which are kept.
func compact(dst, rec []byte) []byte {
	for i := 0; i < len(rec); {
		switch c := rec[i]; c {
		case ' ', '\t', '\n', '\r':
			i++
		case '"':
			end := stringEnd(rec, i)
			dst = append(dst, rec[i:end]...)
			i = end
		default:
			dst = append(dst, c)
			i++
		}
	}
	return dst
}

// stringEnd is the offset just past the string that opens at rec[i].
func stringEnd(rec []byte, i int) int {
	for j := i + 1; j < len(rec); {
		k := bytes.IndexAny(rec[j:], `"\`)
		if k < 0 {
			return len(rec)
		}
		j += k
		if rec[j] == '\\' {
			j += 2
			continue
		}
		return j + 1
	}
	return len(rec)
}
