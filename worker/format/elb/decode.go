package elb

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/ecs"
	"github.com/logtide/logtide/worker/format/jsonw"
)

// role says how a field is read and what it adds to the document.
type role uint8

const (
	// keyword: a string; "-" (ELB's "no value") leaves it out.
	keyword role = iota
	// recordTime is the line's own time: @timestamp and the index date.
	// A line without a readable one is refused.
	recordTime
	// date is another time; left out when it cannot be read.
	date
	// client, target: ip:port, written as <name>_ip and <name>_port and
	// used as source.* and destination.*. "-" leaves them out; anything
	// else that is not ip:port refuses the line.
	client
	target
	// seconds: a processing time in seconds; -1 (ELB could not measure
	// it: no target answered, the connection closed) leaves it out.
	seconds
	// connTime and handshake are a Network Load Balancer's times, in
	// milliseconds, read like seconds; a handshake time of "-" means the
	// TLS handshake did not complete.
	connTime
	handshake
	// status is the load balancer's status code; count any other
	// integer (the target's status code). Both must be a number or "-".
	status
	count
	// looseCount is an integer left out when it is not one
	// (matched_rule_priority).
	looseCount
	// received and sent are byte counts: numbers or "-".
	received
	sent
	// request is the request line, also split into method, URL and
	// protocol.
	request
	// userAgent goes to ECS user_agent.original, whose object has the
	// field's name.
	userAgent
	// errorReason is a keyword that makes the outcome a failure.
	errorReason
	// commaList (actions_executed: "waf,forward"), endpointList
	// ("10.0.0.1:80 10.0.0.2:80"), countList ("502 200") and quotedList
	// ("h2","http/1.1") are lists, written as arrays.
	commaList
	endpointList
	countList
	quotedList
)

// def is one field of a kind of line: its name and role.
type def struct {
	name string
	role role
}

// spec is a def and the members it writes: key is `,"name":`, what the
// body gets before the value; ipKey and portKey the same for <name>_ip
// and <name>_port. They are made once (init) rather than for every line.
type spec struct {
	def
	key, ipKey, portKey string
}

func init() {
	for _, k := range []*kind{alb, nlb, classic} {
		k.fields = make([]spec, len(k.defs))
		for i, d := range k.defs {
			k.fields[i] = spec{def: d, key: member(d.name), ipKey: member(d.name + "_ip"), portKey: member(d.name + "_port")}
		}
	}
}

// member is `,"name":`, name needing no escape.
func member(name string) string { return `,"` + name + `":` }

// Members written for every line.
var (
	requestMethodKey   = member("request_method")
	requestURLKey      = member("request_url")
	requestProtocolKey = member("request_protocol")
	extraKey           = member("extra")
)

// kind is one kind of line.
type kind struct {
	// lbType is the document's lb_type; label names the kind in reasons.
	lbType, label string
	// defs are the fields by position; fields the same with their keys.
	defs   []def
	fields []spec
	// min is the number of fields of the kind's first layout: ELB has
	// added fields at the end over the years, and older logs have fewer.
	// A line with fewer is cut short.
	min int
	// category is ECS event.category.
	category []string
}

// The kinds of lines and their fields, in order. Fields past the last
// named one (AWS appends new ones) go to the extra array.
var (
	alb = &kind{lbType: "application", label: "Application Load Balancer", min: 18, category: web, defs: []def{
		{"type", keyword}, {"time", recordTime}, {"elb", keyword}, {"client", client}, {"target", target},
		{"request_processing_time", seconds}, {"target_processing_time", seconds}, {"response_processing_time", seconds},
		{"elb_status_code", status}, {"target_status_code", count}, {"received_bytes", received}, {"sent_bytes", sent},
		{"request", request}, {"user_agent", userAgent}, {"ssl_cipher", keyword}, {"ssl_protocol", keyword},
		{"target_group_arn", keyword}, {"trace_id", keyword},
		// 2017 and later.
		{"domain_name", keyword}, {"chosen_cert_arn", keyword}, {"matched_rule_priority", looseCount},
		{"request_creation_time", date}, {"actions_executed", commaList}, {"redirect_url", keyword},
		{"error_reason", errorReason}, {"target_port_list", endpointList}, {"target_status_code_list", countList},
		{"classification", keyword}, {"classification_reason", keyword}, {"conn_trace_id", keyword},
		{"transformed_host", keyword}, {"transformed_uri", keyword}, {"request_transform_status", keyword},
	}}
	nlb = &kind{lbType: "network", label: "Network Load Balancer", min: 18, category: network, defs: []def{
		{"type", keyword}, {"version", keyword}, {"time", recordTime}, {"elb", keyword}, {"listener", keyword},
		{"client", client}, {"destination", target}, {"connection_time", connTime}, {"tls_handshake_time", handshake},
		{"received_bytes", received}, {"sent_bytes", sent}, {"incoming_tls_alert", keyword},
		{"chosen_cert_arn", keyword}, {"chosen_cert_serial", keyword}, {"tls_cipher", keyword},
		{"tls_protocol_version", keyword}, {"tls_named_group", keyword}, {"domain_name", keyword},
		// 2020 and later.
		{"alpn_fe_protocol", keyword}, {"alpn_be_protocol", keyword}, {"alpn_client_preference_list", quotedList},
		{"tls_connection_creation_time", date},
	}}
	classic = &kind{lbType: "classic", label: "Classic Load Balancer", min: 15, category: web, defs: []def{
		{"timestamp", recordTime}, {"elb", keyword}, {"client", client}, {"backend", target},
		{"request_processing_time", seconds}, {"backend_processing_time", seconds}, {"response_processing_time", seconds},
		{"elb_status_code", status}, {"backend_status_code", count}, {"received_bytes", received}, {"sent_bytes", sent},
		{"request", request}, {"user_agent", userAgent}, {"ssl_cipher", keyword}, {"ssl_protocol", keyword},
	}}
)

// albTypes are the first fields of Application Load Balancer lines.
var albTypes = map[string]bool{"http": true, "https": true, "h2": true, "grpcs": true, "ws": true, "wss": true}

// ECS values shared by every document (ecs.Fields only reads them).
var (
	web     = []string{"web"}
	network = []string{"network"}
	access  = []string{"access"}
)

// testFileLine starts the content of ELB's test object, which Claim skips;
// should the object be read anyway, its line is no record.
const testFileLine = "Enable AccessLog for ELB:"

// decoder decodes the lines of one object. It keeps what repeats from line
// to line: the key's account and region, a field slice, the last index.
type decoder struct {
	f               *ELB
	ids             *format.PositionIDs
	bodies          format.Bodies
	account, region string
	fields          []field
	// buf is where bodies are written, then copied at their size.
	buf []byte
	// The index name of the last day seen.
	day   [3]int
	index string
}

// values are what the ECS fields are made of, gathered while the line's
// own fields are written.
type values struct {
	t                time.Time
	client, target   endpoint
	latency          int64 // sum of the processing times
	latencies, known int   // processing times seen, and of them measured
	tooLong          bool  // the sum would overflow: no event.duration
	status           int64
	rx, tx           int64
	req              requestLine
	userAgent        string
	failed           bool // an error_reason, a failed TLS handshake
	connTime         int64
	related          []string
	// protocol is ECS network.protocol, from an Application Load
	// Balancer line's request type.
	protocol string
}

// Decode turns one line into a document:
//   - the line's fields under their AWS names, typed; client and target
//     (destination, backend) split into _ip and _port, the request line
//     also into request_method, request_url and request_protocol; "-" and
//     -1 (no value) left out; fields past the known ones in extra;
//   - lb_type: application, network or classic;
//   - the ECS fields: @timestamp (the line's time), source (the client),
//     destination (the target), url.*, http.*, user_agent.original,
//     event.*, cloud.* (account and region from the key), related.ip;
//   - _id: the line's position in its object (lines have no id of their
//     own; trace_id can be set by clients), index <prefix>-YYYY-MM-DD of
//     the line's time.
//
// A line that is of no known kind, is cut short, or has a field that
// cannot be what its position says is refused with the reason.
func (d *decoder) Decode(record []byte, n int) (format.Document, error) {
	// The line is read in place rather than copied into a string of its
	// own (the copy cost 7% of BenchmarkDecode's CPU): record does not
	// change until Decode returns, and no string cut from line is used
	// after it (values are copied into the body, reasons formatted anew).
	line := strings.TrimSpace(unsafe.String(unsafe.SliceData(record), len(record)))
	if line == "" {
		return format.Document{}, format.Errorf("empty line")
	}
	if strings.HasPrefix(line, testFileLine) {
		return format.Document{}, format.ErrNotARecord
	}
	first, _, _ := strings.Cut(line, " ")
	var k *kind
	switch {
	case albTypes[first]:
		k = alb
	case first == "tls":
		k = nlb
	case len(first) >= 19 && first[4] == '-' && first[10] == 'T':
		k = classic
	default:
		return format.Document{}, format.Errorf("not an ELB access log line: it starts with %.40q, neither an Application Load Balancer request type (http, https, h2, grpcs, ws, wss), tls nor a time", first)
	}
	fields, err := splitFields(line, d.fields[:0])
	if cap(fields) <= maxKept/16 {
		d.fields = fields[:0]
	}
	if err != nil {
		return format.Document{}, format.Errorf("%s line: %v", k.label, err)
	}
	if len(fields) < k.min {
		return format.Document{}, format.Errorf("%s line of %d fields: it needs at least %d; %s and the fields after it are missing",
			k.label, len(fields), k.min, k.fields[len(fields)].name)
	}
	if k == nlb && fields[1].val(line) != "2.0" {
		return format.Document{}, format.Errorf("Network Load Balancer line of version %.20q: only version 2.0 is known", fields[1].val(line))
	}

	body := d.buf[:0]
	body = append(body, `{"lb_type":"`...)
	body = append(body, k.lbType...)
	body = append(body, '"')
	var v values
	if k == alb {
		v.protocol = albProtocols[fields[0].val(line)]
	}
	for i := range fields {
		if i == len(k.fields) {
			body = appendExtra(body, line, fields[i:])
			break
		}
		if body, err = v.add(body, &k.fields[i], line, fields[i]); err != nil {
			return format.Document{}, format.Errorf("%s line, field %d (%s): %v", k.label, i+1, k.fields[i].name, err)
		}
	}
	e := d.ecs(k, &v)
	body = e.Append(body)
	body = append(body, '}')
	if cap(body) <= maxKept {
		d.buf = body
	}
	return format.Document{
		Index: d.indexOf(v.t),
		ID:    d.bodies.String(d.ids.Bytes(n)),
		// A copy: the decoder writes the next body in buf.
		Body: d.bodies.Copy(body),
	}, nil
}

// add writes field f of line, of spec s, to body and notes what the ECS
// fields need.
func (v *values) add(body []byte, s *spec, line string, f field) ([]byte, error) {
	val := f.val(line)
	switch s.role {
	case recordTime:
		t, err := parseTime(val)
		if err != nil {
			return body, fmt.Errorf("%.40q is not a time: %v", val, err)
		}
		v.t = t
		return str(body, s.key, val), nil
	case date:
		if _, err := parseTime(val); err != nil {
			return body, nil
		}
		return str(body, s.key, val), nil
	case client, target:
		if val == "-" {
			return body, nil
		}
		e, ok := parseEndpoint(val)
		if !ok {
			return body, fmt.Errorf("%.60q is not ip:port", val)
		}
		if s.role == client {
			v.client = e
		} else {
			v.target = e
		}
		body = str(body, s.ipKey, e.ip)
		return num(body, s.portKey, int64(e.port)), nil
	case seconds, connTime, handshake:
		v.latencies++
		if val == "-" {
			if s.role == handshake {
				v.failed = true // the handshake did not complete
			}
			return body, nil
		}
		t, ok := parseDecimal(val)
		if !ok {
			return body, fmt.Errorf("%.40q is not a number", val)
		}
		if t < 0 {
			return body, nil
		}
		v.known++
		v.tooLong = v.tooLong || t > math.MaxInt64-v.latency
		v.latency += t
		if s.role == connTime {
			v.connTime = t
		}
		body = append(body, s.key...)
		return appendDecimal(body, t), nil
	case status, count, received, sent:
		if val == "-" {
			return body, nil
		}
		n, ok := parseCount(val)
		if !ok {
			return body, fmt.Errorf("%.40q is not a number", val)
		}
		switch s.role {
		case status:
			v.status = n
		case received:
			v.rx = n
		case sent:
			v.tx = n
		}
		return num(body, s.key, n), nil
	case looseCount:
		if n, ok := parseCount(val); ok {
			body = num(body, s.key, n)
		}
		return body, nil
	case request:
		t := f.text(line)
		r := parseRequest(t)
		if r == (requestLine{}) {
			return body, nil // a TCP listener's "- - - "
		}
		v.req = r
		body = str(body, s.key, t)
		body = str(body, requestMethodKey, r.method)
		body = str(body, requestURLKey, r.url)
		return str(body, requestProtocolKey, r.protocol), nil
	case userAgent:
		// The document's user_agent is ECS's object: the value goes to
		// user_agent.original only.
		v.userAgent = present(f.text(line))
		return body, nil
	case errorReason:
		t := present(f.text(line))
		v.failed = v.failed || t != ""
		return str(body, s.key, t), nil
	case commaList:
		return list(body, s.key, f.text(line), ",", jsonw.String), nil
	case endpointList:
		return list(body, s.key, f.text(line), " ", func(b []byte, item string) []byte {
			// The target usually is the one of the list: no need to
			// give it to related.ip twice.
			if e, ok := parseEndpoint(item); ok && e.ip != v.target.ip && e.ip != v.client.ip {
				v.related = append(v.related, e.ip)
			}
			return jsonw.String(b, item)
		}), nil
	case countList:
		return list(body, s.key, f.text(line), " ", func(b []byte, item string) []byte {
			if n, ok := parseCount(item); ok {
				return jsonw.Int(b, n)
			}
			return nil
		}), nil
	case quotedList:
		if val == "-" {
			return body, nil
		}
		return list(body, s.key, f.raw(line), ",", func(b []byte, item string) []byte {
			return jsonw.String(b, strings.Trim(item, `"`))
		}), nil
	}
	return str(body, s.key, f.text(line)), nil
}

// maxKept bounds the buffers a decoder keeps between lines (in bytes, the
// body; a sixteenth of it in fields): a rare huge line does not hold its
// memory for the rest of the object.
const maxKept = 64 << 10

// str writes key (`,"name":`) and v unless v is empty or "-".
func str(b []byte, key, v string) []byte {
	if v == "" || v == "-" {
		return b
	}
	b = append(b, key...)
	return jsonw.String(b, v)
}

func num(b []byte, key string, v int64) []byte {
	b = append(b, key...)
	return strconv.AppendInt(b, v, 10)
}

// list writes the items of s, cut at sep, as an array: each item is
// written by item (which returns nil to leave it out); empty items and "-"
// are left out, and so is an array without items.
func list(b []byte, key, s, sep string, item func([]byte, string) []byte) []byte {
	mark := len(b)
	b = append(b, key...)
	b = append(b, '[')
	open := len(b)
	for s != "" {
		var it string
		it, s, _ = strings.Cut(s, sep)
		it = strings.TrimSpace(it)
		if it == "" || it == "-" {
			continue
		}
		at := len(b)
		if at > open {
			b = append(b, ',')
		}
		if w := item(b, it); w != nil {
			b = w
		} else {
			b = b[:at]
		}
	}
	if len(b) == open {
		return b[:mark]
	}
	return append(b, ']')
}

// appendExtra writes the fields after the known ones, in order, as they
// are ("-" included: the position of a value is its only name).
func appendExtra(b []byte, line string, fields []field) []byte {
	b = append(b, extraKey...)
	b = append(b, '[')
	for i := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonw.String(b, fields[i].text(line))
	}
	return append(b, ']')
}

// ecs gathers the ECS fields of a line.
func (d *decoder) ecs(k *kind, v *values) ecs.Fields {
	e := ecs.Fields{
		Timestamp: v.t,
		Event: ecs.Event{Kind: "event", Category: k.category, Type: access,
			Dataset: "aws.elb", Provider: service},
		Source:      ecs.Endpoint{IP: v.client.ip, Port: v.client.port},
		Destination: ecs.Endpoint{IP: v.target.ip, Port: v.target.port},
		Network:     ecs.Network{Transport: "tcp"},
		Cloud:       ecs.Cloud{AccountID: d.account, Region: d.region, ServiceName: "elb"},
		UserAgent:   v.userAgent,
		RelatedIPs:  v.related,
	}
	if v.req.url != "" {
		e.URL = parseURL(v.req.url)
	}
	if k == nlb {
		e.Network.Protocol = "tls"
		e.Source.Bytes, e.Destination.Bytes, e.Network.Bytes = v.rx, v.tx, v.rx+v.tx
		e.Event.Duration = time.Duration(v.connTime / 1e3) // 10^-9 ms to ns
		e.Event.Outcome = outcome(!v.failed)
		return e
	}
	e.HTTP = ecs.HTTP{Method: v.req.method, StatusCode: int(v.status), RequestBytes: v.rx, ResponseBytes: v.tx}
	if p, ok := strings.CutPrefix(v.req.protocol, "HTTP/"); ok {
		e.HTTP.Version = p
	}
	if v.latencies == 3 && v.known == 3 && !v.tooLong {
		e.Event.Duration = time.Duration(v.latency)
	}
	switch {
	case k == classic && v.req == (requestLine{}):
		// A TCP or SSL listener: a connection rather than a web request,
		// without HTTP.
		e.Event.Category = network
		e.HTTP = ecs.HTTP{}
		e.Source.Bytes, e.Destination.Bytes, e.Network.Bytes = v.rx, v.tx, v.rx+v.tx
	case k == classic:
		e.Network.Protocol = "http"
	default:
		e.Network.Protocol = v.protocol
	}
	// Without a status code (TCP listeners, a request the load balancer
	// could not finish), a processing time ELB could not measure means no
	// answer came.
	ok := v.status > 0 && v.status < 400 || v.status == 0 && v.known == v.latencies
	e.Event.Outcome = outcome(ok && !v.failed)
	return e
}

// albProtocols are ECS network.protocol by request type.
var albProtocols = map[string]string{"http": "http", "https": "http", "h2": "http", "grpcs": "grpc", "ws": "websocket", "wss": "websocket"}

func outcome(ok bool) string {
	if ok {
		return "success"
	}
	return "failure"
}

// indexOf is <prefix>-YYYY-MM-DD of t in the run's time zone; the name is
// kept while the day does not change.
func (d *decoder) indexOf(t time.Time) string {
	y, m, day := t.In(d.f.loc).Date()
	if d.index == "" || d.day != [3]int{y, int(m), day} {
		d.day = [3]int{y, int(m), day}
		d.index = fmt.Sprintf("%s-%04d-%02d-%02d", d.f.prefix, y, int(m), day)
	}
	return d.index
}
