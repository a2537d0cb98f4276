package resolver

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/logtide/logtide/worker/format"
)

// checkParse holds parse to encoding/json on b, which nests less than
// maxDepth: it accepts the objects json.Valid accepts, but for invalid
// UTF-8 in strings, which it refuses on purpose; and it takes the values
// encoding/json reads of the members it looks for. (Package jsonscan holds
// the scanner itself to encoding/json on fuzzed inputs.)
func checkParse(t *testing.T, b []byte) {
	t.Helper()
	rec, err := parse(b)
	var top map[string]json.RawMessage
	isObject := json.Unmarshal(b, &top) == nil && top != nil
	wantValid := isObject && utf8.Valid(b)
	if (err == nil) != wantValid {
		t.Fatalf("parse says %v for %q, want valid %v", err, b, wantValid)
	}
	if err != nil {
		var re *format.RecordError
		if !errors.As(err, &re) || re.Reason == "" {
			t.Fatalf("error %T %v is not a record error with a reason", err, err)
		}
		return
	}
	for name, v := range top {
		if f := fieldOf([]byte(name)); f != fOther && f != fReserved && !bytes.Equal(rec.v[f], v) {
			t.Fatalf("%q: %s is %s, encoding/json reads %s", b, name, rec.v[f], v)
		}
	}
	if obj := b[rec.start:rec.end]; !bytes.Equal(obj, bytes.TrimSpace(b)) {
		t.Fatalf("%q: the object is %q", b, obj)
	}
}

var parseCases = []string{
	`{}`, ` {"query_name" : "a." } `, `{"query_name":"a.","query_name":"b."}`,
	`{"query_n\u0061me":"escaped name","rcode":0}`, `{"x":{"query_name":"nested"}}`,
	`{"a":{"b":[{"c":null}]}}`, `{"query_name":"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00"}`,
	"{\"query_name\":\"caf\u00e9 \u2028\"}", "{\"a\":\t\r\n1}", `{"a":1,"a":2}`,
	// Not objects, invalid, or refused.
	`[]`, `""`, `0`, `null`, ``, ` `, `{`, `{"a"}`, `{"a":1,}`, `{"a":01}`, `{"a":1} x`,
	"{\"a\":\"\xff\"}", "{\"\xc3\":1}", "{\"a\":\"\xed\xa0\x80\"}", `{"a":"\ud800"}`,
}

func TestParseMatchesEncodingJSON(t *testing.T) {
	for _, c := range append(parseCases, fuzzSeeds...) {
		checkParse(t, []byte(c))
	}
	for _, d := range []int{maxDepth - 1, maxDepth} {
		checkParse(t, []byte(`{"a":`+strings.Repeat("[", d-1)+strings.Repeat("]", d-1)+"}"))
		checkParse(t, []byte(strings.Repeat(`{"a":`, d)+"1"+strings.Repeat("}", d)))
	}
	// Deeper is refused, though valid JSON.
	for _, d := range []int{maxDepth + 1, 20000} {
		for _, rec := range []string{
			`{"a":` + strings.Repeat("[", d-1) + strings.Repeat("]", d-1) + "}",
			strings.Repeat(`{"a":`, d) + "1" + strings.Repeat("}", d),
		} {
			if _, err := parse([]byte(rec)); err == nil || !strings.Contains(err.Error(), "nesting deeper than 64") {
				t.Errorf("nesting %d deep: %v", d, err)
			}
		}
	}
}

func TestParseErrorSaysWhere(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":1.}`:         "invalid JSON: invalid number: expecting a digit after the decimal point at byte 7",
		`{"a":1} x`:        "invalid JSON: unexpected character 'x' after the top-level value at byte 8",
		`{"a" 1}`:          "invalid JSON: unexpected character '1' after a member name, expecting ':' at byte 5",
		"{\"a\":\"\xff\"}": "invalid JSON: invalid UTF-8 in a string at byte 6",
		`[1,2]`:            "the record is not a JSON object",
		strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1): "invalid JSON: nesting deeper than 64 at byte 320",
	} {
		if _, err := parse([]byte(in)); err == nil || err.Error() != want {
			t.Errorf("%.40q: %v, want %s", in, err, want)
		}
	}
	// The record's reason carries it.
	_, err := mustNew(t, format.Options{}).Decoder(format.Object{}).Decode([]byte(`{"query_timestamp":"2026-01-05T10:00:00Z","n":1.}`), 1)
	if err == nil || err.Error() != "invalid JSON: invalid number: expecting a digit after the decimal point at byte 48" {
		t.Errorf("reason %v", err)
	}
}

// TestAppendObject: members named as the added fields are left out, the
// others kept as written; carriage returns go.
func TestAppendObject(t *testing.T) {
	for _, c := range []struct {
		in       string
		reserved bool
		want     string
	}{
		{`{"a":1}`, false, `{"a":1`},
		{`{ "a" : 1 }`, false, `{ "a" : 1 `},
		{`{"dns":1,"a" : [1, 2],"\u0065vent":{},"b":"x"}`, true, `{"a" : [1, 2],"b":"x"`},
		{`{ "source":1 , "a":1 }`, true, `{"a":1`},
		{"{\"a\":\r1,\"cloud\":2}", true, `{"a":1`},
		{"{\"a\":\r1}", false, `{"a":1`},
	} {
		if got := appendObject([]byte("x"), []byte(c.in), c.reserved); string(got) != "x"+c.want {
			t.Errorf("%q: %q, want %q", c.in, got, "x"+c.want)
		}
	}
}
