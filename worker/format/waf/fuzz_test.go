package waf

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

// fuzzSeeds are near misses and odd shapes; the fixtures add real-looking
// records.
var fuzzSeeds = []string{
	`{"timestamp":1773479310000}`,
	`{"timestamp":1773479310000,"webaclId":"arn:aws:wafv2:eu-west-1:210987654321:regional/webacl/a/b","action":"BLOCK","httpRequest":{"clientIp":"2001:db8::1","requestId":"r","headers":[{"name":"Host","value":"[::1]:80"},{"name":"X-Forwarded-For","value":"1.2.3.4:5, x"}]}}`,
	`{"timestamp":1.5e12,"responseCodeSent":"404","httpRequest":{"httpVersion":"HTTP/","headers":[{"name":"hoſt","value":"x"}]}}`,
	"{\"timestamp\":1773479310000\r,\"a\":[\r]}",
	`{"timestamp":"1773479310000"}`,
	`{"timestamp":-1}`,
	`{"timestamp":1773479310000,"url":1}`,
	`{"timestamp":1773479310000,"httpRequest":{"requestId":""}}`,
	`{"timestamp":1773479310000,"httpRequest":{"requestId":null,"clientIp":5}}`,
	`{}`, `[]`, `{"a":}`, ``,
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	for _, file := range []string{"cloudfront.jsonl", "regional.jsonl", "cloudfront-late.jsonl"} {
		b, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range bytes.Split(b, []byte("\n")) {
			f.Add(l)
		}
	}
	utc, err := New(format.Options{})
	if err != nil {
		f.Fatal(err)
	}
	// A prefix, and an index time zone whose offset is not a whole hour.
	kolkata, err := New(format.Options{IndexPrefix: "waf-fuzz", Location: time.FixedZone("IST", 5*3600+1800)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		checkScan(t, line)
		for _, w := range []*WAF{utc, kolkata} {
			dec := w.Decoder(format.Object{Bucket: "b", Key: cfKey})
			in := bytes.Clone(line)
			d, err := dec.Decode(in, 7)
			if !bytes.Equal(in, line) {
				t.Fatal("Decode changed its input")
			}
			if err != nil {
				var re *format.RecordError
				if !errors.As(err, &re) || re.Reason == "" {
					t.Fatalf("error %T without a reason: %v", err, err)
				}
				continue
			}
			if !json.Valid(line) {
				t.Fatalf("accepted invalid JSON %q", line)
			}
			formattest.Check(t, w, d)
			// The record is kept as it was, blanks on one line.
			trimmed := bytes.TrimSpace(line)
			kept := bytes.Map(func(r rune) rune {
				if r == '\r' || r == '\n' {
					return ' '
				}
				return r
			}, trimmed[:len(trimmed)-1])
			if !bytes.HasPrefix(d.Body, kept) {
				t.Fatalf("body does not start with the record:\n%q\n%q", line, d.Body)
			}
			again, err := w.Decoder(format.Object{Bucket: "b", Key: cfKey}).Decode(line, 7)
			if err != nil || again.ID != d.ID || again.Index != d.Index || !bytes.Equal(again.Body, d.Body) {
				t.Fatalf("Decode is not deterministic: %+v then %+v (%v)", d, again, err)
			}
		}
	})
}
