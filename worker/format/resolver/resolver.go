// Package resolver reads Amazon Route 53 Resolver query logs: gzip-compressed
// JSON Lines, one DNS query a line, that Resolver query logging writes to S3
// under [prefix/]AWSLogs/<account>/vpcdnsquerylogs/<vpc-id>/YYYY/MM/DD/.
// A query is indexed as delivered, with the Elastic Common Schema fields
// (event.*, source.*, network.*, cloud.*, related.ip and dns.*) added, in the
// index of the day of its query_timestamp, under an id derived from its
// object and line (the log has no id of its own). The package also generates
// realistic sample objects (generate.go) for the demo, the tests and the
// benchmarks.
package resolver

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/ecs"
	"github.com/logtide/logtide/worker/format/jsonscan"
)

// Name is the format's name.
const Name = "resolver"

// Service is the folder after AWSLogs/<account>/ that Resolver query logs
// are delivered under.
const Service = "vpcdnsquerylogs"

// dataset is event.dataset.
const dataset = "aws.route53resolver"

// Spec registers the format with the worker.
var Spec = format.Spec{
	Name:    Name,
	Summary: "Amazon Route 53 Resolver query logs (AWSLogs/<account>/vpcdnsquerylogs/...)",
	New:     func(o format.Options) (format.Format, error) { return New(o) },
	Generate: func(o format.GenerateOptions) (format.Corpus, error) {
		return NewCorpus(o)
	},
	Floor: floor,
}

// Resolver is the format of Route 53 Resolver query logs.
type Resolver struct {
	prefix string
	loc    *time.Location
}

// New returns the format for a run. The index prefix defaults to
// "resolver"; the index date is taken in UTC unless o.Location says
// otherwise.
func New(o format.Options) (*Resolver, error) {
	o, err := o.WithDefaults(Name)
	if err != nil {
		return nil, err
	}
	return &Resolver{prefix: o.IndexPrefix, loc: o.Location}, nil
}

// Name is "resolver".
func (r *Resolver) Name() string { return Name }

// Claim takes the objects under AWSLogs/<account>/vpcdnsquerylogs/ (or its
// Hive-style aws-service=vpcdnsquerylogs form). A key ending in '/' is a
// folder marker some tools create: it is this log type's but holds no
// records, so it is skipped.
func (r *Resolver) Claim(k format.Key) format.Claim {
	if k.Service != Service {
		return format.NotMine
	}
	if strings.HasSuffix(k.Raw, "/") {
		return format.Skip
	}
	return format.Read
}

// Framing is one query per line.
func (r *Resolver) Framing() format.Framing { return format.Lines }

// IndexPattern matches every index the format writes to.
func (r *Resolver) IndexPattern() string { return r.prefix + "-*" }

// Decoder returns the decoder of object o: the ids of its records derive
// from o and their lines.
func (r *Resolver) Decoder(o format.Object) format.Decoder {
	return &decoder{r: r, ids: format.NewPositionIDs(o)}
}

// decoder turns the records of one object into documents. It keeps what
// consecutive records of an object share (their day, account and region)
// to spare work and allocations; it is used by one goroutine.
type decoder struct {
	r   *Resolver
	ids *format.PositionIDs

	// day and index: the index name of the last record's day.
	day   [3]int
	index string
	// account and region: the last record's, as strings.
	account, region string
	// Buffers reused from record to record: a record's answers, the
	// addresses among them, and those as strings.
	answers []answer
	ips     []netip.Addr
	related []string
}

// field identifies the members of a record the decoder reads or checks.
type field uint8

const (
	fOther field = iota
	fTimestamp
	fQueryName
	fQueryType
	fQueryClass
	fRcode
	fAnswers
	fSrcaddr
	fSrcport
	fTransport
	fSrcids
	fAccount
	fRegion
	fFirewallAction
	// The other members the template maps as single values.
	fVersion
	fVPC
	fFirewallGroup
	fFirewallList
	// reserved: a name the document's added fields use.
	fReserved
	numFields
)

// fieldNames names the fields for error messages.
var fieldNames = [numFields]string{
	fTimestamp: "query_timestamp", fQueryName: "query_name", fQueryType: "query_type",
	fQueryClass: "query_class", fRcode: "rcode", fAnswers: "answers", fSrcaddr: "srcaddr",
	fSrcport: "srcport", fTransport: "transport", fSrcids: "srcids", fAccount: "account_id",
	fRegion: "region", fFirewallAction: "firewall_rule_action", fVersion: "version",
	fVPC: "vpc_id", fFirewallGroup: "firewall_rule_group_id", fFirewallList: "firewall_domain_list_id",
}

// fieldOf says which field a member name is.
func fieldOf(name []byte) field {
	switch string(name) {
	case "query_timestamp":
		return fTimestamp
	case "query_name":
		return fQueryName
	case "query_type":
		return fQueryType
	case "query_class":
		return fQueryClass
	case "rcode":
		return fRcode
	case "answers":
		return fAnswers
	case "srcaddr":
		return fSrcaddr
	case "srcport":
		return fSrcport
	case "transport":
		return fTransport
	case "srcids":
		return fSrcids
	case "account_id":
		return fAccount
	case "region":
		return fRegion
	case "firewall_rule_action":
		return fFirewallAction
	case "version":
		return fVersion
	case "vpc_id":
		return fVPC
	case "firewall_rule_group_id":
		return fFirewallGroup
	case "firewall_domain_list_id":
		return fFirewallList
	case "@timestamp", "event", "source", "network", "cloud", "related", "dns":
		return fReserved
	}
	return fOther
}

// record is what the decoder reads of a record: the raw JSON values of its
// fields (nil when absent; the last of a duplicated name, as with
// encoding/json), and where the object is in the line.
type record struct {
	v          [numFields][]byte
	start, end int
}

// A record is indexed as delivered, so the whole of it must be valid JSON
// before it goes into a bulk body: one broken line would fail the request
// for every document in it. parse validates a record and takes the raw
// values of its members in the same pass, so that the record is read once.
//
// Its grammar is the one json.Valid accepts, with two more rules, both about
// what the cluster would refuse anyway: strings must be valid UTF-8 (the
// cluster's JSON parser rejects invalid bytes), and containers nest at most
// maxDepth deep (a resolver record nests three levels; the cluster refuses
// objects nested beyond its mapping depth limit of 20).

// maxDepth is how deeply arrays and objects may nest in a record.
const maxDepth = 64

// parse validates line as one JSON object and collects its fields.
func parse(line []byte) (record, error) {
	var rec record
	s := jsonscan.NewStrict(line, maxDepth)
	if !s.Object() {
		if err := s.End(); err != nil {
			return rec, format.Errorf("invalid JSON: %v", err)
		}
		return rec, format.Errorf("the record is not a JSON object")
	}
	rec.start = len(line) - len(bytes.TrimLeft(line, " \t\r\n")) // the brace
	for s.Member() {
		if f := fieldOf(s.Name()); f != fOther {
			rec.v[f] = s.Value()
		}
	}
	rec.end = s.Offset()
	if err := s.End(); err != nil {
		return rec, format.Errorf("invalid JSON: %v", err)
	}
	return rec, nil
}

// kind is the type of a raw JSON value.
func kind(raw []byte) byte {
	if len(raw) == 0 {
		return 0
	}
	switch c := raw[0]; c {
	case '"', '{', '[', 'n':
		return c
	}
	return '1' // a number, true or false
}

// str returns the contents of a raw JSON value as text: a string decoded,
// a number or boolean as written, null as "".
func str(raw []byte) string {
	switch kind(raw) {
	case 0, 'n':
		return ""
	case '"':
		if bytes.IndexByte(raw, '\\') < 0 {
			return string(raw[1 : len(raw)-1])
		}
		return jsonscan.String(raw)
	}
	return string(raw)
}

// is reports whether raw is the JSON string want, written without escapes
// (the way Resolver writes its enums).
func is(raw []byte, want string) bool {
	return len(raw) == len(want)+2 && raw[0] == '"' && string(raw[1:len(raw)-1]) == want
}

// enum reports whether raw is the JSON string want, in any case.
func enum(raw []byte, want string) bool {
	if kind(raw) != '"' {
		return false
	}
	if bytes.IndexByte(raw, '\\') >= 0 {
		return strings.EqualFold(str(raw), want)
	}
	return strings.EqualFold(string(raw[1:len(raw)-1]), want)
}

// single checks that the fields the template maps as single values (a
// keyword, ip, long or date) hold one: the cluster refuses a document with
// an object there.
func (rec *record) single() error {
	for f := fTimestamp; f < fReserved; f++ {
		switch k := kind(rec.v[f]); {
		case f == fAnswers || f == fSrcids:
		case k == '{':
			return format.Errorf("%s is an object, not a single value", fieldNames[f])
		case k == '[':
			return format.Errorf("%s is an array, not a single value", fieldNames[f])
		}
	}
	return nil
}

// event.type by firewall_rule_action, and event.category.
var (
	typeProtocol = []string{"protocol"}
	typeDenied   = []string{"protocol", "denied"}
	typeAllowed  = []string{"protocol", "allowed"}
	categories   = []string{"network"}
)

// Decode turns one query (one JSON line) into a document:
//   - the index is <prefix>-YYYY-MM-DD of query_timestamp, which is also
//     @timestamp; a record without a readable one is refused;
//   - _id is derived from the object and the line, since the log has no id;
//   - the body is the record as delivered with the ECS fields after it:
//     dns.* (question, response code, answers, resolved addresses), the
//     source address and port, the transport, the account and region, and
//     event.type "denied" or "allowed" for a query a DNS Firewall rule
//     blocked or allowed.
//
// Members of the record named as the added top-level fields (@timestamp,
// event, source, network, cloud, related, dns) are left out: the cluster
// refuses a document with a name twice.
func (d *decoder) Decode(line []byte, n int) (format.Document, error) {
	rec, err := parse(line)
	if err != nil {
		return format.Document{}, err
	}
	if err := rec.single(); err != nil {
		return format.Document{}, err
	}
	ts := rec.v[fTimestamp]
	if ts == nil || is(ts, "") || kind(ts) == 'n' {
		return format.Document{}, format.Errorf("no query_timestamp")
	}
	if kind(ts) != '"' {
		return format.Document{}, format.Errorf("query_timestamp %.40s is not a string", ts)
	}
	var t time.Time
	if bytes.IndexByte(ts, '\\') < 0 {
		t, err = parseTime(string(ts[1 : len(ts)-1])) // no heap copy: parseTime keeps nothing of s
	} else {
		t, err = parseTime(str(ts))
	}
	if err != nil {
		return format.Document{}, format.Errorf("query_timestamp %.60s: %v", ts, err)
	}
	answers, err := readAnswers(d.answers[:0], rec.v[fAnswers])
	d.answers = answers
	if err != nil {
		return format.Document{}, err
	}
	if err := checkSrcids(rec.v[fSrcids]); err != nil {
		return format.Document{}, err
	}

	body := make([]byte, 0, len(line)+600+2*len(rec.v[fAnswers]))
	body = appendObject(body, line[rec.start:rec.end], rec.v[fReserved] != nil)
	ips := resolved(d.ips[:0], answers)
	d.ips = ips
	body = d.appendECS(body, &rec, t, ips)
	body = appendDNS(body, &rec, answers, ips)
	body = append(body, '}')
	return format.Document{
		Index: d.indexOf(t),
		ID:    d.ids.ID(n),
		Body:  body,
	}, nil
}

// appendObject appends obj, a validated JSON object, without its closing
// brace, to be continued with more members. Members named as the added
// fields are left out, and carriage returns (JSON allows them as space, a
// bulk body does not) are removed; the usual record needs neither and is
// copied as it is.
func appendObject(body, obj []byte, reserved bool) []byte {
	if reserved {
		kept := []byte{'{'}
		s := jsonscan.New(obj)
		s.Object()
		for from := s.Offset(); s.Member(); from = s.Offset() {
			f := fieldOf(s.Name())
			s.Value()
			if f == fReserved {
				continue
			}
			if len(kept) > 1 {
				kept = append(kept, ',')
			}
			// The member as written, from its name to its value.
			kept = append(kept, bytes.TrimLeft(obj[from:s.Offset()], " \t\r\n,")...)
		}
		obj = append(kept, '}')
	}
	if bytes.IndexByte(obj, '\r') >= 0 {
		obj = jsonscan.AppendCompact(nil, obj)
	}
	return append(body, obj[:len(obj)-1]...)
}

// checkSrcids checks srcids: null or absent, or an object whose known
// members hold single values.
func checkSrcids(raw []byte) error {
	switch kind(raw) {
	case 0, 'n':
		return nil
	case '{':
	default:
		return format.Errorf("srcids is not an object")
	}
	s := jsonscan.New(raw)
	s.Object()
	for s.Member() {
		switch name := s.Name(); string(name) {
		case "instance", "resolver_endpoint", "resolver_network_interface":
			if c := kind(s.Value()); c == '{' || c == '[' {
				return format.Errorf("srcids.%s is not a single value", name)
			}
		}
	}
	return nil
}

// appendECS appends the ECS fields of a query.
func (d *decoder) appendECS(body []byte, rec *record, t time.Time, ips []netip.Addr) []byte {
	f := ecs.Fields{
		Timestamp: t,
		Event: ecs.Event{Kind: "event", Category: categories, Type: typeProtocol,
			Action: "query", Dataset: dataset, Provider: "route53resolver"},
		Network: ecs.Network{Transport: transport(rec.v[fTransport]), Protocol: "dns"},
	}
	switch action := rec.v[fFirewallAction]; {
	case enum(action, "BLOCK"):
		f.Event.Type = typeDenied
	case enum(action, "ALLOW"):
		f.Event.Type = typeAllowed
	}
	switch rcode := rec.v[fRcode]; {
	case enum(rcode, "NOERROR"):
		f.Event.Outcome = "success"
	case value(rcode) && !is(rcode, ""):
		f.Event.Outcome = "failure"
	}
	if src := rec.v[fSrcaddr]; kind(src) == '"' {
		f.Source.IP = str(src)
	}
	f.Source.Port = port(rec.v[fSrcport])
	f.Cloud.AccountID = cached(&d.account, rec.v[fAccount])
	f.Cloud.Region = cached(&d.region, rec.v[fRegion])
	d.related = d.related[:0]
	for _, ip := range ips {
		d.related = append(d.related, ip.String())
	}
	f.RelatedIPs = d.related
	return f.Append(body)
}

// cached returns the text of raw, reusing *last when it is the same: the
// records of an object nearly all share their account and region.
func cached(last *string, raw []byte) string {
	if kind(raw) == '"' && len(raw) == len(*last)+2 && string(raw[1:len(raw)-1]) == *last {
		return *last
	}
	*last = str(raw)
	return *last
}

// transport is network.transport of the record's transport: udp or tcp.
// DNS over HTTPS (DoH, through an inbound endpoint) runs over TCP; a value
// this version does not know is lowercased as it is.
func transport(raw []byte) string {
	switch {
	case is(raw, "UDP"):
		return "udp"
	case is(raw, "TCP"), is(raw, "DoH"):
		return "tcp"
	}
	s := strings.ToLower(str(raw))
	if s == "doh" {
		return "tcp"
	}
	return s
}

// port reads srcport, which Resolver writes as a string of digits; 0 when
// it is not a port.
func port(raw []byte) int {
	if kind(raw) == '"' {
		raw = raw[1 : len(raw)-1]
	}
	if len(raw) == 0 || len(raw) > 5 {
		return 0
	}
	p := 0
	for _, c := range raw {
		if c < '0' || c > '9' {
			return 0
		}
		p = p*10 + int(c-'0')
	}
	if p > 65535 {
		return 0
	}
	return p
}

// indexOf is the index of a query at t: the prefix and t's day in the
// run's time zone.
func (d *decoder) indexOf(t time.Time) string {
	local := t.In(d.r.loc)
	y, m, day := local.Date()
	if key := [3]int{y, int(m), day}; key != d.day || d.index == "" {
		d.day = key
		d.index = d.r.prefix + "-" + local.Format("2006-01-02")
	}
	return d.index
}

// parseTime reads query_timestamp: ISO 8601 as Resolver writes it
// (2026-01-05T10:00:00Z), with or without fractional seconds, in UTC, at
// another offset (+hh:mm) or without a zone (read as UTC, as the cluster
// reads it). Only what the index mapping's strict_date_optional_time also
// reads is accepted, so the two agree on the instant.
func parseTime(s string) (time.Time, error) {
	bad := func(what string) (time.Time, error) {
		return time.Time{}, fmt.Errorf("%s: want YYYY-MM-DDThh:mm:ss[.fff]Z", what)
	}
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return bad("not an ISO 8601 time")
	}
	num := func(from, to int) int {
		n := 0
		for i := from; i < to; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, sec := num(11, 13), num(14, 16), num(17, 19)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return bad("not a valid date and time")
	}
	if day > time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return bad("no such day")
	}
	rest := s[19:]
	nsec := 0
	if len(rest) > 0 && rest[0] == '.' {
		digits := 1
		for digits < len(rest) && rest[digits] >= '0' && rest[digits] <= '9' {
			digits++
		}
		if digits == 1 || digits > 10 {
			return bad("bad fraction of a second")
		}
		nsec = num(20, 19+digits)
		for k := digits; k < 10; k++ {
			nsec *= 10
		}
		rest = rest[digits:]
	}
	offset := 0
	switch {
	case rest == "" || rest == "Z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		at := len(s) - 6
		h, m := num(at+1, at+3), num(at+4, at+6)
		if h < 0 || h > 18 || m < 0 || m > 59 {
			return bad("bad zone offset")
		}
		offset = h*3600 + m*60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return bad("bad zone")
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC).Add(-time.Duration(offset) * time.Second)
	// No query predates 1970; an earlier year is a broken clock or a zero
	// value, which @timestamp could not hold (it writes four-digit years,
	// and none for Go's zero time). The index name takes the year in the
	// run's time zone, at most a day away from UTC.
	if y := t.Year(); y < 1970 || y > 9998 {
		return time.Time{}, fmt.Errorf("year %d in UTC: want 1970 to 9998", y)
	}
	return t, nil
}
