package resolver

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/logtide/logtide/worker/format"
)

// validate runs the scanner over b as one JSON value.
func validate(b []byte) error {
	s := scanner{b: b}
	s.space()
	if _, ok := s.value(); ok && s.end() {
		return nil
	}
	return s.err
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

// checkScan holds the scanner to encoding/json: it accepts what json.Valid
// accepts, but for invalid UTF-8 in strings and nesting beyond maxDepth,
// which it refuses on purpose, and says where and why it refuses.
func checkScan(t *testing.T, b []byte) {
	t.Helper()
	err := validate(b)
	valid := json.Valid(b)
	wantValid := valid && utf8.Valid(b) && depth(b) <= maxDepth
	if (err == nil) != wantValid {
		t.Fatalf("scanner says %v, json.Valid %v, for %q", err, valid, b)
	}
	if err != nil {
		var se *syntaxError
		if !errors.As(err, &se) || se.offset < 0 || se.offset > len(b) || se.msg == "" {
			t.Fatalf("error %v does not say where and why", err)
		}
	}
}

var scanCases = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `-0.5e-7`, `1.5E+10`, `true`, `false`, `null`, ` {"a" : [ 1 , 2 ] } `,
	`{"a":{"b":[{"c":null}]}}`, `{"a":"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00"}`, "{\"a\":\"caf\u00e9 \u2028\"}",
	"{\"a\":\t\r\n1}", `[[],[[]],{}]`, `{"a":1,"a":2}`,
	// Invalid.
	``, ` `, `{`, `}`, `[`, `]`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{,}`, `[1,]`, `[,1]`, `{"a":1 "b":2}`, `{1:2}`,
	`{'a':1}`, `{a:1}`, `01`, `-`, `-a`, `1.`, `.5`, `1e`, `1e+`, `+1`, `0x10`, `NaN`, `tru`, `nul`, `truex`, `fals`,
	`"a`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"tab\there\"", "\"nl\nhere\"", `{} {}`, `{}x`, `[1] 2`, `"\`,
	"{\"a\":1}\x00", "\xef\xbb\xbf{}", "\"\xff\"", "\"\xed\xa0\x80\"", "\"\xc3\"",
}

func TestScanMatchesEncodingJSON(t *testing.T) {
	for _, c := range append(scanCases, fuzzSeeds...) {
		checkScan(t, []byte(c))
	}
	for _, d := range []int{maxDepth - 1, maxDepth, maxDepth + 1, 20000} {
		checkScan(t, []byte(strings.Repeat("[", d)+strings.Repeat("]", d)))
		checkScan(t, []byte(strings.Repeat(`{"a":`, d)+"1"+strings.Repeat("}", d)))
	}
}

func TestScanErrorSaysWhere(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":1.}`:         "invalid number: expecting a digit after the decimal point at byte 7",
		`{"a":1} x`:        "unexpected 'x' after the record at byte 8",
		`{"a" 1}`:          "unexpected '1', expecting ':' after a member name at byte 5",
		"{\"a\":\"\xff\"}": "invalid UTF-8 in a string at byte 6",
	} {
		if err := validate([]byte(in)); err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %s", in, err, want)
		}
	}
	// The record's reason carries it.
	_, err := mustNew(t, format.Options{}).Decoder(format.Object{}).Decode([]byte(`{"query_timestamp":"2026-01-05T10:00:00Z","n":1.}`), 1)
	if err == nil || err.Error() != "invalid JSON: invalid number: expecting a digit after the decimal point at byte 48" {
		t.Errorf("reason %v", err)
	}
}

func FuzzScan(f *testing.F) {
	for _, c := range append(scanCases, fuzzSeeds...) {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkScan(t, b)
	})
}
