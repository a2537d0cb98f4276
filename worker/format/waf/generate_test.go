package waf

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

func mustCorpus(t testing.TB, o CorpusOptions) *Corpus { return formattest.Must(t, NewCorpus, o) }

func gunzip(t testing.TB, b []byte) []byte { return formattest.Gunzip(t, b) }

// TestGenerator: a region named "cloudfront", the key folder of the web
// ACLs of CloudFront, is refused too.
func TestGenerator(t *testing.T) {
	formattest.CheckGenerator(t, Spec, format.GenerateOptions{Seed: 42, Objects: 12, RecordsPerObject: 30, Prefix: "edge/waf",
		Accounts: []string{"111122223333", "444455556666"}, Regions: []string{"us-west-2", "eu-north-1"},
		Start: time.Date(2026, 3, 31, 23, 52, 0, 0, time.UTC)},
		format.GenerateOptions{Regions: []string{"cloudfront"}})
}

// TestCorpusAsTheWorkerReadsIt: generated objects, read through the
// worker's decompression and framing, give valid documents; documents that
// share an id are the same request.
func TestCorpusAsTheWorkerReadsIt(t *testing.T) {
	docs := formattest.CheckCorpus(t, Spec, format.GenerateOptions{Seed: 3, Objects: 6, RecordsPerObject: 300,
		Accounts: []string{"111122223333", "444455556666"}, Regions: []string{"eu-central-1", "ap-northeast-1"}})
	if len(docs) != 1800 {
		t.Fatalf("%d documents", len(docs))
	}
	byID := map[string][]byte{}
	dups := 0
	for _, d := range docs {
		// Every generated client address is one: none is dropped.
		if !bytes.Contains(d.Body, []byte(`"source":{"ip":`)) {
			t.Fatalf("no source.ip in %s", d.Body)
		}
		if prev, ok := byID[d.ID]; ok {
			dups++
			if !bytes.Equal(prev, d.Body) {
				t.Fatalf("two distinct requests share the id %s", d.ID)
			}
		}
		byID[d.ID] = d.Body
	}
	if dups == 0 {
		t.Error("no request delivered twice")
	}
}

var keyRE = regexp.MustCompile(`^(.*)AWSLogs/(\d{12})/WAFLogs/([a-z0-9-]+)/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/(\d{2})/(\d{2})/(\d{12})_waflogs_([a-z0-9-]+)_([a-z0-9-]+)_(\d{8}T\d{4}Z)_[0-9a-f]{8}\.log\.gz$`)

func TestCorpusKeys(t *testing.T) {
	accounts := []string{"111122223333", "444455556666"}
	regions := []string{"us-west-2", "eu-north-1"}
	c := mustCorpus(t, CorpusOptions{Seed: 8, Objects: 30, RequestsPerObject: 1, Prefix: "edge/waf",
		Accounts: accounts, Regions: regions, Start: time.Date(2026, 3, 31, 23, 52, 0, 0, time.UTC)})
	last := map[string]time.Time{}
	folders := map[string]bool{}
	for _, o := range c.Objects() {
		m := keyRE.FindStringSubmatch(o.Key)
		if m == nil {
			t.Fatalf("key %q does not match the WAF layout", o.Key)
		}
		if m[1] != "edge/waf/" || m[2] != m[10] || m[3] != m[11] || m[4] != m[12] || o.ContentType != "application/gzip" {
			t.Fatalf("key %q: prefix, account, folder or name differ between folders and file name", o.Key)
		}
		at, err := time.Parse("2006/01/02/15/04", strings.Join(m[5:10], "/"))
		if err != nil || at.Format("20060102T1504Z") != m[13] || at.Minute()%5 != 0 {
			t.Fatalf("key %q: folders and file name disagree on the time (%v)", o.Key, err)
		}
		acl := m[2] + "/" + m[3]
		if prev, ok := last[acl]; ok && at.Sub(prev) != 5*time.Minute {
			t.Fatalf("key %q: %v after the web ACL's previous object", o.Key, at.Sub(prev))
		}
		last[acl] = at
		folders[m[3]] = true
		if f, _ := New(format.Options{}); f.Claim(format.ParseKey(o.Key)) != format.Read {
			t.Fatalf("key %q not claimed", o.Key)
		}
	}
	if len(last) != 6 || !folders["cloudfront"] || !folders["us-west-2"] || !folders["eu-north-1"] {
		t.Errorf("web ACLs %v", last)
	}
}

// TestCorpusContent: the records have the variety of real logs, the times
// of their object, and every edge case the decoder must handle.
func TestCorpusContent(t *testing.T) {
	c := mustCorpus(t, CorpusOptions{Seed: 5, Objects: 8, RequestsPerObject: 400, Regions: []string{"us-east-1", "eu-west-1"}})
	seen := map[string]int{}
	for i, o := range c.Objects() {
		m := keyRE.FindStringSubmatch(o.Key)
		start, _ := time.Parse("20060102T1504Z", m[13])
		lines := formattest.Lines(t, formattest.ObjectBytes(t, c, i))
		if len(lines) != o.Records {
			t.Fatalf("%s: %d lines, %d records", o.Key, len(lines), o.Records)
		}
		var prev int64
		for n, l := range lines {
			if n > 0 && bytes.Equal(l, lines[n-1]) {
				seen["duplicate"]++
				continue
			}
			var r wafRecord
			if err := json.Unmarshal(l, &r); err != nil {
				t.Fatalf("%s line %d: %v", o.Key, n+1, err)
			}
			ts := time.UnixMilli(r.Timestamp)
			if ts.Before(start) || !ts.Before(start.Add(5*time.Minute)) || r.Timestamp < prev {
				t.Fatalf("%s line %d: time %v outside its object's window or going back", o.Key, n+1, ts)
			}
			prev = r.Timestamp
			if (m[3] == "cloudfront") != (r.HTTPSourceName == "CF") || !strings.Contains(r.WebACLID, ":"+m[2]+":") {
				t.Fatalf("%s line %d: source %s, web ACL %s", o.Key, n+1, r.HTTPSourceName, r.WebACLID)
			}
			if _, err := netip.ParseAddr(r.HTTPRequest.ClientIP); err != nil {
				t.Fatalf("%s line %d: clientIp %v", o.Key, n+1, err)
			}
			note(seen, &r)
		}
	}
	for _, want := range []string{
		"action ALLOW", "action BLOCK", "action CAPTCHA", "action CHALLENGE",
		"rule MANAGED_RULE_GROUP", "rule RATE_BASED", "group terminating rule", "COUNT", "COUNT in a rule group",
		"source CF", "source ALB", "source APIGW", "source APPSYNC", "source COGNITOIDP",
		"window number", "window string", "ipv6", "several X-Forwarded-For", "header host", "header Host",
		"no requestId", "duplicate", "labels", "captchaResponse", "challengeResponse", "solved captcha", "responseCodeSent", "match details",
	} {
		if seen[want] == 0 {
			t.Errorf("no %s in the corpus", want)
		}
	}
	if share := float64(seen["action ALLOW"]) / float64(c.Records()); share < 0.6 || share > 0.95 {
		t.Errorf("%.2f of requests allowed, want most", share)
	}
}

// wafRecord is what the content test reads of a generated record.
type wafRecord struct {
	Timestamp           int64  `json:"timestamp"`
	WebACLID            string `json:"webaclId"`
	Action              string `json:"action"`
	TerminatingRuleType string `json:"terminatingRuleType"`
	HTTPSourceName      string `json:"httpSourceName"`
	MatchDetails        []any  `json:"terminatingRuleMatchDetails"`
	RuleGroupList       []struct {
		TerminatingRule *struct{ RuleID string }  `json:"terminatingRule"`
		NonTerminating  []struct{ Action string } `json:"nonTerminatingMatchingRules"`
	} `json:"ruleGroupList"`
	RateBasedRuleList []struct {
		Window json.RawMessage `json:"evaluationWindowSec"`
	} `json:"rateBasedRuleList"`
	NonTerminating []struct {
		Action          string `json:"action"`
		CaptchaResponse *struct {
			ResponseCode int `json:"responseCode"`
		} `json:"captchaResponse"`
	} `json:"nonTerminatingMatchingRules"`
	ResponseCodeSent *int `json:"responseCodeSent"`
	HTTPRequest      struct {
		ClientIP  string  `json:"clientIp"`
		RequestID *string `json:"requestId"`
		Headers   []struct {
			Name, Value string
		} `json:"headers"`
	} `json:"httpRequest"`
	Labels            []struct{ Name string } `json:"labels"`
	CaptchaResponse   map[string]any          `json:"captchaResponse"`
	ChallengeResponse map[string]any          `json:"challengeResponse"`
}

func note(seen map[string]int, r *wafRecord) {
	seen["action "+r.Action]++
	seen["source "+r.HTTPSourceName]++
	if r.Action == "BLOCK" {
		seen["rule "+r.TerminatingRuleType]++
	}
	if len(r.MatchDetails) > 0 {
		seen["match details"]++
	}
	for _, g := range r.RuleGroupList {
		if g.TerminatingRule != nil {
			seen["group terminating rule"]++
		}
		for _, n := range g.NonTerminating {
			if n.Action == "COUNT" {
				seen["COUNT in a rule group"]++
			}
		}
	}
	for _, rb := range r.RateBasedRuleList {
		if bytes.HasPrefix(rb.Window, []byte(`"`)) {
			seen["window string"]++
		} else {
			seen["window number"]++
		}
	}
	for _, n := range r.NonTerminating {
		seen[n.Action]++
		if n.CaptchaResponse != nil && n.CaptchaResponse.ResponseCode == 0 {
			seen["solved captcha"]++
		}
	}
	if r.ResponseCodeSent != nil {
		seen["responseCodeSent"]++
	}
	if strings.Contains(r.HTTPRequest.ClientIP, ":") {
		seen["ipv6"]++
	}
	if r.HTTPRequest.RequestID == nil {
		seen["no requestId"]++
	}
	xff := 0
	for _, h := range r.HTTPRequest.Headers {
		if h.Name == "host" || h.Name == "Host" {
			seen["header "+h.Name]++
		}
		if strings.EqualFold(h.Name, "x-forwarded-for") {
			xff++
		}
	}
	if xff > 1 {
		seen["several X-Forwarded-For"]++
	}
	if len(r.Labels) > 0 {
		seen["labels"]++
	}
	if r.CaptchaResponse != nil {
		seen["captchaResponse"]++
	}
	if r.ChallengeResponse != nil {
		seen["challengeResponse"]++
	}
}

func TestCorpusDefaults(t *testing.T) {
	c := mustCorpus(t, CorpusOptions{})
	if c.Records() != 500 {
		t.Errorf("default corpus: %d records", c.Records())
	}
	first := c.Objects()[0].Key
	if !strings.HasPrefix(first, "AWSLogs/123456789012/WAFLogs/cloudfront/") || !strings.Contains(first, "/2026/01/05/00/00/") {
		t.Errorf("first key %s", first)
	}
}

// TestWriteObjectStreams: the heap needed to write an object does not grow
// with the object: a gzip compressor and one record.
func TestWriteObjectStreams(t *testing.T) {
	n := 50_000
	if formattest.Race || testing.Short() {
		n = 10_000
	}
	formattest.CheckStreaming(t, Spec, format.GenerateOptions{Seed: 77, Objects: 1, RecordsPerObject: n}, n/20, 0)
}
