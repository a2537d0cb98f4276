package vpcflow

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

func mustCorpus(t testing.TB, o format.GenerateOptions) *Corpus {
	t.Helper()
	c, err := NewCorpus(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func objectBytes(t testing.TB, c *Corpus, i int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := c.WriteObject(&b, i); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gunzip(t testing.TB, b []byte) []byte {
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

func TestGenerateDeterministic(t *testing.T) {
	o := format.GenerateOptions{Seed: 42, Objects: 8, RecordsPerObject: 30}
	a, b := mustCorpus(t, o), mustCorpus(t, o)
	o.Seed = 43
	other := mustCorpus(t, o)
	for i, obj := range a.Objects() {
		if b.Objects()[i] != obj {
			t.Fatalf("object %d: %+v then %+v", i, obj, b.Objects()[i])
		}
		x := objectBytes(t, a, i)
		if !bytes.Equal(x, objectBytes(t, b, i)) || !bytes.Equal(x, objectBytes(t, a, i)) {
			t.Fatalf("object %d differs between renderings", i)
		}
		if bytes.Equal(gunzip(t, x), gunzip(t, objectBytes(t, other, i))) {
			t.Fatalf("object %d is the same with another seed", i)
		}
	}
}

var (
	keyRE  = regexp.MustCompile(`^(.*)AWSLogs/([0-9]{12})/vpcflowlogs/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/(?:(\d{2})/)?([0-9]{12})_vpcflowlogs_([a-z0-9-]+)_(fl-[0-9a-f]{17})_(\d{8}T\d{4}Z)_[0-9a-f]{8}\.log\.gz$`)
	hiveRE = regexp.MustCompile(`^(.*)AWSLogs/aws-account-id=([0-9]{12})/aws-service=vpcflowlogs/aws-region=([a-z0-9-]+)/year=(\d{4})/month=(\d{2})/day=(\d{2})/(?:hour=(\d{2})/)?([0-9]{12})_vpcflowlogs_([a-z0-9-]+)_(fl-[0-9a-f]{17})_(\d{8}T\d{4}Z)_[0-9a-f]{8}\.log\.gz$`)
)

// TestGenerateKeys: keys in both layouts, their folders agreeing with the
// file name and with what the format reads of them.
func TestGenerateKeys(t *testing.T) {
	accounts := []string{"210987654321", "109876543210"}
	regions := []string{"eu-west-1", "ap-southeast-2", "us-gov-west-1"}
	c := mustCorpus(t, format.GenerateOptions{Seed: 9, Objects: 80, RecordsPerObject: 1, Prefix: "flow logs/central",
		Accounts: accounts, Regions: regions, Start: time.Date(2026, 3, 31, 23, 50, 0, 0, time.UTC)})
	v := mustNew(t, format.Options{})
	seen := map[string]bool{}
	var hive, hourly, days int
	prevDay := ""
	for _, o := range c.Objects() {
		m := keyRE.FindStringSubmatch(o.Key)
		if m == nil {
			m = hiveRE.FindStringSubmatch(o.Key)
			hive++
		}
		if m == nil {
			t.Fatalf("key %q is in neither layout", o.Key)
		}
		if m[1] != "flow logs/central/" || m[2] != m[8] || m[3] != m[9] || m[4]+m[5]+m[6] != m[11][:8] {
			t.Fatalf("key %q: folders and file name disagree", o.Key)
		}
		if m[7] != "" {
			hourly++
			if m[7] != m[11][9:11] {
				t.Fatalf("key %q: hour folder", o.Key)
			}
		}
		if seen[o.Key] {
			t.Fatalf("key %q repeated", o.Key)
		}
		seen[o.Key] = true
		k := format.ParseKey(o.Key)
		if v.Claim(k) != format.Read || k.Account != m[2] || keyRegion(k) != m[3] {
			t.Fatalf("key %q read as %+v, region %q", o.Key, k, keyRegion(k))
		}
		if day := m[4] + m[5] + m[6]; day != prevDay {
			days++
			prevDay = day
		}
		if o.Records != 1 || o.ContentType == "" {
			t.Fatalf("%+v", o)
		}
	}
	if hive == 0 || hive == len(seen) || hourly == 0 || days < 2 {
		t.Errorf("%d Hive-style keys, %d hourly, %d days of %d objects", hive, hourly, days, len(seen))
	}
}

// TestGenerateContent: every object is a header and RecordsPerObject
// records, and a default corpus holds each kind of record the format
// must read.
func TestGenerateContent(t *testing.T) {
	c := mustCorpus(t, format.GenerateOptions{Seed: 3, Objects: 12, RecordsPerObject: 200})
	for i := range c.Objects() {
		lines := strings.Split(strings.TrimSuffix(string(gunzip(t, objectBytes(t, c, i))), "\n"), "\n")
		if len(lines) != 201 || !looksLikeHeader([]byte(lines[0])) {
			t.Fatalf("object %d: %d lines, first %q", i, len(lines), lines[0])
		}
		for _, l := range lines[1:] {
			if looksLikeHeader([]byte(l)) {
				t.Fatalf("object %d: record %q reads as a header", i, l)
			}
		}
	}
	docs := formattest.CheckCorpus(t, Spec, format.GenerateOptions{Seed: 3, Objects: 12, RecordsPerObject: 200})
	seen := map[string]int{}
	for _, d := range docs {
		m := formattest.Check(t, mustNew(t, format.Options{}), d.Document)
		get := func(p ...string) string {
			v, _ := formattest.Get(m, p...).(string)
			return v
		}
		seen["status "+get("log_status")]++
		seen["action "+get("event", "action")]++
		seen["transport "+get("network", "transport")]++
		seen["version "+fmt.Sprint(m["version"])]++
		if strings.Contains(get("source", "ip"), ":") {
			seen["ipv6"]++
		}
		if get("network", "direction") != "" {
			seen["direction"]++
		}
		if m["tgw_id"] != nil {
			seen["tgw"]++
		}
		if m["pkt_dst_aws_service"] != nil || m["pkt_src_aws_service"] != nil {
			seen["aws service"]++
		}
		if m["packets_lost_no_route"] != nil && m["packets_lost_no_route"] != 0.0 {
			seen["lost"]++
		}
	}
	for _, k := range []string{"status OK", "status NODATA", "status SKIPDATA", "action accept", "action reject", "action nodata",
		"action skipdata", "transport tcp", "transport udp", "transport icmp", "transport ipv6-icmp", "version 2", "version 5",
		"version 6", "ipv6", "direction", "tgw", "aws service", "lost"} {
		if seen[k] == 0 {
			t.Errorf("no %q in a corpus of 2400 records (%v)", k, seen)
		}
	}
	if seen["version 2"] < len(docs)/2 {
		t.Errorf("the default format is not the most common: %v", seen)
	}
}

func TestGenerateOptions(t *testing.T) {
	for _, o := range []format.GenerateOptions{
		{Objects: -1},
		{RecordsPerObject: -1},
		{Accounts: []string{"12345"}},
		{Regions: []string{"US_EAST_1"}},
	} {
		if _, err := NewCorpus(o); err == nil {
			t.Errorf("NewCorpus(%+v) accepted bad options", o)
		}
	}
	d := mustCorpus(t, format.GenerateOptions{})
	if len(d.Objects()) != defaultObjects || d.Records() != defaultObjects*defaultRecords {
		t.Errorf("default corpus: %d objects, %d records", len(d.Objects()), d.Records())
	}
	first := d.Objects()[0].Key
	if !strings.HasPrefix(first, "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/01/05/") || !strings.Contains(first, "_20260105T0005Z_") {
		t.Errorf("first key %s", first)
	}
	if err := d.WriteObject(io.Discard, len(d.Objects())); err == nil {
		t.Error("WriteObject accepted an index out of range")
	}
	boom := errors.New("boom")
	if err := d.WriteObject(failWriter{boom}, 0); !errors.Is(err, boom) {
		t.Errorf("WriteObject on a failing writer returned %v", err)
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
		h.next = h.n + 256<<10
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		h.peak = max(h.peak, ms.HeapAlloc)
	}
	return len(p), nil
}

// TestWriteObjectStreams: the heap needed to write an object stays small
// (a gzip compressor, a buffer, one record) whatever the object's size.
func TestWriteObjectStreams(t *testing.T) {
	n := 400_000
	if raceEnabled || testing.Short() {
		n = 40_000 // the race detector makes gzip many times slower
	}
	// A low GC target keeps garbage from hiding what is really retained.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	c := mustCorpus(t, format.GenerateOptions{Seed: 77, Objects: 1, RecordsPerObject: n})
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	hw := &heapWriter{}
	if err := c.WriteObject(hw, 0); err != nil {
		t.Fatal(err)
	}
	grew := int64(hw.peak) - int64(before.HeapAlloc)
	t.Logf("%d records: %d bytes gzip; heap grew by at most %d bytes", n, hw.n, grew)
	const limit = 4 << 20
	if grew > limit {
		t.Errorf("heap grew by %d bytes while writing a %d byte object", grew, hw.n)
	}
	if n == 400_000 && hw.n < 2*limit {
		t.Errorf("a %d byte object shows nothing about streaming", hw.n)
	}
}
