package waf

import (
	"bytes"

	"github.com/logtide/logtide/worker/format/jsonscan"
)

// A WAF record is indexed as delivered, but it must be valid JSON as a
// whole (one broken document would fail a whole bulk request), and a dozen
// of its fields feed the ECS fields. scanRecord does both in one pass
// (package jsonscan): encoding/json would validate the record and then decode
// it again, which would double the CPU the worker spends on each request
// logged.

// recordFields are the raw JSON values the decoder reads (nil when absent;
// of a member named twice, the last one counts, as with encoding/json).
type recordFields struct {
	timestamp, webACLID, action, sourceName, responseCode []byte
	// reserved is the name of the first top-level member that the worker
	// writes itself (the ECS roots), when the record has one.
	reserved string
	// spaced is set when white space sits between tokens: a line break
	// there is valid JSON but must not reach a bulk body, where lines end
	// records.
	spaced bool
	http   httpFields
}

// httpFields are the members of httpRequest that the decoder reads.
type httpFields struct {
	clientIP, uri, args, version, method, requestID, host, scheme []byte
	// hostHeader and userAgent are the quoted values of the first Host and
	// User-Agent headers; xff holds the value of every X-Forwarded-For.
	hostHeader, userAgent []byte
	xff                   [][]byte
}

// scanRecord validates b as one JSON value (as json.Valid does) and
// collects the record fields into f, whose xff slice is reused. Its errors
// are *jsonscan.SyntaxError.
func scanRecord(b []byte, f *recordFields) error {
	r := recordFields{http: httpFields{xff: f.xffScratch()}}
	s := jsonscan.New(b)
	if s.Object() {
		for s.Member() {
			r.member(&s)
		}
	}
	if err := s.End(); err != nil {
		return err
	}
	r.spaced = s.Spaced()
	*f = r
	return nil
}

// member reads a member of the record.
func (f *recordFields) member(s *jsonscan.Scanner) {
	switch name := s.Name(); string(name) {
	case "timestamp":
		f.timestamp = s.Value()
	case "webaclId":
		f.webACLID = s.Value()
	case "action":
		f.action = s.Value()
	case "httpSourceName":
		f.sourceName = s.Value()
	case "responseCodeSent":
		f.responseCode = s.Value()
	case "httpRequest":
		// A later httpRequest replaces an earlier one entirely.
		f.http = httpFields{xff: f.http.xff[:0]}
		if s.Object() {
			for s.Member() {
				f.http.member(s)
			}
		}
	case "@timestamp", "event", "source", "destination", "network", "user",
		"cloud", "url", "http", "user_agent", "related":
		// The ECS roots, which the decoder writes itself.
		if f.reserved == "" {
			f.reserved = string(name)
		}
	}
}

// member reads a member of httpRequest.
func (h *httpFields) member(s *jsonscan.Scanner) {
	switch string(s.Name()) {
	case "clientIp":
		h.clientIP = s.Value()
	case "uri":
		h.uri = s.Value()
	case "args":
		h.args = s.Value()
	case "httpVersion":
		h.version = s.Value()
	case "httpMethod":
		h.method = s.Value()
	case "requestId":
		h.requestID = s.Value()
	case "host":
		h.host = s.Value()
	case "scheme":
		h.scheme = s.Value()
	case "headers":
		h.hostHeader, h.userAgent, h.xff = nil, nil, h.xff[:0]
		if !s.Array() {
			return
		}
		for s.Element() {
			if !s.Object() {
				continue
			}
			var e header
			for s.Member() {
				switch string(s.Name()) {
				case "name":
					e.name = s.Value()
				case "value":
					e.value = s.Value()
				}
			}
			h.addHeader(e)
		}
	}
}

// xffScratch is f's X-Forwarded-For list, emptied for the next record.
func (f *recordFields) xffScratch() [][]byte {
	xff := f.http.xff[:0]
	for i := range f.http.xff {
		f.http.xff[i] = nil // let the previous record's bytes go
	}
	return xff
}

// header is what one element of httpRequest.headers holds.
type header struct{ name, value []byte }

// addHeader keeps the headers the decoder reads. Header names are
// case-insensitive; elements whose name or value is not a string are
// ignored.
func (h *httpFields) addHeader(e header) {
	if len(e.name) < 2 || e.name[0] != '"' || len(e.value) < 2 || e.value[0] != '"' {
		return
	}
	name := e.name[1 : len(e.name)-1]
	if bytes.IndexByte(name, '\\') >= 0 { // rare: only these are copied
		name = jsonscan.AppendString(nil, e.name)
	}
	switch {
	case asciiEqualFold(name, "host"):
		if h.hostHeader == nil {
			h.hostHeader = e.value
		}
	case asciiEqualFold(name, "user-agent"):
		if h.userAgent == nil {
			h.userAgent = e.value
		}
	case asciiEqualFold(name, "x-forwarded-for"):
		h.xff = append(h.xff, e.value)
	}
}

// asciiEqualFold reports whether name is lower, ignoring ASCII case only:
// header names are ASCII tokens, and Unicode folding would take "hoſt" for
// "host".
func asciiEqualFold(name []byte, lower string) bool {
	if len(name) != len(lower) {
		return false
	}
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// stringValue is a raw value decoded when it is a JSON string; ok is false
// for anything else (absent, null, a number...).
func stringValue(raw []byte) (s string, ok bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	return jsonscan.String(raw), true
}
