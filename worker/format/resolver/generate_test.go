package resolver

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

func mustCorpus(t testing.TB, o format.GenerateOptions) *Corpus {
	return formattest.Must(t, NewCorpus, o)
}

// genRecord is what the generator tests read of a record.
type genRecord struct {
	Account   string `json:"account_id"`
	Region    string `json:"region"`
	VPC       string `json:"vpc_id"`
	Timestamp string `json:"query_timestamp"`
	Name      string `json:"query_name"`
	Srcids    struct {
		Instance string `json:"instance"`
	} `json:"srcids"`
}

// lines are the lines of object i.
func lines(t testing.TB, c *Corpus, i int) [][]byte {
	t.Helper()
	return formattest.Lines(t, formattest.ObjectBytes(t, c, i))
}

func TestGenerator(t *testing.T) {
	formattest.CheckGenerator(t, Spec, format.GenerateOptions{Seed: 42, Objects: 10, RecordsPerObject: 80, Prefix: "dns logs/prod",
		Accounts: []string{"111122223333", "444455556666"}, Regions: []string{"us-east-1", "eu-central-1"},
		Start: time.Date(2026, 3, 31, 23, 40, 0, 0, time.UTC)})
}

var keyRE = regexp.MustCompile(`^(?:(.*)/)?AWSLogs/(\d{12})/vpcdnsquerylogs/(vpc-[0-9a-f]{17})/(\d{4})/(\d{2})/(\d{2})/` +
	`(\d{12})_vpcdnsquerylogs_(vpc-[0-9a-f]{17})_(\d{8}T\d{4}Z)_[0-9a-f]{8}\.log\.gz$`)

// TestGenerateKeys: keys follow Resolver's layout, and the records of an
// object are the queries of its VPC, in time order within its interval.
func TestGenerateKeys(t *testing.T) {
	accounts := []string{"111122223333", "444455556666"}
	regions := []string{"us-east-1", "eu-central-1"}
	start := time.Date(2026, 3, 31, 23, 40, 0, 0, time.UTC)
	c := mustCorpus(t, format.GenerateOptions{Seed: 8, Objects: 40, RecordsPerObject: 30, Prefix: "dns logs/prod",
		Accounts: accounts, Regions: regions, Start: start})
	vpcs := map[string]string{}
	seenAcct, seenRegion := map[string]bool{}, map[string]bool{}
	for i, o := range c.Objects() {
		m := keyRE.FindStringSubmatch(o.Key)
		if m == nil {
			t.Fatalf("key %q does not follow the layout", o.Key)
		}
		if m[1] != "dns logs/prod" || m[2] != m[7] || m[3] != m[8] || o.Records != 30 || o.ContentType == "" {
			t.Fatalf("key %q: prefix, account or vpc differ (%+v)", o.Key, o)
		}
		objStart, err := time.Parse("20060102T1504Z", m[9])
		if err != nil || m[4]+m[5]+m[6] != objStart.Format("20060102") || objStart.Before(start) {
			t.Fatalf("key %q: time %s (%v)", o.Key, m[9], err)
		}
		var prev time.Time
		for n, l := range lines(t, c, i) {
			var r genRecord
			if err := json.Unmarshal(l, &r); err != nil {
				t.Fatalf("object %d line %d: %v", i, n+1, err)
			}
			ts, err := time.Parse(time.RFC3339, r.Timestamp)
			if err != nil || ts.Before(objStart) || !ts.Before(objStart.Add(5*time.Minute)) || ts.Before(prev) {
				t.Fatalf("object %d line %d: query_timestamp %s outside %s + 5 minutes or out of order", i, n+1, r.Timestamp, objStart)
			}
			prev = ts
			if r.Account != m[2] || r.VPC != m[3] {
				t.Fatalf("object %d line %d: account %s vpc %s in an object of %s %s", i, n+1, r.Account, r.VPC, m[2], m[3])
			}
			if region, ok := vpcs[r.VPC]; ok && region != r.Region {
				t.Fatalf("vpc %s in regions %s and %s", r.VPC, region, r.Region)
			}
			vpcs[r.VPC] = r.Region
			seenAcct[r.Account], seenRegion[r.Region] = true, true
		}
	}
	if len(vpcs) != 8 || len(seenAcct) != 2 || len(seenRegion) != 2 {
		t.Errorf("%d vpcs in %d accounts and %d regions", len(vpcs), len(seenAcct), len(seenRegion))
	}
	last := keyRE.FindStringSubmatch(c.Objects()[39].Key)
	if last[4]+last[5]+last[6] != "20260401" {
		t.Errorf("the last object, 20 minutes after midnight, is under %s/%s/%s", last[4], last[5], last[6])
	}
}

func TestGenerateDefaults(t *testing.T) {
	d := mustCorpus(t, format.GenerateOptions{})
	if d.Records() != 500 {
		t.Errorf("default corpus: %d records", d.Records())
	}
	first := keyRE.FindStringSubmatch(d.Objects()[0].Key)
	if first == nil || first[1] != "" || first[2] != "123456789012" || first[9] != "20260105T0000Z" {
		t.Errorf("default first key %s", d.Objects()[0].Key)
	}
	var r genRecord
	if err := json.Unmarshal(lines(t, d, 0)[0], &r); err != nil || r.Region != "us-east-1" || r.Timestamp != "2026-01-05T00:00:00Z" {
		t.Errorf("default first record %+v (%v)", r, err)
	}
}

// TestWriteObjectStreams: the heap a written object needs does not grow
// with its size (a gzip compressor and one line).
func TestWriteObjectStreams(t *testing.T) {
	n := 200_000
	if formattest.Race || testing.Short() {
		n = 20_000
	}
	formattest.CheckStreaming(t, Spec, format.GenerateOptions{Seed: 77, Objects: 1, RecordsPerObject: n}, n/20, 0)
}
