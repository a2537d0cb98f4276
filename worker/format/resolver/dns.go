package resolver

import (
	"net/netip"
	"slices"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/jsonscan"
	"github.com/logtide/logtide/worker/format/jsonw"
)

// A query's question and answers become the ECS dns.* fields. The ECS
// component template maps only the fields every format shares, so this
// format's own template maps them.

// answer is one element of answers, as raw JSON values.
type answer struct {
	data, typ, class []byte
}

// readAnswers appends to out the elements of answers: null or absent, or an
// array of objects (or nulls) whose Rdata, Type and Class hold single
// values.
func readAnswers(out []answer, raw []byte) ([]answer, error) {
	switch kind(raw) {
	case 0, 'n':
		return out, nil
	case '[':
	default:
		return out, format.Errorf("answers is not an array")
	}
	s := jsonscan.New(raw)
	s.Array()
	for k := 0; s.Element(); k++ {
		if !s.Object() {
			if kind(s.Value()) == 'n' {
				continue
			}
			return out, format.Errorf("answers[%d] is not an object", k)
		}
		var a answer
		for s.Member() {
			var dst *[]byte
			switch string(s.Name()) {
			case "Rdata":
				dst = &a.data
			case "Type":
				dst = &a.typ
			case "Class":
				dst = &a.class
			default:
				continue
			}
			v := s.Value()
			if c := kind(v); c == '{' || c == '[' {
				return out, format.Errorf("answers[%d].%s is not a single value", k, s.Name())
			}
			*dst = v
		}
		out = append(out, a)
	}
	return out, nil
}

// resolved appends to ips the distinct addresses among the answers, in
// order. A set takes over from a linear search past a few: a response over
// TCP can hold thousands of records.
func resolved(ips []netip.Addr, answers []answer) []netip.Addr {
	var seen map[netip.Addr]struct{}
	for _, a := range answers {
		ip, ok := answerIP(a.data)
		if !ok {
			continue
		}
		if seen == nil && len(ips) >= 16 {
			seen = make(map[netip.Addr]struct{}, 2*len(ips))
			for _, v := range ips {
				seen[v] = struct{}{}
			}
		}
		if seen != nil {
			if _, dup := seen[ip]; dup {
				continue
			}
			seen[ip] = struct{}{}
		} else if slices.Contains(ips, ip) {
			continue
		}
		ips = append(ips, ip)
	}
	return ips
}

// answerIP reads an answer's Rdata as an IP address, when it is one (the
// answers of A and AAAA queries).
func answerIP(raw []byte) (netip.Addr, bool) {
	// An address is short and holds no escapes; most other Rdata (names,
	// MX and TXT data) end in a dot or hold characters no address has.
	if kind(raw) != '"' || len(raw) < 4 || len(raw) > 2+45 {
		return netip.Addr{}, false
	}
	text := raw[1 : len(raw)-1]
	for _, c := range text {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == ':') {
			return netip.Addr{}, false
		}
	}
	a, err := netip.ParseAddr(string(text))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// appendDNS appends the ECS dns object: the question (its name without the
// trailing dot of a fully qualified name), the response code, the answers
// and ips, the distinct addresses among them. Values are copied as raw JSON: they are
// validated, and strings need no re-escaping.
func appendDNS(body []byte, rec *record, answers []answer, ips []netip.Addr) []byte {
	body = append(body, `,"dns":{"type":"answer"`...)
	name, qtype, qclass := rec.v[fQueryName], rec.v[fQueryType], rec.v[fQueryClass]
	if value(name) || value(qtype) || value(qclass) {
		body = append(body, `,"question":{`...)
		first := true
		if value(name) {
			body = jsonw.Member(body, "name", first)
			body = appendName(body, name)
			first = false
		}
		body = appendRaw(body, "type", qtype, &first)
		body = appendRaw(body, "class", qclass, &first)
		body = append(body, '}')
	}
	if rcode := rec.v[fRcode]; value(rcode) {
		body = append(body, `,"response_code":`...)
		body = append(body, rcode...)
	}
	if len(answers) > 0 {
		body = append(body, `,"answers":[`...)
		n := 0
		for _, a := range answers {
			if !value(a.data) && !value(a.typ) && !value(a.class) {
				continue
			}
			if n > 0 {
				body = append(body, ',')
			}
			n++
			body = append(body, '{')
			first := true
			body = appendRaw(body, "data", a.data, &first)
			body = appendRaw(body, "type", a.typ, &first)
			body = appendRaw(body, "class", a.class, &first)
			body = append(body, '}')
		}
		body = append(body, ']')
		for k, ip := range ips {
			if k == 0 {
				body = append(body, `,"resolved_ip":[`...)
			} else {
				body = append(body, ',')
			}
			body = append(body, '"')
			body = ip.AppendTo(body)
			body = append(body, '"')
		}
		if len(ips) > 0 {
			body = append(body, ']')
		}
	}
	return append(body, '}')
}

// value reports whether raw is present and not null.
func value(raw []byte) bool { return len(raw) > 0 && raw[0] != 'n' }

// appendRaw appends the member name with raw as its value, unless raw is
// absent or null.
func appendRaw(body []byte, name string, raw []byte, first *bool) []byte {
	if !value(raw) {
		return body
	}
	body = jsonw.Member(body, name, *first)
	*first = false
	return append(body, raw...)
}

// appendName appends a query name without the trailing dot of a fully
// qualified name, as dns.question.name has it; the root, ".", stays as it is.
func appendName(body, raw []byte) []byte {
	if kind(raw) == '"' && len(raw) > 3 && raw[len(raw)-2] == '.' {
		// The dot before the closing quote cannot be part of an escape.
		body = append(body, raw[:len(raw)-2]...)
		return append(body, '"')
	}
	return append(body, raw...)
}
