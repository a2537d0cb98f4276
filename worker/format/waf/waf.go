// Package waf reads AWS WAF logs: gzip-compressed JSON Lines, one web
// request per line, that WAF delivers to S3 every five minutes under
// [prefix/]AWSLogs/<account>/WAFLogs/<region|cloudfront>/<web-acl-name>/YYYY/MM/DD/HH/mm/.
// A request is indexed as logged, with the Elastic Common Schema fields
// added, under an id made of its web ACL, request id and time, so that a
// request delivered twice is stored once. Logs delivered through Amazon Data
// Firehose have Firehose's own keys, which this format does not claim: the
// worker's routing rules send them here. The package also generates realistic sample logs (generate*.go) for
// the demo, the tests and the benchmarks.
package waf

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/ecs"
)

// Name is the format's name.
const Name = "waf"

// Service is the folder after AWSLogs/<account>/ under which WAF writes.
const Service = "WAFLogs"

// Spec registers the format with the worker.
var Spec = format.Spec{
	Name:    Name,
	Summary: "AWS WAF web ACL logs (AWSLogs/<account>/WAFLogs/...)",
	New:     func(o format.Options) (format.Format, error) { return New(o) },
	// WAF logs have no versions: UpdatePercent and OutOfOrder do not apply.
	Generate: func(o format.GenerateOptions) (format.Corpus, error) {
		return NewCorpus(CorpusOptions{
			Seed: o.Seed, Objects: o.Objects, RequestsPerObject: o.RecordsPerObject,
			Accounts: o.Accounts, Regions: o.Regions, Prefix: o.Prefix, Start: o.Start,
		})
	},
	Floor: floor,
}

// WAF is the format of AWS WAF logs.
type WAF struct {
	prefix string
	loc    *time.Location
}

// New returns the format for a run. The index prefix defaults to "waf".
func New(o format.Options) (*WAF, error) {
	o, err := o.WithDefaults(Name)
	if err != nil {
		return nil, err
	}
	return &WAF{prefix: o.IndexPrefix, loc: o.Location}, nil
}

// Name is "waf".
func (w *WAF) Name() string { return Name }

// Claim takes the objects WAF writes under AWSLogs/<account>/WAFLogs/. Every
// one of them holds requests: WAF writes no digest or test objects.
func (w *WAF) Claim(k format.Key) format.Claim {
	if k.Service == Service {
		return format.Read
	}
	return format.NotMine
}

// Framing is one request per line.
func (w *WAF) Framing() format.Framing { return format.Lines }

// IndexPattern matches every index the format writes to.
func (w *WAF) IndexPattern() string { return w.prefix + "-*" }

// Decoder returns the decoder of object o. The account and region of its
// key stand in for records whose webaclId does not name them.
func (w *WAF) Decoder(o format.Object) format.Decoder {
	d := &decoder{w: w, obj: o}
	if k := format.ParseKey(o.Key); k.Service == Service {
		d.account = k.Account
		folder, _, _ := strings.Cut(k.Rest, "/")
		folder = strings.TrimPrefix(folder, "aws-region=") // Hive-style keys
		switch {
		case folder == "cloudfront":
			// Web ACLs that protect CloudFront distributions live in
			// us-east-1, which their ARNs name.
			d.region = "us-east-1"
		case isRegion(folder):
			d.region = folder
		}
	}
	return d
}

// decoder decodes the records of one object; it keeps scratch space from
// one record to the next.
type decoder struct {
	w               *WAF
	obj             format.Object
	account, region string
	f               recordFields
	idBuf           []byte
	related         []string
}

// Event classification, shared by every document (ecs.Fields only reads
// them).
var (
	categoryWeb = []string{"web"}
	typeAllowed = []string{"access", "allowed"}
	typeDenied  = []string{"access", "denied"}
	typeAccess  = []string{"access"}
)

// maxMillis bounds timestamp: a later time would give an index name whose
// year has five digits.
var maxMillis = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

// Decode turns one request (one JSON line of a log object) into a document:
//   - the index is <prefix>-YYYY-MM-DD and @timestamp the time of timestamp
//     (epoch milliseconds);
//   - the id is a hash of webaclId, httpRequest.requestId and timestamp, so
//     a request delivered twice is stored once; a record without a requestId
//     gets the id of its place in the object;
//   - the body is the record as logged, with the ECS fields added (source.ip,
//     event.*, http.*, url.*, user_agent.original, cloud.*, related.ip).
func (d *decoder) Decode(rec []byte, n int) (format.Document, error) {
	rec = bytes.TrimSpace(rec)
	if len(rec) < 2 || rec[0] != '{' || rec[len(rec)-1] != '}' {
		return format.Document{}, format.Errorf("not a JSON object")
	}
	f := &d.f
	if err := scanRecord(rec, f); err != nil {
		return format.Document{}, format.Errorf("invalid JSON: %v", err)
	}
	if !utf8.Valid(rec) {
		// The cluster refuses a document that is not UTF-8.
		return format.Document{}, format.Errorf("not valid UTF-8")
	}
	if f.reserved != "" {
		return format.Document{}, format.Errorf("top-level member %q: the worker writes that field itself", f.reserved)
	}
	ms, err := readTimestamp(f.timestamp)
	if err != nil {
		return format.Document{}, format.Errorf("timestamp: %v", err)
	}
	t := time.UnixMilli(ms).UTC()

	webACL, ok := stringValue(f.webACLID)
	if !ok {
		webACL = string(f.webACLID)
	}
	id := ""
	if rid, _ := stringValue(f.http.requestID); rid != "" {
		id = d.naturalID(webACL, rid, ms)
	} else {
		id = format.PositionID(d.obj, n)
	}

	e := d.ecsFields(t, webACL)
	// Room for the ECS fields: some 600 bytes besides the strings copied
	// from the record, so that the body is allocated once.
	extra := 640 + len(e.URL.Path) + len(e.URL.Query) + len(e.URL.Domain) + len(e.UserAgent) + 48*len(e.RelatedIPs)
	body := make([]byte, 0, len(rec)+extra)
	body = append(body, rec[:len(rec)-1]...)
	if f.spaced {
		// Line breaks between tokens (the only place a record holds
		// them): blanks as good, on one line.
		for i, c := range body {
			if c == '\r' || c == '\n' {
				body[i] = ' '
			}
		}
	}
	body = e.Append(body)
	body = append(body, '}')

	var day [10]byte
	return format.Document{
		Index: d.w.prefix + "-" + string(t.In(d.w.loc).AppendFormat(day[:0], "2006-01-02")),
		ID:    id,
		Body:  body,
	}, nil
}

// naturalID is the id of a request: the first 160 bits of the SHA-256 of its
// web ACL, request id and time, base64url (27 characters).
func (d *decoder) naturalID(webACL, requestID string, ms int64) string {
	b := append(d.idBuf[:0], webACL...)
	b = append(b, 0)
	b = append(b, requestID...)
	b = append(b, 0)
	b = binary.BigEndian.AppendUint64(b, uint64(ms))
	d.idBuf = b
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:20])
}

// readTimestamp reads timestamp, a positive number of epoch milliseconds.
func readTimestamp(raw []byte) (int64, error) {
	switch {
	case len(raw) == 0:
		return 0, fmt.Errorf("missing")
	case raw[0] == '"':
		return 0, fmt.Errorf("%.40s is a string, not a number of epoch milliseconds", raw)
	case raw[0] != '-' && !isDigit(raw[0]):
		return 0, fmt.Errorf("%.40s is not a number of epoch milliseconds", raw)
	}
	var ms int64
	if !bytes.ContainsAny(raw, ".eE") {
		v, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%.40s is out of range", raw)
		}
		ms = v
	} else {
		v, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || v >= float64(maxMillis) {
			return 0, fmt.Errorf("%.40s is out of range", raw)
		}
		ms = int64(v)
	}
	switch {
	case ms <= 0:
		return 0, fmt.Errorf("%.40s is not a positive number of epoch milliseconds", raw)
	case ms >= maxMillis:
		return 0, fmt.Errorf("%.40s is out of range", raw)
	}
	return ms, nil
}

// ecsFields are the ECS fields of the record scanned into d.f.
func (d *decoder) ecsFields(t time.Time, webACL string) ecs.Fields {
	f := &d.f
	h := &f.http
	e := ecs.Fields{
		Timestamp: t,
		Event:     ecs.Event{Kind: "event", Category: categoryWeb, Dataset: "aws.waf"},
		Network:   ecs.Network{Protocol: "http"},
	}
	action, _ := stringValue(f.action)
	e.Event.Action = strings.ToLower(action)
	switch e.Event.Action {
	case "allow", "count":
		e.Event.Type, e.Event.Outcome = typeAllowed, "success"
	case "block", "captcha", "challenge":
		// A CAPTCHA or challenge action answers with the puzzle: the
		// request does not reach the protected resource.
		e.Event.Type, e.Event.Outcome = typeDenied, "failure"
	default:
		e.Event.Type, e.Event.Outcome = typeAccess, "unknown"
	}
	e.Event.Provider, _ = stringValue(f.sourceName)
	e.Source.IP, _ = stringValue(h.clientIP)
	e.HTTP.Method, _ = stringValue(h.method)
	if v, ok := stringValue(h.version); ok {
		if len(v) > 5 && strings.EqualFold(v[:5], "HTTP/") {
			v = v[5:]
		}
		e.HTTP.Version = v
	}
	e.HTTP.StatusCode = statusCode(f.responseCode)
	e.URL.Path, _ = stringValue(h.uri)
	e.URL.Query, _ = stringValue(h.args)
	e.URL.Scheme, _ = stringValue(h.scheme)
	host, _ := stringValue(h.hostHeader)
	if host == "" {
		host, _ = stringValue(h.host)
	}
	e.URL.Domain, e.URL.Port = splitHost(host)
	e.UserAgent, _ = stringValue(h.userAgent)
	e.Cloud.AccountID, e.Cloud.Region = arnAccountRegion(webACL)
	if e.Cloud.AccountID == "" {
		e.Cloud.AccountID = d.account
	}
	if e.Cloud.Region == "" {
		e.Cloud.Region = d.region
	}
	d.related = d.related[:0]
	for _, raw := range h.xff {
		v, _ := stringValue(raw)
		for part := range strings.SplitSeq(v, ",") {
			if ip := forwardedIP(strings.TrimSpace(part)); ip != "" {
				d.related = append(d.related, ip)
			}
		}
	}
	e.RelatedIPs = d.related
	return e
}

// forwardedIP is the address of one X-Forwarded-For entry, which some
// proxies write with a port; "" when it is not an address ("unknown").
func forwardedIP(s string) string {
	if ip := ecs.IP(s); ip != "" {
		return ip
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().WithZone("").String()
	}
	return ""
}

// statusCode is responseCodeSent, the code of a custom response, when it
// is an HTTP status code (a number, or a string of one).
func statusCode(raw []byte) int {
	s := string(bytes.Trim(raw, `"`))
	if len(s) != 3 {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 {
		return 0
	}
	return n
}

// splitHost splits a Host header value into the domain and the port, when
// it names one ("example.com:8443", "[2001:db8::1]:443").
func splitHost(h string) (string, int) {
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return h, 0
		}
		if p, ok := strings.CutPrefix(h[end+1:], ":"); ok {
			return h[1:end], port(p)
		}
		return h[1:end], 0
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 && strings.IndexByte(h[:i], ':') < 0 {
		if p := port(h[i+1:]); p > 0 {
			return h[:i], p
		}
	}
	return h, 0
}

func port(s string) int {
	p, err := strconv.Atoi(s)
	if err != nil || p <= 0 || p >= 65536 || s[0] == '+' {
		return 0
	}
	return p
}

// arnAccountRegion reads the account and the region of a web ACL's ARN,
// arn:<partition>:wafv2:<region>:<account>:<scope>/webacl/<name>/<id> (or
// waf-regional, or the global WAF Classic's, without a region).
func arnAccountRegion(arn string) (account, region string) {
	rest, ok := strings.CutPrefix(arn, "arn:")
	if !ok {
		return "", ""
	}
	_, rest, _ = strings.Cut(rest, ":") // partition
	service, rest, _ := strings.Cut(rest, ":")
	if !strings.HasPrefix(service, "waf") {
		return "", ""
	}
	region, rest, _ = strings.Cut(rest, ":")
	account, _, ok = strings.Cut(rest, ":")
	if !ok || !isAccount(account) {
		account = ""
	}
	if !isRegion(region) {
		region = ""
	}
	return account, region
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// isRegion reports whether s looks like an AWS region name
// (us-east-1, ap-southeast-2, us-gov-west-1).
func isRegion(s string) bool {
	parts := 0
	for p := range strings.SplitSeq(s, "-") {
		if p == "" {
			return false
		}
		for i := range len(p) {
			if c := p[i]; (c < 'a' || c > 'z') && !isDigit(c) {
				return false
			}
		}
		parts++
	}
	return parts >= 3 && isDigit(s[len(s)-1])
}
