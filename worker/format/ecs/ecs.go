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
	if s == "" {
		return "" // without the error netip would make of it
	}
	if IsIPv4(s) {
		return s // the canonical form of an IPv4 address, the usual case
	}
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

// IsIPv4 reports whether s is an IPv4 address in dotted-decimal form as
// net/netip reads it (four numbers up to 255, no leading zeros), which is
// also its canonical form: a cheaper test than parsing it.
func IsIPv4[T string | []byte](s T) bool {
	dots, val, digits := 0, 0, 0
	for i := range len(s) {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if digits == 1 && val == 0 {
				return false
			}
			val = val*10 + int(c-'0')
			digits++
			if val > 255 {
				return false
			}
		case c == '.':
			if digits == 0 || dots == 3 {
				return false
			}
			dots++
			val, digits = 0, 0
		default:
			return false
		}
	}
	return dots == 3 && digits > 0
}

// Append appends the fields that have a value as members of the JSON object
// being written into b, each after a comma: the object must already have a
// member. @timestamp is written as UTC with milliseconds.
func (f *Fields) Append(b []byte) []byte {
	if !f.Timestamp.IsZero() {
		b = append(b, `,"@timestamp":`...)
		b = jsonw.Time(b, f.Timestamp)
	}
	b = f.appendEvent(b)
	srcIP, dstIP := IP(f.Source.IP), IP(f.Destination.IP)
	b = appendEndpoint(b, `,"source":`, &f.Source, srcIP)
	b = appendEndpoint(b, `,"destination":`, &f.Destination, dstIP)
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

// An ECS object is written as its member name (`,"event":`) followed by
// its members, each after a comma (`,"kind":"event"`); endObject then turns
// the first member's comma into the opening brace, or takes the object out
// when it has no member. The writing is done by functions of the slice
// alone: state kept behind a pointer costs a write barrier at every member
// while the collector runs (5% of the CPU profile of ELB's
// BenchmarkDecodeLines).

// endObject ends the object whose member name is b[start:at] and whose
// members follow it.
func endObject(b []byte, start, at int) []byte {
	if len(b) == at {
		return b[:start]
	}
	b[at] = '{'
	return append(b, '}')
}

// str writes member key (`,"name":`) with string v, unless v is empty.
func str(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, key...)
	return jsonw.String(b, v)
}

// plain is str for a value that needs no escape (an address IP gave).
func plain(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, key...)
	b = append(b, '"')
	b = append(b, v...)
	return append(b, '"')
}

// num writes member key with v, unless v is not positive.
func num(b []byte, key string, v int64) []byte {
	if v <= 0 {
		return b
	}
	b = append(b, key...)
	return jsonw.Int(b, v)
}

// strs writes member key with the array v, unless v is empty.
func strs(b []byte, key string, v []string) []byte {
	if len(v) == 0 {
		return b
	}
	b = append(b, key...)
	return jsonw.Strings(b, v)
}

func (f *Fields) appendEvent(b []byte) []byte {
	e := &f.Event
	start := len(b)
	b = append(b, `,"event":`...)
	at := len(b)
	b = str(b, `,"kind":`, e.Kind)
	b = strs(b, `,"category":`, e.Category)
	b = strs(b, `,"type":`, e.Type)
	b = str(b, `,"action":`, e.Action)
	b = str(b, `,"outcome":`, e.Outcome)
	b = str(b, `,"dataset":`, e.Dataset)
	b = append(b, `,"module":"aws"`...)
	b = str(b, `,"provider":`, e.Provider)
	b = num(b, `,"duration":`, int64(e.Duration))
	return endObject(b, start, at)
}

// appendEndpoint writes source.* or destination.*, name being `,"source":`
// or `,"destination":`; ip is e.IP checked.
func appendEndpoint(b []byte, name string, e *Endpoint, ip string) []byte {
	start := len(b)
	b = append(b, name...)
	at := len(b)
	b = plain(b, `,"ip":`, ip)
	if e.Port > 0 && e.Port < 65536 {
		b = num(b, `,"port":`, int64(e.Port))
	}
	if e.Address != "" {
		b = str(b, `,"address":`, e.Address)
	} else {
		b = plain(b, `,"address":`, ip)
	}
	b = num(b, `,"bytes":`, e.Bytes)
	b = num(b, `,"packets":`, e.Packets)
	return endObject(b, start, at)
}

func (f *Fields) appendNetwork(b []byte) []byte {
	n := &f.Network
	start := len(b)
	b = append(b, `,"network":`...)
	at := len(b)
	b = str(b, `,"transport":`, n.Transport)
	b = str(b, `,"protocol":`, n.Protocol)
	b = str(b, `,"direction":`, n.Direction)
	b = str(b, `,"iana_number":`, n.IANANumber)
	b = num(b, `,"bytes":`, n.Bytes)
	b = num(b, `,"packets":`, n.Packets)
	return endObject(b, start, at)
}

func (f *Fields) appendCloud(b []byte) []byte {
	c := &f.Cloud
	b = append(b, `,"cloud":{"provider":"aws"`...)
	if c.AccountID != "" {
		b = append(b, `,"account":{"id":`...)
		b = jsonw.String(b, c.AccountID)
		b = append(b, '}')
	}
	b = str(b, `,"region":`, c.Region)
	if c.ServiceName != "" {
		b = append(b, `,"service":{"name":`...)
		b = jsonw.String(b, c.ServiceName)
		b = append(b, '}')
	}
	return append(b, '}')
}

func (f *Fields) appendURL(b []byte) []byte {
	u := &f.URL
	start := len(b)
	b = append(b, `,"url":`...)
	at := len(b)
	b = str(b, `,"original":`, u.Original)
	b = str(b, `,"scheme":`, u.Scheme)
	b = str(b, `,"domain":`, u.Domain)
	if u.Port > 0 && u.Port < 65536 {
		b = num(b, `,"port":`, int64(u.Port))
	}
	b = str(b, `,"path":`, u.Path)
	b = str(b, `,"query":`, u.Query)
	return endObject(b, start, at)
}

func (f *Fields) appendHTTP(b []byte) []byte {
	h := &f.HTTP
	start := len(b)
	b = append(b, `,"http":`...)
	at := len(b)
	{
		start := len(b)
		b = append(b, `,"request":`...)
		at := len(b)
		b = str(b, `,"method":`, h.Method)
		b = num(b, `,"bytes":`, h.RequestBytes)
		b = endObject(b, start, at)
	}
	{
		start := len(b)
		b = append(b, `,"response":`...)
		at := len(b)
		b = num(b, `,"status_code":`, int64(h.StatusCode))
		b = num(b, `,"bytes":`, h.ResponseBytes)
		b = endObject(b, start, at)
	}
	b = str(b, `,"version":`, h.Version)
	return endObject(b, start, at)
}

func (f *Fields) appendRelated(b []byte, srcIP, dstIP string) []byte {
	// Room for the usual few values on the stack.
	var ipRoom, userRoom [8]string
	ips, users := distinct{list: ipRoom[:0]}, distinct{list: userRoom[:0]}
	ips = ips.add(srcIP)
	ips = ips.add(dstIP)
	for _, s := range f.RelatedIPs {
		ips = ips.add(IP(s))
	}
	users = users.add(f.UserName)
	for _, u := range f.RelatedUsers {
		users = users.add(u)
	}
	start := len(b)
	b = append(b, `,"related":`...)
	at := len(b)
	if len(ips.list) > 0 {
		b = append(b, `,"ip":[`...)
		for i, ip := range ips.list {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, ip...) // as IP gave it: no escape needed
			b = append(b, '"')
		}
		b = append(b, ']')
	}
	b = strs(b, `,"user":`, users.list)
	return endObject(b, start, at)
}

// distinct collects non-empty strings once each, in order; a set takes over
// from a linear search once there are more than a few (a PORT_PROBE finding
// can name tens of thousands of addresses). It is passed by value: a list
// stored through a pointer would be moved to the heap, with the room the
// caller gave it on the stack.
type distinct struct {
	list []string
	seen map[string]struct{}
}

func (d distinct) add(s string) distinct {
	if s == "" {
		return d
	}
	if d.seen == nil && len(d.list) >= 8 {
		d.seen = make(map[string]struct{}, 2*len(d.list))
		for _, v := range d.list {
			d.seen[v] = struct{}{}
		}
	}
	if d.seen != nil {
		if _, dup := d.seen[s]; dup {
			return d
		}
		d.seen[s] = struct{}{}
	} else if slices.Contains(d.list, s) {
		return d
	}
	d.list = append(d.list, s)
	return d
}

//go:embed template.json
var template string

// TemplateName is the component template holding the ECS mappings; every
// format's index template is composed of it.
const TemplateName = "logtide-ecs"

// ComponentTemplate is the body of the component template mapping the ECS
// fields, to install as TemplateName.
func ComponentTemplate() string { return template }
