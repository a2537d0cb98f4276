package guardduty

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/jsonscan"
)

// referenceFields is what encoding/json makes of a record: the raw values of
// its top-level members (the last of duplicated names wins) and of the
// service object's action.
func referenceFields(t *testing.T, line []byte) recordFields {
	t.Helper()
	var top map[string]json.RawMessage
	if err := json.Unmarshal(line, &top); err != nil || top == nil {
		return recordFields{}
	}
	f := recordFields{arn: top["arn"], createdAt: top["createdAt"], updatedAt: top["updatedAt"], service: top["service"]}
	var svc map[string]json.RawMessage
	if len(f.service) > 0 && f.service[0] == '{' && json.Unmarshal(f.service, &svc) == nil {
		f.action = svc["action"]
	}
	return f
}

func sameFields(a, b recordFields) bool {
	return bytes.Equal(a.arn, b.arn) && bytes.Equal(a.createdAt, b.createdAt) && bytes.Equal(a.updatedAt, b.updatedAt) &&
		bytes.Equal(a.service, b.service) && bytes.Equal(a.action, b.action)
}

// checkScan holds scanRecord to encoding/json: the same inputs are valid,
// and the same fields come out of valid objects. (Package jsonscan holds
// the scanner itself to encoding/json on fuzzed inputs.)
func checkScan(t *testing.T, line []byte) {
	t.Helper()
	got, err := scanRecord(line)
	valid := json.Valid(line)
	if (err == nil) != valid {
		t.Fatalf("scanRecord error %v, json.Valid %v, for %q", err, valid, line)
	}
	if err != nil {
		var se *jsonscan.SyntaxError
		if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(line) || se.Msg == "" {
			t.Fatalf("error %v does not say where and why", err)
		}
		return
	}
	if want := referenceFields(t, line); !sameFields(got, want) {
		t.Fatalf("fields of %q:\ngot  %q %q %q %q %q\nwant %q %q %q %q %q", line,
			got.arn, got.createdAt, got.updatedAt, got.service, got.action,
			want.arn, want.createdAt, want.updatedAt, want.service, want.action)
	}
}

var scanCases = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e+10`, `true`, `false`, `null`, ` {"a" : [ 1 , 2 ] } `,
	`{"arn":"x","arn":"y"}`,
	`{"\u0061rn":"escaped name","createdAt":1}`,
	`{"ARN":"case differs","Arn":"no"}`,
	`{"arn":"a\"b\\c\/d\b\f\n\r\t\u00e9\uD83D\uDE00"}`,
	`{"service":{"action":{"x":1}},"service":{"other":true}}`,
	`{"service":{"action":1,"nested":{"action":2}},"x":{"service":{"action":3}}}`,
	`{"service":"not an object"}`,
	`{"service":[{"action":1}]}`,
	"{\"arn\":\"invalid utf-8 \xff\xfe passes\"}",
	// Invalid.
	``, ` `, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{,}`, `[1,]`, `[,1]`, `{"a":1 "b":2}`,
	`{'a':1}`, `{a:1}`, `01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`, `0x10`, `NaN`, `tru`, `nul`, `truex`,
	`"a`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"tab\there\"", "\"nl\nhere\"", `{} {}`, `{}x`, `[1] 2`,
	"{\"a\":1}\x00", "\xef\xbb\xbf{}",
}

func TestScanRecordMatchesEncodingJSON(t *testing.T) {
	for _, c := range append(scanCases, fuzzSeeds...) {
		checkScan(t, []byte(c))
	}
	// Nesting at and beyond encoding/json's limit.
	for _, depth := range []int{jsonscan.MaxDepth, jsonscan.MaxDepth + 1} {
		checkScan(t, []byte(strings.Repeat("[", depth)+strings.Repeat("]", depth)))
	}
}

func TestScanRecordErrorSaysWhere(t *testing.T) {
	_, err := scanRecord([]byte(`{"arn":"a","count":1.}`))
	if err == nil || err.Error() != "invalid number: expecting a digit after the decimal point at byte 21" {
		t.Fatalf("got %v", err)
	}
	_, err = scanRecord([]byte(`{"arn":"a"} trailing`))
	if err == nil || err.Error() != "unexpected character 't' after the top-level value at byte 12" {
		t.Fatalf("got %v", err)
	}
}

// BenchmarkDecode runs the decoder over generated findings of every
// family (make bench measures the whole worker).
func BenchmarkDecode(b *testing.B) {
	g, err := New(format.Options{})
	if err != nil {
		b.Fatal(err)
	}
	c, err := NewCorpus(CorpusOptions{Seed: 7, Objects: 1, FindingsPerObject: 400})
	if err != nil {
		b.Fatal(err)
	}
	var gz bytes.Buffer
	if err := c.WriteObject(&gz, 0); err != nil {
		b.Fatal(err)
	}
	zr, err := gzip.NewReader(&gz)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			if _, err := g.Decode(l, 0); err != nil {
				b.Fatal(err)
			}
		}
	}
}
