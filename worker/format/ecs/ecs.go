// Package ecs writes the Elastic Common Schema fields that every format adds
// beside a record's own fields, so that a security analyst's questions have
// one name across log types: one query on related.ip finds an address in
// GuardDuty findings, CloudTrail events, flow logs and access logs alike.
// Only ECS fields with a value are written; an address that is not an IP
// address is left out of the ip-typed fields (it would make the cluster
// refuse the whole document).
package ecs

import (
	_ "embed"
	"net/netip"
	"slices"
	"time"

	"github.com/logtide/logtide/worker/format/jsonw"
)

// Fields are the ECS fields of one document.
type Fields struct {
	// Timestamp is @timestamp: when the event happened.
	Timestamp time.Time
	Event     Event
	Source    Endpoint
	// Destination is the other end of a connection or request.
	Destination Endpoint
	Network     Network
	// UserName is user.name: who acted (an IAM user or role, an assumed
	// role's session).
	UserName string
	Cloud    Cloud
	URL      URL
	HTTP     HTTP
	// UserAgent is user_agent.original.
	UserAgent string
	// RelatedIPs and RelatedUsers add to related.ip and related.user, which
	// also hold every address and user of the fields above.
	RelatedIPs, RelatedUsers []string
}

// Event are the event.* fields.
type Event struct {
	// Kind: event, alert, metric, state...
	Kind string
	// Category and Type: ECS's allowed values (network, web, iam,
	// authentication, intrusion_detection, threat...; access, allowed,
	// denied, connection, info...).
	Category, Type []string
	// Action: what happened, as the log names it.
	Action string
	// Outcome: success, failure or unknown.
	Outcome string
	// Dataset: the log type, e.g. aws.cloudtrail.
	Dataset string
	// Provider: the source's own name for where the event came from (a
	// CloudTrail eventSource).
	Provider string
	// Duration, when positive, is event.duration in nanoseconds.
	Duration time.Duration
}

// Endpoint is source.* or destination.*.
type Endpoint struct {
	IP      string
	Port    int
	Address string
	Bytes   int64
	Packets int64
}

// Network are the network.* fields.
type Network struct {
	// Transport: tcp, udp, icmp...; Protocol: the application protocol
	// (http, dns, tls...); Direction: ingress, egress, internal...
	Transport, Protocol, Direction string
	// IANANumber is the IANA protocol number, as a string.
	IANANumber     string
	Bytes, Packets int64
}

// Cloud are the cloud.* fields; Provider is always aws.
type Cloud struct {
	AccountID, Region, ServiceName string
}

// URL are the url.* fields.
type URL struct {
	Original, Domain, Path, Query, Scheme string
	Port                                  int
}

// HTTP are the http.* fields.
type HTTP struct {
	Method     string
	StatusCode int
	Version    string
	// RequestBytes and ResponseBytes are the bodies' sizes.
	RequestBytes, ResponseBytes int64
}

// IP returns s when it is an IP address (IPv6 zone and brackets aside), in
// its canonical form, else "": only addresses may go into ip-typed fields.
func IP(s string) string {
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return ""
	}
	a = a.WithZone("")
	var buf [64]byte
	if canon := a.AppendTo(buf[:0]); string(canon) == s {
		return s // already canonical: no copy
	}
	return a.String()
}

// Append appends the fields that have a value as members of the JSON object
// being written into b, each after a comma: the object must already have a
// member. @timestamp is written as UTC with milliseconds.
func (f *Fields) Append(b []byte) []byte {
	if !f.Timestamp.IsZero() {
		b = append(b, `,"@timestamp":"`...)
		b = f.Timestamp.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
		b = append(b, '"')
	}
	b = f.appendEvent(b)
	srcIP, dstIP := IP(f.Source.IP), IP(f.Destination.IP)
	b = appendEndpoint(b, "source", &f.Source, srcIP)
	b = appendEndpoint(b, "destination", &f.Destination, dstIP)
	b = f.appendNetwork(b)
	if f.UserName != "" {
		b = append(b, `,"user":{"name":`...)
		b = jsonw.String(b, f.UserName)
		b = append(b, '}')
	}
	b = f.appendCloud(b)
	b = f.appendURL(b)
	b = f.appendHTTP(b)
	if f.UserAgent != "" {
		b = append(b, `,"user_agent":{"original":`...)
		b = jsonw.String(b, f.UserAgent)
		b = append(b, '}')
	}
	return f.appendRelated(b, srcIP, dstIP)
}

// object writes the members of one ECS object, opening it at the first.
type object struct {
	b    []byte
	open bool
}

func (o *object) member(outer, name string) {
	if !o.open {
		o.b = append(o.b, ',', '"')
		o.b = append(o.b, outer...)
		o.b = append(o.b, `":{`...)
		o.b = jsonw.Member(o.b, name, true)
		o.open = true
		return
	}
	o.b = jsonw.Member(o.b, name, false)
}

func (o *object) str(outer, name, v string) {
	if v != "" {
		o.member(outer, name)
		o.b = jsonw.String(o.b, v)
	}
}

func (o *object) num(outer, name string, v int64) {
	if v > 0 {
		o.member(outer, name)
		o.b = jsonw.Int(o.b, v)
	}
}

func (o *object) strs(outer, name string, v []string) {
	if len(v) > 0 {
		o.member(outer, name)
		o.b = jsonw.Strings(o.b, v)
	}
}

func (o *object) close() []byte {
	if o.open {
		o.b = append(o.b, '}')
	}
	return o.b
}

func (f *Fields) appendEvent(b []byte) []byte {
	e := &f.Event
	o := object{b: b}
	o.str("event", "kind", e.Kind)
	o.strs("event", "category", e.Category)
	o.strs("event", "type", e.Type)
	o.str("event", "action", e.Action)
	o.str("event", "outcome", e.Outcome)
	o.str("event", "dataset", e.Dataset)
	o.str("event", "module", "aws")
	o.str("event", "provider", e.Provider)
	o.num("event", "duration", int64(e.Duration))
	return o.close()
}

// appendEndpoint writes source.* or destination.*; ip is e.IP checked.
func appendEndpoint(b []byte, name string, e *Endpoint, ip string) []byte {
	o := object{b: b}
	o.str(name, "ip", ip)
	if e.Port > 0 && e.Port < 65536 {
		o.num(name, "port", int64(e.Port))
	}
	address := e.Address
	if address == "" {
		address = ip
	}
	o.str(name, "address", address)
	o.num(name, "bytes", e.Bytes)
	o.num(name, "packets", e.Packets)
	return o.close()
}

func (f *Fields) appendNetwork(b []byte) []byte {
	n := &f.Network
	o := object{b: b}
	o.str("network", "transport", n.Transport)
	o.str("network", "protocol", n.Protocol)
	o.str("network", "direction", n.Direction)
	o.str("network", "iana_number", n.IANANumber)
	o.num("network", "bytes", n.Bytes)
	o.num("network", "packets", n.Packets)
	return o.close()
}

func (f *Fields) appendCloud(b []byte) []byte {
	c := &f.Cloud
	b = append(b, `,"cloud":{"provider":"aws"`...)
	if c.AccountID != "" {
		b = append(b, `,"account":{"id":`...)
		b = jsonw.String(b, c.AccountID)
		b = append(b, '}')
	}
	if c.Region != "" {
		b = append(b, `,"region":`...)
		b = jsonw.String(b, c.Region)
	}
	if c.ServiceName != "" {
		b = append(b, `,"service":{"name":`...)
		b = jsonw.String(b, c.ServiceName)
		b = append(b, '}')
	}
	return append(b, '}')
}

func (f *Fields) appendURL(b []byte) []byte {
	u := &f.URL
	o := object{b: b}
	o.str("url", "original", u.Original)
	o.str("url", "scheme", u.Scheme)
	o.str("url", "domain", u.Domain)
	if u.Port > 0 && u.Port < 65536 {
		o.num("url", "port", int64(u.Port))
	}
	o.str("url", "path", u.Path)
	o.str("url", "query", u.Query)
	return o.close()
}

func (f *Fields) appendHTTP(b []byte) []byte {
	h := &f.HTTP
	if h.Method == "" && h.StatusCode == 0 && h.Version == "" && h.RequestBytes <= 0 && h.ResponseBytes <= 0 {
		return b
	}
	b = append(b, `,"http":{`...)
	first := true
	if h.Method != "" || h.RequestBytes > 0 {
		b = jsonw.Member(b, "request", first)
		first = false
		b = append(b, '{')
		inner := false
		if h.Method != "" {
			b = jsonw.Member(b, "method", true)
			b = jsonw.String(b, h.Method)
			inner = true
		}
		if h.RequestBytes > 0 {
			b = jsonw.Member(b, "bytes", !inner)
			b = jsonw.Int(b, h.RequestBytes)
		}
		b = append(b, '}')
	}
	if h.StatusCode > 0 || h.ResponseBytes > 0 {
		b = jsonw.Member(b, "response", first)
		first = false
		b = append(b, '{')
		inner := false
		if h.StatusCode > 0 {
			b = jsonw.Member(b, "status_code", true)
			b = jsonw.Int(b, int64(h.StatusCode))
			inner = true
		}
		if h.ResponseBytes > 0 {
			b = jsonw.Member(b, "bytes", !inner)
			b = jsonw.Int(b, h.ResponseBytes)
		}
		b = append(b, '}')
	}
	if h.Version != "" {
		b = jsonw.Member(b, "version", first)
		b = jsonw.String(b, h.Version)
	}
	return append(b, '}')
}

func (f *Fields) appendRelated(b []byte, srcIP, dstIP string) []byte {
	var ips distinct
	ips.add(srcIP)
	ips.add(dstIP)
	for _, s := range f.RelatedIPs {
		ips.add(IP(s))
	}
	var users distinct
	users.add(f.UserName)
	for _, u := range f.RelatedUsers {
		users.add(u)
	}
	o := object{b: b}
	o.strs("related", "ip", ips.list)
	o.strs("related", "user", users.list)
	return o.close()
}

// distinct collects non-empty strings once each, in order; a set takes over
// from a linear search once there are more than a few (a PORT_PROBE finding
// can name tens of thousands of addresses).
type distinct struct {
	list []string
	seen map[string]struct{}
}

func (d *distinct) add(s string) {
	if s == "" {
		return
	}
	if d.seen == nil && len(d.list) >= 8 {
		d.seen = make(map[string]struct{}, 2*len(d.list))
		for _, v := range d.list {
			d.seen[v] = struct{}{}
		}
	}
	if d.seen != nil {
		if _, dup := d.seen[s]; dup {
			return
		}
		d.seen[s] = struct{}{}
	} else if slices.Contains(d.list, s) {
		return
	}
	d.list = append(d.list, s)
}

//go:embed template.json
var template string

// TemplateName is the component template holding the ECS mappings; every
// format's index template is composed of it.
const TemplateName = "logtide-ecs"

// ComponentTemplate is the body of the component template mapping the ECS
// fields, to install as TemplateName.
func ComponentTemplate() string { return template }
