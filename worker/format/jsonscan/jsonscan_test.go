package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// token is one token of a JSON text as a test compares it: json.Delim for
// brackets, string for names and strings, json.Number, bool, nil.
type token = any

// walk reads the value at the cursor of s with the pull API, every part of
// it, and appends its tokens. Where skip says so, a member's value is left
// unread, for Member to skip, and stands in the tokens as "<skipped>".
func walk(s *Scanner, toks []token, skip func() bool) []token {
	switch {
	case s.Object():
		toks = append(toks, json.Delim('{'))
		for s.Member() {
			toks = append(toks, string(s.Name()))
			if skip() {
				toks = append(toks, "<skipped>")
				continue
			}
			toks = walk(s, toks, skip)
		}
		return append(toks, json.Delim('}'))
	case s.Array():
		toks = append(toks, json.Delim('['))
		for s.Element() {
			toks = walk(s, toks, skip)
		}
		return append(toks, json.Delim(']'))
	}
	v := s.Value()
	switch {
	case v == nil:
		return append(toks, "<error>")
	case v[0] == '"':
		return append(toks, String(v))
	case v[0] == 't' || v[0] == 'f':
		return append(toks, v[0] == 't')
	case v[0] == 'n':
		return append(toks, nil)
	}
	return append(toks, json.Number(v))
}

// reference is what encoding/json reads of b, a valid JSON text: the
// tokens walk gives when it leaves the values of members unread where skip
// says so.
func reference(t *testing.T, b []byte, skip func() bool) []token {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	next := func() token {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("encoding/json on %q: %v", b, err)
		}
		return tok
	}
	var value func(toks []token) []token
	value = func(toks []token) []token {
		tok := next()
		toks = append(toks, tok)
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				toks = append(toks, next())
				if !skip() {
					toks = value(toks)
					continue
				}
				toks = append(toks, "<skipped>")
				for depth := 0; ; {
					switch next() {
					case json.Delim('{'), json.Delim('['):
						depth++
					case json.Delim('}'), json.Delim(']'):
						depth--
					}
					if depth == 0 {
						break
					}
				}
			}
			return append(toks, next())
		case json.Delim('['):
			for dec.More() {
				toks = value(toks)
			}
			return append(toks, next())
		}
		return toks
	}
	return value(nil)
}

// depth is how deeply the containers of b, valid JSON, nest.
func depth(b []byte) int {
	deepest, d, in, esc := 0, 0, false, false
	for _, c := range b {
		switch {
		case esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			in = !in
		case in:
		case c == '{' || c == '[':
			d++
			deepest = max(deepest, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return deepest
}

// check holds the scanners to encoding/json on b: New accepts what
// json.Valid accepts, and NewStrict that and no more than valid UTF-8 and
// its depth; errors say where and why; the pull API reads the tokens
// encoding/json reads, whether values are read or left to be skipped; and
// Spaced and AppendCompact agree with json.Compact.
func check(t *testing.T, b []byte) {
	t.Helper()
	valid := json.Valid(b)
	s := New(b)
	err := s.End()
	if (err == nil) != valid {
		t.Fatalf("End says %v, json.Valid %v, for %q", err, valid, b)
	}
	checkError(t, b, err)
	const strictDepth = 4
	s = NewStrict(b, strictDepth)
	strictErr := s.End()
	if wantValid := valid && utf8.Valid(b) && depth(b) <= strictDepth; (strictErr == nil) != wantValid {
		t.Fatalf("strict End says %v, want valid %v, for %q", strictErr, wantValid, b)
	}
	checkError(t, b, strictErr)
	if !valid {
		s = New(b)
		walk(&s, nil, func() bool { return false })
		if err2 := s.End(); err2 == nil || err2.Error() != err.Error() {
			t.Fatalf("reading %q with the pull API gave %v, End alone %v", b, err2, err)
		}
		return
	}

	for _, skip := range []func() func() bool{
		func() func() bool { return func() bool { return false } },
		func() func() bool { n := 0; return func() bool { n++; return n%2 == 1 } },
	} {
		s = New(b)
		got := walk(&s, nil, skip())
		if err := s.End(); err != nil {
			t.Fatalf("%q: %v after the pull API read it", b, err)
		}
		want := reference(t, b, skip())
		if g, w := fmt.Sprintf("%#v", got), fmt.Sprintf("%#v", want); g != w {
			t.Fatalf("tokens of %q:\ngot  %s\nwant %s", b, g, w)
		}
	}

	var compact bytes.Buffer
	if err := json.Compact(&compact, b); err != nil {
		t.Fatal(err)
	}
	if got := AppendCompact([]byte("x"), b); !bytes.Equal(got[1:], compact.Bytes()) || got[0] != 'x' {
		t.Fatalf("AppendCompact(%q) = %q, json.Compact %q", b, got[1:], compact.Bytes())
	}
	s = New(b)
	if err := s.End(); err != nil || s.Spaced() != !bytes.Equal(b, compact.Bytes()) {
		t.Fatalf("Spaced %v for %q (%v)", s.Spaced(), b, err)
	}
}

func checkError(t *testing.T, b []byte, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var se *SyntaxError
	if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(b) || se.Msg == "" {
		t.Fatalf("error %v for %q does not say what and where", err, b)
	}
}

var cases = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e+10`, `-0.5E-7`, `true`, `false`, `null`, ` {"a" : [ 1 , 2 ] } `,
	"{\"a\":\t\r\n1}", `[[],[[]],{},[{}]]`, `{"a":{},"b":[],"c":{"d":[{}]}}`, `{"a":1,"a":2}`,
	`{"a":"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00"}`, `{"\u0061":"escaped name","b\n":1}`, "{\"\xbe\":0}",
	`"\ud800"`, `"\udc00\ud800"`, `"\ud800\u0041"`, `"\ud800\ud800\udc00"`, `"\ud800x"`, `"\uDBFF\uDFFF"`,
	"\"\xff\xfe\"", "\"\xed\xa0\x80\"", "\"\xc3\"", "\"\xef\xbf\xbd\"", "\"caf\xc3\xa9 \xe2\x80\xa8\"",
	`[[[[1]]]]`, `[[[[[1]]]]]`, `{"a":{"b":{"c":{"d":1}}}}`,
	// Invalid.
	``, ` `, `{`, `}`, `[`, `]`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{,}`, `[1,]`, `[,1]`, `{"a":1 "b":2}`,
	`{1:2}`, `{'a':1}`, `{a:1}`, `01`, `-`, `-a`, `1.`, `.5`, `1e`, `1e+`, `+1`, `0x10`, `NaN`, `tru`,
	`nul`, `truex`, `fals`, `"a`, `"\`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"tab\there\"", "\"nl\nhere\"",
	`{} {}`, `{}x`, `[1] 2`, "{\"a\":1}\x00", "\xef\xbb\xbf{}", `{"a":[}`, `{"a":{]}`, `[1 2]`, `{"a":1`,
	`{"a"`, `{"a":`, `[1`, `[1,`,
}

func TestMatchesEncodingJSON(t *testing.T) {
	for _, c := range cases {
		check(t, []byte(c))
	}
	for _, d := range []int{MaxDepth, MaxDepth + 1} {
		check(t, []byte(strings.Repeat("[", d)+strings.Repeat("]", d)))
		check(t, []byte(strings.Repeat(`{"a":`, d)+"1"+strings.Repeat("}", d)))
	}
}

func FuzzScanner(f *testing.F) {
	for _, c := range cases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		check(t, b)
	})
}

func TestErrorsSayWhatAndWhere(t *testing.T) {
	for in, want := range map[string]string{
		``:                         "unexpected end of input, expecting a value at byte 0",
		`{"a":1.}`:                 "invalid number: expecting a digit after the decimal point at byte 7",
		`{"a":1e+}`:                "invalid number: expecting a digit in the exponent at byte 8",
		`[-x]`:                     "invalid number: unexpected character 'x', expecting a digit at byte 2",
		`{"a":1} x`:                "unexpected character 'x' after the top-level value at byte 8",
		`{"a" 1}`:                  "unexpected character '1' after a member name, expecting ':' at byte 5",
		`{"a":1 "b":2}`:            "unexpected character '\"' after an object member, expecting ',' or '}' at byte 7",
		`[1 2]`:                    "unexpected character '2' after an array element, expecting ',' or ']' at byte 3",
		`{"a":1`:                   "unexpected end of input in an object at byte 6",
		`[1`:                       "unexpected end of input in an array at byte 2",
		`{`:                        "unexpected end of input, expecting a member name at byte 1",
		`[`:                        "unexpected end of input, expecting a value at byte 1",
		`{"a":1,}`:                 "unexpected character '}', expecting a member name at byte 7",
		`[1,]`:                     "unexpected character ']', expecting a value at byte 3",
		`{"a":tru}`:                "invalid literal, expecting true at byte 5",
		`"abc`:                     "unexpected end of input in a string at byte 4",
		`"a\`:                      "unexpected end of input in a string escape at byte 3",
		`"a\x"`:                    "invalid escape character 'x' in a string at byte 3",
		`"\u12g4"`:                 "invalid \\u escape in a string at byte 5",
		"\"a\tb\"":                 "control character 0x09 in a string at byte 2",
		"\x00":                     "unexpected byte 0x00, expecting a value at byte 0",
		strings.Repeat("[", 10001): "nesting deeper than 10000 at byte 10000",
	} {
		s := New([]byte(in))
		if err := s.End(); err == nil || err.Error() != want {
			t.Errorf("%.40q: %v, want %s", in, err, want)
		}
	}
	for in, want := range map[string]string{
		"{\"a\":\"\xff\"}":  "invalid UTF-8 in a string at byte 6",
		"{\"\xc3\":1}":      "invalid UTF-8 in a string at byte 2",
		`[[[1]]]`:           "nesting deeper than 2 at byte 2",
		"\"\xed\xa0\x80\"":  "invalid UTF-8 in a string at byte 1",
		"\"caf\xc3\xa9\x80": "invalid UTF-8 in a string at byte 6",
	} {
		s := NewStrict([]byte(in), 2)
		if err := s.End(); err == nil || err.Error() != want {
			t.Errorf("strict %.40q: %v, want %s", in, err, want)
		}
	}
}

// TestPick reads the members a caller asks for at the levels it asks for
// them, and leaves the rest to be skipped.
func TestPick(t *testing.T) {
	rec := []byte(`{"id":"r-1","skip":{"id":"not this","user":{"name":"x"}},"user":{"n\u0061me":"ann","tags":["a",{"b":1}],"age":41},` +
		`"list":[{"name":"first"},null,{"name":"last"}],"id":"r-2"}`)
	s := New(rec)
	var id, name, age []byte
	var names []string
	if !s.Object() {
		t.Fatal("not an object")
	}
	for s.Member() {
		switch string(s.Name()) {
		case "id":
			id = s.Value()
		case "user":
			start := s.Offset()
			if s.Object() {
				for s.Member() {
					switch string(s.Name()) {
					case "name":
						name = s.Value()
					case "age":
						age = s.Value()
					}
				}
			}
			if got := string(rec[start:s.Offset()]); !strings.HasPrefix(got, `{"n\u0061me"`) || !strings.HasSuffix(got, `41}`) {
				t.Errorf("user spans %q", got)
			}
		case "list":
			if !s.Array() {
				t.Fatal("list is not an array")
			}
			for s.Element() {
				if s.Object() {
					for s.Member() {
						names = append(names, String(s.Value()))
					}
				}
			}
		}
	}
	if err := s.End(); err != nil {
		t.Fatal(err)
	}
	if string(id) != `"r-2"` || string(name) != `"ann"` || string(age) != "41" || strings.Join(names, ",") != "first,last" {
		t.Errorf("id %s name %s age %s names %q", id, name, age, names)
	}
	if s.Spaced() {
		t.Error("Spaced without white space")
	}

	// A value not read is still validated.
	s = New([]byte(`{"a":[1,2,x],"b":2}`))
	if !s.Object() {
		t.Fatal("not an object")
	}
	for s.Member() {
		if string(s.Name()) == "b" {
			t.Error("read past an invalid value")
		}
	}
	if err := s.End(); err == nil || err.Error() != "unexpected character 'x', expecting a value at byte 10" {
		t.Errorf("got %v", err)
	}

	// Object and Array move nowhere when the value is something else.
	s = New([]byte(` "text" `))
	if s.Object() || s.Array() || string(s.Value()) != `"text"` || s.End() != nil || !s.Spaced() {
		t.Error("a string read as a container")
	}
}

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		`""`:                      "",
		`"plain"`:                 "plain",
		`"a\"b\\c\/d"`:            `a"b\c/d`,
		`"\b\f\n\r\t"`:            "\b\f\n\r\t",
		`"\u00e9\u20AC"`:          "é€",
		`"\uD83D\uDE00"`:          "😀",
		`"\ud800"`:                "\uFFFD",
		`"\ud800\u0041"`:          "\uFFFDA",
		`"\udc00\ud800\udc00"`:    "\uFFFD𐀀",
		"\"a\xffb\"":              "a\uFFFDb",
		"\"\xed\xa0\x80\"":        "\uFFFD\uFFFD\uFFFD",
		"\"caf\xc3\xa9\"":         "café",
		"\"\xef\xbf\xbd\\n\xc3\"": "\uFFFD\n\uFFFD",
	} {
		if got := String([]byte(in)); got != want {
			t.Errorf("String(%s) = %q, want %q", in, got, want)
		}
		var std string
		if err := json.Unmarshal([]byte(in), &std); err != nil || std != want {
			t.Errorf("encoding/json reads %s as %q (%v), the test wants %q", in, std, err, want)
		}
		if got := AppendString([]byte("x"), []byte(in)); string(got) != "x"+want {
			t.Errorf("AppendString(%s) = %q", in, got)
		}
	}
}

func TestIsNull(t *testing.T) {
	for raw, want := range map[string]bool{"": true, "null": true, `"null"`: false, "0": false, "{}": false} {
		if IsNull([]byte(raw)) != want {
			t.Errorf("IsNull(%q) != %v", raw, want)
		}
	}
	if !IsNull(nil) {
		t.Error("IsNull(nil) is false")
	}
}

func TestDoesNotAllocate(t *testing.T) {
	rec := []byte(`{"id":"r-1","user":{"name":"ann","tags":["a",{"b":1.5e3}],"ok":true},"n":null}`)
	allocs := testing.AllocsPerRun(100, func() {
		s := New(rec)
		if s.Object() {
			for s.Member() {
				switch string(s.Name()) {
				case "id":
					s.Value()
				case "user":
					if s.Object() {
						for s.Member() {
						}
					}
				}
			}
		}
		if s.End() != nil {
			t.Fatal("invalid")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per record", allocs)
	}
}
