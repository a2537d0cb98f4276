package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/logtide/logtide/testenv/refdata"
	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

// fuzzSeeds are records and near misses; the fixtures' records and, where
// present, the reference samples' are added to them.
var fuzzSeeds = []string{
	`{"eventTime":"2026-02-11T15:30:00Z"}`,
	`{"eventTime":"2026-02-11T15:30:00Z","eventID":"e","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/R/s","sessionContext":{"sessionIssuer":{"userName":"R"},"webIdFederationData":{"attributes":{}}}}}`,
	"{\n \"eventTime\" : \"2026-02-11T15:30:00.5+01:00\" ,\n\t\"eventType\":\"AwsCloudTrailInsight\",\"insightDetails\":{\"insightType\":\"ApiErrorRateInsight\",\"eventSource\":\"x\"}\r\n}",
	`{"eventTime":"2026-02-11T15:30:00Z","sourceIPAddress":"::ffff:192.0.2.1","responseElements":{"ConsoleLogin":"Failure"},"eventSource":"signin.amazonaws.com"}`,
	`{"eventTime":"2026-02-11T15:30:00Z","eventID":"\u0041","s":"a\"b\\c\/d\u2028"}`,
	`{"eventTime":"2026-02-11T15:30:00Z","user":1}`,
	`{"eventTime":"2026-02-11T15:30:00Z","eventID":1}`,
	`{"eventTime":"9999-12-31T23:59:59Z"}`,
	`{"eventTime":"0000-01-01T00:00:00Z"}`,
	`{"eventTime":"2026-02-11T15:30:00Z","a":[1,-2.5e3,true,false,null,{}]}`,
	`{"eventTime":"2026-02-11T15:30:00Z"`,
	`[]`, `{}`, ``, `null`, `"x"`,
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	addRecords := func(doc []byte) {
		var file struct{ Records []json.RawMessage }
		if json.Unmarshal(doc, &file) == nil {
			for _, r := range file.Records {
				f.Add([]byte(r))
			}
		}
	}
	for _, name := range []string{"org_trail.json", "pretty.json", "insight.json"} {
		addRecords(fixture(f, name, false))
	}
	if dir, ok := refdata.Find("cloudtrail"); ok {
		for _, name := range []string{"otel_cloudtrail_log.json", "panther_cloudtrail_records.json"} {
			if b, err := os.ReadFile(filepath.Join(dir, "cloudtrail", name)); err == nil {
				addRecords(b)
			}
		}
	}
	utc, err := New(format.Options{})
	if err != nil {
		f.Fatal(err)
	}
	// A prefix and an index time zone whose offset is not a whole hour.
	kolkata, err := New(format.Options{IndexPrefix: "ct-fuzz", Location: time.FixedZone("IST", 5*3600+1800)})
	if err != nil {
		f.Fatal(err)
	}
	o := format.Object{Bucket: "b", Key: "k"}
	f.Fuzz(func(t *testing.T, rec []byte) {
		for _, ct := range []*CloudTrail{utc, kolkata} {
			in := bytes.Clone(rec)
			d, err := ct.Decoder(o).Decode(in, 1)
			if !bytes.Equal(in, rec) {
				t.Fatal("Decode changed its input")
			}
			if err != nil {
				var re *format.RecordError
				if !errors.As(err, &re) || re.Reason == "" {
					t.Fatalf("error %T %v is not a *format.RecordError with a reason", err, err)
				}
				continue
			}
			if !json.Valid(rec) {
				t.Fatalf("invalid JSON accepted: %q", rec)
			}
			formattest.Check(t, ct, d)
			// The body is the record, compacted, then the ECS fields; or,
			// when a free-form block moved to logtide.unindexed
			// (format.MoveUnfit, tested on its own), the record so rewritten.
			var want bytes.Buffer
			if err := json.Compact(&want, rec); err != nil {
				t.Fatal(err)
			}
			w := want.Bytes()
			if moved, ok := format.MoveUnfit(bytes.TrimSpace(rec), freeFormPaths...); ok {
				w = moved
			}
			if !bytes.HasPrefix(d.Body, w[:len(w)-1]) {
				t.Fatalf("body does not start with the compacted record:\n%q\n%q", w, d.Body)
			}
			again, err := ct.Decoder(o).Decode(rec, 1)
			if err != nil || again.Index != d.Index || again.ID != d.ID || !bytes.Equal(again.Body, d.Body) {
				t.Fatalf("Decode is not deterministic: %+v then %+v (%v)", d, again, err)
			}
		}
	})
}
