// Package vpcflow reads Amazon VPC flow logs, and transit gateway flow logs,
// as they are delivered to S3 in plain text: gzip-compressed files under
// [prefix/]AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/[HH/] (or the
// Hive-compatible aws-account-id=/aws-service=vpcflowlogs/aws-region=/...
// layout), whose first line is a header naming the fields of the records
// that follow, one record per line, values separated by single spaces and
// '-' for a value that is absent.
//
// Each record becomes one document holding its fields under their header
// names ('-' written as '_'), typed (numbers, addresses, times), plus the
// Elastic Common Schema fields every format shares. The package also
// generates realistic sample objects (generate*.go) for the demo, the tests
// and the benchmarks.
package vpcflow

import (
	"bytes"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/ecs"
	"github.com/logtide/logtide/worker/format/jsonw"
)

// Name is the format's name.
const Name = "vpcflow"

// Service is the service folder flow logs are delivered under (also for
// transit gateway flow logs).
const Service = "vpcflowlogs"

// Spec registers the format with the worker.
var Spec = format.Spec{
	Name:     Name,
	Summary:  "Amazon VPC and transit gateway flow logs, plain text (AWSLogs/<account>/vpcflowlogs/...)",
	New:      func(o format.Options) (format.Format, error) { return New(o) },
	Generate: func(o format.GenerateOptions) (format.Corpus, error) { return NewCorpus(o) },
	Floor:    floorContent,
}

// VPCFlow is the format of flow log files.
type VPCFlow struct {
	prefix string
	loc    *time.Location
}

// New returns the format for a run. The index prefix defaults to "vpcflow".
func New(o format.Options) (*VPCFlow, error) {
	o, err := o.WithDefaults(Name)
	if err != nil {
		return nil, err
	}
	return &VPCFlow{prefix: o.IndexPrefix, loc: o.Location}, nil
}

// Name is "vpcflow".
func (v *VPCFlow) Name() string { return Name }

// Claim takes the objects under AWSLogs/<account>/vpcflowlogs/ (or
// aws-service=vpcflowlogs). A key ending in '/' is a folder marker, which
// holds no records: it is skipped. Parquet files are claimed too, and
// refused by the worker as an encoding it does not read.
func (v *VPCFlow) Claim(k format.Key) format.Claim {
	switch {
	case k.Service != Service:
		return format.NotMine
	case strings.HasSuffix(k.Raw, "/"):
		return format.Skip
	}
	return format.Read
}

// Framing is one record per line, after the header line.
func (v *VPCFlow) Framing() format.Framing { return format.Lines }

// IndexPattern matches every index the format writes to.
func (v *VPCFlow) IndexPattern() string { return v.prefix + "-*" }

// Decoder returns the reader of one object: it keeps the field order its
// header line sets, and the account and region its key names.
func (v *VPCFlow) Decoder(o format.Object) format.Decoder {
	k := format.ParseKey(o.Key)
	return &decoder{f: v, ids: format.NewPositionIDs(o), keyAccount: k.Account, keyRegion: keyRegion(k)}
}

// keyRegion is the region folder that follows the service folder
// ("us-east-1" or "aws-region=us-east-1"), or "".
func keyRegion(k format.Key) string {
	first, _, _ := strings.Cut(k.Rest, "/")
	first = strings.TrimPrefix(first, "aws-region=")
	if !isRegion(first) {
		return ""
	}
	return first
}

// isRegion reports whether s reads as a region name (us-east-1,
// us-gov-west-1, cn-north-1...).
func isRegion(s string) bool {
	if len(s) < 4 || len(s) > 32 || s[0] < 'a' || s[0] > 'z' || !strings.Contains(s, "-") {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// decoder reads one object's lines, in order, on one goroutine.
type decoder struct {
	f      *VPCFlow
	ids    *format.PositionIDs
	bodies format.Bodies
	// keyAccount and keyRegion come from the object's key: the ECS cloud
	// fields of records that do not name their own.
	keyAccount, keyRegion string
	// h is the field order of the last header line; nil before it, or
	// after a header that could not be used (headerErr says why).
	h         *header
	headerErr string

	// Records of an object share their account, region and mostly their
	// day: the strings and index name are kept rather than made anew.
	account, region string
	index           string
	dayFrom, dayTo  int64 // the epoch seconds index covers: [dayFrom, dayTo)

	// related holds the packet addresses passed to ECS as related.ip.
	related [2]string
	// buf is where documents are written before they are copied out.
	buf []byte
}

// ecsRoom is about what the ECS fields of a record take (IPv6 addresses
// and long account names aside).
const ecsRoom = 768

// maxEpoch is 9999-12-31T23:59:59Z: later times have no four-digit year for
// the index name (nor are they flow log times: a value that large is a
// broken record).
const maxEpoch = 253402300799

// Decode turns one line of a flow log file into a document:
//   - the header line (names of fields) sets the order of the fields of
//     the lines that follow and returns format.ErrNotARecord;
//   - a record is split on single spaces, one value per header field; '-'
//     leaves the field out; a wrong number of values, or a value that does
//     not read as its field's type, dead-letters the record;
//   - the index and @timestamp are start (epoch seconds), else end;
//   - the _id is the record's position in the object (format.PositionID):
//     flow logs have no natural id, and identical records are common.
func (d *decoder) Decode(line []byte, n int) (format.Document, error) {
	line = trimSpace(line)
	if looksLikeHeader(line) {
		h, err := parseHeader(line)
		if err != nil {
			d.h, d.headerErr = nil, err.Error()
			return format.Document{}, format.Errorf("%s", err)
		}
		d.h, d.headerErr = h, ""
		return format.Document{}, format.ErrNotARecord
	}
	switch {
	case d.h != nil:
	case d.headerErr != "":
		return format.Document{}, format.Errorf("the object's header line was refused (%s): its records cannot be read", d.headerErr)
	default:
		return format.Document{}, format.Errorf("no header line before this record: a flow log file starts with a line naming its fields")
	}
	return d.record(line, n)
}

// rec is what a record's values give the ECS fields; -1 is absent.
type rec struct {
	account, region, action, status, direction []byte
	src, dst, pktSrc, pktDst                   string
	srcPort, dstPort, protocol                 int
	packets, bytes, start, end                 int64
}

func (d *decoder) record(line []byte, n int) (format.Document, error) {
	cols := d.h.cols
	r := rec{srcPort: -1, dstPort: -1, protocol: -1, packets: -1, bytes: -1, start: -1, end: -1}
	// The document is written in the decoder's buffer, then copied to a
	// body of its exact size: less memory for the bulk layer to hold and
	// the collector to clear than a body allocated for the largest case,
	// and no copy as it grows.
	body := d.buf[:0]
	if need := 2*len(line) + d.h.names + ecsRoom; cap(body) < need {
		body = make([]byte, 0, need)
	}
	// Every member is written after a comma, ECS's too: the first comma
	// becomes the opening brace at the end.
	rest := line
	for i := range cols {
		c := &cols[i]
		var v []byte
		if i < len(cols)-1 {
			var more bool
			if v, rest, more = cutSpace(rest); !more {
				return format.Document{}, fieldCount(line, len(cols))
			}
		} else {
			v = rest
			if bytesHasSpace(v) {
				return format.Document{}, fieldCount(line, len(cols))
			}
		}
		if len(v) == 1 && v[0] == '-' {
			continue
		}
		if len(v) == 0 {
			return format.Document{}, format.Errorf("%s is empty (two spaces in a row?)", c.name)
		}
		body = append(body, c.member...)
		switch c.kind {
		case kString:
			body = jsonw.Bytes(body, v)
			switch c.role {
			case rAccount:
				r.account = v
			case rRegion:
				r.region = v
			case rAction:
				r.action = v
			case rStatus:
				r.status = v
			case rDirection:
				r.direction = v
			}
		case kIP:
			s, ok := parseIP(v)
			if !ok {
				return format.Document{}, format.Errorf("%s %.64q is not an IP address", c.name, v)
			}
			body = append(body, '"')
			body = append(body, s...)
			body = append(body, '"')
			switch c.role {
			case rSrcAddr:
				r.src = s
			case rDstAddr:
				r.dst = s
			case rPktSrcAddr:
				r.pktSrc = s
			case rPktDstAddr:
				r.pktDst = s
			}
		default:
			x, ok := parseUint(v)
			switch {
			case !ok:
				return format.Document{}, format.Errorf("%s %.64q is not a number", c.name, v)
			case c.kind == kPort && x > 65535:
				return format.Document{}, format.Errorf("%s %d is not a port (0 to 65535)", c.name, x)
			case c.kind == kProtocol && x > 255:
				return format.Document{}, format.Errorf("%s %d is not a protocol number (0 to 255)", c.name, x)
			case c.kind == kTime && x > maxEpoch:
				return format.Document{}, format.Errorf("%s %d is not a time in epoch seconds", c.name, x)
			}
			if v[0] != '0' || len(v) == 1 {
				body = append(body, v...) // already as JSON writes it
			} else {
				body = strconv.AppendInt(body, x, 10)
			}
			switch c.role {
			case rSrcPort:
				r.srcPort = int(x)
			case rDstPort:
				r.dstPort = int(x)
			case rProtocol:
				r.protocol = int(x)
			case rPackets:
				r.packets = x
			case rBytes:
				r.bytes = x
			case rStart:
				r.start = x
			case rEnd:
				r.end = x
			}
		}
	}
	ts := r.start
	if ts < 0 {
		ts = r.end
	}
	if ts < 0 {
		return format.Document{}, format.Errorf("start and end are both absent: the record has no time")
	}
	index, ok := d.indexOf(ts)
	if !ok {
		return format.Document{}, format.Errorf("%s %d is after the year 9999 in the index time zone", timeField(r.start), ts)
	}
	body = d.appendECS(body, &r, ts)
	body[0] = '{'
	body = append(body, '}')
	d.buf = body
	return format.Document{
		Index: index,
		ID:    d.bodies.String(d.ids.Bytes(n)),
		Body:  d.bodies.Copy(body),
	}, nil
}

// fieldCount is the error of a record whose values do not match its header.
func fieldCount(line []byte, want int) error {
	got := 1
	for _, c := range line {
		if c == ' ' {
			got++
		}
	}
	return format.Errorf("record has %d fields, its header names %d", got, want)
}

func bytesHasSpace(b []byte) bool {
	for _, c := range b {
		if c == ' ' {
			return true
		}
	}
	return false
}

// The ECS values that do not change between records.
var (
	category  = []string{"network"}
	allowed   = []string{"connection", "allowed"}
	denied    = []string{"connection", "denied"}
	connected = []string{"connection"}
	info      = []string{"info"}
)

// transports and ianaNumbers name every protocol number, so that records
// need not format them.
var transports, ianaNumbers = func() (t, n [256]string) {
	for i := range n {
		n[i] = strconv.Itoa(i)
		t[i] = n[i]
	}
	t[1], t[6], t[17], t[58] = "icmp", "tcp", "udp", "ipv6-icmp"
	return t, n
}()

// appendECS appends the ECS fields of record r, whose time is ts:
// source and destination are srcaddr and dstaddr with their ports, the
// network fields come from protocol, packets, bytes and flow-direction, the
// event says what action and log-status say (nodata and skipdata records
// are kept for what they are: an interface that saw no traffic, or records
// lost), and related.ip holds every address of the record.
func (d *decoder) appendECS(body []byte, r *rec, ts int64) []byte {
	f := ecs.Fields{
		Timestamp: time.Unix(ts, 0),
		Event: ecs.Event{Kind: "event", Category: category, Type: connected,
			Dataset: "aws.vpcflow", Provider: Service},
		Source:      ecs.Endpoint{IP: r.src, Port: max(r.srcPort, 0), Bytes: max(r.bytes, 0), Packets: max(r.packets, 0)},
		Destination: ecs.Endpoint{IP: r.dst, Port: max(r.dstPort, 0)},
		Network:     ecs.Network{Bytes: max(r.bytes, 0), Packets: max(r.packets, 0)},
		Cloud:       ecs.Cloud{AccountID: d.keyAccount, Region: d.keyRegion},
	}
	e := &f.Event
	switch {
	case string(r.action) == "ACCEPT":
		e.Action, e.Outcome, e.Type = "accept", "success", allowed
	case string(r.action) == "REJECT":
		e.Action, e.Outcome, e.Type = "reject", "failure", denied
	case r.action != nil:
		e.Action = strings.ToLower(string(r.action))
	}
	switch string(r.status) {
	case "NODATA":
		e.Action, e.Outcome, e.Type = "nodata", "unknown", info
	case "SKIPDATA":
		e.Action, e.Outcome, e.Type = "skipdata", "unknown", info
	}
	if r.start >= 0 && r.end > r.start && r.end-r.start <= math.MaxInt64/int64(time.Second) {
		e.Duration = time.Duration(r.end-r.start) * time.Second
	}
	if r.protocol >= 0 {
		f.Network.Transport, f.Network.IANANumber = transports[r.protocol], ianaNumbers[r.protocol]
	}
	switch string(r.direction) {
	case "ingress":
		f.Network.Direction = "ingress"
	case "egress":
		f.Network.Direction = "egress"
	}
	if r.account != nil && string(r.account) != "unknown" {
		if string(r.account) != d.account {
			d.account = string(r.account)
		}
		f.Cloud.AccountID = d.account
	}
	if r.region != nil {
		if string(r.region) != d.region {
			d.region = string(r.region)
		}
		f.Cloud.Region = d.region
	}
	// The packet's addresses are most often those of the flow: ECS
	// would drop them as duplicates, after reading them again.
	related := d.related[:0]
	if r.pktSrc != "" && r.pktSrc != r.src && r.pktSrc != r.dst {
		related = append(related, r.pktSrc)
	}
	if r.pktDst != "" && r.pktDst != r.src && r.pktDst != r.dst {
		related = append(related, r.pktDst)
	}
	f.RelatedIPs = related
	return f.Append(body)
}

// timeField names the field a record's time came from.
func timeField(start int64) string {
	if start >= 0 {
		return "start"
	}
	return "end"
}

// indexOf is the index of a record of time ts: the prefix and its day in
// the run's time zone; false when that day has no four-digit year.
func (d *decoder) indexOf(ts int64) (string, bool) {
	if d.index != "" && ts >= d.dayFrom && ts < d.dayTo {
		return d.index, true
	}
	t := time.Unix(ts, 0).In(d.f.loc)
	y, m, day := t.Date()
	if y > 9999 {
		return "", false
	}
	from := time.Date(y, m, day, 0, 0, 0, 0, d.f.loc)
	d.dayFrom, d.dayTo = from.Unix(), from.AddDate(0, 0, 1).Unix()
	d.index = d.f.prefix + "-" + t.Format("2006-01-02")
	return d.index, true
}

// trimSpace trims ASCII white space at both ends (the worker's scanner
// already does; direct callers may not have).
func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'
}

// parseUint reads a decimal number that fits an int64 (a JSON long).
func parseUint(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 19 {
		return 0, false
	}
	var x uint64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		x = x*10 + uint64(c-'0')
	}
	if x > math.MaxInt64 {
		return 0, false
	}
	return int64(x), true
}

// parseIP reads an IPv4 or IPv6 address and returns it as the ip fields are
// written: IPv4 as it is when it is in dotted-decimal form, IPv6 in its
// canonical form. Zones are refused: the cluster's ip type does not read
// them, and flow logs never write them. An IPv4 address is returned as a
// view of v, not a copy (a copy of each address cost 5% of
// BenchmarkDecode's CPU): the record's addresses are used only until Decode
// returns, while its line does not change.
func parseIP(v []byte) (string, bool) {
	if ecs.IsIPv4(v) {
		return unsafe.String(unsafe.SliceData(v), len(v)), true
	}
	if bytes.IndexByte(v, ':') < 0 {
		return "", false
	}
	a, err := netip.ParseAddr(string(v))
	if err != nil || a.Zone() != "" {
		return "", false
	}
	return a.String(), true
}
