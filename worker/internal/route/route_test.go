package route

import (
	"testing"

	"github.com/logtide/logtide/worker/format"
)

// fakeFormat claims the keys of one AWSLogs service; "Digest" keys are
// skipped.
type fakeFormat struct{ name, service string }

func (f fakeFormat) Name() string { return f.name }
func (f fakeFormat) Claim(k format.Key) format.Claim {
	switch k.Service {
	case f.service:
		return format.Read
	case f.service + "-Digest":
		return format.Skip
	}
	return format.NotMine
}
func (fakeFormat) Framing() format.Framing                         { return format.Lines }
func (fakeFormat) Decoder(format.Object) format.Decoder            { return nil }
func (fakeFormat) IndexTemplate(format.Engine) (name, body string) { return "", "" }
func (fakeFormat) IndexPattern() string                            { return "" }

func TestRoute(t *testing.T) {
	gd, ct := fakeFormat{"guardduty", "GuardDuty"}, fakeFormat{"cloudtrail", "CloudTrail"}
	rules := []Rule{{"exports/*.jsonl.gz", "guardduty"}, {"trail-??/*", "cloudtrail"}, {"AWSLogs/*/Config/*", "skip"}}
	r, err := New([]format.Format{gd, ct}, rules)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"AWSLogs/123456789012/GuardDuty/us-east-1/2026/01/05/x.jsonl.gz":   "guardduty read",
		"p/AWSLogs/123456789012/CloudTrail/us-east-1/2026/01/05/x.json.gz": "cloudtrail read",
		"AWSLogs/123456789012/CloudTrail-Digest/us-east-1/x.json.gz":       "cloudtrail skip",
		"exports/a/b/c.jsonl.gz":                                   "guardduty read",
		"exports/a/b/c.json":                                       "none",
		"trail-01/AWSLogs/123456789012/CloudTrail-Digest/x":        "cloudtrail skip",
		"trail-001/x":                                              "none",
		"AWSLogs/123456789012/vpcflowlogs/us-east-1/x.log.gz":      "none",
		"2026-01-05-10-00-00-ABCDEF0123456789":                     "none",
		"AWSLogs/123456789012/Config/us-east-1/2026/1/5/x.json.gz": "skipped by rule",
	} {
		f, c := r.Route(key)
		got := "none"
		if f == nil && c == format.Skip {
			got = "skipped by rule"
		}
		if f != nil {
			got = f.Name() + map[format.Claim]string{format.Read: " read", format.Skip: " skip"}[c]
		}
		if got != want {
			t.Errorf("Route(%q) = %s, want %s", key, got, want)
		}
	}
	if _, err := New([]format.Format{gd}, []Rule{{"x/*", "nope"}}); err == nil {
		t.Error("a rule naming no format was accepted")
	}
	if _, err := New([]format.Format{gd}, []Rule{{"", "skip"}}); err == nil {
		t.Error("a skip rule with an empty pattern was accepted")
	}
}

func TestParseRule(t *testing.T) {
	r, err := ParseRule("firehose/waf=x/*=waf")
	if err != nil || r.Pattern != "firehose/waf=x/*" || r.Format != "waf" {
		t.Errorf("got %+v, %v", r, err)
	}
	for _, bad := range []string{"", "x", "=waf", "x/*="} {
		if _, err := ParseRule(bad); err == nil {
			t.Errorf("ParseRule(%q) accepted", bad)
		}
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		p, s string
		ok   bool
	}{
		{"*", "", true}, {"*", "a/b", true}, {"a*c", "abc", true}, {"a*c", "ab/xc", true}, {"a*c", "abd", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"*.gz", "x.log.gz", true}, {"*.gz", "x.gz.log", false},
		{"a**b", "ab", true}, {"*a*a*a*", "aaa", true}, {"*a*a*a*", "aa", false}, {"abc", "abc", true}, {"abc", "abcd", false},
	} {
		if got := match(c.p, c.s); got != c.ok {
			t.Errorf("match(%q, %q) = %v", c.p, c.s, got)
		}
	}
}

func TestProbeIsSkipped(t *testing.T) {
	r, err := New(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]bool{
		"AWSLogs/logtide-check-probe-123.gz": true,
		"logtide-check-probe-1.gz":           true,
		"AWSLogs/x-logtide-check-probe-1.gz": false,
		"logtide-check-probe-dir/a.gz":       false,
	} {
		f, c := r.Route(key)
		if got := c == format.Skip && f == nil; got != want || IsProbe(key) != want {
			t.Errorf("%s: skipped %v, want %v", key, got, want)
		}
	}
}
