package elb

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/logtide/logtide/worker/format/ecs"
)

// field is one field of a line, by its place in the line: offsets rather
// than strings keep the decoder's reused slice of fields free of pointers.
type field struct {
	// line[start:end] is the field as written, quotes included.
	start, end int
	// quoted: the field is in double quotes; esc: it holds a backslash,
	// so escapes must be undone (text).
	quoted, esc bool
}

// raw is the field as written.
func (f field) raw(line string) string { return line[f.start:f.end] }

// val is the field's value: without its quotes, escapes not undone.
func (f field) val(line string) string {
	if f.quoted {
		return line[f.start+1 : f.end-1]
	}
	return line[f.start:f.end]
}

// text is the field's value with its escapes undone: \" is a quote, \\ a
// backslash; any other backslash stays as it is.
func (f field) text(line string) string {
	s := f.val(line)
	if !f.esc {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// splitFields cuts line into its fields, appended to out: runs of spaces
// separate fields; a field that starts with a double quote runs to the next
// unescaped quote that ends the line or is followed by a space, so quoted
// fields may hold spaces, escaped quotes (\") and quotes that do not end
// them (the "h2","http/1.1" list of a Network Load Balancer is one field).
// A backslash escapes the character after it.
func splitFields(line string, out []field) ([]field, error) {
	for i := 0; ; {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i == len(line) {
			return out, nil
		}
		if line[i] != '"' {
			j := strings.IndexByte(line[i:], ' ')
			if j < 0 {
				j = len(line) - i
			}
			out = append(out, field{start: i, end: i + j})
			i += j
			continue
		}
		// Jump from quote to quote; a quote after an odd number of
		// backslashes is escaped.
		q := i + 1
		for {
			k := strings.IndexByte(line[q:], '"')
			if k < 0 {
				return out, fmt.Errorf("field %d: quote not closed", len(out)+1)
			}
			q += k
			n := 0
			for p := q - 1; p > i && line[p] == '\\'; p-- {
				n++
			}
			if n%2 == 0 && (q+1 == len(line) || line[q+1] == ' ') {
				break
			}
			q++
		}
		esc := strings.IndexByte(line[i+1:q], '\\') >= 0
		out = append(out, field{start: i, end: q + 1, quoted: true, esc: esc})
		i = q + 1
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// digits reads s[i:j] as a decimal number; ok is false unless all are
// digits.
func digits(s string, i, j int) (int, bool) {
	n := 0
	for ; i < j; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// Years outside these cannot be written as the four-digit year of an index
// name in every time zone; no load balancer logged before 1970 or after 9000.
const minYear, maxYear = 1970, 9000

// parseTime reads the times ELB writes: ISO 8601 in UTC,
// YYYY-MM-DDTHH:MM:SS with up to nine fractional digits, with or without
// the Z (Network Load Balancers leave out both the fraction and the Z).
// What it accepts, Elasticsearch and OpenSearch read as the same instant
// with their default date format.
func parseTime(s string) (time.Time, error) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, errors.New("not YYYY-MM-DDTHH:MM:SS")
	}
	year, ok1 := digits(s, 0, 4)
	month, ok2 := digits(s, 5, 7)
	day, ok3 := digits(s, 8, 10)
	hour, ok4 := digits(s, 11, 13)
	minute, ok5 := digits(s, 14, 16)
	sec, ok6 := digits(s, 17, 19)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 {
		return time.Time{}, errors.New("not YYYY-MM-DDTHH:MM:SS")
	}
	rest := s[19:]
	nsec := 0
	if rest != "" && rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 || n > 10 {
			return time.Time{}, errors.New("fraction of a second of 1 to 9 digits expected")
		}
		frac, _ := digits(rest, 1, n)
		for k := n; k < 10; k++ {
			frac *= 10
		}
		nsec, rest = frac, rest[n:]
	}
	if rest != "" && rest != "Z" {
		return time.Time{}, errors.New("not in UTC (Z)")
	}
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, errors.New("out of range")
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day {
		return time.Time{}, errors.New("no such day")
	}
	if year < minYear || year > maxYear {
		return time.Time{}, fmt.Errorf("year outside %d to %d", minYear, maxYear)
	}
	return t, nil
}

// parseDecimal reads a decimal number (digits, a point, digits; a leading
// minus) as an integer number of 10^-9 of its unit: seconds become
// nanoseconds. Digits past the ninth decimal are dropped.
func parseDecimal(s string) (int64, bool) {
	neg := false
	if s != "" && s[0] == '-' {
		neg, s = true, s[1:]
	}
	// The whole part is bounded so that, nine decimals added, the value
	// still fits an int64 (some 292 years of seconds).
	const maxWhole = (1<<63-1)/1_000_000_000 - 1
	var v int64
	seen, i := 0, 0
	for ; i < len(s) && s[i] != '.'; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
		if v > maxWhole {
			return 0, false
		}
		seen++
	}
	v *= 1e9
	if i < len(s) {
		scale := int64(1e8)
		for i++; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			v += int64(c-'0') * scale
			scale /= 10
			seen++
		}
	}
	if seen == 0 {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// appendDecimal appends v (in 10^-9 of a unit) as a plain decimal number of
// the unit, without trailing zeros: 86000000 is 0.086.
func appendDecimal(b []byte, v int64) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	b = appendUint(b, uint64(v/1e9))
	frac := v % 1e9
	if frac == 0 {
		return b
	}
	var d [10]byte
	d[0] = '.'
	for k := 9; k >= 1; k-- {
		d[k] = byte('0' + frac%10)
		frac /= 10
	}
	n := 10
	for d[n-1] == '0' {
		n--
	}
	return append(b, d[:n]...)
}

func appendUint(b []byte, v uint64) []byte {
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, d[i:]...)
}

// parseCount reads a non-negative integer of at most 18 digits.
func parseCount(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var v int64
	for i := range len(s) {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// endpoint is an address and port as a line gives them.
type endpoint struct {
	ip   string // canonical form, for ip-typed fields
	port int
}

// parseEndpoint reads ip:port, with an IPv6 address in brackets
// ([2001:db8::1]:443).
func parseEndpoint(s string) (endpoint, bool) {
	var host, port string
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]:")
		if end < 0 {
			return endpoint{}, false
		}
		host, port = s[1:end], s[end+2:]
	} else {
		i := strings.LastIndexByte(s, ':')
		if i < 0 {
			return endpoint{}, false
		}
		host, port = s[:i], s[i+1:]
		if strings.IndexByte(host, ':') >= 0 {
			return endpoint{}, false // IPv6 without brackets: where would the port start?
		}
	}
	p, ok := parseCount(port)
	if !ok || p > 65535 {
		return endpoint{}, false
	}
	if ecs.IsIPv4(host) {
		return endpoint{ip: host, port: int(p)}, true // already canonical
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" {
		return endpoint{}, false
	}
	if a.Is4() {
		return endpoint{ip: host, port: int(p)}, true
	}
	return endpoint{ip: a.String(), port: int(p)}, true
}

// requestLine is a request line: "GET https://host:443/path?q HTTP/1.1". A
// part ELB did not know is "-" and left out ("- - - " on a TCP listener).
type requestLine struct {
	method, url, protocol string
}

func parseRequest(s string) requestLine {
	s = strings.TrimRight(s, " ")
	var r requestLine
	method, rest, ok := strings.Cut(s, " ")
	if !ok {
		r.url = s
	} else {
		r.method = method
		r.url = rest
		if i := strings.LastIndexByte(rest, ' '); i >= 0 {
			r.url, r.protocol = rest[:i], rest[i+1:]
		}
	}
	r.method, r.url, r.protocol = present(r.method), present(r.url), present(r.protocol)
	return r
}

// present is s, or "" for the "-" of a value the log does not have.
func present(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// parseURL reads what it can of the URL of a request line (absolute in ELB
// logs: scheme://host:port/path?query); a part it cannot read is left out,
// never an error.
func parseURL(s string) ecs.URL {
	u := ecs.URL{Original: s}
	rest := s
	if i := strings.Index(s, "://"); i > 0 && isScheme(s[:i]) {
		u.Scheme = strings.ToLower(s[:i])
		rest = s[i+3:]
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		authority := rest[:end]
		rest = rest[end:]
		if at := strings.LastIndexByte(authority, '@'); at >= 0 {
			authority = authority[at+1:]
		}
		host, port := authority, ""
		if strings.HasPrefix(authority, "[") {
			if j := strings.IndexByte(authority, ']'); j >= 0 {
				host = authority[:j+1]
				port, _ = strings.CutPrefix(authority[j+1:], ":")
			}
		} else if j := strings.LastIndexByte(authority, ':'); j >= 0 {
			host, port = authority[:j], authority[j+1:]
		}
		u.Domain = host
		if p, ok := parseCount(port); ok && p > 0 && p < 65536 {
			u.Port = int(p)
		}
	} else if !strings.HasPrefix(s, "/") {
		return u
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	u.Path, u.Query, _ = strings.Cut(rest, "?")
	return u
}

// isScheme reports whether s is a URL scheme: a letter, then letters,
// digits, '+', '-' or '.'.
func isScheme(s string) bool {
	for i := range len(s) {
		c := s[i] | 0x20
		switch {
		case c >= 'a' && c <= 'z':
		case i > 0 && (s[i] >= '0' && s[i] <= '9' || s[i] == '+' || s[i] == '-' || s[i] == '.'):
		default:
			return false
		}
	}
	return s != ""
}
