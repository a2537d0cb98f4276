package vpcflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

// fuzzSeeds are a header and the lines after it. They are literals so that
// the fuzz target runs wherever the module is checked out.
var fuzzSeeds = [][2]string{
	{"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status",
		"2 210987654321 eni-07c2b5e8a91d34f60 10.40.3.17 198.51.100.23 51234 443 6 42 18233 1773478800 1773478860 ACCEPT OK\n" +
			"2 210987654321 eni-07c2b5e8a91d34f60 2001:DB8::9 2a05:d018:1b2:4c00:9e3a:57b1:2f04:8d61 0 0 58 1 72 1773478820 1773478825 REJECT OK\n" +
			"2 210987654321 eni-0f1e2d3c4b5a69788 - - - - - - - 1773478801 1773478861 - NODATA\n" +
			"2 210987654321 eni-0f1e2d3c4b5a69788 - - - - - - - - - - SKIPDATA\n" +
			"2 210987654321 eni-07c2b5e8a91d34f60 10.40.3.17 198.51.100.23 51234 443 6 4x2 18233 1773478800 1773478860 ACCEPT OK"},
	{"version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path",
		"5 vpc-0a1b2c3d4e5f60718 subnet-0b2c3d4e5f6071829 i-0c3d4e5f60718293a eni-0d4e5f60718293a4b 210987654321 IPv4 10.40.3.17 52.218.40.9 38812 443 10.40.3.17 52.218.40.9 6 84211 61 1773478800 1773478860 ACCEPT 19 OK eu-west-1 euw1-az2 - - - S3 egress 7\n" +
			"5 vpc-0a1b2c3d4e5f60718 subnet-0e1f2a3b4c5d6e7f8 - eni-0aa0bb1cc2dd3ee4f unknown IPv4 10.40.5.9 10.40.3.17 123 123 10.40.5.9 10.40.3.17 17 152 2 1773478850 1773478855 ACCEPT 0 OK - - wavelength wlz-0a1b2c3d4e5f6a7b8 - - - -"},
	{"version resource-type account-id tgw-id tgw-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end log-status type packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded packets-lost-ttl-expired tcp-flags region flow-direction",
		"6 TransitGateway 210987654321 tgw-0e5d4c3b2a1908f7e tgw-attach-01a2b3c4d5e6f7a8b 10.40.3.17 10.60.8.21 49822 5432 6 310 401233 1773478800 1773478860 OK IPv4 0 0 0 0 19 eu-west-1 egress"},
	{"version start end srcaddr event user-agent x-y", "3 1773478900 1773478960 10.40.3.18 \"a\\b\" \xff\x00 z\nversion start\n7 0\n"},
	{"", "2 1 2 3\nstart end\n-1 5\n99999999999999999999 1\n253402300799 -\n"},
	{"start start", "1 2"},
	{"start", "00000000000000000001\n  \t\r\n\n1773478800\r"},
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s[0], s[1])
	}
	// Two configurations: the default, and a prefix with an index time zone
	// whose offset is not a whole hour.
	utc, err := New(format.Options{})
	if err != nil {
		f.Fatal(err)
	}
	kolkata, err := New(format.Options{IndexPrefix: "flows-fuzz", Location: time.FixedZone("IST", 5*3600+1800)})
	if err != nil {
		f.Fatal(err)
	}
	o := format.Object{Bucket: bucket, Key: hiveKey}
	f.Fuzz(func(t *testing.T, header, rest string) {
		lines := append([]string{header}, strings.Split(rest, "\n")...)
		for _, v := range []*VPCFlow{utc, kolkata} {
			first := decodeAll(t, v, o, lines)
			again := decodeAll(t, v, o, lines)
			for i := range first {
				if first[i].err != again[i].err || first[i].doc.ID != again[i].doc.ID ||
					first[i].doc.Index != again[i].doc.Index || !bytes.Equal(first[i].doc.Body, again[i].doc.Body) {
					t.Fatalf("line %d: decoding is not deterministic", i+1)
				}
			}
		}
	})
}

type outcome struct {
	doc format.Document
	err string
}

// decodeAll decodes lines with a fresh decoder, checking every answer.
func decodeAll(t *testing.T, v *VPCFlow, o format.Object, lines []string) []outcome {
	d := v.Decoder(o)
	out := make([]outcome, len(lines))
	for i, l := range lines {
		in := []byte(l)
		doc, err := d.Decode(in, i+1)
		if string(in) != l {
			t.Fatal("Decode modified its input")
		}
		var re *format.RecordError
		switch {
		case err == nil:
			// The record's bytes are reused once Decode returns.
			for j := range in {
				in[j] = 'X'
			}
			checkBody(t, v, doc)
		case errors.Is(err, format.ErrNotARecord):
			if !looksLikeHeader(trimSpace([]byte(l))) {
				t.Fatalf("%q skipped but is not a header", l)
			}
			err = errors.New("header")
		case errors.As(err, &re):
			if re.Reason == "" {
				t.Fatal("format.RecordError without a reason")
			}
		default:
			t.Fatalf("error %T is not a *format.RecordError: %v", err, err)
		}
		if err != nil {
			out[i].err = err.Error()
		}
		out[i].doc = doc
	}
	return out
}

// checkBody holds an accepted document to what the cluster needs: what
// formattest.Check checks, and no member written twice (the cluster refuses
// a document with a duplicate key).
func checkBody(t *testing.T, v *VPCFlow, d format.Document) {
	t.Helper()
	m := formattest.Check(t, v, d)
	if len(d.ID) != 27 || d.Version != 0 {
		t.Fatalf("id %q version %d", d.ID, d.Version)
	}
	dec := json.NewDecoder(bytes.NewReader(d.Body))
	if _, err := dec.Token(); err != nil { // {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		name := tok.(string)
		if names[name] {
			t.Fatalf("member %q written twice: %s", name, d.Body)
		}
		names[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	if len(names) != len(m) {
		t.Fatalf("%d members, %d distinct", len(names), len(m))
	}
}
