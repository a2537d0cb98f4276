package elb

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/logtide/logtide/testenv/refdata"
	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

func mustELB(t testing.TB, o format.Options) *ELB { return formattest.Must(t, New, o) }

func gz(t testing.TB, b []byte) []byte { return formattest.Gzip(t, b) }

func fixture(t testing.TB, name string) []byte { return formattest.Testdata(t, name) }

// Keys of the fixtures, as ELB names its objects.
const (
	albKey     = "logs/AWSLogs/210987654321/elasticloadbalancing/eu-west-1/2026/03/14/210987654321_elasticloadbalancing_eu-west-1_app.shop-frontend.7c1f3e9a2b4d6e80_20260314T0930Z_172.31.12.9_3kd8xq1z.log.gz"
	nlbKey     = "logs/AWSLogs/210987654321/elasticloadbalancing/eu-west-1/2026/03/14/210987654321_elasticloadbalancing_eu-west-1_net.edge-tls.3b4c5d6e7f8a9b0c_20260314T1005Z_10.30.0.4_x9y8z7w6.log.gz"
	classicKey = "AWSLogs/210987654321/elasticloadbalancing/eu-west-1/2026/03/14/210987654321_elasticloadbalancing_eu-west-1_legacy-web_20260314T1120Z_10.40.0.2_q1w2e3r4.log"
)

// absent marks a field the document must not have.
const absent = "<absent>"

// want is what one line's document must hold: index, @timestamp and
// fields by dotted path, each as JSON (or absent).
type want struct {
	index, ts string
	fields    map[string]string
}

// checkDocs reads object key (stored as given) and compares its documents,
// in order, with ws.
func checkDocs(t *testing.T, f *ELB, key string, stored []byte, ws []want) []formattest.Doc {
	t.Helper()
	o := format.Object{Bucket: "elb-logs", Key: key}
	res := formattest.Read(t, f, o, stored)
	if len(res.Dead) > 0 || len(res.Skipped) > 0 {
		t.Fatalf("%s: dead-lettered %+v, skipped %v", key, res.Dead, res.Skipped)
	}
	if len(res.Docs) != len(ws) {
		t.Fatalf("%s: %d documents, want %d", key, len(res.Docs), len(ws))
	}
	for i, w := range ws {
		d := res.Docs[i]
		m := formattest.Check(t, f, d.Document)
		if d.N != i+1 || d.ID != format.PositionID(o, i+1) || d.Version != 0 {
			t.Errorf("line %d: position %d, id %s, version %d: want the position id of line %d", i+1, d.N, d.ID, d.Version, i+1)
		}
		if d.Index != w.index || m["@timestamp"] != w.ts {
			t.Errorf("line %d: index %s @timestamp %v, want %s %s", i+1, d.Index, m["@timestamp"], w.index, w.ts)
		}
		for path, v := range w.fields {
			got, ok := lookup(m, path)
			switch {
			case v == absent && ok:
				t.Errorf("line %d: %s is %s, want it absent", i+1, path, got)
			case v != absent && got != v:
				t.Errorf("line %d: %s is %s, want %s", i+1, path, got, v)
			}
		}
	}
	return res.Docs
}

// lookup returns the value at a dotted path as JSON.
func lookup(m map[string]any, path string) (string, bool) {
	v := formattest.Get(m, strings.Split(path, ".")...)
	if v == nil {
		return absent, false
	}
	b, _ := json.Marshal(v)
	return string(b), true
}

// TestApplicationLoadBalancer decodes the project's own ALB lines: every
// request type, TLS fields, IPv6, escaped quotes and spaces in quoted
// fields, a Lambda target, -1 times, a redirect, several targets, newer
// trailing fields and the oldest layout.
func TestApplicationLoadBalancer(t *testing.T) {
	f := mustELB(t, format.Options{})
	cloud := map[string]string{"cloud.account.id": `"210987654321"`, "cloud.region": `"eu-west-1"`, "cloud.provider": `"aws"`,
		"event.dataset": `"aws.elb"`, "event.kind": `"event"`, "event.type": `["access"]`, "lb_type": `"application"`}
	with := func(m map[string]string) map[string]string {
		for k, v := range cloud {
			if _, ok := m[k]; !ok {
				m[k] = v
			}
		}
		return m
	}
	day := "elb-2026-03-14"
	checkDocs(t, f, albKey, gz(t, fixture(t, "alb.log")), []want{
		{day, "2026-03-14T09:26:53.358Z", with(map[string]string{
			"type": `"https"`, "time": `"2026-03-14T09:26:53.358979Z"`, "elb": `"app/shop-frontend/7c1f3e9a2b4d6e80"`,
			"client_ip": `"203.0.113.45"`, "client_port": `51234`, "target_ip": `"10.20.1.17"`, "target_port": `8080`,
			"request_processing_time": `0.001`, "target_processing_time": `0.047`, "response_processing_time": `0`,
			"elb_status_code": `200`, "target_status_code": `200`, "received_bytes": `812`, "sent_bytes": `5306`,
			"request":        `"GET https://shop.example.com:443/products/42?ref=home HTTP/1.1"`,
			"request_method": `"GET"`, "request_url": `"https://shop.example.com:443/products/42?ref=home"`, "request_protocol": `"HTTP/1.1"`,
			"ssl_cipher": `"TLS_AES_128_GCM_SHA256"`, "ssl_protocol": `"TLSv1.3"`,
			"target_group_arn": `"arn:aws:elasticloadbalancing:eu-west-1:210987654321:targetgroup/shop-web/4f2a9c1e7b3d5a60"`,
			"trace_id":         `"Root=1-69b52a4d-1a2b3c4d5e6f708192a3b4c5"`, "domain_name": `"shop.example.com"`,
			"chosen_cert_arn":       `"arn:aws:acm:eu-west-1:210987654321:certificate/0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"`,
			"matched_rule_priority": `3`, "request_creation_time": `"2026-03-14T09:26:53.310000Z"`,
			"actions_executed": `["waf","forward"]`, "redirect_url": absent, "error_reason": absent,
			"target_port_list": `["10.20.1.17:8080"]`, "target_status_code_list": `[200]`,
			"classification": absent, "classification_reason": absent, "conn_trace_id": `"TID_0a1b2c3d4e5f60718293a4b5c6d7e8f9"`,
			"extra":     absent,
			"source.ip": `"203.0.113.45"`, "source.port": `51234`, "destination.ip": `"10.20.1.17"`, "destination.port": `8080`,
			"url.original": `"https://shop.example.com:443/products/42?ref=home"`, "url.scheme": `"https"`, "url.domain": `"shop.example.com"`,
			"url.port": `443`, "url.path": `"/products/42"`, "url.query": `"ref=home"`,
			"http.request.method": `"GET"`, "http.version": `"1.1"`, "http.response.status_code": `200`,
			"http.request.bytes": `812`, "http.response.bytes": `5306`,
			"user_agent.original": `"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"`,
			"event.category":      `["web"]`, "event.outcome": `"success"`, "event.duration": `48000000`,
			"event.provider": `"elasticloadbalancing"`, "network.transport": `"tcp"`, "network.protocol": `"http"`,
			"related.ip": `["203.0.113.45","10.20.1.17"]`,
		})},
		// Plain HTTP over IPv6, the layout before conn_trace_id (29 fields).
		{day, "2026-03-14T09:27:01.004Z", with(map[string]string{
			"type": `"http"`, "client_ip": `"2001:db8:4a::17"`, "client_port": `60211`, "target_ip": `"2001:db8:10::8"`, "target_port": `80`,
			"ssl_cipher": absent, "ssl_protocol": absent, "domain_name": absent, "chosen_cert_arn": absent, "conn_trace_id": absent,
			"target_port_list": `["[2001:db8:10::8]:80"]`, "url.scheme": `"http"`, "url.port": `80`, "url.path": `"/static/site.css"`, "url.query": absent,
			"http.response.status_code": `304`, "event.outcome": `"success"`,
			"related.ip": `["2001:db8:4a::17","2001:db8:10::8"]`, "source.ip": `"2001:db8:4a::17"`,
		})},
		// Escaped quotes and backslashes, spaces in the request line; a
		// desync classification; HTTP/2.
		{day, "2026-03-14T09:28:15.771Z", with(map[string]string{
			"type":             `"h2"`,
			"request":          `"GET https://shop.example.com:443/search?q=red shoes\u0026sort=\"price\" HTTP/2.0"`,
			"request_url":      `"https://shop.example.com:443/search?q=red shoes\u0026sort=\"price\""`,
			"request_protocol": `"HTTP/2.0"`, "http.version": `"2.0"`,
			"user_agent.original": `"Mozilla/5.0 (compatible; \"Probe\" 1.0; path C:\\tmp\\x)"`,
			"url.path":            `"/search"`, "url.query": `"q=red shoes\u0026sort=\"price\""`,
			"classification": `"Ambiguous"`, "classification_reason": `"SpaceInUri"`,
			"elb_status_code": `400`, "event.outcome": `"failure"`, "event.duration": `122000000`,
		})},
		// A WebSocket: written when the connection closed.
		{day, "2026-03-14T09:41:00.250Z", with(map[string]string{
			"type": `"ws"`, "target_processing_time": `754.398`, "elb_status_code": `101`, "target_port": `8081`,
			"request_creation_time": `"2026-03-14T09:28:25.851000Z"`, "network.protocol": `"websocket"`,
			"event.duration": `754399000000`, "event.outcome": `"success"`,
		})},
		{day, "2026-03-14T09:42:10.000Z", with(map[string]string{
			"type": `"wss"`, "target_processing_time": `12.5`, "ssl_protocol": `"TLSv1.3"`, "url.scheme": `"https"`,
			"network.protocol": `"websocket"`, "event.duration": `12500000000`,
		})},
		// A Lambda function target that failed.
		{day, "2026-03-14T09:50:30.512Z", with(map[string]string{
			"target_ip": absent, "target_port": absent, "destination.ip": absent, "target_status_code": absent,
			"target_group_arn": `"arn:aws:elasticloadbalancing:eu-west-1:210987654321:targetgroup/checkout-fn/5e6f7a8b9c0d1e2f"`,
			"elb_status_code":  `502`, "error_reason": `"LambdaUnhandled"`, "target_port_list": absent, "target_status_code_list": absent,
			"http.request.method": `"POST"`, "event.outcome": `"failure"`, "related.ip": `["203.0.113.9"]`,
		})},
		// No healthy target: -1 times and "-" fields are left out.
		{day, "2026-03-14T09:51:02.909Z", with(map[string]string{
			"request_processing_time": absent, "target_processing_time": absent, "response_processing_time": absent,
			"target_status_code": absent, "user_agent": absent, "event.duration": absent,
			"elb_status_code": `503`, "http.response.status_code": `503`, "event.outcome": `"failure"`, "matched_rule_priority": `1`,
		})},
		// A redirect done by the listener: no target group.
		{day, "2026-03-14T09:52:44.100Z", with(map[string]string{
			"actions_executed": `["redirect"]`, "redirect_url": `"https://shop.example.com:443/products/42"`,
			"target_group_arn": absent, "matched_rule_priority": `0`, "elb_status_code": `301`, "event.outcome": `"success"`,
			"request_processing_time": `0`, "event.duration": absent,
		})},
		// gRPC, two targets tried, the newer trailing fields and then some
		// this version does not know (kept in order in extra).
		{day, "2026-03-14T09:53:07.333Z", with(map[string]string{
			"type": `"grpcs"`, "network.protocol": `"grpc"`,
			"target_port_list": `["10.20.1.17:9090","10.20.1.18:9090"]`, "target_status_code_list": `[502,200]`,
			"transformed_host": `"shop-internal.example.com"`, "transformed_uri": `"/v2/stock/reserve"`, "request_transform_status": absent,
			"extra":      `["172.31.12.9","-","-"]`,
			"related.ip": `["192.0.2.10","10.20.1.18","10.20.1.17"]`,
		})},
		// The first layout (2016): 18 fields.
		{"elb-2016-11-03", "2016-11-03T17:20:11.022Z", with(map[string]string{
			"trace_id": `"Root=1-581b71bb-0123456789abcdef01234567"`, "domain_name": absent, "actions_executed": absent,
			"conn_trace_id": absent, "elb_status_code": `200`, "event.outcome": `"success"`,
		})},
	})
}

// TestNetworkLoadBalancer decodes TLS connection lines: with and without
// ALPN, IPv6, a failed handshake and the first layout.
func TestNetworkLoadBalancer(t *testing.T) {
	f := mustELB(t, format.Options{})
	checkDocs(t, f, nlbKey, gz(t, fixture(t, "nlb.log")), []want{
		{"elb-2026-03-14", "2026-03-14T10:00:07.000Z", map[string]string{
			"lb_type": `"network"`, "type": `"tls"`, "version": `"2.0"`, "time": `"2026-03-14T10:00:07"`,
			"elb": `"net/edge-tls/3b4c5d6e7f8a9b0c"`, "listener": `"1d2e3f4a5b6c7d8e"`,
			"client_ip": `"203.0.113.61"`, "client_port": `50412`, "destination_ip": `"10.30.2.11"`, "destination_port": `443`,
			"connection_time": `4012`, "tls_handshake_time": `3`, "received_bytes": `1880`, "sent_bytes": `30221`,
			"incoming_tls_alert": absent, "chosen_cert_arn": `"arn:aws:acm:eu-west-1:210987654321:certificate/2a3b4c5d-6e7f-4a8b-9c0d-e1f2a3b4c5d6"`,
			"chosen_cert_serial": `"0a1b2c3d4e5f60718293a4b5c6d7e8f9"`, "tls_cipher": `"ECDHE-RSA-AES128-GCM-SHA256"`,
			"tls_protocol_version": `"tlsv12"`, "tls_named_group": `"secp256r1"`, "domain_name": `"mq.example.com"`,
			"alpn_fe_protocol": absent, "alpn_be_protocol": absent, "alpn_client_preference_list": absent,
			"tls_connection_creation_time": `"2026-03-14T10:00:03"`,
			"source.ip":                    `"203.0.113.61"`, "source.bytes": `1880`, "destination.ip": `"10.30.2.11"`, "destination.bytes": `30221`,
			"network.bytes": `32101`, "network.protocol": `"tls"`, "network.transport": `"tcp"`,
			"event.category": `["network"]`, "event.type": `["access"]`, "event.duration": `4012000000`, "event.outcome": `"success"`,
			"http": absent, "url": absent, "cloud.account.id": `"210987654321"`, "cloud.region": `"eu-west-1"`,
			"related.ip": `["203.0.113.61","10.30.2.11"]`,
		}},
		{"elb-2026-03-14", "2026-03-14T10:01:44.000Z", map[string]string{
			"client_ip": `"2001:db8:77::5"`, "alpn_fe_protocol": `"h2"`, "alpn_be_protocol": `"h2"`,
			"alpn_client_preference_list": `["h2","http/1.1"]`, "tls_protocol_version": `"tlsv13"`, "event.duration": `98017000000`,
		}},
		// The handshake did not complete.
		{"elb-2026-03-14", "2026-03-14T10:02:00.000Z", map[string]string{
			"tls_handshake_time": absent, "incoming_tls_alert": `"46"`, "chosen_cert_arn": absent, "tls_cipher": absent,
			"received_bytes": `0`, "source.bytes": absent, "domain_name": absent, "event.outcome": `"failure"`,
		}},
		{"elb-2019-02-01", "2019-02-01T12:00:00.000Z", map[string]string{
			"domain_name": `"mq.example.com"`, "chosen_cert_serial": absent, "tls_connection_creation_time": absent, "alpn_fe_protocol": absent,
		}},
	})
}

// TestClassicLoadBalancer decodes Classic lines, stored as plain text as
// ELB writes them: HTTP, HTTPS, TCP and SSL listeners, no backend.
func TestClassicLoadBalancer(t *testing.T) {
	f := mustELB(t, format.Options{})
	docs := checkDocs(t, f, classicKey, fixture(t, "classic.log"), []want{
		{"elb-2026-03-14", "2026-03-14T11:15:42.112Z", map[string]string{
			"lb_type": `"classic"`, "timestamp": `"2026-03-14T11:15:42.112233Z"`, "time": absent, "type": absent, "elb": `"legacy-web"`,
			"client_ip": `"203.0.113.150"`, "backend_ip": `"10.40.0.5"`, "backend_port": `80`,
			"request_processing_time": `0.000061`, "backend_processing_time": `0.014722`, "response_processing_time": `0.000048`,
			"elb_status_code": `200`, "backend_status_code": `200`, "received_bytes": `0`, "sent_bytes": `5120`,
			"request_url": `"http://legacy.example.com:80/index.php?page=about"`, "url.query": `"page=about"`, "url.path": `"/index.php"`,
			"ssl_cipher": absent, "destination.ip": `"10.40.0.5"`, "destination.port": `80`,
			"event.duration": `14831000`, "event.category": `["web"]`, "network.protocol": `"http"`, "event.outcome": `"success"`,
			"http.request.bytes": absent, "http.response.bytes": `5120`, "cloud.account.id": `"210987654321"`,
		}},
		{"elb-2026-03-14", "2026-03-14T11:15:43.000Z", map[string]string{
			"ssl_cipher": `"ECDHE-RSA-AES128-GCM-SHA256"`, "ssl_protocol": `"TLSv1.2"`, "url.port": `443`, "url.scheme": `"https"`,
			"elb_status_code": `404`, "event.outcome": `"failure"`, "http.request.method": `"POST"`,
		}},
		// A TCP listener: no request, no status.
		{"elb-2026-03-14", "2026-03-14T11:15:44.500Z", map[string]string{
			"request": absent, "request_method": absent, "request_url": absent, "user_agent": absent, "url": absent, "http": absent,
			"elb_status_code": absent, "backend_port": `5432`, "event.category": `["network"]`, "network.protocol": absent,
			"source.bytes": `1820`, "destination.bytes": `30517`, "event.outcome": `"success"`,
		}},
		// No healthy backend.
		{"elb-2026-03-14", "2026-03-14T11:15:45.750Z", map[string]string{
			"backend_ip": absent, "destination": absent, "request_processing_time": absent, "backend_status_code": `0`,
			"elb_status_code": `503`, "event.outcome": `"failure"`, "event.duration": absent, "related.ip": `["198.51.100.42"]`,
		}},
		// An SSL listener, the last microsecond of the day.
		{"elb-2026-03-14", "2026-03-14T23:59:59.999Z", map[string]string{
			"request": absent, "ssl_cipher": `"ECDHE-RSA-AES128-SHA"`, "event.category": `["network"]`,
		}},
	})

	// The index date is the line's day in the run's time zone.
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	g := mustELB(t, format.Options{IndexPrefix: "lb-access", Location: tokyo})
	res := formattest.Read(t, g, format.Object{Bucket: "elb-logs", Key: classicKey}, fixture(t, "classic.log"))
	if len(res.Docs) != 5 || res.Docs[0].Index != "lb-access-2026-03-14" || res.Docs[4].Index != "lb-access-2026-03-15" {
		t.Errorf("Tokyo: %+v", res.Docs)
	}
	if !bytes.Equal(res.Docs[4].Body, docs[4].Body) {
		t.Error("the time zone changed a document's body")
	}
}

// TestRefused: lines cut short, of another log, or with a field that
// cannot be what its place says are dead-lettered with a reason; the test
// object's line is skipped; the lines around them are read.
func TestRefused(t *testing.T) {
	f := mustELB(t, format.Options{})
	res := formattest.Read(t, f, format.Object{Bucket: "elb-logs", Key: albKey}, gz(t, fixture(t, "bad.log")))
	reasons := []string{
		"Application Load Balancer line: field 14: quote not closed",
		"Application Load Balancer line of 11 fields: it needs at least 18; sent_bytes and the fields after it are missing",
		`not an ELB access log line: it starts with "2"`,
		`not an ELB access log line: it starts with "{\"eventVersion\":\"1.08\",\"eventTime\":\"2026"`,
		`Application Load Balancer line, field 2 (time): "yesterday" is not a time`,
		`Network Load Balancer line of version "3.0": only version 2.0 is known`,
		`Application Load Balancer line, field 4 (client): "client.example.com:51234" is not ip:port`,
		`Application Load Balancer line, field 6 (request_processing_time): "fast" is not a number`,
	}
	if len(res.Dead) != len(reasons) {
		t.Fatalf("%d dead letters, want %d: %+v", len(res.Dead), len(reasons), res.Dead)
	}
	for i, d := range res.Dead {
		if d.N != i+1 || !strings.HasPrefix(d.Reason, reasons[i]) {
			t.Errorf("dead letter %d: line %d %q, want line %d %q", i, d.N, d.Reason, i+1, reasons[i])
		}
	}
	if !slices.Equal(res.Skipped, []int{9}) || len(res.Docs) != 1 || res.Docs[0].N != 10 {
		t.Errorf("skipped %v, documents %+v", res.Skipped, res.Docs)
	}
}

func TestClaim(t *testing.T) {
	f := mustELB(t, format.Options{})
	for key, want := range map[string]format.Claim{
		albKey:     format.Read,
		nlbKey:     format.Read,
		classicKey: format.Read,
		"AWSLogs/aws-account-id=123456789012/aws-service=elasticloadbalancing/aws-region=us-east-1/x.log.gz": format.Read,
		"AWSLogs/123456789012/ELBAccessLogTestFile":                                                          format.Skip,
		"alb logs/AWSLogs/123456789012/ELBAccessLogTestFile":                                                 format.Skip,
		"AWSLogs/12345/ELBAccessLogTestFile":                                                                 format.NotMine,
		"NotAWSLogs/123456789012/ELBAccessLogTestFile":                                                       format.NotMine,
		"AWSLogs/123456789012/elasticloadbalancing/ELBAccessLogTestFile/x":                                   format.Read,
		"ELBAccessLogTestFile":                                                                               format.NotMine,
		"AWSLogs/123456789012/elasticloadbalancing/us-east-1/2026/01/05/conn_log_123456789012_elasticloadbalancing_us-east-1_app.web.0123456789abcdef_20260105T0005Z_10.0.0.1_abcd1234.log.gz": format.NotMine,
		"AWSLogs/123456789012/GuardDuty/us-east-1/2026/01/05/a.jsonl.gz": format.NotMine,
		"AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/01/05/a.log.gz": format.NotMine,
	} {
		if got := f.Claim(format.ParseKey(key)); got != want {
			t.Errorf("%s: claim %d, want %d", key, got, want)
		}
	}
}

// TestIDs: replaying an object gives the same ids; no two lines share
// one, in an object or across objects and versions.
func TestIDs(t *testing.T) {
	f := mustELB(t, format.Options{})
	data := gz(t, fixture(t, "alb.log"))
	seen := map[string]string{}
	for _, o := range []format.Object{
		{Bucket: "elb-logs", Key: albKey},
		{Bucket: "elb-logs", Key: albKey, VersionID: "v2"},
		{Bucket: "elb-logs", Key: strings.Replace(albKey, "3kd8xq1z", "3kd8xq2z", 1)},
		{Bucket: "other", Key: albKey},
	} {
		first := formattest.Read(t, f, o, data)
		again := formattest.Read(t, f, o, data)
		for i, d := range first.Docs {
			if again.Docs[i].ID != d.ID || !bytes.Equal(again.Docs[i].Body, d.Body) || again.Docs[i].Index != d.Index {
				t.Fatalf("%+v line %d: a replay gave another document", o, d.N)
			}
			if prev, dup := seen[d.ID]; dup {
				t.Fatalf("%+v line %d: id %s already given to %s", o, d.N, d.ID, prev)
			}
			seen[d.ID] = o.Bucket + "/" + o.Key + "@" + o.VersionID
		}
	}
	if len(seen) != 40 {
		t.Errorf("%d ids for 40 lines", len(seen))
	}
}

// TestReferenceSamples reads the public samples: two ALB lines (IPv4 and
// IPv6, with the newer trailing fields), the content of ELB's test object,
// and a gzip copy under a real key.
func TestReferenceSamples(t *testing.T) {
	data := refdata.Dir(t, "alb")
	f := mustELB(t, format.Options{})
	key := "AWSLogs/123456789012/elasticloadbalancing/us-east-2/2018/07/02/123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.50dc6c495c0c9188_20180702T2225Z_192.168.131.39_2a3b4c5d.log.gz"
	raw, err := os.ReadFile(filepath.Join(data, "alb", "otel_alb_access.log"))
	if err != nil {
		t.Fatal(err)
	}
	res := formattest.Read(t, f, format.Object{Bucket: "samples", Key: key}, raw)
	if len(res.Dead) > 0 || len(res.Docs) != 2 {
		t.Fatalf("dead %+v, %d documents", res.Dead, len(res.Docs))
	}
	for i, client := range []string{`"192.168.131.39"`, `"fe80::202:b3ff:fe1e:8329"`} {
		d := res.Docs[i]
		m := formattest.Check(t, f, d.Document)
		for path, w := range map[string]string{
			"client_ip": client, "@timestamp": `"2018-07-02T22:23:00.186Z"`, "conn_trace_id": `"TID_1234abcd5678ef90"`,
			"actions_executed": `["authenticate","forward"]`, "cloud.region": `"us-east-2"`, "cloud.account.id": `"123456789012"`,
			"url.domain": `"www.example.com"`, "url.port": `443`, "event.outcome": `"success"`,
		} {
			if got, _ := lookup(m, path); got != w {
				t.Errorf("sample line %d: %s is %s, want %s", i+1, path, got, w)
			}
		}
		if d.Index != "elb-2018-07-02" {
			t.Errorf("sample line %d: index %s", i+1, d.Index)
		}
	}

	// The test object is skipped by its key; its content, should it be
	// read anyway, holds no record.
	if c := f.Claim(format.ParseKey("AWSLogs/123456789012/ELBAccessLogTestFile")); c != format.Skip {
		t.Errorf("test object: claim %d", c)
	}
	raw, err = os.ReadFile(filepath.Join(data, "alb", "otel_elb_control_testfile.log"))
	if err != nil {
		t.Fatal(err)
	}
	res = formattest.Read(t, f, format.Object{Bucket: "samples", Key: "AWSLogs/123456789012/ELBAccessLogTestFile"}, raw)
	if len(res.Docs)+len(res.Dead) != 0 || len(res.Skipped) != 1 {
		t.Errorf("test object content: %+v", res)
	}

	root := filepath.Join(data, "derived", "alb")
	n := 0
	err = filepath.WalkDir(root, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		key := filepath.ToSlash(rel)
		if c := f.Claim(format.ParseKey(key)); c != format.Read {
			t.Errorf("%s: claim %d", key, c)
		}
		stored, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		res := formattest.Read(t, f, format.Object{Bucket: "samples", Key: key}, stored)
		if len(res.Dead) > 0 || len(res.Docs) == 0 {
			t.Errorf("%s: dead %+v, %d documents", key, res.Dead, len(res.Docs))
		}
		for _, d := range res.Docs {
			m := formattest.Check(t, f, d.Document)
			if got, _ := lookup(m, "cloud.region"); got != `"us-east-2"` {
				t.Errorf("%s: cloud.region %s", key, got)
			}
		}
		n++
		return nil
	})
	if err != nil || n == 0 {
		t.Errorf("derived samples: %d objects, %v", n, err)
	}
}

func TestNewRefusesBadPrefix(t *testing.T) {
	if _, err := New(format.Options{IndexPrefix: "Bad Prefix"}); err == nil {
		t.Error("invalid prefix accepted")
	}
	f := mustELB(t, format.Options{})
	if f.Name() != "elb" || f.IndexPattern() != "elb-*" || f.Framing() != format.Lines || Spec.Name != f.Name() {
		t.Errorf("name %s pattern %s framing %d", f.Name(), f.IndexPattern(), f.Framing())
	}
}

// TestTemplate: the template parses for every engine, and every field a
// document can hold is mapped, with the type its values need.
func TestTemplate(t *testing.T) {
	f := mustELB(t, format.Options{IndexPrefix: "lb"})
	formattest.CheckTemplate(t, f)
	name, body := f.IndexTemplate(format.Engine{Distribution: "opensearch", Major: 2, Minor: 19})
	var tmpl struct {
		Patterns []string `json:"index_patterns"`
		Template struct {
			Mappings struct {
				Properties map[string]struct {
					Type string `json:"type"`
				} `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal([]byte(body), &tmpl); err != nil {
		t.Fatal(err)
	}
	if name != "lb" || !slices.Equal(tmpl.Patterns, []string{"lb-*"}) {
		t.Errorf("template %s for %v", name, tmpl.Patterns)
	}
	props := tmpl.Template.Mappings.Properties
	typeOf := map[role]string{keyword: "keyword", recordTime: "date", date: "date", seconds: "scaled_float", connTime: "scaled_float",
		handshake: "scaled_float", status: "long", count: "long", looseCount: "long", received: "long", sent: "long",
		request: "keyword", errorReason: "keyword", commaList: "keyword", endpointList: "keyword",
		countList: "long", quotedList: "keyword"}
	check := func(field, typ string) {
		if got := props[field].Type; got != typ {
			t.Errorf("%s mapped as %q, want %q", field, got, typ)
		}
	}
	for _, k := range []*kind{alb, nlb, classic} {
		for _, s := range k.fields {
			switch s.role {
			case userAgent:
				check(s.name, "") // ECS's user_agent object
			case client, target:
				check(s.name+"_ip", "ip")
				check(s.name+"_port", "long")
			default:
				check(s.name, typeOf[s.role])
			}
		}
	}
	for _, field := range []string{"lb_type", "request_method", "request_url", "request_protocol", "extra"} {
		check(field, "keyword")
	}
}

// TestAsTheWorkerReadsIt: generated objects of every kind are claimed and
// read without a dead letter, and their documents pass the bulk checks.
func TestAsTheWorkerReadsIt(t *testing.T) {
	docs := formattest.CheckCorpus(t, Spec, format.GenerateOptions{Seed: 3, Objects: 14, RecordsPerObject: 120,
		Accounts: []string{"111122223333", "444455556666"}, Regions: []string{"eu-west-1", "us-east-2"}})
	kinds := map[string]int{}
	for _, d := range docs {
		var m struct {
			LBType string `json:"lb_type"`
		}
		if err := json.Unmarshal(d.Body, &m); err != nil {
			t.Fatal(err)
		}
		kinds[m.LBType]++
	}
	if kinds["application"] == 0 || kinds["network"] == 0 || kinds["classic"] == 0 || kinds["application"] < kinds["network"]+kinds["classic"] {
		t.Errorf("documents by kind: %v", kinds)
	}
}
