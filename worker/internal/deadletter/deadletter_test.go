package deadletter

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestBody(t *testing.T) {
	r := Record{Bucket: "b", Key: "k/x.jsonl.gz", Line: 7, Stage: StageTransform, Reason: "invalid JSON", Raw: []byte(`{not json`), MessageID: "m"}
	var d map[string]any
	if err := json.Unmarshal(r.Body(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), &d); err != nil {
		t.Fatal(err)
	}
	if d["raw"] != `{not json` || d["line"] != 7.0 || d["stage"] != "transform" || d["raw_truncated"] != false || d["raw_bytes"] != 9.0 || d["@timestamp"] != "2026-01-02T03:04:05.000Z" {
		t.Errorf("got %v", d)
	}
}

func TestTruncation(t *testing.T) {
	raw := []byte(strings.Repeat("é", MaxRaw)) // 2 bytes each: cut mid-rune
	var d struct {
		Raw       string `json:"raw"`
		Bytes     int    `json:"raw_bytes"`
		Truncated bool   `json:"raw_truncated"`
	}
	if err := json.Unmarshal(Record{Raw: raw}.Body(time.Now()), &d); err != nil {
		t.Fatal(err)
	}
	if !d.Truncated || d.Bytes != len(raw) || len(d.Raw) > MaxRaw || !utf8.ValidString(d.Raw) || strings.ContainsRune(d.Raw, utf8.RuneError) {
		t.Errorf("truncated %v bytes %d kept %d valid %v", d.Truncated, d.Bytes, len(d.Raw), utf8.ValidString(d.Raw))
	}
	// A head of a longer line: the full size is reported.
	if err := json.Unmarshal(Record{Raw: []byte("abc"), RawBytes: 9 << 20}.Body(time.Now()), &d); err != nil {
		t.Fatal(err)
	}
	if !d.Truncated || d.Bytes != 9<<20 || d.Raw != "abc" {
		t.Errorf("head: %+v", d)
	}
}

func TestIDDeterministic(t *testing.T) {
	a := Record{Bucket: "b", Key: "k", Line: 1}
	if a.ID() != (Record{Bucket: "b", Key: "k", Line: 1, Reason: "other"}).ID() {
		t.Error("id depends on more than object and line")
	}
	for _, o := range []Record{{Bucket: "b", Key: "k", Line: 2}, {Bucket: "b", Key: "k2", Line: 1}, {Bucket: "bk", Key: "", Line: 1}, {Bucket: "b", Key: "k", VersionID: "v", Line: 1}} {
		if o.ID() == a.ID() {
			t.Errorf("%+v collides with %+v", o, a)
		}
	}
}

func TestTemplate(t *testing.T) {
	name, body := IndexTemplate("dl")
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil || name != "dl" || m["index_patterns"].([]any)[0] != "dl" {
		t.Errorf("%s %v %v", name, m, err)
	}
}
