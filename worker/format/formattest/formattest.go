// Package formattest checks a format the way the worker uses it: objects
// read through the real decompression and framing, every document held to
// what the bulk layer and the index templates need, sample corpora decoded
// without a dead letter, generators that plan and write their objects as
// the worker's generate command and the benchmark expect, and templates
// that parse for every engine. Each format's tests call it; it is test
// support, used by no program.
package formattest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/ecs"
	"github.com/logtide/logtide/worker/internal/decode"
	"github.com/logtide/logtide/worker/internal/indexname"
)

// Result is what reading one object gave.
type Result struct {
	// Docs are the documents, in order, with the position of their record.
	Docs []Doc
	// Skipped are the positions of the lines that held no record.
	Skipped []int
	// Dead are the records the worker would dead-letter: position and
	// reason.
	Dead []Dead
}

// Doc is one document and the position of its record.
type Doc struct {
	format.Document
	N int
}

// Dead is one record the worker would dead-letter.
type Dead struct {
	N      int
	Reason string
}

// Read reads object o's stored bytes as the worker does: decompressed when
// gzip, cut in f's framing, each record decoded. Records that cannot be
// read or decoded are collected as Dead; an error that ends the object
// fails the test.
func Read(t testing.TB, f format.Format, o format.Object, stored []byte) Result {
	t.Helper()
	r, err := ReadErr(f, o, stored)
	if err != nil {
		t.Fatalf("%s: %v", o.Key, err)
	}
	return r
}

// ReadErr is Read, returning the error that ends the object.
func ReadErr(f format.Format, o format.Object, stored []byte) (Result, error) {
	var res Result
	in, err := decode.Open(bytes.NewReader(stored))
	if err != nil {
		return res, err
	}
	defer in.Close()
	var records interface {
		Next() ([]byte, int, error)
		Close()
	}
	switch f.Framing() {
	case format.Lines:
		records = decode.NewScanner(in, decode.DefaultMaxLine)
	case format.RecordsArray:
		records = decode.NewArrayScanner(in, "Records", decode.DefaultMaxLine)
	default:
		return res, errors.New("unknown framing")
	}
	defer records.Close()
	dec := f.Decoder(o)
	for {
		rec, n, err := records.Next()
		var le *decode.LineError
		switch {
		case errors.Is(err, io.EOF):
			return res, nil
		case errors.As(err, &le):
			res.Dead = append(res.Dead, Dead{N: n, Reason: le.Reason})
			continue
		case err != nil:
			return res, err
		}
		in := bytes.Clone(rec)
		doc, err := dec.Decode(rec, n)
		if !bytes.Equal(in, rec) {
			return res, errors.New("the decoder changed its input")
		}
		var re *format.RecordError
		switch {
		case errors.Is(err, format.ErrNotARecord):
			res.Skipped = append(res.Skipped, n)
		case errors.As(err, &re):
			res.Dead = append(res.Dead, Dead{N: n, Reason: re.Reason})
		case err != nil:
			return res, errors.New("decode error that is not a *format.RecordError: " + err.Error())
		default:
			// The scanner reuses its buffer: the document must not.
			for i := range rec {
				rec[i] = 'X'
			}
			res.Docs = append(res.Docs, Doc{Document: doc, N: n})
		}
	}
}

var dayRE = regexp.MustCompile(`-\d{4}-\d{2}-\d{2}$`)

// Check holds one document to what the bulk layer and the templates need:
// a valid JSON object on one line, an index of the format's pattern ending
// in the date, an id of at most 512 bytes, @timestamp, the ECS event.dataset
// and cloud.provider, and only IP addresses in the ip-typed ECS fields. It
// returns the decoded body.
func Check(t testing.TB, f format.Format, d format.Document) map[string]any {
	t.Helper()
	if bytes.ContainsAny(d.Body, "\n\r") {
		t.Fatalf("body is not on one line (bulk bodies are NDJSON): %.300q", d.Body)
	}
	m := Body(t, d)
	prefix := strings.TrimSuffix(f.IndexPattern(), "*")
	if !strings.HasPrefix(d.Index, prefix) || !dayRE.MatchString(d.Index) || indexname.Check(d.Index) != nil {
		t.Errorf("index %q: want %sYYYY-MM-DD (or another name under the pattern) that the cluster accepts", d.Index, prefix)
	}
	if d.ID == "" || len(d.ID) > 512 {
		t.Errorf("id of %d bytes: %q", len(d.ID), d.ID)
	}
	if d.Version < 0 {
		t.Errorf("negative version %d", d.Version)
	}
	ts, _ := m["@timestamp"].(string)
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", ts); err != nil {
		t.Errorf("@timestamp %q: want UTC with milliseconds", ts)
	}
	if get(m, "event", "dataset") == nil || get(m, "cloud", "provider") != "aws" {
		t.Errorf("no event.dataset or cloud.provider: %.300s", d.Body)
	}
	for _, path := range [][]string{{"source", "ip"}, {"destination", "ip"}} {
		if v := get(m, path...); v != nil {
			checkIP(t, strings.Join(path, "."), v)
		}
	}
	if ips, ok := get(m, "related", "ip").([]any); ok {
		for _, v := range ips {
			checkIP(t, "related.ip", v)
		}
	}
	return m
}

func checkIP(t testing.TB, field string, v any) {
	t.Helper()
	s, _ := v.(string)
	if _, err := netip.ParseAddr(s); err != nil {
		t.Errorf("%s %v is not an IP address: the cluster would refuse the document", field, v)
	}
}

// get follows object members.
func get(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = obj[p]
	}
	return cur
}

// Get follows the object members of a decoded body, e.g. Get(m, "source",
// "ip").
func Get(m map[string]any, path ...string) any { return get(m, path...) }

// CheckCorpus generates objects with spec and reads each through the
// format built with default options: every key is claimed by the format,
// no record is dead-lettered, every document passes Check, the records the
// corpus says it holds are all read, and the format's Floor counts as many.
// It returns the documents.
func CheckCorpus(t testing.TB, spec format.Spec, o format.GenerateOptions) []Doc {
	t.Helper()
	f, err := spec.New(format.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := spec.Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	var docs []Doc
	records := 0
	for i, ob := range c.Objects() {
		if claim := f.Claim(format.ParseKey(ob.Key)); claim != format.Read {
			t.Errorf("%s: the format does not claim a key of its own sample (claim %d)", ob.Key, claim)
		}
		var b bytes.Buffer
		if err := c.WriteObject(&b, i); err != nil {
			t.Fatal(err)
		}
		res := Read(t, f, format.Object{Bucket: "samples", Key: ob.Key}, b.Bytes())
		if len(res.Dead) > 0 {
			t.Errorf("%s: records dead-lettered: %+v", ob.Key, res.Dead[:min(3, len(res.Dead))])
		}
		if len(res.Docs) != ob.Records {
			t.Errorf("%s: %d documents for %d records", ob.Key, len(res.Docs), ob.Records)
		}
		for _, d := range res.Docs {
			Check(t, f, d.Document)
		}
		if spec.Floor == nil {
			t.Errorf("%s: the format has no Floor for the benchmark", spec.Name)
		} else if n, err := floorCount(spec, b.Bytes()); err != nil || n != ob.Records {
			t.Errorf("%s: the format's Floor counts %d records (%v), the object holds %d", ob.Key, n, err, ob.Records)
		}
		docs = append(docs, res.Docs...)
		records += ob.Records
	}
	if records != c.Records() || records == 0 {
		t.Errorf("the objects hold %d records, the corpus says %d", records, c.Records())
	}
	return docs
}

// CheckTemplate parses the format's template for every engine of the
// compatibility matrix: its pattern is the format's, it is composed of the
// ECS component template, and it maps @timestamp as a date.
func CheckTemplate(t testing.TB, f format.Format) {
	t.Helper()
	for _, e := range []format.Engine{
		{},
		{Distribution: "opensearch", Major: 2, Minor: 19},
		{Distribution: "opensearch", Major: 3, Minor: 0},
		{Distribution: "elasticsearch", Major: 7, Minor: 10, Flavor: "oss"},
	} {
		name, body := f.IndexTemplate(e)
		var tmpl struct {
			Patterns   []string `json:"index_patterns"`
			ComposedOf []string `json:"composed_of"`
			Priority   int      `json:"priority"`
			Template   struct {
				Mappings struct {
					Properties map[string]struct {
						Type string `json:"type"`
					} `json:"properties"`
				} `json:"mappings"`
			} `json:"template"`
		}
		if err := json.Unmarshal([]byte(body), &tmpl); err != nil {
			t.Fatalf("%+v: template is not JSON: %v", e, err)
		}
		if name == "" || len(tmpl.Patterns) != 1 || tmpl.Patterns[0] != f.IndexPattern() {
			t.Errorf("%+v: template %q with patterns %v, want [%s]", e, name, tmpl.Patterns, f.IndexPattern())
		}
		if len(tmpl.ComposedOf) != 1 || tmpl.ComposedOf[0] != ecs.TemplateName || tmpl.Priority <= 0 {
			t.Errorf("%+v: composed of %v with priority %d, want [%s] and a priority", e, tmpl.ComposedOf, tmpl.Priority, ecs.TemplateName)
		}
		if ts, ok := tmpl.Template.Mappings.Properties["@timestamp"]; ok && ts.Type != "date" {
			t.Errorf("%+v: @timestamp mapped as %q", e, ts.Type)
		}
	}
}

// floorCount runs spec.Floor on a stored object's decompressed content.
func floorCount(spec format.Spec, stored []byte) (int, error) {
	in, err := decode.Open(bytes.NewReader(stored))
	if err != nil {
		return 0, err
	}
	defer in.Close()
	return spec.Floor(in)
}

// Must returns what build makes of o, failing the test if it fails.
func Must[O, T any](t testing.TB, build func(O) (T, error), o O) T {
	t.Helper()
	v, err := build(o)
	if err != nil {
		t.Fatalf("%+v: %v", o, err)
	}
	return v
}

// ObjectBytes is object i of c as it is stored.
func ObjectBytes(t testing.TB, c format.Corpus, i int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := c.WriteObject(&b, i); err != nil {
		t.Fatalf("WriteObject(%d): %v", i, err)
	}
	return b.Bytes()
}

// Lines cuts a stored object, decompressed when gzip, into its lines,
// each of which must end with a newline.
func Lines(t testing.TB, stored []byte) [][]byte {
	t.Helper()
	b := stored
	if isGzip(b) {
		b = Gunzip(t, b)
	}
	if len(b) == 0 || b[len(b)-1] != '\n' {
		t.Fatalf("the object does not end with a newline: %.100q", b[max(len(b)-100, 0):])
	}
	return bytes.Split(b[:len(b)-1], []byte("\n"))
}

// Gzip compresses b, as a service stores an object.
func Gzip(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// Gunzip decompresses a gzip object.
func Gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Body is the decoded body of d, which must be a JSON object.
func Body(t testing.TB, d format.Document) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(d.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%.500s", err, d.Body)
	}
	return m
}

// Testdata is the content of the file name in the test's testdata folder.
func Testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// EachLine reads a stored object as the worker reads one framed in lines:
// decompressed, cut into lines, fn called with each and its number. For
// benchmarks: the line is the scanner's, valid until fn returns.
func EachLine(t testing.TB, stored []byte, fn func(line []byte, n int)) {
	t.Helper()
	in, err := decode.Open(bytes.NewReader(stored))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	sc := decode.NewScanner(in, decode.DefaultMaxLine)
	defer sc.Close()
	for {
		line, n, err := sc.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		fn(line, n)
	}
}

// Measure runs a benchmark's loop with fn, one pass over size bytes of
// records each, and reports beside MB/s the CPU time used per GB of them
// (cpu-s/GB), which holds on a busy machine where MB/s does not.
func Measure(b *testing.B, size int64, fn func()) {
	b.SetBytes(size)
	b.ReportAllocs()
	start := CPUTime()
	for b.Loop() {
		fn()
	}
	if used := CPUTime() - start; used > 0 {
		b.ReportMetric(used.Seconds()/(float64(b.N)*float64(size)/1e9), "cpu-s/GB")
	}
}
