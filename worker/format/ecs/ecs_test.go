package ecs

import (
	"encoding/json"
	"fmt"
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
