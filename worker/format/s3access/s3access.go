// Package s3access reads Amazon S3 server access logs: plain-text objects
// that S3 writes to the target bucket of a source bucket's logging
// configuration, one request per line, under keys that are not in the
// AWSLogs/ layout:
//
//	<TargetPrefix>YYYY-MM-DD-hh-mm-ss-<UniqueString>
//	<TargetPrefix><SourceAccountId>/<SourceRegion>/<SourceBucket>/YYYY/MM/DD/YYYY-MM-DD-hh-mm-ss-<UniqueString>
//
// the second being the date-based partitioned layout, whose account and
// region become cloud.account.id and cloud.region (the lines name neither).
//
// Each line becomes one document holding the record's fields by name
// (bucket_owner, bucket, time, remote_ip, requester, request_id, operation,
// key, request_uri, http_status, error_code, bytes_sent, object_size,
// total_time, turn_around_time, referrer, version_id, host_id,
// signature_version, cipher_suite, authentication_type, host_header,
// tls_version, access_point_arn, acl_required), with "-" left out and the numbers as numbers, plus
// key_decoded (the key as stored), request_method, request_path and
// request_protocol (the parts of the request line), extra_fields (fields
// S3 appends after the last one known here) and the Elastic Common Schema
// fields; the user agent is ECS's user_agent.original. Lines of the older,
// shorter format (down to the user agent) are read as well.
//
// The package also generates realistic sample logs (generate*.go) for the
// demo, the tests and the benchmarks.
package s3access

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/ecs"
	"github.com/logtide/logtide/worker/format/jsonw"
)

// Name is the format's name.
const Name = "s3access"

// Spec registers the format with the worker.
var Spec = format.Spec{
	Name:    Name,
	Summary: "Amazon S3 server access logs (<prefix>YYYY-MM-DD-hh-mm-ss-<unique>, plain text)",
	New:     func(o format.Options) (format.Format, error) { return New(o) },
	Generate: func(o format.GenerateOptions) (format.Corpus, error) {
		return NewCorpus(o)
	},
	Floor: floor,
}

// S3Access is the format of S3 server access logs.
type S3Access struct {
	prefix string
	loc    *time.Location
}

// New returns the format for a run. The index prefix defaults to
// "s3access".
func New(o format.Options) (*S3Access, error) {
	o, err := o.WithDefaults(Name)
	if err != nil {
		return nil, err
	}
	return &S3Access{prefix: o.IndexPrefix, loc: o.Location}, nil
}

// Name is "s3access".
func (f *S3Access) Name() string { return Name }

// Claim reads the objects whose name (the last segment of the key) ends in
// the log object name S3 gives them, YYYY-MM-DD-hh-mm-ss-<16 upper-case
// letters or digits>, outside the AWSLogs/ layout of other AWS logs. The
// name may carry more before it: S3 prepends the target prefix as it is,
// and a prefix without a trailing slash ("logs") gives keys such as
// logs2026-01-05-10-00-00-ABCDEF0123456789. Access logs have no objects
// without records to skip.
func (f *S3Access) Claim(k format.Key) format.Claim {
	if k.Service != "" {
		return format.NotMine
	}
	if _, ok := logName(k.Raw); !ok {
		return format.NotMine
	}
	return format.Read
}

// Framing is one request per line.
func (f *S3Access) Framing() format.Framing { return format.Lines }

// IndexPattern matches every index the format writes to.
func (f *S3Access) IndexPattern() string { return f.prefix + "-*" }

// Decoder returns the decoder of object o. The log lines name no account or
// region: those come from the object's key when it is in the partitioned
// layout.
func (f *S3Access) Decoder(o format.Object) format.Decoder {
	d := &decoder{f: f, obj: o}
	d.account, d.region = partition(o.Key)
	return d
}

// decoder turns the lines of one object into documents. It keeps scratch
// space between lines; it is used by one goroutine.
type decoder struct {
	f               *S3Access
	obj             format.Object
	bodies          format.Bodies
	account, region string
	fields          []string
	unescaped, buf  []byte
	// dayIndex is the index name of the days from dayStart to dayEnd.
	dayStart, dayEnd time.Time
	dayIndex         string
}

// Constant ECS values, shared by every document.
var (
	eventCategory = []string{"web"}
	eventType     = []string{"access"}
)

// maxURL is the longest url.original written, in bytes: the ECS template
// indexes it as a keyword up to 8192 characters, and a longer term in bytes
// than Lucene's 32766 would make the cluster refuse the whole document.
const maxURL = 8191

// Decode turns one log line into a document:
//   - the fields, split as S3 writes them (space-separated, the time in
//     brackets, the request line, referrer and user agent in double quotes),
//     are written by name; "-" (absent) is left out; numbers are numbers;
//   - the index is <prefix>-YYYY-MM-DD and @timestamp the bracketed time;
//   - the _id is a hash of the line (see lineID), or the line's position in
//     the object when it has no request id;
//   - a line with fewer fields than bucket_owner through user_agent, an
//     unterminated quote or bracket, an unreadable time or a number that is
//     not one is dead-lettered: fields out of place would index wrong values.
func (d *decoder) Decode(record []byte, n int) (format.Document, error) {
	record = bytes.TrimSpace(record)
	// The line is read in place rather than copied into a string of its
	// own (the copy cost 5% of BenchmarkDecode's CPU): record does not
	// change until Decode returns, and no string cut from line is used
	// after it (values are copied into the body, reasons formatted anew).
	line := unsafe.String(unsafe.SliceData(record), len(record))
	var err error
	d.fields, err = split(d.fields[:0], line)
	if err != nil {
		return format.Document{}, format.Errorf("%v", err)
	}
	fs := d.fields
	if len(fs) < minFields {
		return format.Document{}, format.Errorf("%d fields, want at least %d (bucket_owner through user_agent): the line is cut short or not an access log record", len(fs), minFields)
	}
	raw := fs[fTime]
	if len(raw) < 2 || raw[0] != '[' || raw[len(raw)-1] != ']' {
		return format.Document{}, format.Errorf("time: %.40q is not in brackets", raw)
	}
	t, ok := parseTime(raw[1 : len(raw)-1])
	if !ok {
		return format.Document{}, format.Errorf("time: %.40q is not a time of the form [02/Jan/2006:15:04:05 -0700]", raw)
	}
	var nums [len(numFields)]int64
	for i, fi := range numFields {
		v := value(fs[fi])
		if v == "" {
			nums[i] = -1
			continue
		}
		x, err := strconv.ParseInt(v, 10, 64)
		if err != nil || x < 0 {
			return format.Document{}, format.Errorf("%s: %.40q is not a number", fieldNames[fi], v)
		}
		nums[i] = x
	}
	status, bytesSent, totalTime := nums[0], nums[1], nums[3]

	requestID := value(fs[fRequestID])
	id := ""
	if requestID == "" {
		id = format.PositionID(d.obj, n)
	} else {
		sum := lineID(record)
		id = d.bodies.String(sum[:])
	}

	// The body is built in the decoder's buffer and copied out at its size:
	// cheaper than guessing its size in a fresh slice, which is zeroed.
	body := append(d.buf[:0], `{"time":"`...)
	body = appendTime(body, t)
	body = append(body, '"')
	ecsf := ecs.Fields{
		Timestamp: t,
		Event: ecs.Event{
			Kind: "event", Category: eventCategory, Type: eventType,
			Dataset: "aws." + Name, Provider: "s3.amazonaws.com",
		},
		Cloud: ecs.Cloud{AccountID: d.account, Region: d.region, ServiceName: "s3"},
	}
	for i, tok := range fs {
		if i == fTime {
			continue
		}
		if i >= numKnown {
			body = appendExtra(body, fs[numKnown:])
			break
		}
		v := value(tok)
		if v == "" {
			continue
		}
		switch i {
		case fRemoteIP:
			// Only addresses may go to an ip field; anything else is kept
			// as source.address.
			if ip := ecs.IP(v); ip != "" {
				body = str(body, "remote_ip", ip)
				ecsf.Source.IP = ip
			} else {
				ecsf.Source.Address = v
			}
		case fRequester:
			body = str(body, "requester", v)
			ecsf.UserName = v
		case fOperation:
			body = str(body, "operation", v)
			ecsf.Event.Action = v
		case fKey:
			body = str(body, "key", v)
			body = d.appendDecodedKey(body, v)
		case fRequestURI:
			body = str(body, "request_uri", v)
			body = appendRequest(body, v, &ecsf)
		case fHTTPStatus, fBytesSent, fObjectSize, fTotalTime, fTurnAround:
			body = jsonw.Member(body, fieldNames[i], false)
			body = jsonw.Int(body, nums[numIndex[i]])
		case fUserAgent:
			// user_agent is the ECS object; the value is its original.
			ecsf.UserAgent = v
		case fHostHeader:
			body = str(body, "host_header", v)
			ecsf.URL.Domain = v
		default:
			body = str(body, fieldNames[i], v)
		}
	}
	errorCode := value(fs[fErrorCode])
	switch {
	case errorCode != "" || status >= 400:
		ecsf.Event.Outcome = "failure"
	case status >= 100:
		ecsf.Event.Outcome = "success"
	default:
		ecsf.Event.Outcome = "unknown"
	}
	if status >= 100 && status <= 999 {
		ecsf.HTTP.StatusCode = int(status)
	}
	if bytesSent > 0 {
		ecsf.HTTP.ResponseBytes = bytesSent
	}
	if totalTime > 0 && totalTime < int64(time.Duration(1<<62)/time.Millisecond) {
		ecsf.Event.Duration = time.Duration(totalTime) * time.Millisecond
	}
	body = ecsf.Append(body)
	body = append(body, '}')
	d.buf = body
	body = d.bodies.Copy(body)

	return format.Document{Index: d.index(t), ID: id, Body: body}, nil
}

// index is the name of the index of a record at t: <prefix>-YYYY-MM-DD of
// t's day in the run's time zone. The lines of an object are mostly of one
// day: the name of the last day is kept with the span of time it covers.
func (d *decoder) index(t time.Time) string {
	if d.dayIndex == "" || t.Before(d.dayStart) || !t.Before(d.dayEnd) {
		y, m, day := t.In(d.f.loc).Date()
		d.dayStart = time.Date(y, m, day, 0, 0, 0, 0, d.f.loc)
		d.dayEnd = time.Date(y, m, day+1, 0, 0, 0, 0, d.f.loc)
		d.dayIndex = d.f.prefix + "-" + d.dayStart.Format("2006-01-02")
	}
	return d.dayIndex
}

// appendTime appends t (UTC, whole seconds) as YYYY-MM-DDThh:mm:ssZ.
func appendTime(b []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append(b, byte('0'+mo/10), byte('0'+mo%10), '-', byte('0'+d/10), byte('0'+d%10), 'T')
	b = append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':')
	return append(b, byte('0'+s/10), byte('0'+s%10), 'Z')
}

// lineID is the _id of a line that has a request id: the first 160 bits of
// the SHA-256 of the whole line (without spaces at its ends), base64url
// (27 characters). S3 writes one
// line per request and operation, and the same request id can be on several
// lines (a multi-object delete logs one BATCH.DELETE.OBJECT line per key,
// a copy a line for each side, a delete of several versions of one key
// differs only in version_id): the whole line tells them all apart, where
// any choice of fields could miss the one that differs. A line delivered
// twice, in the same object or another, is the same request and keeps its
// id.
func lineID(line []byte) (id [27]byte) {
	sum := sha256.Sum256(line)
	base64.RawURLEncoding.Encode(id[:], sum[:20])
	return id
}

// str appends the member name (plain ASCII) with the string value v, after a
// comma: the body always has its time first.
func str(b []byte, name, v string) []byte {
	b = jsonw.Member(b, name, false)
	return jsonw.String(b, v)
}

// appendExtra appends the fields after the last one this version knows
// (S3 adds fields at the end of the line over time), as written.
func appendExtra(b []byte, extra []string) []byte {
	b = jsonw.Member(b, "extra_fields", false)
	b = append(b, '[')
	for i, tok := range extra {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonw.String(b, unquote(tok))
	}
	return append(b, ']')
}

// appendDecodedKey appends key_decoded: the key as stored in the bucket, the
// log's key having its %XX escapes and '+' for a space. A key that does not
// decode (a stray '%') is left without it.
func (d *decoder) appendDecodedKey(b []byte, key string) []byte {
	if strings.IndexByte(key, '%') < 0 && strings.IndexByte(key, '+') < 0 {
		return str(b, "key_decoded", key)
	}
	var ok bool
	d.unescaped, ok = unescape(d.unescaped[:0], key)
	if !ok {
		return b
	}
	b = jsonw.Member(b, "key_decoded", false)
	return jsonw.Bytes(b, d.unescaped)
}

// appendRequest appends the parts of the request line ("GET /bucket/key?x
// HTTP/1.1"): request_method, request_path (the request target as
// written, query included) and request_protocol, and fills the ECS
// http.request.method, http.version and url.* fields. A request line that
// is not of three parts is kept whole in request_uri only.
func appendRequest(b []byte, uri string, e *ecs.Fields) []byte {
	method, rest, ok1 := strings.Cut(uri, " ")
	sp := strings.LastIndexByte(rest, ' ')
	if !ok1 || sp < 0 {
		return b
	}
	target, proto := rest[:sp], rest[sp+1:]
	if method == "" || target == "" || proto == "" {
		return b
	}
	b = str(b, "request_method", method)
	b = str(b, "request_path", target)
	b = str(b, "request_protocol", proto)
	// http.request.method and http.version are keywords without a length
	// limit in the ECS template: only short, plain values go there.
	if isToken(method, 32) {
		e.HTTP.Method = method
	}
	if v, ok := strings.CutPrefix(proto, "HTTP/"); ok && isToken(v, 8) {
		e.HTTP.Version = v
	}
	if len(target) <= maxURL {
		e.URL.Original = target
		path, query, _ := strings.Cut(target, "?")
		e.URL.Path, e.URL.Query = path, query
	}
	return b
}

// isToken reports whether s is 1 to max bytes of letters, digits, '.', '-'
// or '_'.
func isToken(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
