package waf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/logtide/logtide/worker/format/jsonscan"
)

// referenceFields is what encoding/json makes of a record: the raw values
// the decoder reads (of a member named twice, the last counts), and the
// headers it keeps.
func referenceFields(line []byte) (recordFields, bool) {
	var f recordFields
	var top map[string]json.RawMessage
	if json.Unmarshal(line, &top) != nil || top == nil {
		return f, false
	}
	f.timestamp, f.webACLID, f.action = top["timestamp"], top["webaclId"], top["action"]
	f.sourceName, f.responseCode = top["httpSourceName"], top["responseCodeSent"]
	var h map[string]json.RawMessage
	if json.Unmarshal(top["httpRequest"], &h) != nil || h == nil {
		return f, true
	}
	f.http = httpFields{clientIP: h["clientIp"], uri: h["uri"], args: h["args"], version: h["httpVersion"],
		method: h["httpMethod"], requestID: h["requestId"], host: h["host"], scheme: h["scheme"]}
	var headers []json.RawMessage
	if json.Unmarshal(h["headers"], &headers) != nil {
		return f, true
	}
	for _, e := range headers {
		var nv map[string]json.RawMessage
		if json.Unmarshal(e, &nv) != nil || nv == nil {
			continue
		}
		var name string
		value := nv["value"]
		if json.Unmarshal(nv["name"], &name) != nil || len(value) == 0 || value[0] != '"' || nv["name"][0] != '"' {
			continue
		}
		switch strings.ToLower(name) {
		case "host":
			if f.http.hostHeader == nil {
				f.http.hostHeader = value
			}
		case "user-agent":
			if f.http.userAgent == nil {
				f.http.userAgent = value
			}
		case "x-forwarded-for":
			f.http.xff = append(f.http.xff, value)
		}
	}
	return f, true
}

func describeFields(f *recordFields) string {
	h := &f.http
	return fmt.Sprintf("%q %q %q %q %q | %q %q %q %q %q %q %q %q | %q %q %q",
		f.timestamp, f.webACLID, f.action, f.sourceName, f.responseCode,
		h.clientIP, h.uri, h.args, h.version, h.method, h.requestID, h.host, h.scheme,
		h.hostHeader, h.userAgent, h.xff)
}

// checkScan holds scanRecord to encoding/json: the same inputs are valid,
// and the same fields come out of valid objects. (Package jsonscan holds
// the scanner itself to encoding/json on fuzzed inputs.)
func checkScan(t *testing.T, line []byte) {
	t.Helper()
	var got recordFields
	err := scanRecord(line, &got)
	if valid := json.Valid(line); (err == nil) != valid {
		t.Fatalf("scanRecord error %v, json.Valid %v, for %q", err, valid, line)
	}
	if err != nil {
		var se *jsonscan.SyntaxError
		if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(line) || se.Msg == "" {
			t.Fatalf("error %v does not say where and why", err)
		}
		return
	}
	want, isObject := referenceFields(line)
	if !isObject {
		return
	}
	if g, w := describeFields(&got), describeFields(&want); g != w {
		t.Fatalf("fields of %q:\ngot  %s\nwant %s", line, g, w)
	}
}

var scanCases = []string{
	`{}`, `[]`, `""`, `0`, `-0.5e+3`, `true`, `null`, ` {"a" : [ 1 , 2 ] } `,
	`{"timestamp":1,"timestamp":2}`,
	`{"httpRequest":{"clientIp":"1.2.3.4","headers":[{"name":"Host","value":"a"},{"name":"HOST","value":"b"},{"name":"x-forwarded-for","value":"1.1.1.1"},{"name":"X-Forwarded-For","value":"2.2.2.2"}]}}`,
	`{"httpRequest":{"headers":[{"name":"Host","value":"a"}],"headers":[{"name":"user-agent","value":"u"}]}}`,
	`{"httpRequest":{"clientIp":"a"},"httpRequest":{"uri":"/"}}`,
	`{"httpRequest":{"headers":[{"name":"Host","value":1},{"name":2,"value":"x"},{"name":"Host"},{"value":"v"},[],"s",null,{"name":"User-Agent","value":"u","name":"Host"}]}}`,
	`{"httpRequest":{"headers":{"name":"Host","value":"obj"}}}`,
	`{"httpRequest":{"headers":[{"name":"hoſt","value":"long s"},{"name":"hoſt","value":"long s"},{"name":"HoSt","value":"ascii"}]}}`,
	`{"httpRequest":"str","timestamp":"x"}`,
	`{"\u0074imestamp":5,"httpRequest":{"client\u0049p":"1.2.3.4","headers":[{"n\u0061me":"Us\u0065r-Agent","value":"\u00e9"}]}}`,
	`{"nested":{"timestamp":9,"httpRequest":{"clientIp":"x"}},"timestamp":1}`,
	`{"a":"\ud800"}`, "{\"a\":\"\xff\"}",
	`{"a":1,}`, `{"a"}`, `{"a":}`, `{,}`, `[1,]`, `{"a":01}`, `{"a":1.}`, `{"a":1e}`, `{"a":-}`, `{"a":tru}`,
	`{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\t\"}", `{"a":1} x`, `{"a":[}`, `{"a":{]}`, `"unterminated`, ``, ` `,
}

func TestScanMatchesEncodingJSON(t *testing.T) {
	for _, c := range scanCases {
		checkScan(t, []byte(c))
	}
	deep := strings.Repeat("[", jsonscan.MaxDepth+1) + strings.Repeat("]", jsonscan.MaxDepth+1)
	var f recordFields
	if err := scanRecord([]byte(deep), &f); err == nil || !strings.Contains(err.Error(), "nesting") {
		t.Errorf("nesting beyond %d: %v", jsonscan.MaxDepth, err)
	}
	ok := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	checkScan(t, []byte(ok))
}

// TestScratchIsReset: nothing of one record leaks into the next.
func TestScratchIsReset(t *testing.T) {
	var f recordFields
	first := []byte(`{"timestamp":1,"httpRequest":{"headers":[{"name":"X-Forwarded-For","value":"1.1.1.1"},{"name":"X-Forwarded-For","value":"2.2.2.2"}]}}`)
	if err := scanRecord(first, &f); err != nil || len(f.http.xff) != 2 {
		t.Fatalf("%v %q", err, f.http.xff)
	}
	if err := scanRecord([]byte(`{"timestamp":2}`), &f); err != nil || len(f.http.xff) != 0 || !bytes.Equal(f.timestamp, []byte("2")) {
		t.Fatalf("%v %q %q", err, f.http.xff, f.timestamp)
	}
	if err := scanRecord([]byte(`{"timestamp":3,"httpRequest":{"headers":[{"name":"X-Forwarded-For","value":"1"}]}} x`), &f); err == nil {
		t.Fatal("trailing garbage accepted")
	}
}
