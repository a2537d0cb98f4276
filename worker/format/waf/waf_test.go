package waf

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/logtide/logtide/testenv/refdata"
	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

const (
	fixtureAccount = "210987654321"
	cfACL          = "arn:aws:wafv2:us-east-1:210987654321:global/webacl/shop-edge-acl/9c2f4e1a-7b3d-4c58-a1e6-0f2d8b7c6e54"
	regionalACL    = "arn:aws:wafv2:eu-west-1:210987654321:regional/webacl/shop-regional-acl/3e8a1f0c-5d27-4b9e-8c61-2a4f7d9e0b13"

	cfKey      = "AWSLogs/210987654321/WAFLogs/cloudfront/shop-edge-acl/2026/03/14/09/05/210987654321_waflogs_cloudfront_shop-edge-acl_20260314T0905Z_4f1c9e2a.log.gz"
	cfLateKey  = "AWSLogs/210987654321/WAFLogs/cloudfront/shop-edge-acl/2026/03/14/09/10/210987654321_waflogs_cloudfront_shop-edge-acl_20260314T0910Z_b70d3e51.log.gz"
	regionKey  = "waf-logs/AWSLogs/210987654321/WAFLogs/eu-west-1/shop-regional-acl/2026/03/14/21/55/210987654321_waflogs_eu-west-1_shop-regional-acl_20260314T2155Z_0c9a2f7d.log.gz"
	testBucket = "aws-waf-logs-harbour"

	uaFirefox = "Mozilla/5.0 (X11; Fedora; Linux x86_64; rv:134.0) Gecko/20100101 Firefox/134.0"
)

func mustWAF(t testing.TB, o format.Options) *WAF { return formattest.Must(t, New, o) }

func gz(t testing.TB, b []byte) []byte { return formattest.Gzip(t, b) }

// readFixture reads testdata/file as the gzip object key, the way the
// worker reads it.
func readFixture(t *testing.T, w *WAF, file, key string) formattest.Result {
	t.Helper()
	if claim := w.Claim(format.ParseKey(key)); claim != format.Read {
		t.Fatalf("%s: claim %d", key, claim)
	}
	return formattest.Read(t, w, format.Object{Bucket: testBucket, Key: key}, gz(t, formattest.Testdata(t, file)))
}

// wantID is the natural id, computed here independently of the decoder.
func wantID(webACL, requestID string, ms int64) string {
	var b []byte
	b = append(b, webACL...)
	b = append(b, 0)
	b = append(b, requestID...)
	b = append(b, 0)
	b = binary.BigEndian.AppendUint64(b, uint64(ms))
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:20])
}

// expect is what a fixture document must hold. Fields left empty must be
// absent from the document.
type expect struct {
	n                   int
	index, id, ts       string
	action, typ, out    string
	provider            string
	ip, method, version string
	path, query, domain string
	port                float64
	ua                  string
	account, region     string
	related             []string
	status              float64
}

func checkDoc(t *testing.T, w *WAF, d formattest.Doc, e expect) map[string]any {
	t.Helper()
	m := formattest.Check(t, w, d.Document)
	get := func(path ...string) any { return formattest.Get(m, path...) }
	str := func(path ...string) string { s, _ := get(path...).(string); return s }
	num := func(path ...string) float64 { f, _ := get(path...).(float64); return f }
	if d.N != e.n || d.Index != e.index || d.ID != e.id || d.Version != 0 {
		t.Errorf("line %d: n %d index %s id %s version %d, want %d %s %s 0", e.n, d.N, d.Index, d.ID, d.Version, e.n, e.index, e.id)
	}
	got := []string{
		str("@timestamp"), str("event", "kind"), fmt.Sprint(get("event", "category")), str("event", "action"),
		fmt.Sprint(get("event", "type")), str("event", "outcome"), str("event", "dataset"), str("event", "provider"),
		str("source", "ip"), str("http", "request", "method"), str("http", "version"),
		str("url", "path"), str("url", "query"), str("url", "domain"), str("user_agent", "original"),
		str("cloud", "account", "id"), str("cloud", "region"), fmt.Sprint(get("related", "ip")),
		fmt.Sprint(num("url", "port")), fmt.Sprint(num("http", "response", "status_code")), str("network", "protocol"),
	}
	related := "[" + strings.Join(e.related, " ") + "]"
	if len(e.related) == 0 {
		related = "<nil>"
	}
	want := []string{
		e.ts, "event", "[web]", e.action,
		"[access " + e.typ + "]", e.out, "aws.waf", e.provider,
		e.ip, e.method, e.version,
		e.path, e.query, e.domain, e.ua,
		e.account, e.region, related,
		fmt.Sprint(e.port), fmt.Sprint(e.status), "http",
	}
	names := []string{"@timestamp", "event.kind", "event.category", "event.action", "event.type", "event.outcome",
		"event.dataset", "event.provider", "source.ip", "http.request.method", "http.version", "url.path", "url.query",
		"url.domain", "user_agent.original", "cloud.account.id", "cloud.region", "related.ip", "url.port",
		"http.response.status_code", "network.protocol"}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("line %d: %s = %q, want %q", e.n, names[i], got[i], want[i])
		}
	}
	return m
}

// checkKept: every member of the record is in the document as it was.
func checkKept(t *testing.T, line []byte, m map[string]any) {
	t.Helper()
	var orig map[string]any
	if err := json.Unmarshal(line, &orig); err != nil {
		t.Fatal(err)
	}
	for k, v := range orig {
		a, _ := json.Marshal(v)
		b, _ := json.Marshal(m[k])
		if !bytes.Equal(a, b) {
			t.Errorf("%s changed from %s to %s", k, a, b)
		}
	}
}

func fixtureLines(t *testing.T, file string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSpace(b), []byte("\n"))
}

// TestCloudFrontObject: a CloudFront web ACL's object with an ALLOW whose
// rate-based rules have evaluationWindowSec as a number and as a string, a
// CHALLENGE from an IPv6 client, COUNT matches, a request without a
// requestId, a string timestamp and a broken line.
func TestCloudFrontObject(t *testing.T) {
	w := mustWAF(t, format.Options{})
	res := readFixture(t, w, "cloudfront.jsonl", cfKey)
	lines := fixtureLines(t, "cloudfront.jsonl")
	if len(res.Docs) != 4 || len(res.Skipped) != 0 || len(res.Dead) != 2 {
		t.Fatalf("%d documents, %d skipped, dead %+v", len(res.Docs), len(res.Skipped), res.Dead)
	}
	if res.Dead[0].N != 5 || !strings.Contains(res.Dead[0].Reason, "timestamp") || !strings.Contains(res.Dead[0].Reason, "string") {
		t.Errorf("string timestamp: %+v", res.Dead[0])
	}
	if res.Dead[1].N != 6 || res.Dead[1].Reason == "" {
		t.Errorf("broken line: %+v", res.Dead[1])
	}
	cf := expect{index: "waf-2026-03-14", provider: "CF", domain: "www.harbour-outfitters.example", account: fixtureAccount, region: "us-east-1"}

	e := cf
	e.n, e.id, e.ts = 1, wantID(cfACL, "k3Vq9ZbW2xT0mYpL8aRc4nH6dJ1sF5gE7uI-oK_Q3wXyNvB2tMzA9c==", 1773479112417), "2026-03-14T09:05:12.417Z"
	e.action, e.typ, e.out = "allow", "allowed", "success"
	e.ip, e.method, e.version, e.path, e.query, e.ua = "81.2.69.160", "GET", "2.0", "/collections/rain-jackets", "sort=newest&size=M", uaFirefox
	e.related = []string{"81.2.69.160"}
	m := checkDoc(t, w, res.Docs[0], e)
	checkKept(t, lines[0], m)
	rb, _ := m["rateBasedRuleList"].([]any)
	if len(rb) != 2 || fmt.Sprintf("%T %T", rb[0].(map[string]any)["evaluationWindowSec"], rb[1].(map[string]any)["evaluationWindowSec"]) != "float64 string" {
		t.Errorf("rateBasedRuleList %v: want evaluationWindowSec as a number, then a string", rb)
	}

	e = cf
	e.n, e.id, e.ts = 2, wantID(cfACL, "Zr8Pq1Lm5Nc2Vb7Xw0Ty4Ua9Se3Df6Gh1Jk8Lo2Mi5Nu7By0Vt4Cx==", 1773479200003), "2026-03-14T09:06:40.003Z"
	e.action, e.typ, e.out = "challenge", "denied", "failure"
	e.ip, e.method, e.version, e.path, e.query, e.ua = "2a02:a46e:5c1:0:d4f2:9b1e:3a7c:e010", "GET", "1.1", "/api/catalog/items", "page=41", "python-httpx/0.28.1"
	e.related = []string{e.ip}
	m = checkDoc(t, w, res.Docs[1], e)
	checkKept(t, lines[1], m)
	if formattest.Get(m, "challengeResponse", "responseCode") != 202.0 {
		t.Errorf("challengeResponse %v", m["challengeResponse"])
	}

	e = cf
	e.n, e.id, e.ts = 3, wantID(cfACL, "Qw3Er5Ty7Ui9Op1As3Df5Gh7Jk9Lz1Xc3Vb5Nm7Qa9Ws1Ed3Rf5Tg7==", 1773479222550), "2026-03-14T09:07:02.550Z"
	e.action, e.typ, e.out = "allow", "allowed", "success"
	e.ip, e.method, e.version, e.path, e.query, e.ua = "126.21.88.4", "GET", "2.0", "/admin/export", "format=csv", "curl/8.11.1"
	e.related = []string{e.ip}
	m = checkDoc(t, w, res.Docs[2], e)
	checkKept(t, lines[2], m)
	ntm, _ := m["nonTerminatingMatchingRules"].([]any)
	if len(ntm) != 1 || formattest.Get(ntm[0].(map[string]any), "action") != "COUNT" {
		t.Errorf("nonTerminatingMatchingRules %v", ntm)
	}
	if labels, _ := m["labels"].([]any); len(labels) != 4 {
		t.Errorf("labels %v", labels)
	}

	// No requestId: the id of the record's place in the object.
	e = cf
	e.n, e.id, e.ts = 4, format.PositionID(format.Object{Bucket: testBucket, Key: cfKey}, 4), "2026-03-14T09:08:30.000Z"
	e.action, e.typ, e.out = "allow", "allowed", "success"
	e.ip, e.method, e.version, e.path, e.ua = "49.36.201.17", "GET", "2.0", "/", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Mobile/15E148 Safari/604.1"
	e.related = []string{e.ip}
	checkKept(t, lines[3], checkDoc(t, w, res.Docs[3], e))
}

// TestRegionalObject: a regional web ACL's object: a BLOCK by a rule of a
// managed rule group, with mixed-case header names, a Host with a port and
// several X-Forwarded-For headers; a CAPTCHA; a rate-based BLOCK of an IPv6
// client with a custom response code.
func TestRegionalObject(t *testing.T) {
	w := mustWAF(t, format.Options{})
	res := readFixture(t, w, "regional.jsonl", regionKey)
	lines := fixtureLines(t, "regional.jsonl")
	if len(res.Docs) != 3 || len(res.Dead) != 0 {
		t.Fatalf("%d documents, dead %+v", len(res.Docs), res.Dead)
	}
	rg := expect{index: "waf-2026-03-14", provider: "ALB", account: fixtureAccount, region: "eu-west-1"}

	e := rg
	e.n, e.id, e.ts = 1, wantID(regionalACL, "1-69b5d9cf-4e2a7c1b9d3f5e8a0b6c2d4e", 1773525487905), "2026-03-14T21:58:07.905Z"
	e.action, e.typ, e.out = "block", "denied", "failure"
	e.ip, e.method, e.version = "203.0.113.9", "GET", "1.1"
	e.path, e.query = "/orders/lookup", "id=7%27%20UNION%20SELECT%20email,password_hash%20FROM%20customers--"
	e.domain, e.port, e.ua = "shop.harbour-outfitters.example", 8443, "sqlmap/1.9.2#stable (https://sqlmap.org)"
	e.related = []string{"203.0.113.9", "10.0.3.7", "198.51.100.20", "2001:db8:44::9"}
	m := checkDoc(t, w, res.Docs[0], e)
	checkKept(t, lines[0], m)
	groups, _ := m["ruleGroupList"].([]any)
	last, _ := groups[len(groups)-1].(map[string]any)
	if last["ruleGroupId"] != "AWS#AWSManagedRulesSQLiRuleSet" || formattest.Get(last, "terminatingRule", "ruleId") != "SQLi_QUERYARGUMENTS" || m["terminatingRuleType"] != "MANAGED_RULE_GROUP" {
		t.Errorf("terminating rule group %v", last)
	}

	e = rg
	e.n, e.id, e.ts = 2, wantID(regionalACL, "1-69b5da23-8c1e3a5f7b9d2c4e6f0a1b3c", 1773525571260), "2026-03-14T21:59:31.260Z"
	e.action, e.typ, e.out = "captcha", "denied", "failure"
	e.ip, e.method, e.version, e.path = "90.12.33.101", "POST", "1.1", "/account/login"
	e.domain, e.ua = "shop.harbour-outfitters.example", uaFirefox
	e.related = []string{e.ip}
	m = checkDoc(t, w, res.Docs[1], e)
	checkKept(t, lines[1], m)
	if formattest.Get(m, "captchaResponse", "failureReason") != "TOKEN_MISSING" {
		t.Errorf("captchaResponse %v", m["captchaResponse"])
	}

	e = rg
	e.n, e.id, e.ts = 3, wantID(regionalACL, "Tb2Xk9Lw_QpR-Ys=", 1773525602118), "2026-03-14T22:00:02.118Z"
	e.action, e.typ, e.out, e.provider, e.status = "block", "denied", "failure", "APIGW", 429
	e.ip, e.method, e.version, e.path, e.query = "2600:1f18:4c2:9e00:1a2b:3c4d:5e6f:7081", "GET", "1.1", "/prod/orders", "status=open&limit=100"
	e.domain, e.ua = "q7w3e9r1t5.execute-api.eu-west-1.amazonaws.com", "okhttp/4.12.0"
	e.related = []string{e.ip}
	m = checkDoc(t, w, res.Docs[2], e)
	checkKept(t, lines[2], m)
	rb, _ := m["rateBasedRuleList"].([]any)
	if len(rb) != 2 || rb[0].(map[string]any)["evaluationWindowSec"] != "120" || rb[1].(map[string]any)["evaluationWindowSec"] != 300.0 {
		t.Errorf("rateBasedRuleList %v", rb)
	}
}

// TestSameRequestTwoObjects: a request delivered in two objects has one id,
// so it is stored once.
func TestSameRequestTwoObjects(t *testing.T) {
	w := mustWAF(t, format.Options{})
	first := readFixture(t, w, "cloudfront.jsonl", cfKey)
	late := readFixture(t, w, "cloudfront-late.jsonl", cfLateKey)
	if len(late.Docs) != 2 || len(late.Dead) != 0 {
		t.Fatalf("late object: %d documents, dead %+v", len(late.Docs), late.Dead)
	}
	a, b := first.Docs[0].Document, late.Docs[1].Document
	if a.ID != b.ID || a.Index != b.Index || !bytes.Equal(a.Body, b.Body) {
		t.Errorf("the same request: %s/%s and %s/%s", a.Index, a.ID, b.Index, b.ID)
	}
	if late.Docs[0].ID == a.ID {
		t.Error("a distinct request shares the id")
	}
}

// TestReplay: reading an object again gives the same documents; the ids of
// distinct records differ.
func TestReplay(t *testing.T) {
	w := mustWAF(t, format.Options{})
	seen := map[string]string{}
	for _, f := range []struct{ file, key string }{{"cloudfront.jsonl", cfKey}, {"regional.jsonl", regionKey}} {
		one := readFixture(t, w, f.file, f.key)
		two := readFixture(t, w, f.file, f.key)
		for i := range one.Docs {
			a, b := one.Docs[i], two.Docs[i]
			if a.ID != b.ID || a.Index != b.Index || !bytes.Equal(a.Body, b.Body) {
				t.Errorf("%s line %d: replay differs", f.file, a.N)
			}
			if prev, dup := seen[a.ID]; dup {
				t.Errorf("%s line %d shares id %s with %s", f.file, a.N, a.ID, prev)
			}
			seen[a.ID] = fmt.Sprintf("%s line %d", f.file, a.N)
		}
	}
	// The same record at another place, or in another object or version,
	// without a requestId: another id.
	line := []byte(`{"timestamp":1773479310000,"httpRequest":{"clientIp":"192.0.2.1"}}`)
	ids := map[string]bool{}
	for _, o := range []format.Object{{Bucket: "b", Key: cfKey}, {Bucket: "b", Key: cfLateKey}, {Bucket: "b", Key: cfKey, VersionID: "v2"}} {
		for n := 1; n <= 2; n++ {
			d, err := w.Decoder(o).Decode(line, n)
			if err != nil {
				t.Fatal(err)
			}
			ids[d.ID] = true
		}
	}
	if len(ids) != 6 {
		t.Errorf("%d distinct position ids for 6 places", len(ids))
	}
}

func TestReferenceSamples(t *testing.T) {
	data := refdata.Dir(t, "waf")
	w := mustWAF(t, format.Options{})
	plain, err := os.ReadFile(filepath.Join(data, "waf", "otel_waf_multi.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	const acl = "arn:aws:wafv2:us-east-1:123456789101:global/webacl/open-telemetry-waf/e3132a63-134d-4da9-a0c4-b166ddd6de6c"
	dir := filepath.Join(data, "derived", "waf", "AWSLogs", "123456789101", "WAFLogs", "cloudfront", "open-telemetry-waf", "2025", "05", "25", "21", "30")
	key := "AWSLogs/123456789101/WAFLogs/cloudfront/open-telemetry-waf/2025/05/25/21/30/123456789101_waflogs_cloudfront_open-telemetry-waf_20250525T2130Z_9f8e7d6c.log.gz"
	stored, err := os.ReadFile(filepath.Join(dir, filepath.Base(key)))
	if err != nil {
		t.Fatal(err)
	}
	if w.Claim(format.ParseKey(key)) != format.Read {
		t.Fatalf("%s not claimed", key)
	}
	for name, r := range map[string]formattest.Result{
		"jsonl": formattest.Read(t, w, format.Object{Bucket: "samples", Key: "waf/otel_waf_multi.jsonl"}, plain),
		"gzip":  formattest.Read(t, w, format.Object{Bucket: "samples", Key: key}, stored),
	} {
		if len(r.Dead) != 0 || len(r.Docs) != 2 {
			t.Fatalf("%s: %d documents, dead %+v", name, len(r.Docs), r.Dead)
		}
		want := []struct {
			index, id, ts, action, provider, ip, ua, domain, window string
		}{
			{"waf-2025-05-25", wantID(acl, "n6LHLPqblIh_4qRsVj0940K9LxKyrkiUUE7lyMol1eTptabtlhHiXQ==", 1748208718574), "2025-05-25T21:31:58.574Z",
				"allow", "CF", "178.84.204.171", "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:138.0) Gecko/20100101 Firefox/138.0", "dsx1234tsajqz63.cloudfront.net", "300"},
			{"waf-2023-05-06", wantID(acl, "Ed0AiHF_CGYF-DA=", 1683355579981), "2023-05-06T06:46:19.981Z",
				"block", "APIGW", "52.46.82.45", "RateBasedRuleTestKoipOneKeyModulePV2", "rjvegx5guh.execute-api.eu-west-3.amazonaws.com", `"120"`},
		}
		for i, d := range r.Docs {
			m := formattest.Check(t, w, d.Document)
			wt := want[i]
			window, _ := json.Marshal(formattest.Get(m["rateBasedRuleList"].([]any)[0].(map[string]any), "evaluationWindowSec"))
			got := []any{d.Index, d.ID, m["@timestamp"], formattest.Get(m, "event", "action"), formattest.Get(m, "event", "provider"),
				formattest.Get(m, "source", "ip"), formattest.Get(m, "user_agent", "original"), formattest.Get(m, "url", "domain"), string(window),
				formattest.Get(m, "cloud", "account", "id"), formattest.Get(m, "cloud", "region")}
			exp := []any{wt.index, wt.id, wt.ts, wt.action, wt.provider, wt.ip, wt.ua, wt.domain, wt.window, "123456789101", "us-east-1"}
			if fmt.Sprint(got) != fmt.Sprint(exp) {
				t.Errorf("%s line %d:\n got %v\nwant %v", name, d.N, got, exp)
			}
		}
	}
}

func TestClaim(t *testing.T) {
	w := mustWAF(t, format.Options{})
	for key, want := range map[string]format.Claim{
		cfKey:     format.Read,
		regionKey: format.Read,
		"AWSLogs/o-a1b2c3d4e5/210987654321/WAFLogs/us-west-2/acl/2026/03/14/09/05/x.log.gz":                 format.Read,
		"logs/AWSLogs/aws-account-id=210987654321/aws-service=WAFLogs/aws-region=us-east-1/x.log.gz":        format.Read,
		"AWSLogs/210987654321/GuardDuty/us-east-1/2026/03/14/0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d.jsonl.gz": format.NotMine,
		"AWSLogs/210987654321/elasticloadbalancing/us-east-1/2026/03/14/x.log.gz":                           format.NotMine,
		// Firehose deliveries: routed by rule, never claimed.
		"2026/03/14/09/aws-waf-logs-stream-1-2026-03-14-09-05-12-4f1c9e2a.gz": format.NotMine,
		"WAFLogs/x.log.gz": format.NotMine,
	} {
		if got := w.Claim(format.ParseKey(key)); got != want {
			t.Errorf("%s: claim %d, want %d", key, got, want)
		}
	}
}

// decodeOne decodes line as the only record of an object with key key.
func decodeOne(t *testing.T, w *WAF, key, line string) (format.Document, error) {
	t.Helper()
	o := format.Object{Bucket: testBucket, Key: key}
	d, err := w.Decoder(o).Decode([]byte(line), 1)
	if err == nil {
		formattest.Check(t, w, d)
	}
	return d, err
}

func body(t *testing.T, d format.Document) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(d.Body, &m); err != nil {
		t.Fatalf("%v: %s", err, d.Body)
	}
	return m
}

func TestRejects(t *testing.T) {
	w := mustWAF(t, format.Options{})
	for _, c := range []struct{ line, reason string }{
		{`not json`, "not a JSON object"},
		{`[{"timestamp":1}]`, "not a JSON object"},
		{`{"timestamp":1773479310000,"action":"ALLOW"`, "not a JSON object"},
		{`{"timestamp":1773479310000,"action":ALLOW}`, "invalid JSON"},
		{`{"timestamp":1773479310000,"a":"\x01"}`, "invalid JSON"},
		{`{"timestamp":1773479310000}{"timestamp":1773479310001}`, "invalid JSON"},
		{`{"action":"ALLOW"}`, "timestamp: missing"},
		{`{"timestamp":null}`, "not a number"},
		{`{"timestamp":"1773479310000"}`, "is a string"},
		{`{"timestamp":0}`, "not a positive"},
		{`{"timestamp":-1773479310000}`, "not a positive"},
		{`{"timestamp":0.5}`, "not a positive"},
		{`{"timestamp":99999999999999999999}`, "out of range"},
		{`{"timestamp":1e300}`, "out of range"},
		{`{"timestamp":253402300800000}`, "out of range"},
		{`{"timestamp":true}`, "not a number"},
		{"{\"timestamp\":1773479310000,\"args\":\"caf\xe9\"}", "UTF-8"},
		{`{"timestamp":1773479310000,"event":{"kind":"x"}}`, `"event"`},
		{`{"timestamp":1773479310000,"@timestamp":"2026-01-01T00:00:00Z"}`, `"@timestamp"`},
		{`{"timestamp":1773479310000,"rel\u0061ted":{}}`, `"related"`},
	} {
		_, err := decodeOne(t, w, cfKey, c.line)
		re, ok := err.(*format.RecordError)
		if !ok || !strings.Contains(re.Reason, c.reason) {
			t.Errorf("%.70s: %v, want a record error saying %q", c.line, err, c.reason)
		}
	}
}

// TestOddRecords: records WAF does not write but that must still index
// sensibly.
func TestOddRecords(t *testing.T) {
	w := mustWAF(t, format.Options{})
	type want struct {
		path []string
		v    any
	}
	for _, c := range []struct {
		name, key, line string
		want            []want
	}{
		{"no webaclId: account and region from the key", regionKey,
			`{"timestamp":1773479310000,"action":"BLOCK","httpRequest":{"clientIp":"192.0.2.8","requestId":"r1"}}`,
			[]want{{[]string{"cloud", "account", "id"}, fixtureAccount}, {[]string{"cloud", "region"}, "eu-west-1"}, {[]string{"event", "action"}, "block"}}},
		{"no webaclId in a CloudFront object", cfKey, `{"timestamp":1773479310000}`,
			[]want{{[]string{"cloud", "region"}, "us-east-1"}, {[]string{"event", "outcome"}, "unknown"}, {[]string{"event", "type"}, []any{"access"}}}},
		{"a Hive-style key", "logs/AWSLogs/aws-account-id=210987654321/aws-service=WAFLogs/aws-region=ap-south-1/acl/x.log.gz", `{"timestamp":1773479310000}`,
			[]want{{[]string{"cloud", "account", "id"}, fixtureAccount}, {[]string{"cloud", "region"}, "ap-south-1"}}},
		{"a Firehose key names nothing", "2026/03/14/09/aws-waf-logs-x-1-2026-03-14-09-05-12-abc.gz", `{"timestamp":1773479310000}`,
			[]want{{[]string{"cloud", "account"}, nil}, {[]string{"cloud", "region"}, nil}, {[]string{"cloud", "provider"}, "aws"}}},
		{"top-level COUNT", cfKey, `{"timestamp":1773479310000,"action":"COUNT"}`,
			[]want{{[]string{"event", "action"}, "count"}, {[]string{"event", "type"}, []any{"access", "allowed"}}}},
		{"escaped header names, values of other types, a later httpRequest wins", cfKey,
			`{"timestamp":1773479310000,"httpRequest":{"clientIp":"192.0.2.1"},"httpRequest":{"clientIp":"192.0.2.2","headers":[{"name":"User\u002dAgent","value":"ua\"1\""},{"name":"host","value":7},{"name":"X-FORWARDED-FOR","value":"192.0.2.3, not-an-ip,  192.0.2.4:8080 ,[2001:db8::5]"},{"value":"x"},null,"odd"],"host":"fallback.example","httpVersion":"HTTP/3","scheme":"https"}}`,
			[]want{{[]string{"source", "ip"}, "192.0.2.2"}, {[]string{"user_agent", "original"}, `ua"1"`}, {[]string{"url", "domain"}, "fallback.example"},
				{[]string{"url", "scheme"}, "https"}, {[]string{"http", "version"}, "3"},
				{[]string{"related", "ip"}, []any{"192.0.2.2", "192.0.2.3", "192.0.2.4", "2001:db8::5"}}}},
		{"a client address that is no address", cfKey, `{"timestamp":1773479310000,"httpRequest":{"clientIp":"-","headers":[{"name":"Host","value":"[2001:db8::1]:8443"}]}}`,
			[]want{{[]string{"source"}, nil}, {[]string{"related"}, nil}, {[]string{"url", "domain"}, "2001:db8::1"}, {[]string{"url", "port"}, 8443.0}}},
		{"responseCodeSent as a string; a Host that is an IPv6 address", cfKey, `{"timestamp":1773479310000,"responseCodeSent":"403","httpRequest":{"headers":[{"name":"Host","value":"2001:db8::1"}]}}`,
			[]want{{[]string{"http", "response", "status_code"}, 403.0}, {[]string{"url", "domain"}, "2001:db8::1"}, {[]string{"url", "port"}, nil}}},
		{"a fractional timestamp", cfKey, `{"timestamp":1.7734793105e12}`,
			[]want{{[]string{"@timestamp"}, "2026-03-14T09:08:30.500Z"}}},
		{"carriage returns between tokens", cfKey, "{\"timestamp\":1773479310000,\r\"action\":\"ALLOW\"\r}",
			[]want{{[]string{"action"}, "ALLOW"}}},
	} {
		d, err := decodeOne(t, w, c.key, c.line)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		m := body(t, d)
		for _, x := range c.want {
			if got := formattest.Get(m, x.path...); fmt.Sprint(got) != fmt.Sprint(x.v) {
				t.Errorf("%s: %s = %v, want %v", c.name, strings.Join(x.path, "."), got, x.v)
			}
		}
	}
}

func TestTimeZoneAndPrefix(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	w := mustWAF(t, format.Options{IndexPrefix: "edge-waf", Location: tokyo})
	d, err := decodeOne(t, w, regionKey, `{"timestamp":1773525602118}`) // 22:00 UTC
	if err != nil {
		t.Fatal(err)
	}
	if d.Index != "edge-waf-2026-03-15" || body(t, d)["@timestamp"] != "2026-03-14T22:00:02.118Z" {
		t.Errorf("index %s body %s", d.Index, d.Body)
	}
	if w.IndexPattern() != "edge-waf-*" {
		t.Errorf("pattern %s", w.IndexPattern())
	}
	for _, bad := range []string{"WAF", "-waf", "waf logs", "waf*"} {
		if _, err := New(format.Options{IndexPrefix: bad}); err == nil {
			t.Errorf("prefix %q accepted", bad)
		}
	}
}

func TestTemplate(t *testing.T) {
	w := mustWAF(t, format.Options{})
	formattest.CheckTemplate(t, w)
	name, b := w.IndexTemplate(format.Engine{Distribution: "opensearch", Major: 2, Minor: 19})
	var tmpl struct {
		Template struct {
			Settings map[string]any `json:"settings"`
			Mappings struct {
				DateDetection    *bool                        `json:"date_detection"`
				NumericDetection *bool                        `json:"numeric_detection"`
				Dynamic          []map[string]json.RawMessage `json:"dynamic_templates"`
				Properties       map[string]json.RawMessage   `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal([]byte(b), &tmpl); err != nil {
		t.Fatal(err)
	}
	mp := tmpl.Template.Mappings
	if name != "waf" || mp.DateDetection == nil || *mp.DateDetection || mp.NumericDetection == nil || *mp.NumericDetection ||
		tmpl.Template.Settings["index.number_of_shards"] != 1.0 || tmpl.Template.Settings["index.mapping.total_fields.limit"] == nil {
		t.Errorf("template %s: settings %v", name, tmpl.Template.Settings)
	}
	for field, want := range map[string]string{
		"timestamp":           `"type":"date","format":"epoch_millis"`,
		"action":              `"type":"keyword"`,
		"webaclId":            `"type":"keyword"`,
		"terminatingRuleId":   `"type":"keyword"`,
		"terminatingRuleType": `"type":"keyword"`,
		"httpSourceName":      `"type":"keyword"`,
		"httpSourceId":        `"type":"keyword"`,
		"httpRequest":         `"clientIp":{"type":"ip"`,
		"labels":              `{"properties":{"name":{"type":"keyword"`,
		"rateBasedRuleList":   `"evaluationWindowSec":{"type":"keyword"`,
	} {
		var compact bytes.Buffer
		if err := json.Compact(&compact, mp.Properties[field]); err != nil || !strings.Contains(compact.String(), want) {
			t.Errorf("%s mapped as %s, want %s", field, compact.String(), want)
		}
	}
	if strings.Contains(string(mp.Properties["httpRequest"]), "nested") {
		t.Error("headers must not be nested")
	}
	// The drift-proof rules: every scalar under the rule structures is a
	// keyword, found by a path regular expression (Java's and Go's agree
	// on this one).
	var rules []string
	for _, dt := range mp.Dynamic {
		for name, raw := range dt {
			var d struct {
				MatchPattern string `json:"match_pattern"`
				PathMatch    string `json:"path_match"`
				Type         string `json:"match_mapping_type"`
				Mapping      struct {
					Type string `json:"type"`
				} `json:"mapping"`
			}
			if err := json.Unmarshal(raw, &d); err != nil {
				t.Fatal(err)
			}
			if d.PathMatch == "" {
				continue
			}
			if d.MatchPattern != "regex" || d.Mapping.Type != "keyword" {
				t.Errorf("%s: %+v", name, d)
			}
			re := regexpFull(t, d.PathMatch)
			for _, p := range []string{"rateBasedRuleList.evaluationWindowSec", "ruleGroupList.terminatingRule.ruleMatchDetails.matchedData",
				"captchaResponse.solveTimestamp", "responseCodeSent", "labels.name", "nonTerminatingMatchingRules.challengeResponse.responseCode"} {
				if !re.MatchString(p) {
					t.Errorf("%s does not match %s", name, p)
				}
			}
			for _, p := range []string{"httpRequest.uri", "timestamp", "labelsX", "xruleGroupList.a"} {
				if re.MatchString(p) {
					t.Errorf("%s matches %s", name, p)
				}
			}
			rules = append(rules, d.Type)
		}
	}
	slices.Sort(rules)
	if fmt.Sprint(rules) != "[boolean double long string]" {
		t.Errorf("path rules for %v", rules)
	}
}

// regexpFull compiles a dynamic template's path regex, which the cluster
// matches against the whole path.
func regexpFull(t *testing.T, expr string) *regexp.Regexp {
	t.Helper()
	re, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil {
		t.Fatal(err)
	}
	return re
}
