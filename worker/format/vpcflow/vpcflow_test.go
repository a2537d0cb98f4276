package vpcflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/logtide/logtide/testenv/refdata"
	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

const (
	stdKey  = "flowlogs/AWSLogs/210987654321/vpcflowlogs/eu-west-1/2026/03/14/210987654321_vpcflowlogs_eu-west-1_fl-0c9a8b7d6e5f43210_20260314T0905Z_3f9a1c2e.log.gz"
	hiveKey = "AWSLogs/aws-account-id=210987654321/aws-service=vpcflowlogs/aws-region=eu-central-1/year=2026/month=03/day=14/hour=09/210987654321_vpcflowlogs_eu-central-1_fl-0c9a8b7d6e5f43210_20260314T0905Z_77d0e4b1.log.gz"
	bucket  = "acme-flow-logs"
)

func mustNew(t testing.TB, o format.Options) *VPCFlow { return formattest.Must(t, New, o) }

func gz(t testing.TB, b []byte) []byte { return formattest.Gzip(t, b) }

// readFixture reads testdata/name, gzip-compressed as delivered, through
// the worker's decompression and framing, as object key of the test bucket.
func readFixture(t *testing.T, v *VPCFlow, name, key string) (formattest.Result, format.Object) {
	t.Helper()
	o := format.Object{Bucket: bucket, Key: key}
	return formattest.Read(t, v, o, gz(t, formattest.Testdata(t, name))), o
}

// want is what a test asserts of one document; empty fields and nil
// values are not checked, "absent" means the member must be missing.
type want struct {
	line                  int
	index, ts             string
	fields                map[string]any // dotted path -> value, as JSON decodes it
	relatedIP, eventTypes []string
}

func checkDocs(t *testing.T, v *VPCFlow, o format.Object, res formattest.Result, wants []want) {
	t.Helper()
	if len(res.Docs) != len(wants) {
		t.Fatalf("%d documents, want %d (dead: %+v)", len(res.Docs), len(wants), res.Dead)
	}
	for i, w := range wants {
		d := res.Docs[i]
		m := formattest.Check(t, v, d.Document)
		if d.N != w.line {
			t.Errorf("document %d is line %d, want %d", i, d.N, w.line)
		}
		if d.ID != format.PositionID(o, w.line) || d.Version != 0 {
			t.Errorf("line %d: id %s version %d, want the position id", w.line, d.ID, d.Version)
		}
		if d.Index != w.index || m["@timestamp"] != w.ts {
			t.Errorf("line %d: index %s @timestamp %v, want %s %s", w.line, d.Index, m["@timestamp"], w.index, w.ts)
		}
		for path, wv := range w.fields {
			got := formattest.Get(m, strings.Split(path, ".")...)
			if wv == "absent" {
				if got != nil {
					t.Errorf("line %d: %s = %v, want it absent", w.line, path, got)
				}
				continue
			}
			if !same(got, wv) {
				t.Errorf("line %d: %s = %v (%T), want %v", w.line, path, got, got, wv)
			}
		}
		if w.relatedIP != nil {
			if got := fmt.Sprint(formattest.Get(m, "related", "ip")); got != fmt.Sprint(w.relatedIP) {
				t.Errorf("line %d: related.ip %s, want %v", w.line, got, w.relatedIP)
			}
		}
		if w.eventTypes != nil {
			if got := fmt.Sprint(formattest.Get(m, "event", "type")); got != fmt.Sprint(w.eventTypes) {
				t.Errorf("line %d: event.type %s, want %v", w.line, got, w.eventTypes)
			}
		}
		if formattest.Get(m, "event", "dataset") != "aws.vpcflow" || formattest.Get(m, "event", "kind") != "event" ||
			fmt.Sprint(formattest.Get(m, "event", "category")) != "[network]" {
			t.Errorf("line %d: event %v", w.line, m["event"])
		}
	}
}

// TestDefaultFormat: the default (version 2) format, its header skipped,
// accepted and rejected TCP, UDP, ICMP, IPv6 (written in canonical form),
// NODATA and SKIPDATA records.
func TestDefaultFormat(t *testing.T) {
	v := mustNew(t, format.Options{})
	res, o := readFixture(t, v, "default_v2.log", stdKey)
	if len(res.Dead) > 0 || fmt.Sprint(res.Skipped) != "[1]" {
		t.Fatalf("dead %+v, skipped %v", res.Dead, res.Skipped)
	}
	const day = "vpcflow-2026-03-14"
	checkDocs(t, v, o, res, []want{
		{line: 2, index: day, ts: "2026-03-14T09:00:00.000Z", fields: map[string]any{
			"version": 2, "account_id": "210987654321", "interface_id": "eni-07c2b5e8a91d34f60",
			"srcaddr": "10.40.3.17", "dstaddr": "198.51.100.23", "srcport": 51234, "dstport": 443, "protocol": 6,
			"packets": 42, "bytes": 18233, "start": 1773478800, "end": 1773478860, "action": "ACCEPT", "log_status": "OK",
			"source.ip": "10.40.3.17", "source.port": 51234, "source.bytes": 18233, "source.packets": 42,
			"destination.ip": "198.51.100.23", "destination.port": 443,
			"network.transport": "tcp", "network.iana_number": "6", "network.bytes": 18233, "network.packets": 42,
			"network.direction": "absent",
			"event.action":      "accept", "event.outcome": "success", "event.duration": 60e9, "event.provider": "vpcflowlogs",
			"cloud.account.id": "210987654321", "cloud.region": "eu-west-1", "cloud.provider": "aws",
		}, relatedIP: []string{"10.40.3.17", "198.51.100.23"}, eventTypes: []string{"connection", "allowed"}},
		{line: 3, index: day, ts: "2026-03-14T09:00:05.000Z", fields: map[string]any{
			"source.ip": "203.0.113.77", "destination.port": 22, "event.action": "reject", "event.outcome": "failure",
		}, eventTypes: []string{"connection", "denied"}},
		{line: 4, index: day, ts: "2026-03-14T09:00:10.000Z", fields: map[string]any{
			"network.transport": "udp", "network.iana_number": "17", "destination.port": 53, "event.duration": 30e9,
		}},
		// ICMP: ports 0 are kept in the record's fields, not as ECS ports;
		// start = end has no duration.
		{line: 5, index: day, ts: "2026-03-14T09:00:12.000Z", fields: map[string]any{
			"network.transport": "icmp", "srcport": 0, "dstport": 0, "source.port": "absent", "destination.port": "absent",
			"event.duration": "absent",
		}},
		{line: 6, index: day, ts: "2026-03-14T09:00:20.000Z", fields: map[string]any{
			"srcaddr": "2a05:d018:1b2:4c00:9e3a:57b1:2f04:8d61", "dstaddr": "2001:db8:4f2a::17",
			"source.ip": "2a05:d018:1b2:4c00:9e3a:57b1:2f04:8d61", "destination.ip": "2001:db8:4f2a::17",
		}},
		{line: 7, index: day, ts: "2026-03-14T09:00:20.000Z", fields: map[string]any{
			"srcaddr": "2001:db8::9", "source.ip": "2001:db8::9", "network.transport": "ipv6-icmp", "network.iana_number": "58",
		}, relatedIP: []string{"2001:db8::9", "2a05:d018:1b2:4c00:9e3a:57b1:2f04:8d61"}},
		// NODATA and SKIPDATA: kept with the fields they have.
		{line: 8, index: day, ts: "2026-03-14T09:00:01.000Z", fields: map[string]any{
			"log_status": "NODATA", "interface_id": "eni-0f1e2d3c4b5a69788", "srcaddr": "absent", "packets": "absent", "action": "absent",
			"source": "absent", "destination": "absent", "network": "absent", "related": "absent",
			"event.action": "nodata", "event.outcome": "unknown", "cloud.account.id": "210987654321",
		}, eventTypes: []string{"info"}},
		// The index is the day of start, though end is the next day.
		{line: 9, index: day, ts: "2026-03-14T23:59:30.000Z", fields: map[string]any{
			"log_status": "SKIPDATA", "event.action": "skipdata", "event.outcome": "unknown", "end": 1773532830,
		}, eventTypes: []string{"info"}},
	})
}

// TestHiveKey: the region and account of the Hive-compatible layout.
func TestHiveKey(t *testing.T) {
	v := mustNew(t, format.Options{})
	if v.Claim(format.ParseKey(hiveKey)) != format.Read {
		t.Fatal("Hive-style key not claimed")
	}
	res, o := readFixture(t, v, "no_final_newline.log", hiveKey)
	checkDocs(t, v, o, res, []want{
		{line: 2, index: "vpcflow-2026-03-14", ts: "2026-03-14T09:00:00.000Z", fields: map[string]any{
			"cloud.region": "eu-central-1", "cloud.account.id": "210987654321"}},
		{line: 3, index: "vpcflow-2026-03-14", ts: "2026-03-14T09:00:05.000Z", fields: map[string]any{
			"cloud.region": "eu-central-1", "log_status": "OK"}},
	})
}

// TestNoFinalNewline: the last record is read without a newline after it.
func TestNoFinalNewline(t *testing.T) {
	v := mustNew(t, format.Options{})
	b, err := os.ReadFile(filepath.Join("testdata", "no_final_newline.log"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasSuffix(b, []byte("\n")) {
		t.Fatal("the fixture ends with a newline")
	}
	o := format.Object{Bucket: bucket, Key: stdKey}
	for _, stored := range [][]byte{b, gz(t, b)} { // plain and gzip
		res := formattest.Read(t, v, o, stored)
		if len(res.Docs) != 2 || len(res.Dead) != 0 {
			t.Fatalf("%d documents, dead %+v", len(res.Docs), res.Dead)
		}
		m := formattest.Check(t, v, res.Docs[1].Document)
		if m["log_status"] != "OK" || m["action"] != "REJECT" {
			t.Errorf("last record: %s", res.Docs[1].Body)
		}
	}
}

// TestCustomFormat: a custom version 5 format, its fields in an order of
// their own; pkt-srcaddr differing from srcaddr (behind a load balancer),
// flow-direction, traffic-path, an "unknown" account, a record without
// region (the key's is used).
func TestCustomFormat(t *testing.T) {
	v := mustNew(t, format.Options{})
	res, o := readFixture(t, v, "custom_v5.log", hiveKey)
	if len(res.Dead) > 0 || fmt.Sprint(res.Skipped) != "[1]" {
		t.Fatalf("dead %+v, skipped %v", res.Dead, res.Skipped)
	}
	const day = "vpcflow-2026-03-14"
	checkDocs(t, v, o, res, []want{
		{line: 2, index: day, ts: "2026-03-14T09:00:00.000Z", fields: map[string]any{
			"version": 5, "vpc_id": "vpc-0a1b2c3d4e5f60718", "subnet_id": "subnet-0b2c3d4e5f6071829",
			"instance_id": "i-0c3d4e5f60718293a", "type": "IPv4", "pkt_srcaddr": "10.40.3.17", "pkt_dstaddr": "52.218.40.9",
			"bytes": 84211, "packets": 61, "tcp_flags": 19, "region": "eu-west-1", "az_id": "euw1-az2",
			"sublocation_type": "absent", "pkt_src_aws_service": "absent", "pkt_dst_aws_service": "S3",
			"flow_direction": "egress", "traffic_path": 7,
			"network.direction": "egress", "source.bytes": 84211, "network.packets": 61,
			// The record's region, not the key's.
			"cloud.region": "eu-west-1",
		}, relatedIP: []string{"10.40.3.17", "52.218.40.9"}, eventTypes: []string{"connection", "allowed"}},
		{line: 3, index: day, ts: "2026-03-14T09:00:30.000Z", fields: map[string]any{
			"srcaddr": "10.40.1.88", "pkt_srcaddr": "198.51.100.150", "network.direction": "ingress", "traffic_path": "absent",
			"tcp_flags": 3,
		}, relatedIP: []string{"10.40.1.88", "10.40.3.17", "198.51.100.150"}},
		{line: 4, index: day, ts: "2026-03-14T09:00:40.000Z", fields: map[string]any{
			"type": "IPv6", "pkt_dstaddr": "2a05:d018:1b2:4c00:9e3a:57b1:2f04:8d61", "event.outcome": "failure",
			"event.duration": "absent",
		}, relatedIP: []string{"2001:db8:77::5", "2a05:d018:1b2:4c00:9e3a:57b1:2f04:8d61"}},
		{line: 5, index: day, ts: "2026-03-14T09:00:50.000Z", fields: map[string]any{
			"account_id": "unknown", "cloud.account.id": "210987654321", "region": "absent", "cloud.region": "eu-central-1",
			"sublocation_type": "wavelength", "sublocation_id": "wlz-0a1b2c3d4e5f6a7b8", "tcp_flags": 0, "instance_id": "absent",
			"network.transport": "udp",
		}},
		{line: 6, index: day, ts: "2026-03-14T09:00:01.000Z", fields: map[string]any{
			"log_status": "NODATA", "vpc_id": "vpc-0a1b2c3d4e5f60718", "region": "eu-west-1", "type": "absent",
			"event.action": "nodata", "cloud.region": "eu-west-1",
		}},
	})
}

// TestTransitGateway: transit gateway flow log fields (version 6), which
// have no action.
func TestTransitGateway(t *testing.T) {
	v := mustNew(t, format.Options{})
	res, o := readFixture(t, v, "tgw_v6.log", stdKey)
	if len(res.Dead) > 0 || fmt.Sprint(res.Skipped) != "[1]" {
		t.Fatalf("dead %+v, skipped %v", res.Dead, res.Skipped)
	}
	const day = "vpcflow-2026-03-14"
	checkDocs(t, v, o, res, []want{
		{line: 2, index: day, ts: "2026-03-14T09:00:00.000Z", fields: map[string]any{
			"version": 6, "resource_type": "TransitGateway", "tgw_id": "tgw-0e5d4c3b2a1908f7e",
			"tgw_attachment_id": "tgw-attach-01a2b3c4d5e6f7a8b", "tgw_src_vpc_account_id": "210987654321",
			"tgw_dst_vpc_account_id": "109876543210", "tgw_src_vpc_id": "vpc-0a1b2c3d4e5f60718", "tgw_dst_vpc_id": "vpc-0f9e8d7c6b5a40312",
			"tgw_src_subnet_id": "subnet-0b2c3d4e5f6071829", "tgw_dst_subnet_id": "subnet-0e8d7c6b5a4031209",
			"tgw_src_eni": "eni-0aa1bb2cc3dd4ee5f", "tgw_dst_eni": "eni-0ff6ee5dd4cc3bb2a", "tgw_src_az_id": "euw1-az2",
			"tgw_dst_az_id": "euw1-az3", "tgw_pair_attachment_id": "tgw-attach-0b9c8d7e6f5a4b3c2",
			"packets_lost_no_route": 0, "packets_lost_blackhole": 0, "packets_lost_mtu_exceeded": 0, "packets_lost_ttl_expired": 0,
			"destination.port": 5432, "network.direction": "egress", "event.action": "absent", "event.outcome": "absent",
			"bytes": 401233,
		}, eventTypes: []string{"connection"}},
		{line: 3, index: day, ts: "2026-03-14T09:00:15.000Z", fields: map[string]any{
			"packets_lost_blackhole": 3, "tgw_dst_eni": "absent", "network.direction": "ingress", "event.duration": 45e9,
		}},
		{line: 4, index: day, ts: "2026-03-14T09:00:01.000Z", fields: map[string]any{
			"log_status": "NODATA", "event.action": "nodata", "tgw_src_vpc_id": "absent", "region": "eu-west-1",
		}},
	})
}

// TestBadRecords: each bad record is dead-lettered with a reason naming
// what is wrong; the records around it are read.
func TestBadRecords(t *testing.T) {
	v := mustNew(t, format.Options{})
	res, o := readFixture(t, v, "bad_records.log", stdKey)
	wantDead := map[int]string{
		3:  "record has 13 fields, its header names 14",
		4:  "record has 15 fields, its header names 14",
		5:  `packets "4x2" is not a number`,
		6:  `srcaddr "10.40.3.300" is not an IP address`,
		7:  "dstport 70000 is not a port",
		8:  "protocol 300 is not a protocol number",
		9:  "start 99999999999999 is not a time",
		10: "srcaddr is empty",
		11: "start and end are both absent",
		13: `bytes "99999999999999999999" is not a number`,
		14: `srcaddr "fe80::1%eth0" is not an IP address`,
		15: `srcport "-1" is not a number`,
	}
	if len(res.Dead) != len(wantDead) {
		t.Errorf("%d dead letters, want %d: %+v", len(res.Dead), len(wantDead), res.Dead)
	}
	for _, d := range res.Dead {
		if w, ok := wantDead[d.N]; !ok || !strings.Contains(d.Reason, w) {
			t.Errorf("line %d dead-lettered as %q, want %q", d.N, d.Reason, w)
		}
	}
	// A record without start takes its time from end.
	checkDocs(t, v, o, res, []want{
		{line: 2, index: "vpcflow-2026-03-14", ts: "2026-03-14T09:00:00.000Z"},
		{line: 12, index: "vpcflow-2026-03-14", ts: "2026-03-14T09:01:00.000Z", fields: map[string]any{
			"start": "absent", "end": 1773478860, "event.duration": "absent"}},
	})
}

// TestHeaderOnly: an object with a header and no record gives nothing and
// no dead letter.
func TestHeaderOnly(t *testing.T) {
	v := mustNew(t, format.Options{})
	res, _ := readFixture(t, v, "header_only.log", stdKey)
	if len(res.Docs) != 0 || len(res.Dead) != 0 || fmt.Sprint(res.Skipped) != "[1]" {
		t.Fatalf("%+v", res)
	}
	// An empty object too.
	res = formattest.Read(t, v, format.Object{Bucket: bucket, Key: stdKey}, gz(t, nil))
	if len(res.Docs)+len(res.Dead)+len(res.Skipped) != 0 {
		t.Fatalf("empty object: %+v", res)
	}
}

// TestNoHeader: an object whose first line is a record, not a header: its
// records cannot be read and are dead-lettered, each saying why.
func TestNoHeader(t *testing.T) {
	v := mustNew(t, format.Options{})
	res, _ := readFixture(t, v, "no_header.log", stdKey)
	if len(res.Docs) != 0 || len(res.Skipped) != 0 || len(res.Dead) != 2 {
		t.Fatalf("%+v", res)
	}
	for _, d := range res.Dead {
		if !strings.Contains(d.Reason, "no header line") {
			t.Errorf("line %d: %s", d.N, d.Reason)
		}
	}
}

// TestUnknownFieldsAndNewHeader: fields the format does not know are kept
// as strings (escaped where needed; one named like an ECS object is
// renamed), and a header later in the object sets the order of the records
// after it.
func TestUnknownFieldsAndNewHeader(t *testing.T) {
	v := mustNew(t, format.Options{})
	res, o := readFixture(t, v, "unknown_fields.log", stdKey)
	if len(res.Dead) > 0 || fmt.Sprint(res.Skipped) != "[1 3]" {
		t.Fatalf("dead %+v, skipped %v", res.Dead, res.Skipped)
	}
	checkDocs(t, v, o, res, []want{
		{line: 2, index: "vpcflow-2026-03-14", ts: "2026-03-14T09:00:00.000Z", fields: map[string]any{
			"version": 8, "reject_reason": "BPA", "resource_id": "res-0a1b2c3d", "encryption_status": `"2"`,
			"vpcflow_event": `x\y`, "event.action": "reject"}},
		{line: 4, index: "vpcflow-2026-03-14", ts: "2026-03-14T09:01:40.000Z", fields: map[string]any{
			"version": 3, "srcaddr": "10.40.3.18", "source.ip": "10.40.3.18", "account_id": "absent"}},
	})
}

// TestBadHeaders: a header that cannot be used is dead-lettered, and so are
// the records that follow it, until a good header.
func TestBadHeaders(t *testing.T) {
	v := mustNew(t, format.Options{})
	rec := "2 1773478800 10.40.3.17"
	for _, c := range []struct{ header, reason string }{
		{"version start start", "header names start twice"},
		{"version account-id srcaddr", "neither start nor end"},
		{"version start pkt-src-aws-service pkt_src_aws_service", ""}, // '_' is not in names: a record, not a header
		{"version start a-b a-b", "header names a-b twice"},
		{"version start " + strings.Repeat("x ", maxColumns), "more than"},
	} {
		d := v.Decoder(format.Object{Bucket: bucket, Key: stdKey})
		_, err := d.Decode([]byte(c.header), 1)
		if c.reason == "" {
			if err == nil || !strings.Contains(err.Error(), "no header line") {
				t.Errorf("%q: %v", c.header, err)
			}
			continue
		}
		var re *format.RecordError
		if !errorsAs(err, &re) || !strings.Contains(re.Reason, c.reason) {
			t.Errorf("%.40q: %v, want %q", c.header, err, c.reason)
		}
		_, err = d.Decode([]byte(rec), 2)
		if err == nil || !strings.Contains(err.Error(), "header line was refused") {
			t.Errorf("%.40q then a record: %v", c.header, err)
		}
		if _, err := d.Decode([]byte("version start srcaddr"), 3); err != format.ErrNotARecord {
			t.Errorf("good header: %v", err)
		}
		if _, err := d.Decode([]byte(rec), 4); err != nil {
			t.Errorf("record after a good header: %v", err)
		}
	}
}

// same compares a decoded JSON value with the value a test wants: numbers
// by value, the rest as printed.
func same(got, want any) bool {
	switch w := want.(type) {
	case int:
		g, ok := got.(float64)
		return ok && g == float64(w)
	case float64:
		g, ok := got.(float64)
		return ok && g == w
	}
	return fmt.Sprint(got) == fmt.Sprint(want)
}

func errorsAs(err error, re **format.RecordError) bool {
	r, ok := err.(*format.RecordError)
	*re = r
	return ok
}

// TestHeaderDetection: lines that are headers and lines that are not.
func TestHeaderDetection(t *testing.T) {
	for line, is := range map[string]bool{
		"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status": true,
		"interface-id start":           true,
		"start":                        true,
		"resource-id start new-field9": true,
		"foo bar":                      false, // no field this format knows
		"2 123456789012 eni-1 - - - - - - - 1 2 - NODATA": false,
		"eni-0a1b start":      true, // unknown name + a known one
		"eni-0a1b 1773478800": false,
		"start  end":          false,
		"Version start":       false,
		"start end ":          false, // trimmed by the scanner; as given, an empty name
		"ingress egress":      false,
		"vpc-0a1b2c3d4e5f60718 subnet-0b2c3d4e5f6071829 - - NODATA": false,
	} {
		if got := looksLikeHeader([]byte(line)); got != is {
			t.Errorf("%q: header %v, want %v", line, got, is)
		}
	}
}

func TestClaim(t *testing.T) {
	v := mustNew(t, format.Options{})
	for key, want := range map[string]format.Claim{
		stdKey:  format.Read,
		hiveKey: format.Read,
		"AWSLogs/o-a1b2c3d4e5/210987654321/vpcflowlogs/us-east-1/2026/03/14/x.log.gz":                      format.Read,
		"AWSLogs/210987654321/vpcflowlogs/us-east-1/2026/03/14/x.log.parquet":                              format.Read, // refused by the worker as Parquet
		"AWSLogs/210987654321/vpcflowlogs/us-east-1/2026/03/14/":                                           format.Skip,
		"AWSLogs/210987654321/GuardDuty/us-east-1/2026/03/14/x.jsonl.gz":                                   format.NotMine,
		"AWSLogs/210987654321/elasticloadbalancing/us-east-1/2026/03/14/x.log.gz":                          format.NotMine,
		"vpcflowlogs/us-east-1/x.log.gz":                                                                   format.NotMine,
		"AWSLogs/aws-account-id=210987654321/aws-service=cloudtrail/aws-region=us-east-1/year=2026/x.json": format.NotMine,
	} {
		if got := v.Claim(format.ParseKey(key)); got != want {
			t.Errorf("%s: claim %d, want %d", key, got, want)
		}
	}
	for key, region := range map[string]string{
		stdKey:  "eu-west-1",
		hiveKey: "eu-central-1",
		"AWSLogs/210987654321/vpcflowlogs/2026/03/14/x.log.gz":          "",
		"AWSLogs/210987654321/vpcflowlogs/us-gov-west-1/2026/x.log.gz":  "us-gov-west-1",
		"AWSLogs/210987654321/vpcflowlogs/Not_A_Region/2026/x.log.gz":   "",
		"AWSLogs/210987654321/vpcflowlogs/aws-region=/2026/x.log.gz":    "",
		"AWSLogs/210987654321/vpcflowlogs/ap-southeast-2/2026/x.log.gz": "ap-southeast-2",
	} {
		if got := keyRegion(format.ParseKey(key)); got != region {
			t.Errorf("%s: region %q, want %q", key, got, region)
		}
	}
}

// TestIDs: replaying an object gives the same ids and bodies; distinct
// records, in the same object or in another object or version, never share
// an id, even when their content is the same.
func TestIDs(t *testing.T) {
	v := mustNew(t, format.Options{})
	line := "2 210987654321 eni-07c2b5e8a91d34f60 10.40.3.17 198.51.100.23 51234 443 6 42 18233 1773478800 1773478860 ACCEPT OK\n"
	content := []byte("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
		strings.Repeat(line, 5))
	objects := []format.Object{
		{Bucket: bucket, Key: stdKey},
		{Bucket: bucket, Key: stdKey, VersionID: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"},
		{Bucket: bucket, Key: hiveKey},
		{Bucket: "other-bucket", Key: stdKey},
	}
	seen := map[string]string{}
	for _, o := range objects {
		first := formattest.Read(t, v, o, gz(t, content))
		again := formattest.Read(t, v, o, gz(t, content))
		if len(first.Docs) != 5 || len(again.Docs) != 5 {
			t.Fatalf("%d and %d documents", len(first.Docs), len(again.Docs))
		}
		for i, d := range first.Docs {
			a := again.Docs[i]
			if a.ID != d.ID || a.Index != d.Index || !bytes.Equal(a.Body, d.Body) {
				t.Errorf("%+v line %d: replay differs", o, d.N)
			}
			where := fmt.Sprintf("%+v line %d", o, d.N)
			if other, dup := seen[d.ID]; dup {
				t.Errorf("%s and %s share id %s", where, other, d.ID)
			}
			seen[d.ID] = where
			if len(d.ID) > 512 {
				t.Errorf("id of %d bytes", len(d.ID))
			}
		}
	}
}

// TestTimeZoneAndPrefix: the index day is the record's start in the run's
// time zone; @timestamp stays UTC.
func TestTimeZoneAndPrefix(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	v := mustNew(t, format.Options{IndexPrefix: "flows", Location: tokyo})
	d := v.Decoder(format.Object{Bucket: bucket, Key: stdKey})
	if _, err := d.Decode([]byte("version start end"), 1); err != format.ErrNotARecord {
		t.Fatal(err)
	}
	for i, c := range []struct {
		start       int64
		index, ts   string
		decodeAgain bool
	}{
		{1773478800, "flows-2026-03-14", "2026-03-14T09:00:00.000Z", false}, // 18:00 in Tokyo
		{1773500399, "flows-2026-03-14", "2026-03-14T14:59:59.000Z", false}, // 23:59:59 in Tokyo
		{1773500400, "flows-2026-03-15", "2026-03-14T15:00:00.000Z", false}, // midnight in Tokyo
		{1773478800, "flows-2026-03-14", "2026-03-14T09:00:00.000Z", true},  // back to the earlier day
		{0, "flows-1970-01-01", "1970-01-01T00:00:00.000Z", false},
		{maxEpoch, "flows-9999-12-31", "9999-12-31T23:59:59.000Z", false}, // still 9999 in UTC; Tokyo would be 10000
	} {
		doc, err := d.Decode(fmt.Appendf(nil, "2 %d %d", c.start, min(c.start+5, maxEpoch)), i+2)
		if c.start == maxEpoch {
			// Tokyo is 9 hours ahead: the year 10000 has no index name.
			if err == nil || !strings.Contains(err.Error(), "after the year 9999") {
				t.Errorf("start %d: indexed as %s in Tokyo (%v)", c.start, doc.Index, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		m := formattest.Check(t, v, doc)
		if doc.Index != c.index || m["@timestamp"] != c.ts {
			t.Errorf("start %d: index %s @timestamp %v, want %s %s", c.start, doc.Index, m["@timestamp"], c.index, c.ts)
		}
	}
	if _, err := New(format.Options{IndexPrefix: "Flows"}); err == nil {
		t.Error("invalid prefix accepted")
	}
	if v := mustNew(t, format.Options{}); v.Name() != "vpcflow" || v.IndexPattern() != "vpcflow-*" || v.Framing() != format.Lines {
		t.Errorf("name %s pattern %s", v.Name(), v.IndexPattern())
	}
}

// TestValues: how values are read and written.
func TestValues(t *testing.T) {
	v := mustNew(t, format.Options{})
	decode := func(header, record string) (map[string]any, error) {
		d := v.Decoder(format.Object{Bucket: bucket, Key: stdKey})
		if _, err := d.Decode([]byte(header), 1); err != format.ErrNotARecord {
			t.Fatalf("%q: %v", header, err)
		}
		doc, err := d.Decode([]byte(record), 2)
		if err != nil {
			return nil, err
		}
		return formattest.Check(t, v, doc), nil
	}
	// Leading zeros are written as JSON numbers; white space and \r at the
	// ends are trimmed; strings are escaped.
	m, err := decode("start srcport packets interface-id", " \t0001773478800 00443 0 eni-\"x\"\t\r")
	if err != nil {
		t.Fatal(err)
	}
	if m["start"] != 1773478800.0 || m["srcport"] != 443.0 || m["packets"] != 0.0 || m["interface_id"] != `eni-"x"` {
		t.Errorf("%v", m)
	}
	if formattest.Get(m, "network", "packets") != nil {
		t.Errorf("network.packets of 0 written: %v", m["network"])
	}
	// Invalid UTF-8 in a string becomes U+FFFD (the body stays valid JSON).
	m, err = decode("start vpc-id", "1773478800 vpc-\xff")
	if err != nil || m["vpc_id"] != "vpc-\ufffd" {
		t.Errorf("%v %v", m, err)
	}
	// An action other than ACCEPT and REJECT is kept, lower case.
	m, err = decode("start action", "1773478800 Drop")
	if err != nil || formattest.Get(m, "event", "action") != "drop" || formattest.Get(m, "event", "outcome") != nil {
		t.Errorf("%v %v", m, err)
	}
	// The largest long, and one past it.
	if m, err = decode("start bytes", "1773478800 9223372036854775807"); err != nil || fmt.Sprint(m["bytes"]) != "9.223372036854776e+18" {
		t.Errorf("%v %v", m, err)
	}
	if _, err = decode("start bytes", "1773478800 9223372036854775808"); err == nil {
		t.Error("bytes past the largest long accepted")
	}
	// The last second of the year 9999, in UTC.
	if m, err = decode("start", "253402300799"); err != nil || m["@timestamp"] != "9999-12-31T23:59:59.000Z" {
		t.Errorf("%v %v", m, err)
	}
	// An end before start gives no duration.
	if m, err = decode("start end", "1773478800 1773478700"); err != nil || formattest.Get(m, "event", "duration") != nil {
		t.Errorf("%v %v", m, err)
	}
	// IPv4-mapped IPv6 and IPv4 with leading zeros.
	if m, err = decode("start srcaddr", "1773478800 ::ffff:10.0.0.1"); err != nil || m["srcaddr"] != "::ffff:10.0.0.1" {
		t.Errorf("%v %v", m, err)
	}
	for _, bad := range []string{"010.0.0.1", "10.0.0", "10.0.0.1.", "10..0.1", ".10.0.0", "1.2.3.256", "10.0.0.1/24", "::g"} {
		if _, err := decode("start srcaddr", "1773478800 "+bad); err == nil {
			t.Errorf("srcaddr %q accepted", bad)
		}
	}
}

// TestSamples: the public reference samples, plain and as gzip-compressed
// delivered objects, decode without dead letters.
func TestSamples(t *testing.T) {
	data := refdata.Dir(t, "vpcflow")
	v := mustNew(t, format.Options{})
	cases := map[string]struct {
		docs    int
		account string
		first   map[string]any
	}{
		"otel_vpc_flow_v2_default_multi.log": {2, "123456789010", map[string]any{
			"srcaddr": "172.31.16.139", "destination.port": 22, "event.action": "accept"}},
		"otel_vpc_flow_v2_default_nodata.log": {1, "12345678910", map[string]any{
			"log_status": "NODATA", "event.action": "nodata", "srcaddr": "absent"}},
		"otel_vpc_flow_custom_v5_ecs.log": {1, "123456789012", map[string]any{
			"ecs_cluster_name": "my-cluster", "ecs_task_id": "abcdef1234567890", "ecs_second_container_id": "container-2"}},
		"otel_tgw_flow_custom_v6.log": {1, "123456789012", map[string]any{
			"tgw_id": "tgw-0abc12345def67890", "packets_lost_ttl_expired": 4, "network.direction": "ingress", "cloud.region": "us-east-1"}},
	}
	for name, c := range cases {
		b, err := os.ReadFile(filepath.Join(data, "vpcflow", name))
		if err != nil {
			t.Fatal(err)
		}
		o := format.Object{Bucket: "samples", Key: "AWSLogs/" + c.account + "/vpcflowlogs/us-east-1/2023/11/14/" + name + ".gz"}
		if len(c.account) != 12 {
			o.Key = "samples/" + name
		}
		res := formattest.Read(t, v, o, gz(t, b))
		if len(res.Dead) > 0 || len(res.Docs) != c.docs || fmt.Sprint(res.Skipped) != "[1]" {
			t.Errorf("%s: %d documents, dead %+v, skipped %v", name, len(res.Docs), res.Dead, res.Skipped)
			continue
		}
		m := formattest.Check(t, v, res.Docs[0].Document)
		for path, wv := range c.first {
			got := formattest.Get(m, strings.Split(path, ".")...)
			if wv == "absent" && got != nil || wv != "absent" && !same(got, wv) {
				t.Errorf("%s: %s = %v, want %v", name, path, got, wv)
			}
		}
		if got := formattest.Get(m, "cloud", "account", "id"); got != c.account {
			t.Errorf("%s: cloud.account.id %v", name, got)
		}
	}
	// The delivered copies, at their own keys.
	derived := filepath.Join(data, "derived", "vpcflow")
	n := 0
	err := filepath.WalkDir(derived, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		key, _ := filepath.Rel(derived, path)
		key = filepath.ToSlash(key)
		if v.Claim(format.ParseKey(key)) != format.Read {
			t.Errorf("%s: not claimed", key)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		res := formattest.Read(t, v, format.Object{Bucket: "samples", Key: key}, b)
		if len(res.Dead) > 0 || len(res.Docs) == 0 {
			t.Errorf("%s: %d documents, dead %+v", key, len(res.Docs), res.Dead)
		}
		for _, d := range res.Docs {
			m := formattest.Check(t, v, d.Document)
			if formattest.Get(m, "cloud", "region") != "us-east-1" {
				t.Errorf("%s: cloud.region %v", key, formattest.Get(m, "cloud", "region"))
			}
		}
		n += len(res.Docs)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("%d documents in the delivered copies, want 3", n)
	}
}

// TestTemplate: the template parses for every engine, and maps every field
// the format knows with the type its values are written as.
func TestTemplate(t *testing.T) {
	v := mustNew(t, format.Options{IndexPrefix: "flows"})
	formattest.CheckTemplate(t, v)
	name, body := v.IndexTemplate(format.Engine{Distribution: "opensearch", Major: 2, Minor: 19})
	var tmpl struct {
		Patterns []string `json:"index_patterns"`
		Template struct {
			Mappings struct {
				Properties map[string]struct {
					Type   string `json:"type"`
					Format string `json:"format"`
				} `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal([]byte(body), &tmpl); err != nil {
		t.Fatal(err)
	}
	if name != "flows" || fmt.Sprint(tmpl.Patterns) != "[flows-*]" {
		t.Errorf("template %s for %v", name, tmpl.Patterns)
	}
	props := tmpl.Template.Mappings.Properties
	types := map[kind]string{kString: "keyword", kCount: "long", kPort: "long", kProtocol: "long", kTime: "date", kIP: "ip"}
	for n, f := range known {
		doc := strings.ReplaceAll(n, "-", "_")
		p, ok := props[doc]
		if !ok || p.Type != types[f.kind] || (f.kind == kTime) != (p.Format == "epoch_second") {
			t.Errorf("%s mapped as %+v, want %s", doc, p, types[f.kind])
		}
	}
	if len(props) != len(known)+1 { // and @timestamp
		var extra []string
		for n := range props {
			if _, ok := known[strings.ReplaceAll(n, "_", "-")]; !ok {
				extra = append(extra, n)
			}
		}
		slices.Sort(extra)
		t.Errorf("the template maps fields the format does not know: %v", extra)
	}
}

// TestCorpus: generated objects, read as the worker reads them.
func TestCorpus(t *testing.T) {
	docs := formattest.CheckCorpus(t, Spec, format.GenerateOptions{Seed: 5, Objects: 12, RecordsPerObject: 80,
		Accounts: []string{"210987654321", "109876543210"}, Regions: []string{"eu-west-1", "ap-southeast-2"}})
	if len(docs) != 12*80 {
		t.Errorf("%d documents", len(docs))
	}
}
