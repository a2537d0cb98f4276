package ecs

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestAppend(t *testing.T) {
	f := Fields{
		Timestamp:   time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.FixedZone("x", 3600)),
		Event:       Event{Kind: "event", Category: []string{"network"}, Type: []string{"connection", "allowed"}, Action: "ACCEPT", Outcome: "success", Dataset: "aws.vpcflow", Duration: 60 * time.Second},
		Source:      Endpoint{IP: "10.0.0.1", Port: 49152, Bytes: 840, Packets: 10},
		Destination: Endpoint{IP: "[2001:db8::7]", Port: 443},
		Network:     Network{Transport: "tcp", IANANumber: "6", Bytes: 840, Packets: 10},
		UserName:    "ci-deploy",
		Cloud:       Cloud{AccountID: "123456789012", Region: "eu-west-1"},
		URL:         URL{Original: "https://example.com:8443/a?b=c", Domain: "example.com", Port: 8443, Path: "/a", Query: "b=c", Scheme: "https"},
		HTTP:        HTTP{Method: "GET", StatusCode: 200, Version: "1.1", ResponseBytes: 512},
		UserAgent:   "curl/8.5.0",
		RelatedIPs:  []string{"10.0.0.1", "-", "198.51.100.9", "not an ip"},
	}
	b := f.Append([]byte(`{"x":1`))
	b = append(b, '}')
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	for path, want := range map[string]string{
		"@timestamp":                "2026-03-14T08:26:53.589Z",
		"event.kind":                "event",
		"event.type":                "[connection allowed]",
		"event.module":              "aws",
		"event.duration":            "6e+10",
		"source.ip":                 "10.0.0.1",
		"source.address":            "10.0.0.1",
		"destination.ip":            "2001:db8::7",
		"destination.port":          "443",
		"network.iana_number":       "6",
		"user.name":                 "ci-deploy",
		"cloud.provider":            "aws",
		"cloud.account.id":          "123456789012",
		"url.port":                  "8443",
		"http.request.method":       "GET",
		"http.response.status_code": "200",
		"http.response.bytes":       "512",
		"http.version":              "1.1",
		"user_agent.original":       "curl/8.5.0",
		"related.ip":                "[10.0.0.1 2001:db8::7 198.51.100.9]",
		"related.user":              "[ci-deploy]",
	} {
		if got := fmt.Sprint(get(m, path)); got != want {
			t.Errorf("%s = %s, want %s", path, got, want)
		}
	}
	// The bytes themselves: documents already indexed were written so.
	if got, want := string(f.Append([]byte(`{"x":1`))), `{"x":1,"@timestamp":"2026-03-14T08:26:53.589Z","event":{"kind":"event","category":["network"],"type":["connection","allowed"],"action":"ACCEPT","outcome":"success","dataset":"aws.vpcflow","module":"aws","duration":60000000000},"source":{"ip":"10.0.0.1","port":49152,"address":"10.0.0.1","bytes":840,"packets":10},"destination":{"ip":"2001:db8::7","port":443,"address":"2001:db8::7"},"network":{"transport":"tcp","iana_number":"6","bytes":840,"packets":10},"user":{"name":"ci-deploy"},"cloud":{"provider":"aws","account":{"id":"123456789012"},"region":"eu-west-1"},"url":{"original":"https://example.com:8443/a?b=c","scheme":"https","domain":"example.com","port":8443,"path":"/a","query":"b=c"},"http":{"request":{"method":"GET"},"response":{"status_code":200,"bytes":512},"version":"1.1"},"user_agent":{"original":"curl/8.5.0"},"related":{"ip":["10.0.0.1","2001:db8::7","198.51.100.9"],"user":["ci-deploy"]}`; got != want {
		t.Errorf("Append wrote\n%s\nwant\n%s", got, want)
	}
	g := Fields{Source: Endpoint{Address: "host \"q\"", Port: 70000}, HTTP: HTTP{RequestBytes: 3}, Event: Event{Provider: "p\u2028"},
		RelatedUsers: []string{"a", "b", "a"}, RelatedIPs: []string{"::1", "[::1]", "fe80::1%eth0"}}
	if got, want := string(g.Append([]byte(`{"x":1`))), `{"x":1,"event":{"module":"aws","provider":"p\u2028"},"source":{"address":"host \"q\""},"cloud":{"provider":"aws"},"http":{"request":{"bytes":3}},"related":{"ip":["::1","fe80::1"],"user":["a","b"]}`; got != want {
		t.Errorf("Append wrote\n%s\nwant\n%s", got, want)
	}
	// Empty fields write nothing but the constants.
	b = (&Fields{}).Append([]byte(`{"x":1`))
	if string(b) != `{"x":1,"event":{"module":"aws"},"cloud":{"provider":"aws"}` {
		t.Errorf("empty fields: %s", b)
	}
}

func get(m map[string]any, path string) any {
	var cur any = m
	for path != "" {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if v, ok := obj[path]; ok { // "@timestamp" and dotted leaves
			return v
		}
		i := 0
		for i < len(path) && path[i] != '.' {
			i++
		}
		cur = obj[path[:i]]
		if i == len(path) {
			return cur
		}
		path = path[i+1:]
	}
	return cur
}

func TestIP(t *testing.T) {
	for in, want := range map[string]string{"10.0.0.1": "10.0.0.1", "[::1]": "::1", "fe80::1%eth0": "fe80::1", "-": "", "": "", "10.0.0.1:80": "", "example.com": ""} {
		if got := IP(in); got != want {
			t.Errorf("IP(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTemplateMapsEveryField(t *testing.T) {
	body := ComponentTemplate()
	var tmpl struct {
		Template struct {
			Mappings struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal([]byte(body), &tmpl); err != nil {
		t.Fatal(err)
	}
	for _, top := range []string{"@timestamp", "event", "source", "destination", "network", "user", "cloud", "url", "http", "user_agent", "related"} {
		if _, ok := tmpl.Template.Mappings.Properties[top]; !ok {
			t.Errorf("the template does not map %s", top)
		}
	}
}

// BenchmarkAppend writes the ECS fields of a typical access log line.
func BenchmarkAppend(b *testing.B) {
	f := Fields{
		Timestamp:   time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.UTC),
		Event:       Event{Kind: "event", Category: []string{"web"}, Type: []string{"access"}, Outcome: "success", Dataset: "aws.elb", Provider: "elasticloadbalancing", Duration: 17 * time.Millisecond},
		Source:      Endpoint{IP: "198.51.100.84", Port: 31492},
		Destination: Endpoint{IP: "10.0.1.117", Port: 8080},
		Network:     Network{Transport: "tcp", Protocol: "http"},
		Cloud:       Cloud{AccountID: "123456789012", Region: "us-east-1", ServiceName: "elb"},
		URL:         URL{Original: "https://api.example.com:443/api/v1/orders?q=shoes&page=2", Scheme: "https", Domain: "api.example.com", Port: 443, Path: "/api/v1/orders", Query: "q=shoes&page=2"},
		HTTP:        HTTP{Method: "GET", StatusCode: 200, Version: "1.1", RequestBytes: 2194, ResponseBytes: 172776},
		UserAgent:   "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	}
	b.ReportAllocs()
	buf := make([]byte, 0, 4096)
	for b.Loop() {
		buf = f.Append(append(buf[:0], `{"x":1`...))
	}
}

// ipByNetip is IP without its shortcuts.
func ipByNetip(s string) string {
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return ""
	}
	return a.WithZone("").String()
}

func TestIPMatchesNetip(t *testing.T) {
	for _, s := range []string{"", "1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3.04", "1.2.3", "1.2.3.4.",
		".1.2.3", "1..2.3", "1.2.3.4a", "1234.1.1.1", "1.2.3.1000", "00.1.1.1", "::ffff:1.2.3.4", "[1.2.3.4]", "1.2.3.4%eth0", "::", "2001:DB8::1"} {
		if got, want := IP(s), ipByNetip(s); got != want {
			t.Errorf("IP(%q) = %q, want %q", s, got, want)
		}
		_, err := netip.ParseAddr(s)
		if got, want := IsIPv4(s), err == nil && netip.MustParseAddr(s).Is4() && !strings.Contains(s, "%"); got != want {
			t.Errorf("IsIPv4(%q) = %v", s, got)
		}
	}
}

func FuzzIP(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "01.2.3.4", "[::1]", "fe80::1%eth0", "1.2.3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := IP(s), ipByNetip(s); got != want {
			t.Fatalf("IP(%q) = %q, want %q", s, got, want)
		}
		a, err := netip.ParseAddr(s)
		if got, want := IsIPv4(s), err == nil && a.Is4() && a.Zone() == ""; got != want {
			t.Fatalf("IsIPv4(%q) = %v", s, got)
		}
		if IsIPv4(s) != IsIPv4([]byte(s)) {
			t.Fatalf("IsIPv4(%q) differs for bytes", s)
		}
	})
}
