package vpcflow

import (
	"fmt"
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

func gunzip(t testing.TB, b []byte) []byte { return formattest.Gunzip(t, b) }

func TestGenerator(t *testing.T) {
	formattest.CheckGenerator(t, Spec, format.GenerateOptions{Seed: 42, Objects: 36, RecordsPerObject: 30, Prefix: "flow logs/central",
		Accounts: []string{"210987654321", "109876543210"}, Regions: []string{"eu-west-1", "us-gov-west-1"},
		Start: time.Date(2026, 3, 31, 23, 50, 0, 0, time.UTC)})
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
		lines := formattest.Lines(t, objectBytes(t, c, i))
		if len(lines) != 201 || !looksLikeHeader(lines[0]) {
			t.Fatalf("object %d: %d lines, first %q", i, len(lines), lines[0])
		}
		for _, l := range lines[1:] {
			if looksLikeHeader(l) {
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

func TestGenerateDefaults(t *testing.T) {
	d := mustCorpus(t, format.GenerateOptions{})
	if d.Records() != format.DefaultObjects*format.DefaultRecordsPerObject {
		t.Errorf("default corpus: %d records", d.Records())
	}
	first := d.Objects()[0].Key
	if !strings.HasPrefix(first, "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/01/05/") || !strings.Contains(first, "_20260105T0005Z_") {
		t.Errorf("first key %s", first)
	}
}

// TestWriteObjectStreams: the heap needed to write an object stays small
// (a gzip compressor, a buffer, one record) whatever the object's size.
func TestWriteObjectStreams(t *testing.T) {
	n := 400_000
	if formattest.Race || testing.Short() {
		n = 40_000 // the race detector makes gzip many times slower
	}
	_, size := formattest.CheckStreaming(t, Spec, format.GenerateOptions{Seed: 77, Objects: 1, RecordsPerObject: n}, n/20, 0)
	if n == 400_000 && size < 8<<20 {
		t.Errorf("a %d byte object shows nothing about streaming", size)
	}
}
