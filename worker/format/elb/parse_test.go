package elb

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/ecs"
)

// splitSlowly is splitFields written the obvious way, byte by byte: the
// reference the fast one is held to.
func splitSlowly(line string) ([]string, error) {
	var out []string
	for i := 0; ; {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i == len(line) {
			return out, nil
		}
		j := i
		if line[i] != '"' {
			for j < len(line) && line[j] != ' ' {
				j++
			}
			out = append(out, line[i:j])
			i = j
			continue
		}
		for j = i + 1; ; j++ {
			if j >= len(line) {
				return out, errors.New("quote not closed")
			}
			if line[j] == '\\' && j+1 < len(line) {
				j++
				continue
			}
			if line[j] == '"' && (j+1 == len(line) || line[j+1] == ' ') {
				break
			}
		}
		out = append(out, line[i:j+1])
		i = j + 1
	}
}

func checkSplit(t *testing.T, line string) {
	t.Helper()
	want, wantErr := splitSlowly(line)
	fields, err := splitFields(line, nil)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("%q: error %v, want %v", line, err, wantErr)
	}
	if err != nil {
		return
	}
	var got []string
	for _, f := range fields {
		raw := f.raw(line)
		got = append(got, raw)
		if f.quoted != strings.HasPrefix(raw, `"`) || f.esc != (f.quoted && strings.Contains(f.val(line), `\`)) {
			t.Fatalf("%q: field %q quoted %v esc %v", line, raw, f.quoted, f.esc)
		}
		if f.quoted && `"`+f.val(line)+`"` != raw || !f.quoted && f.val(line) != raw {
			t.Fatalf("%q: field %q has value %q", line, raw, f.val(line))
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%q: fields %q, want %q", line, got, want)
	}
}

var splitCases = []string{
	``, ` `, `a`, `a b  c `, `"a b" c`, `"a \" b" c`, `"a \\" b"`, `"a \\\" b" c`, `"\\\\" x`, `"x\"`, `"x\\`, `"`, `""`, `"" ""`,
	`"h2","http/1.1" 2026-01-01T00:00:00`, `a"b c`, `"a"b c"`, `"- - - " "-" - -`, `"\"" "\\"`, `x "unclosed`, `"a\`,
}

func TestSplitFields(t *testing.T) {
	for _, line := range splitCases {
		checkSplit(t, line)
	}
	line := `"a \"quoted\" word" "C:\\dir\\" "\x41"`
	fields, err := splitFields(line, nil)
	if err != nil || len(fields) != 3 {
		t.Fatalf("%v %v", fields, err)
	}
	for i, want := range []string{`a "quoted" word`, `C:\dir\`, `\x41`} {
		if got := fields[i].text(line); got != want {
			t.Errorf("field %d: %q, want %q", i, got, want)
		}
	}
}

func FuzzSplitFields(f *testing.F) {
	for _, s := range append(splitCases, fuzzSeeds...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		checkSplit(t, line)
	})
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2018-07-02T22:23:00.186641Z":    time.Date(2018, 7, 2, 22, 23, 0, 186641000, time.UTC),
		"2018-12-20T02:59:40":            time.Date(2018, 12, 20, 2, 59, 40, 0, time.UTC),
		"2018-12-20T02:59:40Z":           time.Date(2018, 12, 20, 2, 59, 40, 0, time.UTC),
		"2024-02-29T23:59:59.123456789Z": time.Date(2024, 2, 29, 23, 59, 59, 123456789, time.UTC),
		"2024-02-29T23:59:59.1":          time.Date(2024, 2, 29, 23, 59, 59, 1e8, time.UTC),
	} {
		got, err := parseTime(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"", "2018-07-02", "2018-07-02 22:23:00Z", "2018-07-02T22:23:00+01:00", "2018-07-02T22:23:00.Z",
		"2018-07-02T22:23:00.1234567890Z", "2023-02-29T00:00:00Z", "2018-13-02T22:23:00Z", "2018-07-02T24:00:00Z",
		"2018-07-02T22:60:00Z", "2018-07-02T22:23:60Z", "1969-12-31T23:59:59Z", "9001-01-01T00:00:00Z", "2018-07-0xT22:23:00Z", "2018-07-02T22:23:00ZZ"} {
		if got, err := parseTime(in); err == nil {
			t.Errorf("%q accepted as %v", in, got)
		}
	}
}

func TestDecimals(t *testing.T) {
	for in, want := range map[string]string{
		"0.000": "0", "0.086": "0.086", "754.398": "754.398", "-1": "-1", "12.5": "12.5", "0.000073": "0.000073",
		"5": "5", "1.": "1", ".5": "0.5", "0.1234567891": "0.123456789", "9223372035": "9223372035", "007": "7",
	} {
		v, ok := parseDecimal(in)
		if !ok {
			t.Errorf("%s refused", in)
			continue
		}
		if got := string(appendDecimal(nil, v)); got != want {
			t.Errorf("%s written as %s, want %s", in, got, want)
		}
	}
	for _, in := range []string{"", "-", ".", "1.2.3", "1e5", "0x10", "9223372036", "1 ", "NaN"} {
		if v, ok := parseDecimal(in); ok {
			t.Errorf("%q read as %d", in, v)
		}
	}
	for in, want := range map[string]int64{"0": 0, "200": 200, "000": 0, "999999999999999999": 999999999999999999} {
		if got, ok := parseCount(in); !ok || got != want {
			t.Errorf("%s: %d %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "-1", "1.5", "1000000000000000000", "2x"} {
		if _, ok := parseCount(in); ok {
			t.Errorf("%q read as a count", in)
		}
	}
}

func TestParseEndpoint(t *testing.T) {
	for in, want := range map[string]endpoint{
		"10.0.0.1:80":                      {"10.0.0.1", 80},
		"[2001:db8::1]:443":                {"2001:db8::1", 443},
		"[2001:DB8:0:0:0:0:0:1]:443":       {"2001:db8::1", 443},
		"[::ffff:192.0.2.1]:0":             {"::ffff:192.0.2.1", 0},
		"[fe80::202:b3ff:fe1e:8329]:65535": {"fe80::202:b3ff:fe1e:8329", 65535},
	} {
		got, ok := parseEndpoint(in)
		if !ok || got != want {
			t.Errorf("%s: %+v %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "-", "10.0.0.1", "10.0.0.1:", "10.0.0.1:65536", "10.0.0.1:-1", "010.0.0.1:80", "host:80",
		"2001:db8::1:80", "[2001:db8::1]", "[2001:db8::1]80", "[fe80::1%eth0]:80", "[10.0.0.1]:80x"} {
		if got, ok := parseEndpoint(in); ok {
			t.Errorf("%q read as %+v", in, got)
		}
	}
}

func TestParseRequestAndURL(t *testing.T) {
	for in, want := range map[string]requestLine{
		"GET https://h:443/ HTTP/1.1":          {"GET", "https://h:443/", "HTTP/1.1"},
		"- - - ":                               {},
		"- http://h:80- -":                     {"", "http://h:80-", ""},
		"GET /a b HTTP/1.1":                    {"GET", "/a b", "HTTP/1.1"},
		"GET /":                                {"GET", "/", ""},
		"GARBAGE":                              {"", "GARBAGE", ""},
		"POST https://h:443/x.Y/Z HTTP/2.0   ": {"POST", "https://h:443/x.Y/Z", "HTTP/2.0"},
	} {
		if got := parseRequest(in); got != want {
			t.Errorf("%q: %+v, want %+v", in, got, want)
		}
	}
	for in, want := range map[string]ecs.URL{
		"https://www.example.com:443/a/b?c=d&e": {Scheme: "https", Domain: "www.example.com", Port: 443, Path: "/a/b", Query: "c=d&e"},
		"http://[2001:db8::1]:80/x":             {Scheme: "http", Domain: "[2001:db8::1]", Port: 80, Path: "/x"},
		"HTTP://User:pw@Host.example/#frag":     {Scheme: "http", Domain: "Host.example", Path: "/"},
		"http://k8s-x.elb.amazonaws.com:80-":    {Scheme: "http", Domain: "k8s-x.elb.amazonaws.com"},
		"http://h:99999/p":                      {Scheme: "http", Domain: "h", Path: "/p"},
		"/relative?q=1":                         {Path: "/relative", Query: "q=1"},
		"*":                                     {},
		"1http://x/":                            {},
		"http://[::1":                           {Scheme: "http", Domain: "[::1"},
	} {
		want.Original = in
		if got := parseURL(in); got != want {
			t.Errorf("%q: %+v, want %+v", in, got, want)
		}
	}
}

func TestRegion(t *testing.T) {
	for s, want := range map[string]bool{"us-east-1": true, "us-gov-west-1": true, "eu-central-2": true, "": false, "2026": false, "US-EAST-1": false, "-us-east-1": false} {
		if isRegion(s) != want {
			t.Errorf("isRegion(%q) = %v", s, !want)
		}
	}
	f := mustELB(t, format.Options{})
	d := f.Decoder(format.Object{Key: "x/AWSLogs/123456789012/elasticloadbalancing/not_a_region/2026/01/01/f.log"}).(*decoder)
	if d.account != "123456789012" || d.region != "" {
		t.Errorf("account %q region %q", d.account, d.region)
	}
	d = f.Decoder(format.Object{Key: "elb/2026/01/01/f.log"}).(*decoder)
	if d.account != "" || d.region != "" {
		t.Errorf("a key without AWSLogs: account %q region %q", d.account, d.region)
	}
}

// TestHugeTimes: processing times too large to add up give no duration
// rather than a wrapped one.
func TestHugeTimes(t *testing.T) {
	f := mustELB(t, format.Options{})
	line := `2026-03-14T11:15:42.112233Z legacy-web 203.0.113.150:45678 10.40.0.5:80 9223372035 9223372035 0.5 200 200 0 5120 "GET http://h:80/ HTTP/1.1" "-" - -`
	d, err := f.Decoder(format.Object{Key: classicKey}).Decode([]byte(line), 1)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(d.Body), `"duration"`) || !strings.Contains(string(d.Body), `"backend_processing_time":9223372035`) {
		t.Errorf("body %s", d.Body)
	}
}
