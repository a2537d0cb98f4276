package resolver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

func mustNew(t testing.TB, o format.Options) *Resolver { return formattest.Must(t, New, o) }

// fixtureKey is where Resolver would deliver the fixture's queries.
const fixtureKey = "dns/AWSLogs/210987654321/vpcdnsquerylogs/vpc-0a1b2c3d4e5f60718/2026/02/10/" +
	"210987654321_vpcdnsquerylogs_vpc-0a1b2c3d4e5f60718_20260210T0815Z_3f9a1c2e.log.gz"

// gzipped compresses b as Resolver delivers its objects.
func gzipped(t testing.TB, b []byte) []byte { return formattest.Gzip(t, b) }

// strs reads a decoded JSON array of strings.
func strs(v any) []string {
	arr, _ := v.([]any)
	var out []string
	for _, e := range arr {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

// TestFixtures reads the project's own query log (testdata/) as the worker
// does, from a gzip object, and checks every document: each kind of query
// and answer, sources of every kind, the firewall actions, an unknown
// field, and the records that must be dead-lettered.
func TestFixtures(t *testing.T) {
	r := mustNew(t, format.Options{})
	raw, err := os.ReadFile(filepath.Join("testdata", "queries.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	o := format.Object{Bucket: "dns-logs", Key: fixtureKey}
	if c := r.Claim(format.ParseKey(o.Key)); c != format.Read {
		t.Fatalf("claim %d for the fixture's key", c)
	}
	res := formattest.Read(t, r, o, gzipped(t, raw))

	type want struct {
		ts, name, qtype, rcode, outcome, transport, ip string
		port                                           int
		types, resolved                                []string
		answers                                        int
	}
	udp, tcp := "udp", "tcp"
	proto := []string{"protocol"}
	wants := map[int]want{
		1: {"2026-02-10T08:15:02.000Z", "api.github.com", "A", "NOERROR", "success", udp, "10.42.3.117", 53211, proto,
			[]string{"198.51.100.23", "198.51.100.24"}, 4},
		2: {"2026-02-10T08:15:03.000Z", "registry.npmjs.org", "AAAA", "NOERROR", "success", udp, "2a05:d018:9c1:4b02:7f3a:11e9:c0de:42", 40817, proto,
			[]string{"2001:db8:4860::a", "2001:db8:4860::b"}, 2},
		3: {"2026-02-10T08:15:05.000Z", "117.3.42.10.in-addr.arpa", "PTR", "NOERROR", "success", udp, "10.42.1.9", 61002, proto, nil, 1},
		4: {"2026-02-10T08:15:09.000Z", "example.org", "MX", "NOERROR", "success", udp, "10.42.2.31", 33190, proto, nil, 2},
		5: {"2026-02-10T08:15:11.000Z", "_dmarc.example.org", "TXT", "NOERROR", "success", udp, "10.42.2.31", 33191, proto, nil, 1},
		6: {"2026-02-10T08:15:12.000Z", "pypi.org.eu-west-1.compute.internal", "A", "NXDOMAIN", "failure", udp, "10.42.3.117", 48123, proto, nil, 0},
		7: {"2026-02-10T08:15:14.000Z", "broken-dnssec.example", "A", "SERVFAIL", "failure", udp, "10.42.1.9", 52000, proto, nil, 0},
		8: {"2026-02-10T08:15:15.000Z", "_ldap._tcp.corp.internal", "SRV", "NOERROR", "success", tcp, "10.42.1.9", 49877, proto, nil, 1},
		9: {"2026-02-10T08:15:20.000Z", "c2.badactor.example", "A", "NXDOMAIN", "failure", udp, "10.42.3.117", 39002,
			[]string{"protocol", "denied"}, nil, 0},
		10: {"2026-02-10T08:15:21.000Z", "pastebin.com", "A", "NOERROR", "success", udp, "10.42.2.31", 50510, proto,
			[]string{"203.0.113.80"}, 1},
		// DoH through an inbound endpoint: TCP underneath.
		11: {"2026-02-10T08:15:22.000Z", "vault.corp.internal", "A", "NOERROR", "success", tcp, "192.168.40.17", 5353, proto,
			[]string{"10.42.9.40"}, 1},
		// Line 12 is blank. Fractional seconds, and fields this version
		// does not know.
		13: {"2026-02-10T23:59:59.250Z", "sts.eu-west-1.amazonaws.com", "A", "NOERROR", "success", udp, "10.42.1.9", 44000, proto,
			[]string{"192.0.2.44"}, 1},
	}
	lines := bytes.Split(raw, []byte("\n"))
	if len(res.Docs) != len(wants) {
		t.Fatalf("%d documents, want %d; dead letters %+v", len(res.Docs), len(wants), res.Dead)
	}
	for _, d := range res.Docs {
		w, ok := wants[d.N]
		if !ok {
			t.Fatalf("a document for line %d", d.N)
		}
		m := formattest.Check(t, r, d.Document)
		get := func(path ...string) any { return formattest.Get(m, path...) }
		where := fmt.Sprintf("line %d", d.N)
		if d.Index != "resolver-2026-02-10" || d.ID != format.PositionID(o, d.N) || d.Version != 0 {
			t.Errorf("%s: index %s id %s version %d", where, d.Index, d.ID, d.Version)
		}
		// The record as delivered, then the added fields.
		record := lines[d.N-1]
		if !bytes.HasPrefix(d.Body, record[:len(record)-1]) {
			t.Errorf("%s: the body does not start with the record as delivered", where)
		}
		checks := []struct {
			got, want any
			what      string
		}{
			{get("@timestamp"), w.ts, "@timestamp"},
			{get("dns", "question", "name"), w.name, "dns.question.name"},
			{get("dns", "question", "type"), w.qtype, "dns.question.type"},
			{get("dns", "question", "class"), "IN", "dns.question.class"},
			{get("dns", "response_code"), w.rcode, "dns.response_code"},
			{get("dns", "type"), "answer", "dns.type"},
			{get("event", "outcome"), w.outcome, "event.outcome"},
			{get("event", "kind"), "event", "event.kind"},
			{get("event", "action"), "query", "event.action"},
			{get("event", "dataset"), "aws.route53resolver", "event.dataset"},
			{fmt.Sprint(get("event", "category")), "[network]", "event.category"},
			{fmt.Sprint(get("event", "type")), fmt.Sprint(w.types), "event.type"},
			{get("network", "transport"), w.transport, "network.transport"},
			{get("network", "protocol"), "dns", "network.protocol"},
			{get("source", "ip"), w.ip, "source.ip"},
			{get("source", "port"), float64(w.port), "source.port"},
			{get("cloud", "account", "id"), "210987654321", "cloud.account.id"},
			{get("cloud", "region"), "eu-west-1", "cloud.region"},
			{fmt.Sprint(strs(get("dns", "resolved_ip"))), fmt.Sprint(w.resolved), "dns.resolved_ip"},
			{fmt.Sprint(strs(get("related", "ip"))), fmt.Sprint(append([]string{w.ip}, w.resolved...)), "related.ip"},
			// The record's own fields stay as delivered.
			{get("query_name"), w.name + ".", "query_name"},
			{get("query_timestamp"), strings.Replace(w.ts, ".000Z", "Z", 1), "query_timestamp"},
			{get("srcport"), fmt.Sprint(w.port), "srcport"},
			{get("vpc_id"), "vpc-0a1b2c3d4e5f60718", "vpc_id"},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s: %s = %v, want %v", where, c.what, c.got, c.want)
			}
		}
		ans, _ := get("dns", "answers").([]any)
		raws, _ := get("answers").([]any)
		if len(ans) != w.answers || len(raws) != w.answers {
			t.Errorf("%s: %d dns.answers and %d answers, want %d", where, len(ans), len(raws), w.answers)
		}
		for k := range min(len(ans), len(raws)) {
			a, r := ans[k].(map[string]any), raws[k].(map[string]any)
			if a["data"] != r["Rdata"] || a["type"] != r["Type"] || a["class"] != r["Class"] {
				t.Errorf("%s: dns.answers[%d] = %v from %v", where, k, a, r)
			}
		}
	}

	byLine := map[int]formattest.Doc{}
	for _, d := range res.Docs {
		byLine[d.N] = d
	}
	m := formattest.Check(t, r, byLine[1].Document)
	if a := formattest.Get(m, "dns", "answers").([]any); a[0].(map[string]any)["data"] != "api.github.com.cdn.example.net." ||
		a[1].(map[string]any)["type"] != "CNAME" {
		t.Errorf("CNAME chain: %v", a)
	}
	m = formattest.Check(t, r, byLine[5].Document)
	if got := formattest.Get(m, "dns", "answers").([]any)[0].(map[string]any)["data"]; got != `"v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@example.org"` {
		t.Errorf("TXT data %q", got)
	}
	m = formattest.Check(t, r, byLine[9].Document)
	if formattest.Get(m, "firewall_rule_action") != "BLOCK" || formattest.Get(m, "firewall_domain_list_id") != "rslvr-fdl-0fedcba9876543210" {
		t.Errorf("firewall fields of a blocked query: %s", byLine[9].Body)
	}
	m = formattest.Check(t, r, byLine[10].Document)
	if formattest.Get(m, "firewall_rule_action") != "ALERT" || fmt.Sprint(formattest.Get(m, "event", "type")) != "[protocol]" {
		t.Errorf("an alerted query: %s", byLine[10].Body)
	}
	m = formattest.Check(t, r, byLine[11].Document)
	if formattest.Get(m, "srcids", "resolver_endpoint") != "rslvr-in-0d1c2b3a4f5e6d7c8" ||
		formattest.Get(m, "srcids", "resolver_network_interface") != "rni-0b1a2c3d4e5f6a7b8" || formattest.Get(m, "transport") != "DoH" {
		t.Errorf("a query through an inbound endpoint: %s", byLine[11].Body)
	}
	m = formattest.Check(t, r, byLine[13].Document)
	if formattest.Get(m, "query_source") != "RESOLVER_CACHE" || formattest.Get(m, "edns", "client_subnet") != "10.42.1.0/24" {
		t.Errorf("unknown fields are not kept: %s", byLine[13].Body)
	}

	// The records that cannot be indexed, each for its own reason.
	wantDead := map[int]string{14: "no query_timestamp", 15: "invalid JSON", 16: "not a JSON object"}
	if len(res.Dead) != len(wantDead) || len(res.Skipped) != 0 {
		t.Fatalf("dead letters %+v, skipped %v", res.Dead, res.Skipped)
	}
	for _, d := range res.Dead {
		if !strings.Contains(d.Reason, wantDead[d.N]) || wantDead[d.N] == "" {
			t.Errorf("line %d dead-lettered for %q, want %q", d.N, d.Reason, wantDead[d.N])
		}
	}
}

func TestClaim(t *testing.T) {
	r := mustNew(t, format.Options{})
	for key, want := range map[string]format.Claim{
		"AWSLogs/123456789012/vpcdnsquerylogs/vpc-0abc/2026/01/05/123456789012_vpcdnsquerylogs_vpc-0abc_20260105T1000Z_1a2b3c4d.log.gz": format.Read,
		"dns logs/prod/AWSLogs/123456789012/vpcdnsquerylogs/vpc-0abc/2026/01/05/x.log.gz":                                               format.Read,
		"AWSLogs/o-a1b2c3d4e5/123456789012/vpcdnsquerylogs/vpc-0abc/2026/01/05/x.log.gz":                                                format.Read,
		"AWSLogs/aws-account-id=123456789012/aws-service=vpcdnsquerylogs/aws-region=us-east-1/year=2026/x.log.gz":                       format.Read,
		"AWSLogs/123456789012/vpcdnsquerylogs/vpc-0abc/2026/01/05/":                                                                     format.Skip,
		"AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/01/05/x.log.gz":                                                                format.NotMine,
		"AWSLogs/123456789012/CloudTrail/us-east-1/2026/01/05/x.json.gz":                                                                format.NotMine,
		"AWSLogs/123456789012/VPCDNSQueryLogs/vpc-0abc/2026/01/05/x.log.gz":                                                             format.NotMine,
		"vpcdnsquerylogs/vpc-0abc/2026/01/05/x.log.gz":                                                                                  format.NotMine,
		"AWSLogs/12345/vpcdnsquerylogs/vpc-0abc/x.log.gz":                                                                               format.NotMine,
	} {
		if got := r.Claim(format.ParseKey(key)); got != want {
			t.Errorf("Claim(%q) = %d, want %d", key, got, want)
		}
	}
}

// TestIDs: replaying an object writes the same ids; distinct records, in
// the same object or another one (or another version of it), never share
// one.
func TestIDs(t *testing.T) {
	r := mustNew(t, format.Options{})
	c, err := NewCorpus(format.GenerateOptions{Seed: 5, Objects: 3, RecordsPerObject: 200})
	if err != nil {
		t.Fatal(err)
	}
	read := func(i int, version string) []formattest.Doc {
		var b bytes.Buffer
		if err := c.WriteObject(&b, i); err != nil {
			t.Fatal(err)
		}
		o := format.Object{Bucket: "b", Key: c.Objects()[i].Key, VersionID: version}
		return formattest.Read(t, r, o, b.Bytes()).Docs
	}
	seen := map[string]string{}
	for i := range c.Objects() {
		for _, version := range []string{"", "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd"} {
			first, again := read(i, version), read(i, version)
			if len(first) != 200 || len(first) != len(again) {
				t.Fatalf("object %d: %d then %d documents", i, len(first), len(again))
			}
			for k := range first {
				if first[k].ID != again[k].ID || !bytes.Equal(first[k].Body, again[k].Body) || first[k].Index != again[k].Index {
					t.Fatalf("object %d line %d: a replay gives another document", i, first[k].N)
				}
				where := fmt.Sprintf("object %d version %q line %d", i, version, first[k].N)
				if prev, dup := seen[first[k].ID]; dup {
					t.Fatalf("%s and %s share the id %s", prev, where, first[k].ID)
				}
				seen[first[k].ID] = where
			}
		}
	}
}

func TestRejects(t *testing.T) {
	r := mustNew(t, format.Options{})
	const tail = `,"query_name":"a.example.","rcode":"NOERROR","srcaddr":"10.0.0.1","srcport":"1000"}`
	const ts = `{"query_timestamp":"2026-01-05T10:00:00Z"`
	for line, reason := range map[string]string{
		``:                                "invalid JSON",
		`not json`:                        "invalid JSON",
		`[1,2]`:                           "not a JSON object",
		`"a string"`:                      "not a JSON object",
		`42`:                              "not a JSON object",
		`null`:                            "not a JSON object",
		`{}`:                              "no query_timestamp",
		`{"query_timestamp":null}`:        "no query_timestamp",
		`{"query_timestamp":""}`:          "no query_timestamp",
		`{"query_timestamp":1767607200}`:  "not a string",
		`{"query_timestamp":"yesterday"}`: "not an ISO 8601 time",
		`{"query_timestamp":"2026-01-05 10:00:00Z"}`:                           "not an ISO 8601 time",
		`{"query_timestamp":"2026-13-05T10:00:00Z"}`:                           "not a valid date",
		`{"query_timestamp":"2026-02-29T10:00:00Z"}`:                           "no such day",
		`{"query_timestamp":"2026-01-05T24:00:00Z"}`:                           "not a valid date",
		`{"query_timestamp":"2026-01-05T10:00:60Z"}`:                           "not a valid date",
		`{"query_timestamp":"2017-03-16T19:20:177Z"}`:                          "bad zone",
		`{"query_timestamp":"2026-01-05T10:00:00z"}`:                           "bad zone",
		`{"query_timestamp":"2026-01-05T10:00:00.Z"}`:                          "bad fraction",
		`{"query_timestamp":"2026-01-05T10:00:00.1234567891Z"}`:                "bad fraction",
		`{"query_timestamp":"2026-01-05T10:00:00+19:00"}`:                      "bad zone offset",
		`{"query_timestamp":"2026-01-05T10:00:00+0100"}`:                       "bad zone",
		`{"query_timestamp":"0001-01-01T00:00:00+00:10"}`:                      "year 0 in UTC",
		`{"query_timestamp":"9999-01-01T00:00:00Z"}`:                           "year 9999 in UTC",
		`{"query_timestamp":"+2026-01-05T10:00:00Z"}`:                          "not an ISO 8601 time",
		`{"query_timestamp":["2026-01-05T10:00:00Z"]}`:                         "query_timestamp is an array",
		ts + `,"answers":"203.0.113.1"` + tail:                                 "answers is not an array",
		ts + `,"answers":{"Rdata":"203.0.113.1"}` + tail:                       "answers is not an array",
		ts + `,"answers":[null,"203.0.113.1"]` + tail:                          "answers[1] is not an object",
		ts + `,"answers":[{"Rdata":{"a":1}}]` + tail:                           "answers[0].Rdata is not a single value",
		ts + `,"answers":[{"Type":["A"]}]` + tail:                              "answers[0].Type is not a single value",
		ts + `,"srcids":["i-0123"]` + tail:                                     "srcids is not an object",
		ts + `,"srcids":{"instance":{"id":"i-1"}}` + tail:                      "srcids.instance is not a single value",
		ts + `,"query_type":{"name":"A"}` + tail:                               "query_type is an object",
		ts + `,"srcaddr":["10.0.0.1"]}`:                                        "srcaddr is an array",
		ts + `,"vpc_id":{}}`:                                                   "vpc_id is an object",
		ts + `,"firewall_rule_action":["BLOCK"]}`:                              "firewall_rule_action is an array",
		ts + ",\"query_name\":\"caf\xe9.example.\"}":                           "invalid UTF-8",
		ts + `,"query_name":"tab	inside"}`:                                     "control character",
		ts + `,"x":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`: "nesting deeper than 64",
		ts + `} trailing`:          "after the top-level value",
		ts + `,"a":1,}`:            "expecting a member name",
		ts + `,"a":01}`:            "expecting ','",
		ts:                         "unexpected end of input in an object",
		ts + `,"a":"\x"}`:          "invalid escape",
		ts + `,"a":"\u12"}`:        "invalid \\u escape",
		ts + `,"a":tru}`:           "expecting true",
		ts + `,"a":-}`:             "expecting a digit",
		ts + `,"a":1.}`:            "after the decimal point",
		ts + `,"a":1e}`:            "in the exponent",
		ts + `,"a" 1}`:             "expecting ':'",
		ts + `,"a":"unterminated}`: "end of input in a string",
	} {
		d, err := r.Decoder(format.Object{Key: "k"}).Decode([]byte(line), 1)
		var re *format.RecordError
		if !errors.As(err, &re) {
			t.Errorf("%.80s: err %v (document %s), want a format.RecordError", line, err, d.Body)
			continue
		}
		if !strings.Contains(re.Reason, reason) {
			t.Errorf("%.80s: reason %q, want it to say %q", line, re.Reason, reason)
		}
	}
}

func TestTimes(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	utc := mustNew(t, format.Options{})
	jp := mustNew(t, format.Options{IndexPrefix: "dns-jp", Location: tokyo})
	for _, c := range []struct {
		in, ts, utcIndex, jpIndex string
	}{
		{"2026-01-05T10:00:00Z", "2026-01-05T10:00:00.000Z", "resolver-2026-01-05", "dns-jp-2026-01-05"},
		{"2026-01-05T15:00:00Z", "2026-01-05T15:00:00.000Z", "resolver-2026-01-05", "dns-jp-2026-01-06"},
		{"2026-01-05T23:59:59.999999999Z", "2026-01-05T23:59:59.999Z", "resolver-2026-01-05", "dns-jp-2026-01-06"},
		{"2026-01-05T10:00:00.5Z", "2026-01-05T10:00:00.500Z", "resolver-2026-01-05", "dns-jp-2026-01-05"},
		{"2026-01-05T20:30:00-05:00", "2026-01-06T01:30:00.000Z", "resolver-2026-01-06", "dns-jp-2026-01-06"},
		{"2026-01-05T01:30:00+05:30", "2026-01-04T20:00:00.000Z", "resolver-2026-01-04", "dns-jp-2026-01-05"},
		{"2026-01-05T10:00:00", "2026-01-05T10:00:00.000Z", "resolver-2026-01-05", "dns-jp-2026-01-05"},
		{"2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z", "resolver-2024-02-29", "dns-jp-2024-02-29"},
	} {
		line := []byte(`{"query_timestamp":"` + c.in + `"}`)
		for _, f := range []struct {
			r     *Resolver
			index string
		}{{utc, c.utcIndex}, {jp, c.jpIndex}} {
			d, err := f.r.Decoder(format.Object{Key: "k"}).Decode(line, 1)
			if err != nil {
				t.Fatalf("%s: %v", c.in, err)
			}
			m := formattest.Check(t, f.r, d)
			if d.Index != f.index || m["@timestamp"] != c.ts {
				t.Errorf("%s: index %s @timestamp %v, want %s %s", c.in, d.Index, m["@timestamp"], f.index, c.ts)
			}
		}
	}
	// The index name follows each record's own day within one object.
	dec := utc.Decoder(format.Object{Key: "k"})
	for k, ts := range []string{"2026-01-05T23:59:59Z", "2026-01-06T00:00:00Z", "2026-01-05T23:59:58Z"} {
		d, err := dec.Decode([]byte(`{"query_timestamp":"`+ts+`"}`), k+1)
		if err != nil || d.Index != "resolver-"+ts[:10] {
			t.Errorf("%s: index %s (%v)", ts, d.Index, err)
		}
	}
	if _, err := New(format.Options{IndexPrefix: "Bad Prefix"}); err == nil {
		t.Error("an invalid prefix was accepted")
	}
}

// topLevelNames lists the member names of a JSON object, in order,
// duplicates included (the cluster refuses a document that has a name
// twice).
func topLevelNames(t testing.TB, body []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("body is not an object: %v", err)
	}
	var names []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

// TestAddedNamesAreNotDuplicated: a record member named as one of the added
// fields (written plainly or with escapes) is left out, rather than making
// the cluster refuse the document.
func TestAddedNamesAreNotDuplicated(t *testing.T) {
	r := mustNew(t, format.Options{})
	line := `{ "dns" : {"x":1}, "query_timestamp":"2026-01-05T10:00:00Z","@timestamp":"1999-01-01T00:00:00Z",` +
		`"\u0065vent":"x","source":null,"keep":{"dns":"nested names stay"},"network":1,"cloud":[],"related":"r","query_name":"a.example.","srcaddr":"10.1.2.3"}`
	d, err := r.Decoder(format.Object{Key: "k"}).Decode([]byte(line), 1)
	if err != nil {
		t.Fatal(err)
	}
	m := formattest.Check(t, r, d)
	names := topLevelNames(t, d.Body)
	want := []string{"query_timestamp", "keep", "query_name", "srcaddr", "@timestamp", "event", "source", "network", "cloud", "related", "dns"}
	if !slices.Equal(names, want) {
		t.Errorf("top-level names %v, want %v", names, want)
	}
	if m["@timestamp"] != "2026-01-05T10:00:00.000Z" || formattest.Get(m, "keep", "dns") != "nested names stay" ||
		formattest.Get(m, "dns", "question", "name") != "a.example" {
		t.Errorf("body %s", d.Body)
	}
}

// TestCarriageReturns: JSON allows a carriage return as space; a bulk body
// line must not hold one.
func TestCarriageReturns(t *testing.T) {
	r := mustNew(t, format.Options{})
	line := "{\"query_timestamp\":\"2026-01-05T10:00:00Z\",\r\"answers\":[\r{\"Rdata\":\"192.0.2.1\"}\r],\"srcids\":{\"instance\" :\r\"i-1\"}}"
	d, err := r.Decoder(format.Object{Key: "k"}).Decode([]byte(line), 1)
	if err != nil {
		t.Fatal(err)
	}
	m := formattest.Check(t, r, d)
	if fmt.Sprint(formattest.Get(m, "dns", "resolved_ip")) != "[192.0.2.1]" || formattest.Get(m, "srcids", "instance") != "i-1" {
		t.Errorf("body %s", d.Body)
	}
}

// TestDNSFields covers the dns.* fields beyond the fixture: the root name,
// values of other types than strings, null members and answers, repeated
// addresses, and addresses written in unusual forms.
func TestDNSFields(t *testing.T) {
	r := mustNew(t, format.Options{})
	decode := func(rest string) map[string]any {
		t.Helper()
		d, err := r.Decoder(format.Object{Key: "k"}).Decode([]byte(`{"query_timestamp":"2026-01-05T10:00:00Z"`+rest+`}`), 1)
		if err != nil {
			t.Fatalf("%s: %v", rest, err)
		}
		return formattest.Check(t, r, d)
	}
	m := decode(`,"query_name":".","query_type":"NS","rcode":"NOERROR"`)
	if formattest.Get(m, "dns", "question", "name") != "." {
		t.Errorf("root: %v", formattest.Get(m, "dns"))
	}
	m = decode(`,"query_name":"a.example\\\\.","rcode":"NoError"`)
	if formattest.Get(m, "dns", "question", "name") != `a.example\\` || formattest.Get(m, "event", "outcome") != "success" {
		t.Errorf("escaped name: %v %v", formattest.Get(m, "dns"), formattest.Get(m, "event"))
	}
	m = decode(`,"query_name":"no-dot.example","query_type":28,"query_class":null,"rcode":null,"answers":null,"srcaddr":"not an address","srcport":"-"`)
	q := formattest.Get(m, "dns", "question").(map[string]any)
	if q["name"] != "no-dot.example" || q["type"] != 28.0 || q["class"] != nil || formattest.Get(m, "dns", "response_code") != nil ||
		formattest.Get(m, "dns", "answers") != nil || formattest.Get(m, "event", "outcome") != nil || formattest.Get(m, "source") != nil {
		t.Errorf("odd values: %v", m)
	}
	m = decode(`,"answers":[null,{"Rdata":"192.0.2.7","Type":"A"},{},{"Rdata":"192.0.2.7","Type":"A"},{"Rdata":"::ffff:192.0.2.8","Type":"AAAA"},` +
		`{"Rdata":"2001:DB8::1","Type":"AAAA","TTL":60},{"Rdata":"fe80::1%eth0"},{"Rdata":"cafe.","Type":"CNAME"},{"Rdata":"dead:beef","Type":"TXT"}],"srcaddr":"10.0.0.1","srcport":53`)
	if got := fmt.Sprint(strs(formattest.Get(m, "dns", "resolved_ip"))); got != "[192.0.2.7 192.0.2.8 2001:db8::1]" {
		t.Errorf("dns.resolved_ip %s", got)
	}
	if got := fmt.Sprint(strs(formattest.Get(m, "related", "ip"))); got != "[10.0.0.1 192.0.2.7 192.0.2.8 2001:db8::1]" {
		t.Errorf("related.ip %s", got)
	}
	if a := formattest.Get(m, "dns", "answers").([]any); len(a) != 7 || formattest.Get(m, "source", "port") != 53.0 {
		t.Errorf("dns.answers %v, source %v", a, formattest.Get(m, "source"))
	}
	m = decode(`,"transport":"Quic","firewall_rule_action":"allow","srcport":"70000"`)
	if formattest.Get(m, "network", "transport") != "quic" || fmt.Sprint(formattest.Get(m, "event", "type")) != "[protocol allowed]" ||
		formattest.Get(m, "source") != nil {
		t.Errorf("transport, action and port: %v %v %v", formattest.Get(m, "network"), formattest.Get(m, "event"), formattest.Get(m, "source"))
	}
}

func TestTemplate(t *testing.T) {
	r := mustNew(t, format.Options{IndexPrefix: "dns"})
	formattest.CheckTemplate(t, r)
	name, body := r.IndexTemplate(format.Engine{Distribution: "opensearch", Major: 2, Minor: 19})
	var tmpl struct {
		Patterns []string `json:"index_patterns"`
		Template struct {
			Mappings struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal([]byte(body), &tmpl); err != nil {
		t.Fatal(err)
	}
	if name != "dns" || fmt.Sprint(tmpl.Patterns) != "[dns-*]" {
		t.Errorf("template %s for %v", name, tmpl.Patterns)
	}
	typeOf := func(path ...string) string {
		props := tmpl.Template.Mappings.Properties
		for i, p := range path {
			var m struct {
				Type       string                     `json:"type"`
				Properties map[string]json.RawMessage `json:"properties"`
			}
			if err := json.Unmarshal(props[p], &m); err != nil {
				return "missing"
			}
			if i == len(path)-1 {
				return m.Type
			}
			props = m.Properties
		}
		return ""
	}
	for path, want := range map[string]string{
		"query_timestamp": "date", "srcaddr": "ip", "srcport": "long", "query_name": "keyword", "rcode": "keyword",
		"account_id": "keyword", "vpc_id": "keyword", "firewall_rule_action": "keyword", "answers.Rdata": "keyword",
		"srcids.instance": "keyword", "dns.question.name": "keyword", "dns.resolved_ip": "ip", "dns.answers.data": "keyword",
		"dns.response_code": "keyword",
	} {
		if got := typeOf(strings.Split(path, ".")...); got != want {
			t.Errorf("%s mapped as %q, want %q", path, got, want)
		}
	}
}

// TestCorpusAsTheWorkerReadsIt: generated objects read through the
// worker's decompression and framing give valid documents without a dead
// letter, and cover every kind of query.
func TestCorpusAsTheWorkerReadsIt(t *testing.T) {
	docs := formattest.CheckCorpus(t, Spec, format.GenerateOptions{Seed: 3, Objects: 6, RecordsPerObject: 400,
		Accounts: []string{"111122223333", "444455556666"}, Regions: []string{"us-east-1", "ap-southeast-2"}})
	if len(docs) != 2400 {
		t.Fatalf("%d documents", len(docs))
	}
	seen := map[string]int{}
	for _, d := range docs {
		var m map[string]any
		if err := json.Unmarshal(d.Body, &m); err != nil {
			t.Fatal(err)
		}
		seen["type "+fmt.Sprint(formattest.Get(m, "dns", "question", "type"))]++
		seen["rcode "+fmt.Sprint(formattest.Get(m, "dns", "response_code"))]++
		seen["transport "+fmt.Sprint(formattest.Get(m, "transport"))]++
		seen["action "+fmt.Sprint(formattest.Get(m, "firewall_rule_action"))]++
		seen["event.type "+fmt.Sprint(formattest.Get(m, "event", "type"))]++
		if strings.Contains(fmt.Sprint(formattest.Get(m, "source", "ip")), ":") {
			seen["ipv6 source"]++
		}
		if formattest.Get(m, "srcids", "resolver_endpoint") != nil {
			seen["endpoint"]++
		}
		answers, _ := formattest.Get(m, "dns", "answers").([]any)
		for _, a := range answers {
			seen["answer "+fmt.Sprint(a.(map[string]any)["type"])]++
		}
		if !strings.HasPrefix(d.Index, "resolver-2026-01-0") {
			t.Fatalf("index %s", d.Index)
		}
	}
	for _, k := range []string{"type A", "type AAAA", "type PTR", "type MX", "type TXT", "type SRV", "rcode NOERROR", "rcode NXDOMAIN",
		"rcode SERVFAIL", "rcode REFUSED", "transport UDP", "transport TCP", "transport DoH", "action BLOCK", "action ALERT",
		"action ALLOW", "event.type [protocol denied]", "event.type [protocol allowed]", "ipv6 source", "endpoint",
		"answer CNAME", "answer A", "answer AAAA", "answer PTR", "answer MX", "answer TXT", "answer SRV"} {
		if seen[k] == 0 {
			t.Errorf("no %s in the corpus", k)
		}
	}
	if share := float64(seen["type A"]+seen["type AAAA"]) / float64(len(docs)); share < 0.6 {
		t.Errorf("A and AAAA are %.2f of the queries", share)
	}
	t.Logf("%v", seen)
}
