package resolver

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"regexp"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/format"
)

func mustCorpus(t testing.TB, o format.GenerateOptions) *Corpus {
	t.Helper()
	c, err := NewCorpus(o)
	if err != nil {
		t.Fatalf("NewCorpus(%+v): %v", o, err)
	}
	return c
}

func objectBytes(t testing.TB, c *Corpus, i int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := c.WriteObject(&b, i); err != nil {
		t.Fatalf("WriteObject(%d): %v", i, err)
	}
	return b.Bytes()
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

// lines gunzips object i and splits it into its lines, which must each end
// with a newline.
func lines(t testing.TB, c *Corpus, i int) [][]byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(objectBytes(t, c, i)))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) == 0 || raw[len(raw)-1] != '\n' {
		t.Fatalf("object %d does not end with a newline", i)
	}
	return bytes.Split(raw[:len(raw)-1], []byte("\n"))
}

func TestGenerateDeterministic(t *testing.T) {
	o := format.GenerateOptions{Seed: 42, Objects: 5, RecordsPerObject: 80, Accounts: []string{"111122223333", "444455556666"}}
	a, b := mustCorpus(t, o), mustCorpus(t, o)
	if !reflect.DeepEqual(a.Objects(), b.Objects()) {
		t.Fatal("the same options gave other objects")
	}
	for i := range a.Objects() {
		if !bytes.Equal(objectBytes(t, a, i), objectBytes(t, b, i)) || !bytes.Equal(objectBytes(t, a, i), objectBytes(t, a, i)) {
			t.Fatalf("object %d differs between corpora or writes with the same options", i)
		}
	}
	o.Seed = 43
	c := mustCorpus(t, o)
	for i, ob := range c.Objects() {
		if ob.Key == a.Objects()[i].Key || bytes.Equal(objectBytes(t, a, i), objectBytes(t, c, i)) {
			t.Errorf("object %d: seeds 42 and 43 gave the same object", i)
		}
	}
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

func TestGenerateOptions(t *testing.T) {
	for _, o := range []format.GenerateOptions{
		{Objects: -1}, {RecordsPerObject: -1}, {Accounts: []string{"12345"}}, {Regions: []string{"US_EAST_1"}},
	} {
		if _, err := NewCorpus(o); err == nil {
			t.Errorf("NewCorpus(%+v) accepted bad options", o)
		}
	}
	d := mustCorpus(t, format.GenerateOptions{})
	if len(d.Objects()) != 10 || d.Records() != 500 {
		t.Errorf("default corpus: %d objects, %d records", len(d.Objects()), d.Records())
	}
	first := keyRE.FindStringSubmatch(d.Objects()[0].Key)
	if first == nil || first[1] != "" || first[2] != "123456789012" || first[9] != "20260105T0000Z" {
		t.Errorf("default first key %s", d.Objects()[0].Key)
	}
	var r genRecord
	if err := json.Unmarshal(lines(t, d, 0)[0], &r); err != nil || r.Region != "us-east-1" || r.Timestamp != "2026-01-05T00:00:00Z" {
		t.Errorf("default first record %+v (%v)", r, err)
	}
	if err := d.WriteObject(io.Discard, 10); err == nil {
		t.Error("WriteObject accepted an object out of range")
	}
	boom := errors.New("boom")
	if err := d.WriteObject(failWriter{boom}, 0); !errors.Is(err, boom) {
		t.Errorf("WriteObject on a failing writer: %v", err)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

// heapWriter discards what it is given and samples the live heap.
type heapWriter struct {
	n, next int
	peak    uint64
}

func (h *heapWriter) Write(p []byte) (int, error) {
	h.n += len(p)
	if h.n >= h.next {
		h.next = h.n + 16<<10
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		h.peak = max(h.peak, ms.HeapAlloc)
	}
	return len(p), nil
}

// TestWriteObjectStreams: the heap a written object needs does not grow
// with its size (a gzip compressor and one line).
func TestWriteObjectStreams(t *testing.T) {
	n := 200_000
	if raceEnabled || testing.Short() {
		n = 20_000
	}
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	measure := func(records int) (grew int64, size int) {
		c := mustCorpus(t, format.GenerateOptions{Seed: 77, Objects: 1, RecordsPerObject: records})
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		hw := &heapWriter{}
		if err := c.WriteObject(hw, 0); err != nil {
			t.Fatal(err)
		}
		return int64(hw.peak) - int64(before.HeapAlloc), hw.n
	}
	small, _ := measure(n / 20)
	big, size := measure(n)
	t.Logf("%d records: %d bytes of gzip; the heap grew by %d bytes (%d for %d records)", n, size, big, small, n/20)
	if big > 4<<20 || big > small+1<<20 {
		t.Errorf("the heap grew by %d bytes for %d records, %d for %d", big, n, small, n/20)
	}
}
