package cloudtrail

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

func mustCorpus(t testing.TB, o CorpusOptions) *Corpus { return formattest.Must(t, NewCorpus, o) }

func TestGenerator(t *testing.T) {
	formattest.CheckGenerator(t, Spec, format.GenerateOptions{Seed: 5, Objects: 12, RecordsPerObject: 40, Prefix: "org trails",
		Accounts: []string{"999988887777", "111122223333"}, Regions: []string{"us-east-1", "eu-west-1"},
		Start: time.Date(2026, 3, 31, 23, 50, 0, 0, time.UTC)})
}

// TestAsTheWorkerReadsIt: generated files read through the worker's own
// decompression and framing give valid documents, one per record, and the
// redelivered events collapse into the documents of their first delivery.
func TestAsTheWorkerReadsIt(t *testing.T) {
	opts := format.GenerateOptions{Seed: 3, Objects: 24, RecordsPerObject: 120,
		Accounts: []string{"111122223333", "444455556666"}, Regions: []string{"us-east-1", "eu-central-1"}, Prefix: "trails/org"}
	docs := formattest.CheckCorpus(t, Spec, opts)
	c := mustCorpus(t, opts)

	byID := map[string][]byte{}
	redelivered := 0
	seen := map[string]int{}
	for _, d := range docs {
		if prev, ok := byID[d.ID]; ok {
			redelivered++
			if !bytes.Equal(prev, d.Body) {
				t.Errorf("id %s: two different documents", d.ID)
			}
		}
		byID[d.ID] = d.Body
		m := formattest.Check(t, mustCT(t, format.Options{}), d.Document)
		if strings.Contains(d.Index, "-insight-") {
			seen["insight"]++
			continue
		}
		seen["category "+str(get(m, "eventCategory"))]++
		seen["identity "+str(get(m, "userIdentity.type"))]++
		seen["outcome "+str(get(m, "event.outcome"))]++
		if get(m, "source.ip") == nil {
			seen["source is a name"]++
		}
		if get(m, "errorCode") != nil {
			seen["error"]++
		}
		switch get(m, "requestParameters.policy").(type) {
		case string:
			seen["policy string"]++
		case map[string]any:
			seen["policy object"]++
		}
		if get(m, "requestParameters") == nil {
			seen["null requestParameters"]++
		}
	}
	if len(byID) != c.Events() || len(docs) != c.Records() || redelivered == 0 {
		t.Errorf("%d documents, %d distinct ids (%d redelivered); the corpus says %d records, %d events", len(docs), len(byID), redelivered, c.Records(), c.Events())
	}
	for _, k := range []string{"insight", "category Data", "category Management", "identity IAMUser", "identity AssumedRole", "identity AWSService",
		"identity Root", "identity <none>", "outcome failure", "source is a name", "error", "policy string", "policy object", "null requestParameters"} {
		if seen[k] == 0 {
			t.Errorf("no %s among %d documents: %v", k, len(docs), seen)
		}
	}
}

var keyRE = regexp.MustCompile(`^(?:(.+)/)?AWSLogs/(?:(o-[a-z0-9]{10})/)?([0-9]{12})/(CloudTrail|CloudTrail-Insight)/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/([0-9]{12})_(CloudTrail|CloudTrail-Insight)_([a-z0-9-]+)_(\d{8}T\d{4}Z)_([A-Za-z0-9]{16})\.json\.gz$`)

func TestKeys(t *testing.T) {
	accounts, regions := []string{"999988887777", "111122223333"}, []string{"us-east-1", "eu-west-1", "ap-southeast-2"}
	c := mustCorpus(t, CorpusOptions{Seed: 8, Objects: 60, RecordsPerObject: 2, Prefix: "org trails", Accounts: accounts, Regions: regions,
		Start: time.Date(2026, 3, 31, 23, 50, 0, 0, time.UTC)})
	seen := map[string]bool{}
	for i, o := range c.Objects() {
		m := keyRE.FindStringSubmatch(o.Key)
		if m == nil {
			t.Fatalf("key %q does not match the CloudTrail layout", o.Key)
		}
		if m[1] != "org trails" || m[2] == "" || m[3] != m[9] || m[4] != m[10] || m[5] != m[11] || m[5] != regions[i%3] {
			t.Fatalf("key %q: parts %q", o.Key, m[1:])
		}
		delivered, err := time.Parse("20060102T1504Z", m[12])
		if err != nil || delivered.Format("2006/01/02") != m[6]+"/"+m[7]+"/"+m[8] {
			t.Fatalf("key %q: folder date and file time differ", o.Key)
		}
		if want := c.opts.Start.Add(time.Duration(i/6) * slot); !delivered.Equal(want) {
			t.Fatalf("key %q: delivered %s, want %s", o.Key, delivered, want)
		}
		if (m[4] == "CloudTrail-Insight") != (i%10 == 9) || seen[m[13]] {
			t.Fatalf("key %q: unexpected service or repeated name", o.Key)
		}
		seen[m[13]] = true
		k := format.ParseKey(o.Key)
		if k.Account != m[3] || k.Service != m[4] {
			t.Fatalf("key %q read as account %s service %s", o.Key, k.Account, k.Service)
		}
	}
	one := mustCorpus(t, CorpusOptions{Seed: 8, Objects: 1})
	if k := one.Objects()[0].Key; !strings.HasPrefix(k, "AWSLogs/123456789012/CloudTrail/us-east-1/2026/01/05/123456789012_CloudTrail_us-east-1_20260105T0000Z_") {
		t.Errorf("default key %s", k)
	}
}

func TestDefaults(t *testing.T) {
	d := mustCorpus(t, CorpusOptions{})
	if d.Records() != 9*format.DefaultRecordsPerObject+maxInsights {
		t.Errorf("default corpus: %d records", d.Records())
	}
}

// TestWriteObjectStreams: the heap needed to write a file does not grow
// with its size (a benchmark writes one of more than 1 GiB).
func TestWriteObjectStreams(t *testing.T) {
	n := 100_000
	if formattest.Race || testing.Short() {
		n = 8_000
	}
	formattest.CheckStreaming(t, Spec, format.GenerateOptions{Seed: 77, Objects: 1, RecordsPerObject: n}, max(n/20, 2000), 0)
}
