package s3access

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

const (
	owner         = "5f2a7c9e0b4d6e8f1a3c5e7092b4d6f8a0c2e4f6b8d0a2c4e6f8b0d2a4c6e8f0"
	hostHeader    = "northwind-media.s3.eu-west-1.amazonaws.com"
	fixtureHostID = "Qm9FJ3pLx0tq8Zr1vYc2s7WkHnE4uA6dGi9oBbT5yXwP0eK3jR8mN1hC7fL2zV4qS6tU9aD0gI3nO5wLk8="
	goAgent       = "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.58.2"
	mediaSync     = "arn:aws:iam::210987654321:user/media-sync"
	cleanupJob    = "arn:aws:iam::210987654321:user/cleanup-job"

	simpleKey      = "s3-access/2026-03-14-09-15-42-7D3A91C04B2E58F6"
	partitionedKey = "access-logs/210987654321/eu-west-1/northwind-media/2026/03/14/2026-03-14-00-00-00-A1B2C3D4E5F60718"
)

func mustNew(t testing.TB, o format.Options) *S3Access { return formattest.Must(t, New, o) }

func readFixture(t testing.TB, name string) []byte { return formattest.Testdata(t, name) }

// want is what a document must hold: dotted paths to values as decoded
// from JSON (strings, float64 numbers, []any); absent means the field must
// not be there.
type want map[string]any

const absent = "<absent>"

func checkFields(t *testing.T, label string, m map[string]any, w want) {
	t.Helper()
	for path, v := range w {
		got := formattest.Get(m, strings.Split(path, ".")...)
		if v == absent {
			if got != nil {
				t.Errorf("%s: %s = %v, want it absent", label, path, got)
			}
			continue
		}
		if ss, ok := v.([]string); ok {
			l := make([]any, len(ss))
			for i, s := range ss {
				l[i] = s
			}
			v = l
		}
		if n, ok := v.(int); ok {
			v = float64(n)
		}
		if !reflect.DeepEqual(got, v) {
			t.Errorf("%s: %s = %#v, want %#v", label, path, got, v)
		}
	}
}

// lineHash is the documented id of a line with a request id.
func lineHash(line string) string {
	sum := sha256.Sum256([]byte(line))
	return base64.RawURLEncoding.EncodeToString(sum[:20])
}

// TestFixtures reads the project's own access log (testdata/access.log)
// as the worker does and checks every edge case line by line.
func TestFixtures(t *testing.T) {
	f := mustNew(t, format.Options{})
	raw := readFixture(t, "access.log")
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	o := format.Object{Bucket: "northwind-logs", Key: simpleKey}
	res := formattest.Read(t, f, o, raw)
	if len(res.Dead) > 0 || len(res.Skipped) > 0 || len(res.Docs) != len(lines) {
		t.Fatalf("%d documents, dead %v, skipped %v; want %d documents", len(res.Docs), res.Dead, res.Skipped, len(lines))
	}
	common := want{
		"bucket_owner": owner, "bucket": "northwind-media", "event.kind": "event",
		"event.category": []string{"web"}, "event.type": []string{"access"},
		"event.dataset": "aws.s3access", "event.module": "aws", "event.provider": "s3.amazonaws.com",
		"cloud.provider": "aws", "cloud.service.name": "s3", "cloud.account": absent, "cloud.region": absent,
	}
	cases := map[int]want{
		1: {
			"@timestamp": "2026-03-14T09:02:11.000Z", "time": "2026-03-14T09:02:11Z",
			"remote_ip": "198.51.100.61", "requester": mediaSync, "request_id": "3B7E0F2A91C4D658",
			"operation": "REST.GET.OBJECT", "key": "videos/launch/teaser.mp4", "key_decoded": "videos/launch/teaser.mp4",
			"request_uri": "GET /videos/launch/teaser.mp4 HTTP/1.1", "request_method": "GET",
			"request_path": "/videos/launch/teaser.mp4", "request_protocol": "HTTP/1.1",
			"http_status": 200, "error_code": absent, "bytes_sent": 5242880, "object_size": 48234496,
			"total_time": 412, "turn_around_time": 37, "referrer": "https://www.example.org/launch",
			"version_id": absent, "host_id": fixtureHostID, "signature_version": "SigV4",
			"cipher_suite": "ECDHE-RSA-AES128-GCM-SHA256", "authentication_type": "AuthHeader",
			"host_header": hostHeader, "tls_version": "TLSv1.2", "access_point_arn": absent, "acl_required": absent,
			"extra_fields": absent, "user_agent.original": goAgent,
			"source.ip": "198.51.100.61", "user.name": mediaSync, "event.action": "REST.GET.OBJECT",
			"event.outcome": "success", "event.duration": 412e6, "http.request.method": "GET",
			"http.response.status_code": 200, "http.response.bytes": 5242880, "http.version": "1.1",
			"url.original": "/videos/launch/teaser.mp4", "url.path": "/videos/launch/teaser.mp4", "url.query": absent,
			"url.domain": hostHeader, "related.ip": []string{"198.51.100.61"}, "related.user": []string{mediaSync},
		},
		2: { // spaces in the key, URL-encoded
			"key": "renders/Final%20Cut%20v2/scene%2001.mov", "key_decoded": "renders/Final Cut v2/scene 01.mov",
			"request_method": "PUT", "version_id": "3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY", "bytes_sent": absent,
			"object_size": 734003200, "remote_ip": "10.40.2.18", "http.response.bytes": absent,
			"user.name":   "arn:aws:sts::210987654321:assumed-role/render-farm/i-07f3c2a9d1e4b5a60",
			"tls_version": "TLSv1.3", "cipher_suite": "TLS_AES_128_GCM_SHA256", "event.outcome": "success",
		},
		3: { // an AWS service as the requester, a 404 with its error code
			"requester": "svc:config.amazonaws.com", "user.name": "svc:config.amazonaws.com",
			"related.user": []string{"svc:config.amazonaws.com"}, "operation": "REST.GET.BUCKETPOLICY",
			"key": absent, "key_decoded": absent, "http_status": 404, "error_code": "NoSuchBucketPolicy",
			"event.outcome": "failure", "turn_around_time": absent, "request_path": "/northwind-media?policy",
			"url.path": "/northwind-media", "url.query": "policy", "url.domain": "s3.eu-west-1.amazonaws.com",
			"user_agent.original": "AWS Config",
		},
		4: { // an anonymous website visitor
			"requester": absent, "user": absent, "related.user": absent, "operation": "WEBSITE.GET.OBJECT",
			"signature_version": absent, "authentication_type": absent, "cipher_suite": absent, "tls_version": absent,
			"referrer": "https://www.example.com/", "event.outcome": "success", "source.ip": "203.0.113.88",
			"url.domain":          "northwind-media.s3-website-eu-west-1.amazonaws.com",
			"user_agent.original": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
		},
		5: { // access denied to another account
			"http_status": 403, "error_code": "AccessDenied", "event.outcome": "failure",
			"user.name":                 "arn:aws:sts::444455556666:assumed-role/vendor-sync/session-77",
			"http.response.status_code": 403, "http.response.bytes": 243,
		},
		6: { // IPv6 and every newer field
			"remote_ip": "2001:db8:4006:812::200e", "source.ip": "2001:db8:4006:812::200e",
			"related.ip": []string{"2001:db8:4006:812::200e"}, "operation": "REST.HEAD.OBJECT",
			"access_point_arn": "arn:aws:s3:eu-west-1:210987654321:accesspoint/analytics-ap", "acl_required": "Yes",
			"host_header": "analytics-ap-210987654321.s3-accesspoint.eu-west-1.amazonaws.com", "tls_version": "TLSv1.3",
			"http.request.method": "HEAD", "bytes_sent": absent, "extra_fields": absent,
		},
		7: { // the older format, ending with the user agent
			"@timestamp": "2016-06-02T17:44:09.000Z", "user.name": owner, "total_time": 35,
			"request_path": "/northwind-media/archive/2016/poster.jpg", "user_agent.original": "S3Console/0.4",
			"version_id": absent, "host_id": absent, "signature_version": absent, "host_header": absent, "url.domain": absent,
		},
		8: { // through version_id
			"@timestamp": "2017-09-19T06:12:40.000Z", "version_id": absent, "host_id": absent,
			"operation": "REST.GET.VERSIONING", "url.query": "versioning", "bytes_sent": 113,
		},
		9: { // fields after the last one known are kept
			"extra_fields": []string{"eu-west-1", "future field"}, "acl_required": absent, "key": "thumbs/teaser.jpg",
		},
		10: { // multi-object delete: a line per key, no request line
			"operation": "BATCH.DELETE.OBJECT", "request_id": "7C8D9EAFB0C1D2E3", "key": "tmp/render-0001.tmp",
			"request_uri": absent, "request_method": absent, "http.request.method": absent, "url.original": absent, "url.path": absent,
			"http_status": 204, "event.outcome": "success", "user_agent": absent, "object_size": 1048576,
			"total_time": absent, "event.duration": absent, "user.name": cleanupJob,
		},
		11: {"key": "tmp/render-0002.tmp", "version_id": "Aq1mVw7Ks0Xx9rT2yZ3bN4cD5eF6gH7i", "request_id": "7C8D9EAFB0C1D2E3"},
		12: {"key": "tmp/render-0002.tmp", "version_id": "Bz8pLq2Wm4Ns6Rt8Vx0Yc2Ae4Gi6Ko8M", "request_id": "7C8D9EAFB0C1D2E3"},
		13: {"operation": "REST.POST.MULTI_OBJECT_DELETE", "request_id": "7C8D9EAFB0C1D2E3", "request_path": "/?delete", "url.query": "delete"},
		14: { // no request id; an address that is not one; a zone offset
			"@timestamp": "2026-03-14T09:20:05.000Z", "time": "2026-03-14T09:20:05Z", "request_id": absent,
			"remote_ip": absent, "source.ip": absent, "source.address": "unknown", "related.ip": absent,
			"http_status": absent, "event.outcome": "unknown", "operation": "S3.EXPIRE.OBJECT",
			"requester": absent, "object_size": 524288, "host_id": absent, "acl_required": absent,
		},
		15: { // '+' is a space, %2B a plus; a query string
			"key": "stills/red+flower%2Bleaf.png", "key_decoded": "stills/red flower+leaf.png",
			"url.path": "/stills/red+flower%2Bleaf.png", "url.query": "versionId=3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY&partNumber=1",
			"http_status": 206, "authentication_type": "QueryString", "event.outcome": "success",
		},
		16: { // a key that does not decode is kept as written only
			"key": "odd/100%zz.txt", "key_decoded": absent, "http_status": 404, "error_code": "NoSuchKey",
			"event.outcome": "failure", "bytes_sent": absent, "turn_around_time": absent,
		},
	}
	ids := map[string]int{}
	for i, d := range res.Docs {
		n := i + 1
		if d.N != n {
			t.Fatalf("document %d is of line %d", n, d.N)
		}
		m := formattest.Check(t, f, d.Document)
		label := fmt.Sprintf("line %d", n)
		checkFields(t, label, m, common)
		checkFields(t, label, m, cases[n])
		if _, ok := m["user_agent"].(string); ok {
			t.Errorf("%s: user_agent is a string; it must be the ECS object", label)
		}
		wantIndex := "s3access-" + m["time"].(string)[:10]
		if d.Index != wantIndex || d.Version != 0 {
			t.Errorf("%s: index %s version %d, want %s 0", label, d.Index, d.Version, wantIndex)
		}
		wantID := lineHash(lines[i])
		if n == 14 {
			wantID = format.PositionID(o, n)
		}
		if d.ID != wantID {
			t.Errorf("%s: id %s, want %s", label, d.ID, wantID)
		}
		if prev, dup := ids[d.ID]; dup {
			t.Errorf("lines %d and %d share the id %s", prev, n, d.ID)
		}
		ids[d.ID] = n
	}

	// A replay gives the same documents; a line delivered again in another
	// object keeps its id, but for the line without a request id, whose id
	// is its place in its object.
	again := formattest.Read(t, f, o, raw)
	other := formattest.Read(t, f, format.Object{Bucket: "northwind-logs", Key: "s3-access/2026-03-14-10-15-42-0000000000000000"}, raw)
	for i, d := range res.Docs {
		if a := again.Docs[i]; a.ID != d.ID || a.Index != d.Index || string(a.Body) != string(d.Body) {
			t.Errorf("line %d: replay gave %s %s, first %s %s", i+1, a.Index, a.ID, d.Index, d.ID)
		}
		if same := other.Docs[i].ID == d.ID; same != (i+1 != 14) {
			t.Errorf("line %d: id in another object %s, in the first %s", i+1, other.Docs[i].ID, d.ID)
		}
	}
}

// TestPartitionedKey: a key in the date-based partitioned layout names the
// source account and region, which become cloud.account.id and
// cloud.region. The fixture has no final newline.
func TestPartitionedKey(t *testing.T) {
	f := mustNew(t, format.Options{})
	if c := f.Claim(format.ParseKey(partitionedKey)); c != format.Read {
		t.Fatalf("claim %d for %s", c, partitionedKey)
	}
	res := formattest.Read(t, f, format.Object{Bucket: "northwind-logs", Key: partitionedKey}, readFixture(t, "partitioned.log"))
	if len(res.Docs) != 2 || len(res.Dead) > 0 {
		t.Fatalf("%d documents, dead %v", len(res.Docs), res.Dead)
	}
	for i, d := range res.Docs {
		m := formattest.Check(t, f, d.Document)
		checkFields(t, fmt.Sprintf("line %d", i+1), m, want{"cloud.account.id": "210987654321", "cloud.region": "eu-west-1"})
		if d.Index != "s3access-2026-03-14" {
			t.Errorf("line %d: index %s", i+1, d.Index)
		}
	}
}

// TestDeadLetters: lines cut short, times that cannot be read and numbers
// that are not numbers are dead-lettered with a reason naming the field;
// the good line among them is read and the blank one skipped.
func TestDeadLetters(t *testing.T) {
	f := mustNew(t, format.Options{})
	res := formattest.Read(t, f, format.Object{Bucket: "b", Key: simpleKey}, readFixture(t, "bad.log"))
	if len(res.Docs) != 1 || res.Docs[0].N != 8 {
		t.Fatalf("documents %+v, want line 8 only", res.Docs)
	}
	formattest.Check(t, f, res.Docs[0].Document)
	wantDead := map[int]string{
		1: "user_agent: \" not closed",
		2: "10 fields, want at least 17",
		3: "time: \"[14/Mrz/2026:09:40:02 +0000]\" is not a time",
		4: "time: \"2026-03-14T09:40:03Z\" is not in brackets",
		5: "http_status: \"OK\" is not a number",
		6: "time: [ not closed",
		9: "time: \"[31/Feb/2026:09:40:07 +0000]\" is not a time",
	}
	if len(res.Dead) != len(wantDead) {
		t.Errorf("dead %+v", res.Dead)
	}
	for _, d := range res.Dead {
		if w, ok := wantDead[d.N]; !ok || !strings.Contains(d.Reason, w) {
			t.Errorf("line %d dead-lettered for %q, want a reason with %q", d.N, d.Reason, w)
		}
	}
}

func TestClaim(t *testing.T) {
	f := mustNew(t, format.Options{})
	for key, w := range map[string]format.Claim{
		"2026-03-14-09-15-42-7D3A91C04B2E58F6":       format.Read,
		simpleKey:                                    format.Read,
		partitionedKey:                               format.Read,
		"logs2026-03-14-09-15-42-7D3A91C04B2E58F6":   format.Read, // a prefix without a slash
		"a/b/c/2024-02-29-23-59-59-ZZZZZZZZZZZZZZZZ": format.Read,
		"AWSLogs/123456789012/CloudTrail/us-east-1/2026-03-14-09-15-42-7D3A91C04B2E58F6":                                                  format.NotMine,
		"s3-access/2026-03-14-09-15-42-7D3A91C04B2E58F6.gz":                                                                               format.NotMine,
		"s3-access/2026-03-14-09-15-42-7d3a91c04b2e58f6":                                                                                  format.NotMine,
		"s3-access/2026-03-14-09-15-42-7D3A91C04B2E58F":                                                                                   format.NotMine,
		"s3-access/2026-13-14-09-15-42-7D3A91C04B2E58F6":                                                                                  format.NotMine,
		"s3-access/2025-02-29-09-15-42-7D3A91C04B2E58F6":                                                                                  format.NotMine,
		"s3-access/2026-03-14-24-15-42-7D3A91C04B2E58F6":                                                                                  format.NotMine,
		"s3-access/2026-03-14-09-15-42_7D3A91C04B2E58F6":                                                                                  format.NotMine,
		"s3-access/2026-03-14-09-15-42-7D3A91C04B2E58F6/":                                                                                 format.NotMine,
		"s3-access/2026-03-14-09-15-42-7D3A91C04B2E58F6/x":                                                                                format.NotMine,
		"cloudfront/E2ABCDEF123456.2026-03-14-09.a1b2c3d4.gz":                                                                             format.NotMine,
		"firehose/2026/03/14/09/stream-1-2026-03-14-09-15-42-0a1b2c3d-4e5f-6789-abcd-ef0123456789":                                        format.NotMine,
		"AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/03/14/123456789012_vpcflowlogs_us-east-1_fl-0123_20260314T0915Z_ab12cd34.log.gz": format.NotMine,
		"": format.NotMine,
	} {
		if got := f.Claim(format.ParseKey(key)); got != w {
			t.Errorf("Claim(%q) = %d, want %d", key, got, w)
		}
	}
}

func TestPartition(t *testing.T) {
	for key, w := range map[string]string{
		partitionedKey: "210987654321 eu-west-1",
		"210987654321/us-gov-west-1/b/2026/03/14/2026-03-14-00-00-00-A1B2C3D4E5F60718":   "210987654321 us-gov-west-1",
		"logs210987654321/eu-west-1/b/2026/03/14/2026-03-14-13-05-00-A1B2C3D4E5F60718":   "210987654321 eu-west-1", // DeliveryTime
		"x/210987654321/eu-west-1/b/2026/03/15/2026-03-14-00-00-00-A1B2C3D4E5F60718":     " ",                      // another day
		"x/210987654321/EU-WEST-1/b/2026/03/14/2026-03-14-00-00-00-A1B2C3D4E5F60718":     " ",
		"x/21098765432/eu-west-1/b/2026/03/14/2026-03-14-00-00-00-A1B2C3D4E5F60718":      " ",
		"x/210987654321/eu-west-1//2026/03/14/2026-03-14-00-00-00-A1B2C3D4E5F60718":      " ",
		"x/210987654321/eu-west-1/b/2026/03/14/logs2026-03-14-00-00-00-A1B2C3D4E5F60718": " ",
		"eu-west-1/b/2026/03/14/2026-03-14-00-00-00-A1B2C3D4E5F60718":                    " ",
		simpleKey: " ",
	} {
		a, r := partition(key)
		if got := a + " " + r; got != w {
			t.Errorf("partition(%q) = %q, want %q", key, got, w)
		}
	}
}

func TestParseTime(t *testing.T) {
	for _, s := range []string{
		"06/Feb/2019:00:00:38 +0000", "29/Feb/2024:23:59:59 -0000", "01/Jan/1970:00:00:00 +0000",
		"14/Mar/2026:11:20:05 +0200", "31/Dec/2026:23:30:00 -0930", "15/Jul/2031:12:00:00 +1400",
	} {
		got, ok := parseTime(s)
		ref, err := time.Parse("02/Jan/2006:15:04:05 -0700", s)
		if !ok || err != nil || !got.Equal(ref) || got.Location() != time.UTC {
			t.Errorf("%s: %v %v, time.Parse %v %v", s, got, ok, ref, err)
		}
	}
	for _, s := range []string{
		"", "06/Feb/2019:00:00:38", "06/feb/2019:00:00:38 +0000", "6/Feb/2019:00:00:38 +0000",
		"29/Feb/2023:00:00:38 +0000", "00/Feb/2019:00:00:38 +0000", "06/Feb/2019:24:00:00 +0000",
		"06/Feb/2019:00:60:00 +0000", "06/Feb/2019:00:00:60 +0000", "06/Feb/2019:00:00:38 +1500",
		"06/Feb/2019:00:00:38 *0000", "06/Feb/2019:00:00:38 +00:0", "06/Feb/1969:00:00:38 +0000",
		"06/Feb/9999:00:00:38 +0000", "06/Feb/2019T00:00:38 +0000", "06/Feb/2019:00:00:3x +0000",
	} {
		if got, ok := parseTime(s); ok {
			t.Errorf("%q read as %v", s, got)
		}
	}
}

func TestUnescape(t *testing.T) {
	for in, w := range map[string]string{
		"a%20b": "a b", "a+b": "a b", "a%2Bb": "a+b", "caf%C3%A9": "café", "%2f%2F": "//", "plain/key.txt": "plain/key.txt", "": "",
	} {
		got, ok := unescape(nil, in)
		if !ok || string(got) != w {
			t.Errorf("unescape(%q) = %q %v, want %q", in, got, ok, w)
		}
	}
	for _, in := range []string{"%", "%2", "a%zz", "%g0", "100%"} {
		if got, ok := unescape(nil, in); ok {
			t.Errorf("unescape(%q) = %q, want a failure", in, got)
		}
	}
}

func TestSplit(t *testing.T) {
	for in, w := range map[string][]string{
		`a b  c`:                         {"a", "b", "c"},
		`[06/Feb/2019:00:00:38 +0000] x`: {"[06/Feb/2019:00:00:38 +0000]", "x"},
		`"GET / HTTP/1.1" "-" -`:         {`"GET / HTTP/1.1"`, `"-"`, "-"},
		`"ua/1 (x="1";y)" z`:             {`"ua/1 (x="1";y)"`, "z"}, // quotes inside a quoted field
		`"a"b" c`:                        {`"a"b"`, "c"},
		`""`:                             {`""`},
		` lead trail `:                   {"lead", "trail"},
	} {
		got, err := split(nil, in)
		if err != nil || !reflect.DeepEqual(got, w) {
			t.Errorf("split(%q) = %q %v, want %q", in, got, err, w)
		}
	}
	for _, in := range []string{`a "b c`, `[x`, `a "`, `"a" "b`} {
		if got, err := split(nil, in); err == nil {
			t.Errorf("split(%q) = %q, want an error", in, got)
		}
	}
}

func TestTimeZoneAndPrefix(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	f := mustNew(t, format.Options{IndexPrefix: "s3logs", Location: tokyo})
	if f.IndexPattern() != "s3logs-*" || f.Name() != "s3access" || f.Framing() != format.Lines {
		t.Errorf("pattern %s name %s framing %d", f.IndexPattern(), f.Name(), f.Framing())
	}
	line := owner + ` b [14/Mar/2026:20:00:00 +0000] 192.0.2.1 - 0A0A0A0A0A0A0A0A REST.GET.OBJECT k "GET /k HTTP/1.1" 200 - 1 1 1 1 "-" "-"`
	d, err := f.Decoder(format.Object{Key: simpleKey}).Decode([]byte(line), 1)
	if err != nil {
		t.Fatal(err)
	}
	if d.Index != "s3logs-2026-03-15" {
		t.Errorf("index %s, want the day in Tokyo", d.Index)
	}
	for _, p := range []string{"Bad Prefix", "_x", "a/b"} {
		if _, err := New(format.Options{IndexPrefix: p}); err == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
}

// TestDecodeKeepsNoReference: the body is a fresh slice; the record's bytes
// are reused after Decode returns.
func TestDecodeKeepsNoReference(t *testing.T) {
	f := mustNew(t, format.Options{})
	dec := f.Decoder(format.Object{Key: simpleKey})
	raw := readFixture(t, "access.log")
	line := []byte(strings.SplitN(string(raw), "\n", 2)[0])
	d, err := dec.Decode(line, 1)
	if err != nil {
		t.Fatal(err)
	}
	body := string(d.Body)
	for i := range line {
		line[i] = 'X'
	}
	if string(d.Body) != body || !json.Valid(d.Body) {
		t.Error("the document changed with the record's bytes")
	}
}

func TestTemplate(t *testing.T) {
	f := mustNew(t, format.Options{IndexPrefix: "s3logs"})
	formattest.CheckTemplate(t, f)
	name, body := f.IndexTemplate(format.Engine{Distribution: "opensearch", Major: 2, Minor: 19})
	var tmpl struct {
		Template struct {
			Settings map[string]any `json:"settings"`
			Mappings struct {
				Properties map[string]struct {
					Type        string `json:"type"`
					IgnoreAbove int    `json:"ignore_above"`
				} `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal([]byte(body), &tmpl); err != nil {
		t.Fatal(err)
	}
	if name != "s3logs" {
		t.Errorf("template name %s", name)
	}
	props := tmpl.Template.Mappings.Properties
	for field, typ := range map[string]string{
		"remote_ip": "ip", "time": "date", "http_status": "long", "bytes_sent": "long", "object_size": "long",
		"total_time": "long", "turn_around_time": "long", "key": "keyword", "request_id": "keyword", "extra_fields": "keyword",
	} {
		if props[field].Type != typ {
			t.Errorf("%s mapped as %q, want %s", field, props[field].Type, typ)
		}
	}
	// Every field a document has is mapped, and every keyword has a limit
	// below Lucene's 32766 bytes for a term of 4-byte characters.
	for _, name := range fieldNames {
		if name == "user_agent" {
			continue // the ECS object
		}
		p, ok := props[name]
		if !ok {
			t.Errorf("%s is not mapped", name)
		}
		if p.Type == "keyword" && (p.IgnoreAbove <= 0 || p.IgnoreAbove*4 > 32766) {
			t.Errorf("%s: keyword with ignore_above %d", name, p.IgnoreAbove)
		}
	}
	if tmpl.Template.Settings["index.number_of_shards"] != 1.0 {
		t.Errorf("settings %v", tmpl.Template.Settings)
	}
}
