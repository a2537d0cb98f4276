package resolver

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

// fuzzSeeds are query log lines and near misses. They are literals so the
// fuzz targets run wherever the module is checked out.
var fuzzSeeds = []string{
	`{"version":"1.100000","account_id":"111122223333","region":"us-east-1","vpc_id":"vpc-0abc1234def567890","query_timestamp":"2026-01-05T10:00:00Z","query_name":"www.example.com.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"cdn.example.net.","Type":"CNAME","Class":"IN"},{"Rdata":"192.0.2.10","Type":"A","Class":"IN"}],"srcaddr":"10.0.1.15","srcport":"42001","transport":"UDP","srcids":{"instance":"i-0123456789abcdef0"}}`,
	`{"srcaddr":"2600:1f18:1:2::3","vpc_id":"vpc-1","answers":[],"firewall_rule_group_id":"rslvr-frg-1","firewall_rule_action":"BLOCK","query_name":"bad.example.","firewall_domain_list_id":"rslvr-fdl-1","query_class":"IN","srcids":{"resolver_endpoint":"rslvr-in-1","resolver_network_interface":"rni-1"},"rcode":"NXDOMAIN","query_type":"AAAA","transport":"DoH","version":"1.100000","account_id":"111122223333","srcport":"56067","query_timestamp":"2026-01-05T10:00:00.123+05:30","region":"us-east-1"}`,
	`{"query_timestamp":"2026-01-05T10:00:00Z","answers":[null,{"Rdata":"\"v=spf1 -all\"","Type":"TXT"},{}],"srcport":53,"query_name":"."}`,
	`{"query_timestamp":"2026-01-05T10:00:00Z","dns":1,"@timestamp":2,"\u0065vent":3,"source":{},"x":"\r"}`,
	"{\"query_timestamp\":\"2026-01-05T10:00:00Z\",\r\"a\":[\r1]}",
	`{"query_timestamp":"2026-01-05T10:00:00"}`,
	`{"query_timestamp":"2026-02-30T10:00:00Z"}`,
	`{"query_timestamp":1767607200}`,
	`{"query_timestamp":null}`,
	`{"query_timestamp":"2026-01-05T10:00:00Z","answers":{"Rdata":"x"}}`,
	`{"query_timestamp":"2026-01-05T10:00:00Z","srcids":{"instance":[1]}}`,
	`{"query_timestamp":"2026-01-05T10:00:00Z","query_name":{"a":1}}`,
	`{}`,
	`[]`,
	`["query_timestamp","2026-01-05T10:00:00Z"]`,
	`not json`,
	``,
}

// FuzzDecode: no input panics the decoder or changes its input; every
// error is a RecordError with a reason; every document passes the checks of
// the bulk layer and the templates, has no added name twice, and is the same
// when decoded again.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	utc, err := New(format.Options{})
	if err != nil {
		f.Fatal(err)
	}
	kolkata, err := New(format.Options{IndexPrefix: "dns-fuzz", Location: time.FixedZone("IST", 5*3600+1800)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, r := range []*Resolver{utc, kolkata} {
			in := bytes.Clone(line)
			d, err := r.Decoder(format.Object{Bucket: "b", Key: "k"}).Decode(in, 7)
			if !bytes.Equal(in, line) {
				t.Fatal("Decode changed its input")
			}
			if err != nil {
				var re *format.RecordError
				if !errors.As(err, &re) || re.Reason == "" {
					t.Fatalf("error %T %v is not a format.RecordError with a reason", err, err)
				}
				continue
			}
			formattest.Check(t, r, d)
			count := map[string]int{}
			for _, n := range topLevelNames(t, d.Body) {
				count[n]++
			}
			for _, n := range []string{"@timestamp", "event", "source", "network", "cloud", "related", "dns"} {
				if count[n] > 1 {
					t.Fatalf("%s twice in %s", n, d.Body)
				}
			}
			again, err := r.Decoder(format.Object{Bucket: "b", Key: "k"}).Decode(line, 7)
			if err != nil || again.Index != d.Index || again.ID != d.ID || !bytes.Equal(again.Body, d.Body) {
				t.Fatalf("Decode is not deterministic: %+v then %+v (%v)", d, again, err)
			}
		}
	})
}
