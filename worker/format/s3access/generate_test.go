package s3access

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

func mustCorpus(t testing.TB, o format.GenerateOptions) *Corpus {
	return formattest.Must(t, NewCorpus, o)
}

func objectBytes(t testing.TB, c *Corpus, i int) []byte { return formattest.ObjectBytes(t, c, i) }

func TestGenerator(t *testing.T) {
	formattest.CheckGenerator(t, Spec, format.GenerateOptions{Seed: 42, Objects: 12, RecordsPerObject: 30, Prefix: "logs",
		Accounts: []string{"111122223333", "444455556666"}, Regions: []string{"eu-west-1", "us-east-2", "ap-southeast-2"},
		Start: time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC)})
}

// TestCorpus reads a generated corpus as the worker does (every key
// claimed, no dead letter, every document valid) and checks that it covers
// what real logs hold.
func TestCorpus(t *testing.T) {
	o := format.GenerateOptions{Seed: 3, Objects: 12, RecordsPerObject: 120, Prefix: "logs",
		Accounts: []string{"111122223333", "444455556666"}, Regions: []string{"eu-west-1", "us-east-2"}}
	docs := formattest.CheckCorpus(t, Spec, o)
	if len(docs) != 12*120 {
		t.Fatalf("%d documents", len(docs))
	}
	f := mustNew(t, format.Options{})
	seen := map[string]bool{}
	ids := map[string]bool{}
	batches := map[string]int{}
	for _, d := range docs {
		if ids[d.ID] {
			t.Errorf("id %s repeated", d.ID)
		}
		ids[d.ID] = true
		m := formattest.Check(t, f, d.Document)
		op, _ := m["operation"].(string)
		seen[op] = true
		if op == "BATCH.DELETE.OBJECT" {
			batches[m["request_id"].(string)]++
		}
		if s, _ := m["requester"].(string); strings.HasPrefix(s, "svc:") {
			seen["service"] = true
		}
		if m["requester"] == nil {
			seen["anonymous"] = true
		}
		if s, _ := m["remote_ip"].(string); strings.Contains(s, ":") {
			seen["ipv6"] = true
		}
		if s, _ := m["key_decoded"].(string); strings.Contains(s, " ") {
			seen["space in key"] = true
		}
		if m["extra_fields"] != nil {
			seen["extra fields"] = true
		}
		if m["host_id"] == nil {
			seen["older format"] = true
		}
		if m["error_code"] == "AccessDenied" {
			seen["403"] = true
		}
		if m["error_code"] == "NoSuchKey" {
			seen["404"] = true
		}
		if m["authentication_type"] == "QueryString" {
			seen["presigned"] = true
		}
		if formattest.Get(m, "cloud", "account", "id") != nil {
			seen["partitioned"] = true
		}
	}
	for _, w := range []string{"REST.GET.OBJECT", "REST.PUT.OBJECT", "REST.HEAD.OBJECT", "REST.GET.BUCKET",
		"REST.DELETE.OBJECT", "BATCH.DELETE.OBJECT", "REST.POST.MULTI_OBJECT_DELETE", "WEBSITE.GET.OBJECT",
		"REST.GET.ACL", "service", "anonymous", "ipv6", "space in key", "extra fields", "older format",
		"403", "404", "presigned", "partitioned"} {
		if !seen[w] {
			t.Errorf("the corpus has no %s", w)
		}
	}
	several := false
	for _, n := range batches {
		several = several || n > 1
	}
	if !several {
		t.Error("no multi-object delete with several keys under one request id")
	}
}

var (
	simpleRE      = regexp.MustCompile(`^logs/(\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})-[0-9A-F]{16}$`)
	partitionedRE = regexp.MustCompile(`^logs/(\d{12})/([a-z0-9-]+)/([a-z0-9.-]+)/(\d{4})/(\d{2})/(\d{2})/(\d{4})-(\d{2})-(\d{2})-00-00-00-[0-9A-F]{16}$`)
)

// TestKeys: the keys are in S3's layouts (every fourth one partitioned),
// unique, claimed, and the lines of each object fall where its key says.
func TestKeys(t *testing.T) {
	accounts := []string{"111122223333", "444455556666"}
	regions := []string{"eu-west-1", "us-east-2", "ap-southeast-2"}
	c := mustCorpus(t, format.GenerateOptions{Seed: 9, Objects: 40, RecordsPerObject: 20, Prefix: "logs/",
		Accounts: accounts, Regions: regions, Start: time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC)})
	f := mustNew(t, format.Options{})
	seen := map[string]bool{}
	for i, o := range c.Objects() {
		if seen[o.Key] {
			t.Fatalf("key %s repeated", o.Key)
		}
		seen[o.Key] = true
		if o.ContentType != "text/plain" || o.Records != 20 {
			t.Errorf("%s: content type %q, %d records", o.Key, o.ContentType, o.Records)
		}
		if f.Claim(format.ParseKey(o.Key)) != format.Read {
			t.Errorf("%s not claimed", o.Key)
		}
		res := formattest.Read(t, f, format.Object{Bucket: "logs", Key: o.Key}, objectBytes(t, c, i))
		if len(res.Docs) != 20 || len(res.Dead) > 0 {
			t.Fatalf("%s: %d documents, dead %v", o.Key, len(res.Docs), res.Dead)
		}
		var from, to time.Time
		if i%4 == 3 {
			m := partitionedRE.FindStringSubmatch(o.Key)
			if m == nil || m[1] != accounts[i%2] || m[2] != regions[i%3] || m[4]+m[5]+m[6] != m[7]+m[8]+m[9] {
				t.Fatalf("key %s is not in the partitioned layout of object %d", o.Key, i)
			}
			from, _ = time.Parse("2006/01/02", m[4]+"/"+m[5]+"/"+m[6])
			to = from.Add(24 * time.Hour)
		} else {
			m := simpleRE.FindStringSubmatch(o.Key)
			if m == nil {
				t.Fatalf("key %s is not in the simple layout", o.Key)
			}
			to, _ = time.Parse("2006-01-02-15-04-05", m[1])
			from = to.Add(-time.Hour)
		}
		for _, d := range res.Docs {
			m := formattest.Check(t, f, d.Document)
			ts, _ := time.Parse(time.RFC3339, m["@timestamp"].(string))
			if ts.Before(from) || !ts.Before(to) {
				t.Errorf("%s: a request at %s, outside [%s, %s)", o.Key, ts, from, to)
			}
			if bucket := m["bucket"].(string); !strings.HasSuffix(bucket, "-"+accounts[i%2][8:]) {
				t.Errorf("%s: bucket %s of another account", o.Key, bucket)
			}
		}
	}
}

// TestLines: every object has as many lines as it says, each ending with a
// newline.
func TestLines(t *testing.T) {
	c := mustCorpus(t, format.GenerateOptions{Seed: 42, Objects: 5, RecordsPerObject: 30})
	for i := range c.Objects() {
		if n := len(formattest.Lines(t, objectBytes(t, c, i))); n != 30 {
			t.Fatalf("object %d has %d lines", i, n)
		}
	}
	if c.Records() != 150 {
		t.Errorf("Records() = %d", c.Records())
	}
}

func TestDefaults(t *testing.T) {
	c := mustCorpus(t, format.GenerateOptions{})
	if c.Records() != format.DefaultObjects*format.DefaultRecordsPerObject {
		t.Errorf("defaults: %d records", c.Records())
	}
	if k := c.Objects()[0].Key; k != "2026-01-05-00-00-00-"+k[20:] {
		t.Errorf("first key %s: want no prefix and the default start", k)
	}
}

// TestWriteObjectStreams: the heap needed to write an object does not grow
// with the object (a generated object may be 1 GiB).
func TestWriteObjectStreams(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 20_000
	}
	grew, size := formattest.CheckStreaming(t, Spec, format.GenerateOptions{Seed: 5, Objects: 1, RecordsPerObject: n}, n/20, 0)
	if grew > int64(size)/4 {
		t.Errorf("heap grew by %d bytes while writing %d bytes", grew, size)
	}
}
