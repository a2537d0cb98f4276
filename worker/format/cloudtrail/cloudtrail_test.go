package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

func mustCT(t testing.TB, o format.Options) *CloudTrail { return formattest.Must(t, New, o) }

// fixture reads testdata/name, gzip-compressed as CloudTrail stores it
// when gz is set.
func fixture(t testing.TB, name string, gz bool) []byte {
	t.Helper()
	b := formattest.Testdata(t, name)
	if gz {
		b = formattest.Gzip(t, b)
	}
	return b
}

// readFixture reads a fixture as the worker reads the object at key, and
// checks every document.
func readFixture(t *testing.T, ct *CloudTrail, name, key string) ([]formattest.Doc, []map[string]any, formattest.Result) {
	t.Helper()
	if claim := ct.Claim(format.ParseKey(key)); claim != format.Read {
		t.Fatalf("%s: claim %d, want Read", key, claim)
	}
	res := formattest.Read(t, ct, format.Object{Bucket: "trail-bucket", Key: key}, fixture(t, name, true))
	var bodies []map[string]any
	for _, d := range res.Docs {
		bodies = append(bodies, formattest.Check(t, ct, d.Document))
	}
	return res.Docs, bodies, res
}

const (
	orgKey         = "AWSLogs/o-k3x9q2w7ze/210987654321/CloudTrail/eu-west-1/2026/02/11/210987654321_CloudTrail_eu-west-1_20260211T0935Z_Q7mZp2LkV9xRt4Nw.json.gz"
	redeliveredKey = "audit/AWSLogs/210987654321/CloudTrail/eu-west-1/2026/02/11/210987654321_CloudTrail_eu-west-1_20260211T0940Z_B3nX8vQ1mK6pL0sD.json.gz"
	prettyKey      = "AWSLogs/345678901234/CloudTrail/ap-southeast-2/2026/03/02/345678901234_CloudTrail_ap-southeast-2_20260302T0815Z_W4eR7tY2uI9oP3aS.json.gz"
	insightKey     = "AWSLogs/345678901234/CloudTrail-Insight/ap-southeast-2/2026/03/02/345678901234_CloudTrail-Insight_ap-southeast-2_20260302T1050Z_Z8xC5vB2nM7qW1eR.json.gz"
	digestKey      = "AWSLogs/345678901234/CloudTrail-Digest/ap-southeast-2/2026/03/02/345678901234_CloudTrail-Digest_ap-southeast-2_org-audit_ap-southeast-2_20260302T080000Z.json.gz"
	brokenKey      = "AWSLogs/345678901234/CloudTrail/ap-southeast-2/2026/03/03/345678901234_CloudTrail_ap-southeast-2_20260303T0005Z_K1lJ2hG3fD4sA5pO.json.gz"
)

// get follows a dotted path in a body.
func get(m map[string]any, path string) any {
	return formattest.Get(m, strings.Split(path, ".")...)
}

func str(v any) string {
	if v == nil {
		return "<none>"
	}
	if s, ok := v.([]any); ok {
		parts := make([]string, len(s))
		for i, e := range s {
			parts[i] = fmt.Sprint(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	return fmt.Sprint(v)
}

// expect checks the fields of a body against want (dotted path → value as
// str prints it).
func expect(t *testing.T, what string, m map[string]any, want map[string]string) {
	t.Helper()
	for path, w := range want {
		if got := str(get(m, path)); got != w {
			t.Errorf("%s: %s = %s, want %s", what, path, got, w)
		}
	}
}

// TestOrgTrail decodes an organization trail's file of every kind of
// record: a failed call, a role session, a service acting (its name as
// sourceIPAddress), a service event whose identity has no type, a data
// event, sign-ins (one failed), a record without an eventID, and
// requestParameters.policy that is a string in one record and an object in
// the next.
func TestOrgTrail(t *testing.T) {
	ct := mustCT(t, format.Options{})
	docs, bodies, _ := readFixture(t, ct, "org_trail.json", orgKey)
	if len(docs) != 10 {
		t.Fatalf("%d documents, want 10", len(docs))
	}
	const id = "0e4b3a8f-6c21-4d5e-9f70-1a2b3c4d5e%02d"
	want := []map[string]string{
		{"@timestamp": "2026-02-11T09:31:07.000Z", "event.kind": "event", "event.action": "RunInstances", "event.provider": "ec2.amazonaws.com",
			"event.outcome": "failure", "event.category": "[configuration]", "event.type": "[creation]", "event.dataset": "aws.cloudtrail",
			"source.ip": "198.51.100.23", "source.address": "198.51.100.23", "user.name": "nina.k", "related.user": "[nina.k]", "related.ip": "[198.51.100.23]",
			"cloud.account.id": "210987654321", "cloud.region": "eu-west-1", "cloud.service.name": "ec2", "cloud.provider": "aws",
			"errorCode": "Client.UnauthorizedOperation", "responseElements": "<none>", "requestParameters.instanceType": "p5.48xlarge",
			"user_agent.original": "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79 exe/x86_64.amzn.2023 prompt/off command/ec2.run-instances"},
		{"event.action": "PutKeyPolicy", "event.outcome": "success", "event.type": "[change]", "source.ip": "2001:db8:4f1c::2a",
			"user.name": "Deployer", "related.user": "[Deployer gh-actions-8812]", "cloud.service.name": "kms",
			"userIdentity.type": "AssumedRole", "userIdentity.sessionContext.attributes.mfaAuthenticated": "false"},
		{"event.action": "PutBucketPolicy", "user.name": "Deployer", "requestParameters.policy.Statement": "[map[Action:s3:* Condition:map[Bool:map[aws:SecureTransport:false]] Effect:Deny Principal:* Resource:arn:aws:s3:::invoices-210987654321/* Sid:DenyInsecureTransport]]",
			"resources": "[map[ARN:arn:aws:s3:::invoices-210987654321 accountId:210987654321 type:AWS::S3::Bucket]]"},
		{"event.action": "AssumeRole", "event.category": "[authentication]", "event.type": "[start]", "source.ip": "<none>",
			"source.address": "lambda.amazonaws.com", "related.ip": "<none>", "user.name": "<none>", "related": "<none>",
			"userIdentity.invokedBy": "lambda.amazonaws.com", "cloud.service.name": "sts"},
		{"event.action": "RotateKey", "source.ip": "<none>", "source.address": "AWS Internal", "user.name": "<none>", "userIdentity.type": "<none>",
			"userIdentity.invokedBy": "AWS Internal", "requestParameters": "<none>", "serviceEventDetails.rotationType": "AUTOMATIC", "eventType": "AwsServiceEvent"},
		{"event.action": "GetObject", "event.type": "[access]", "eventCategory": "Data", "managementEvent": "false", "user.name": "invoice-renderer-exec",
			"related.user": "[invoice-renderer-exec invoice-renderer]", "source.ip": "10.20.3.41", "additionalEventData.bytesTransferredOut": "48213"},
		{"event.action": "ConsoleLogin", "event.category": "[authentication]", "event.type": "[start]", "event.outcome": "success", "user.name": "root",
			"userIdentity.type": "Root", "responseElements.ConsoleLogin": "Success"},
		{"event.action": "ConsoleLogin", "event.outcome": "failure", "user.name": "nina.k", "errorCode": "<none>", "errorMessage": "Failed authentication"},
		{"event.action": "GetParameter", "event.type": "[access]", "user.name": "ops-bot", "eventID": "<none>"},
		{"event.action": "CreateUser", "event.category": "[iam]", "event.type": "[creation]", "cloud.region": "us-east-1",
			"cloud.account.id": "210987654321", "recipientAccountId": "<none>"},
	}
	for i, w := range want {
		d := docs[i]
		what := fmt.Sprintf("record %d", i+1)
		if d.N != i+1 || d.Index != "cloudtrail-2026-02-11" || d.Version != 0 {
			t.Errorf("%s: position %d index %s version %d", what, d.N, d.Index, d.Version)
		}
		wantID := fmt.Sprintf(id, i+1)
		if i == 8 {
			wantID = format.PositionID(format.Object{Bucket: "trail-bucket", Key: orgKey}, 9)
		}
		if d.ID != wantID {
			t.Errorf("%s: id %s, want %s", what, d.ID, wantID)
		}
		expect(t, what, bodies[i], w)
	}
	// requestParameters.policy is a string in the second record: the
	// template maps requestParameters as one free-form field, so the two
	// cannot clash.
	if _, ok := get(bodies[1], "requestParameters.policy").(string); !ok {
		t.Error("record 2: requestParameters.policy is not the string delivered")
	}
}

// TestBodyIsTheRecord: the body is the record as delivered, its members
// in their order, followed by the ECS fields.
func TestBodyIsTheRecord(t *testing.T) {
	ct := mustCT(t, format.Options{})
	var file struct{ Records []json.RawMessage }
	if err := json.Unmarshal(fixture(t, "org_trail.json", false), &file); err != nil {
		t.Fatal(err)
	}
	docs, _, _ := readFixture(t, ct, "org_trail.json", orgKey)
	for i, rec := range file.Records {
		body := docs[i].Body
		if !bytes.HasPrefix(body, rec[:len(rec)-1]) || !bytes.HasPrefix(body[len(rec)-1:], []byte(`,"@timestamp":"`)) {
			t.Errorf("record %d: body does not start with the record:\n%s\n%s", i+1, rec, body)
		}
		if len(body) != cap(body) {
			t.Errorf("record %d: body of %d bytes holds %d", i+1, len(body), cap(body))
		}
	}
}

// TestRedelivered: an event delivered again, in another trail's file,
// is the same document.
func TestRedelivered(t *testing.T) {
	ct := mustCT(t, format.Options{})
	first, _, _ := readFixture(t, ct, "org_trail.json", orgKey)
	again, bodies, _ := readFixture(t, ct, "redelivered.json", redeliveredKey)
	if len(again) != 2 {
		t.Fatalf("%d documents, want 2", len(again))
	}
	if again[0].ID != first[2].ID || again[0].Index != first[2].Index || !bytes.Equal(again[0].Body, first[2].Body) {
		t.Errorf("the redelivered event is %s/%s, first delivered as %s/%s", again[0].Index, again[0].ID, first[2].Index, first[2].ID)
	}
	// Its neighbour has requestParameters.policy as a third type.
	expect(t, "new record", bodies[1], map[string]string{"requestParameters.policy": "", "event.action": "GetBucketPolicy", "event.type": "[access]"})
}

// TestPrettyPrinted: elements spread over many lines (files rewritten by
// tools) are indexed on one line, the white space inside strings kept.
func TestPrettyPrinted(t *testing.T) {
	ct := mustCT(t, format.Options{})
	docs, bodies, _ := readFixture(t, ct, "pretty.json", prettyKey)
	if len(docs) != 2 {
		t.Fatalf("%d documents, want 2", len(docs))
	}
	var file struct{ Records []json.RawMessage }
	if err := json.Unmarshal(fixture(t, "pretty.json", false), &file); err != nil {
		t.Fatal(err)
	}
	for i, rec := range file.Records {
		var want bytes.Buffer
		if err := json.Compact(&want, rec); err != nil {
			t.Fatal(err)
		}
		w := want.Bytes()
		if !bytes.HasPrefix(docs[i].Body, w[:len(w)-1]) {
			t.Errorf("record %d: body is not the compacted record:\n%s\n%s", i+1, w, docs[i].Body)
		}
	}
	expect(t, "record 1", bodies[0], map[string]string{
		"@timestamp": "2026-03-02T08:14:09.000Z", "event.action": "StopLogging", "event.outcome": "failure",
		"user.name": "AWSReservedSSO_SecurityAudit_5f2e8c1a9b7d3e40", "related.user": "[AWSReservedSSO_SecurityAudit_5f2e8c1a9b7d3e40 mara@example.org]",
		"user_agent.original":          `Mozilla/5.0 (X11; Linux x86_64) "quoted" café back\slash`,
		"errorMessage":                 "User: arn:aws:sts::345678901234:assumed-role/AWSReservedSSO_SecurityAudit_5f2e8c1a9b7d3e40/mara@example.org is not authorized to perform: cloudtrail:StopLogging   (three spaces kept)",
		"sessionCredentialFromConsole": "true", "cloud.account.id": "345678901234", "cloud.region": "ap-southeast-2",
	})
	expect(t, "record 2", bodies[1], map[string]string{"requestParameters.description": "nightly\tbackup", "event.type": "[creation]", "user.name": "backup-agent"})
	if docs[0].ID != "6a1f0e2d-3c4b-4a59-8e7f-0d1c2b3a4f51" || docs[0].Index != "cloudtrail-2026-03-02" {
		t.Errorf("record 1: %s/%s", docs[0].Index, docs[0].ID)
	}
}

// TestInsight: Insights events are alerts in their own indices.
func TestInsight(t *testing.T) {
	ct := mustCT(t, format.Options{})
	docs, bodies, _ := readFixture(t, ct, "insight.json", insightKey)
	if len(docs) != 2 {
		t.Fatalf("%d documents, want 2", len(docs))
	}
	for i, ts := range []string{"2026-03-02T10:40:00.000Z", "2026-03-02T10:47:00.000Z"} {
		if docs[i].Index != "cloudtrail-insight-2026-03-02" || docs[i].ID != fmt.Sprintf("d2c1b0a9-8f7e-4d6c-9b5a-4f3e2d1c0b%02d", i+1) {
			t.Errorf("insight %d: %s/%s", i+1, docs[i].Index, docs[i].ID)
		}
		expect(t, fmt.Sprint("insight ", i+1), bodies[i], map[string]string{
			"@timestamp": ts, "event.kind": "alert", "event.action": "ApiCallRateInsight", "event.provider": "iam.amazonaws.com",
			"event.category": "[configuration]", "event.type": "[info]", "event.outcome": "<none>", "cloud.service.name": "iam",
			"cloud.account.id": "345678901234", "sharedEventID": "a9b8c7d6-e5f4-4a3b-8c2d-1e0f9a8b7c6d", "user": "<none>", "source": "<none>",
		})
	}
	if got := str(get(bodies[1], "insightDetails.insightContext.statistics.insightDuration")); got != "7" {
		t.Errorf("insightDuration %s", got)
	}
}

// TestEmptyAndDigest: a file without records gives nothing; a digest
// file is skipped, never read.
func TestEmptyAndDigest(t *testing.T) {
	ct := mustCT(t, format.Options{})
	docs, _, res := readFixture(t, ct, "empty.json", "AWSLogs/345678901234/CloudTrail/ap-southeast-2/2026/03/02/345678901234_CloudTrail_ap-southeast-2_20260302T0820Z_E9mpTyR3c0rDs5Zx.json.gz")
	if len(docs) != 0 || len(res.Dead) != 0 || len(res.Skipped) != 0 {
		t.Errorf("empty file: %+v", res)
	}
	if claim := ct.Claim(format.ParseKey(digestKey)); claim != format.Skip {
		t.Errorf("digest: claim %d, want Skip", claim)
	}
	// Were it read, a digest would be refused whole: it has no Records.
	if _, err := formattest.ReadErr(ct, format.Object{Key: digestKey}, fixture(t, "digest.json", true)); err == nil {
		t.Error("a digest read as a log file gave no error")
	}
}

// TestBrokenRecords: each unusable record is dead-lettered with its
// reason; the others are indexed.
func TestBrokenRecords(t *testing.T) {
	ct := mustCT(t, format.Options{})
	docs, bodies, res := readFixture(t, ct, "broken.json", brokenKey)
	if len(docs) != 3 || docs[0].N != 1 || docs[1].N != 7 || docs[2].N != 10 {
		t.Fatalf("documents %+v, want records 1, 7 and 10", docs)
	}
	// Record 7's requestParameters is a string: it is kept whole, out of
	// the free-form field, and the record indexed.
	expect(t, "record 7", bodies[1], map[string]string{
		"requestParameters": "<none>", "logtide.unindexed.requestParameters": "volumeId=vol-1", "event.action": "DescribeVolumes",
	})
	want := []struct {
		n      int
		reason string
	}{
		{2, "invalid JSON: invalid literal, expecting true"},
		{3, "no eventTime"},
		{4, `eventTime: not an ISO-8601 time: "03/03/2026 00:00:04"`},
		{5, "eventID: not a string"},
		{6, "not a JSON object"},
		{8, `the record has a member "user", a name the document's ECS fields use`},
		{9, "eventID appears twice"},
	}
	if len(res.Dead) != len(want) {
		t.Fatalf("dead letters %+v", res.Dead)
	}
	for i, w := range want {
		if d := res.Dead[i]; d.N != w.n || !strings.HasPrefix(d.Reason, w.reason) {
			t.Errorf("dead letter %d: %d %q, want %d %q", i, d.N, d.Reason, w.n, w.reason)
		}
	}
}

// TestTruncated: a document cut short (an interrupted upload, a damaged
// gzip stream) fails the object: it can be read again, and its records
// must not be half indexed as if complete.
func TestTruncated(t *testing.T) {
	ct := mustCT(t, format.Options{})
	o := format.Object{Bucket: "trail-bucket", Key: brokenKey}
	if _, err := formattest.ReadErr(ct, o, fixture(t, "truncated.json", true)); err == nil {
		t.Error("a truncated document gave no error")
	}
	gz := fixture(t, "org_trail.json", true)
	if _, err := formattest.ReadErr(ct, o, gz[:len(gz)*2/3]); err == nil {
		t.Error("a truncated gzip stream gave no error")
	}
}

func TestClaim(t *testing.T) {
	ct := mustCT(t, format.Options{})
	for key, want := range map[string]format.Claim{
		orgKey:         format.Read,
		redeliveredKey: format.Read,
		insightKey:     format.Read,
		digestKey:      format.Skip,
		"AWSLogs/aws-account-id=210987654321/aws-service=CloudTrail/aws-region=eu-west-1/year=2026/month=02/day=11/x.json.gz": format.Read,
		"AWSLogs/210987654321/GuardDuty/eu-west-1/2026/02/11/5b7c.jsonl.gz":                                                   format.NotMine,
		"AWSLogs/210987654321/vpcflowlogs/eu-west-1/2026/02/11/x.log.gz":                                                      format.NotMine,
		"CloudTrail/eu-west-1/2026/02/11/x.json.gz":                                                                           format.NotMine,
		"AWSLogs/210987654321/CloudTrailX/eu-west-1/x.json.gz":                                                                format.NotMine,
	} {
		if got := ct.Claim(format.ParseKey(key)); got != want {
			t.Errorf("%s: claim %d, want %d", key, got, want)
		}
	}
}

func TestTimeZoneAndPrefix(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	ct := mustCT(t, format.Options{IndexPrefix: "audit.ct", Location: tokyo})
	dec := ct.Decoder(format.Object{Key: orgKey})
	for _, c := range []struct{ rec, index, ts string }{
		{`{"eventTime":"2026-02-11T15:30:00Z","eventID":"a"}`, "audit.ct-2026-02-12", "2026-02-11T15:30:00.000Z"},
		{`{"eventTime":"2026-02-11T14:59:59Z","eventID":"b"}`, "audit.ct-2026-02-11", "2026-02-11T14:59:59.000Z"},
		{`{"eventTime":"2026-02-11T14:59:59Z","eventType":"AwsCloudTrailInsight","eventID":"c"}`, "audit.ct-insight-2026-02-11", "2026-02-11T14:59:59.000Z"},
		{`{"eventTime":"2026-02-11T14:59:59Z","eventID":"d"}`, "audit.ct-2026-02-11", "2026-02-11T14:59:59.000Z"},
		// Other RFC 3339 forms: fractions, offsets.
		{`{"eventTime":"2026-02-11T15:30:00.250+02:00","eventID":"e"}`, "audit.ct-2026-02-11", "2026-02-11T13:30:00.250Z"},
		{`{"eventTime":"2026-02-11T15:30:00.123456Z","eventID":"f"}`, "audit.ct-2026-02-12", "2026-02-11T15:30:00.123Z"},
	} {
		d, err := dec.Decode([]byte(c.rec), 1)
		if err != nil {
			t.Fatalf("%s: %v", c.rec, err)
		}
		m := formattest.Check(t, ct, d)
		if d.Index != c.index || m["@timestamp"] != c.ts {
			t.Errorf("%s: index %s @timestamp %v, want %s %s", c.rec, d.Index, m["@timestamp"], c.index, c.ts)
		}
	}
	for _, bad := range []string{"", "CloudTrail", "-ct", "a b"} {
		if _, err := New(format.Options{IndexPrefix: bad}); bad != "" && err == nil {
			t.Errorf("prefix %q accepted", bad)
		}
	}
}

func TestRejects(t *testing.T) {
	dec := mustCT(t, format.Options{}).Decoder(format.Object{Key: orgKey})
	long := strings.Repeat("x", maxID+1)
	for _, c := range []struct{ rec, reason string }{
		{``, "not a JSON object"},
		{`[]`, "not a JSON object"},
		{`{"eventTime":"2026-02-11T15:30:00Z"`, "invalid JSON"},
		{`{"eventTime":"2026-02-11T15:30:00Z"} x`, "invalid JSON"},
		{`{"eventTime":null}`, "no eventTime"},
		{`{"eventTime":1770823800}`, "eventTime is not a string"},
		{`{"eventTime":"2026-02-30T15:30:00Z"}`, "eventTime: not an ISO-8601 time"},
		{`{"eventTime":"2026-02-11T24:00:00Z"}`, "eventTime: not an ISO-8601 time"},
		{`{"eventTime":"2026-02-11"}`, "eventTime: not an ISO-8601 time"},
		{`{"eventTime":"0001-01-01T00:00:00Z"}`, "eventTime 0001-01-01T00:00:00Z is not between the years 1970 and 9998"},
		{`{"eventTime":"9999-12-31T23:59:59Z"}`, "eventTime 9999-12-31T23:59:59Z is not between"},
		{`{"eventTime":"2026-02-11T15:30:00Z","eventID":"` + long + `"}`, "eventID: longer than 512 bytes"},
		{"{\"eventTime\":\"2026-02-11T15:30:00Z\",\"eventID\":\"a\xff\"}", "eventID: not valid UTF-8"},
		{`{"eventTime":"2026-02-11T15:30:00Z","eventID":"\ud800"}`, "eventID: not valid UTF-8"},
		{`{"eventTime":"2026-02-11T15:30:00Z","userIdentity":"root"}`, "userIdentity is not an object"},
		{`{"eventTime":"2026-02-11T15:30:00Z","userIdentity":{"userName":"a","userName":"b"}}`, "userIdentity.userName appears twice"},
		{`{"eventTime":"2026-02-11T15:30:00Z","logtide":{},"userIdentity":{"sessionContext":{"webIdFederationData":{"attributes":[1]}}}}`, "userIdentity.sessionContext.webIdFederationData.attributes is not an object, and the record has a member logtide"},
		{`{"eventTime":"2026-02-11T15:30:00Z","@timestamp":"x"}`, `the record has a member "@timestamp"`},
		{`{"eventTime":"2026-02-11T15:30:00Z","rel\u0061ted":{}}`, `the record has a member "related"`},
		{`{"eventTime":"2026-02-11T15:30:00Z","a":` + strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1) + `}`, "invalid JSON: nesting deeper"},
	} {
		_, err := dec.Decode([]byte(c.rec), 1)
		var re *format.RecordError
		if !errors.As(err, &re) || !strings.HasPrefix(re.Reason, c.reason) {
			t.Errorf("%.80s: %v, want a record error %q", c.rec, err, c.reason)
		}
	}
}

// TestUnfitBlocks: a free-form block the cluster would refuse (not an
// object, or with a leaf longer than the longest term) moves whole to
// logtide.unindexed; the record is indexed, and its ECS fields are read as
// delivered.
func TestUnfitBlocks(t *testing.T) {
	dec := mustCT(t, format.Options{}).Decoder(format.Object{Key: orgKey})
	long := strings.Repeat("k", format.TermLimit)
	for _, c := range []struct {
		name, rec string
		want      map[string]string
	}{
		{"array", `{"eventTime":"2026-02-11T15:30:00Z","eventName":"X","requestParameters":[1,2],"responseElements":{"ok":true}}`,
			map[string]string{"requestParameters": "<none>", "logtide.unindexed.requestParameters": "[1 2]", "responseElements.ok": "true", "event.action": "X"}},
		{"web identity attributes", `{"eventTime":"2026-02-11T15:30:00Z","userIdentity":{"userName":"u","sessionContext":{"webIdFederationData":{"federatedProvider":"p","attributes":"a=b"}}}}`,
			map[string]string{"userIdentity.sessionContext.webIdFederationData.attributes": "<none>", "userIdentity.sessionContext.webIdFederationData.federatedProvider": "p",
				"user.name": "u"}},
		{"long leaf, spaced record", `{ "eventTime" : "2026-02-11T15:30:00Z", "eventName":"ConsoleLogin", "responseElements": {"ConsoleLogin": "Failure", "blob": "` + long + `"}, "additionalEventData": {"MFAUsed": "No"} }`,
			map[string]string{"responseElements": "<none>", "logtide.unindexed.responseElements.ConsoleLogin": "Failure", "additionalEventData.MFAUsed": "No", "event.outcome": "failure"}},
	} {
		d, err := dec.Decode([]byte(c.rec), 1)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var m map[string]any
		if err := json.Unmarshal(d.Body, &m); err != nil {
			t.Fatalf("%s: %v\n%.300s", c.name, err, d.Body)
		}
		expect(t, c.name, m, c.want)
		if c.name == "web identity attributes" {
			// The moved block's name is its dotted path.
			if got := str(formattest.Get(m, "logtide", "unindexed", "userIdentity.sessionContext.webIdFederationData.attributes")); got != "a=b" {
				t.Errorf("attributes moved as %s", got)
			}
		}
	}
	// A record that already has a long leaf somewhere else than in a
	// free-form block is left as it is (keyword fields ignore long values).
	rec := `{"eventTime":"2026-02-11T15:30:00Z","errorMessage":"` + long + `","requestParameters":{"a":1}}`
	d, err := dec.Decode([]byte(rec), 1)
	if err != nil || !bytes.HasPrefix(d.Body, []byte(rec[:len(rec)-1])) {
		t.Errorf("record with a long errorMessage changed: %v", err)
	}
}

// TestNullsAndOddShapes: the fields the document reads may be null or of
// an unexpected type without failing the record.
func TestNullsAndOddShapes(t *testing.T) {
	ct := mustCT(t, format.Options{})
	dec := ct.Decoder(format.Object{Key: orgKey})
	for _, c := range []struct {
		rec  string
		want map[string]string
	}{
		{`{"eventTime":"2026-02-11T15:30:00Z","eventID":null,"userIdentity":null,"requestParameters":null,"responseElements":null,"additionalEventData":null,"errorCode":null,"sourceIPAddress":null}`,
			map[string]string{"event.outcome": "success", "user": "<none>", "source": "<none>", "event.action": "<none>", "cloud.provider": "aws"}},
		{`{"eventTime":"2026-02-11T15:30:00Z","eventName":7,"errorCode":"","sourceIPAddress":"[2001:db8::9]","userIdentity":{"arn":"arn:aws:iam::210987654321:user/path/to/kim"}}`,
			map[string]string{"event.outcome": "success", "user.name": "kim", "source.ip": "2001:db8::9", "source.address": "[2001:db8::9]", "event.type": "[change]"}},
		{` {"eventTime":"2026-02-11T15:30:00Z","userIdentity":{"type":"Root","arn":"arn:aws:iam::210987654321:root"},"eventSource":"s3.amazonaws.com","eventName":"DeleteBucket"} `,
			map[string]string{"user.name": "root", "event.type": "[deletion]", "cloud.service.name": "s3"}},
		{`{"eventTime":"2026-02-11T15:30:00Z","eventSource":"iam.amazonaws.com","eventName":"ListRoles","userIdentity":{"userName":"\u006bim"}}`,
			map[string]string{"event.category": "[iam]", "event.type": "[info]", "user.name": "kim"}},
		{`{"eventTime":"2026-02-11T15:30:00Z","eventSource":"sts.amazonaws.com","eventName":"GetCallerIdentity"}`,
			map[string]string{"event.category": "[authentication]", "event.type": "[info]"}},
	} {
		d, err := dec.Decode([]byte(c.rec), 3)
		if err != nil {
			t.Fatalf("%s: %v", c.rec, err)
		}
		expect(t, c.rec, formattest.Check(t, ct, d), c.want)
	}
}

// TestIDs: replaying an object gives the same ids; distinct records never
// share one (the fixtures' records are distinct events), but for the
// event delivered twice.
func TestIDs(t *testing.T) {
	ct := mustCT(t, format.Options{})
	seen := map[string]string{}
	for _, f := range []struct{ name, key string }{{"org_trail.json", orgKey}, {"pretty.json", prettyKey}, {"insight.json", insightKey}, {"broken.json", brokenKey}} {
		a, _, _ := readFixture(t, ct, f.name, f.key)
		b, _, _ := readFixture(t, ct, f.name, f.key)
		for i := range a {
			if a[i].ID != b[i].ID || a[i].Index != b[i].Index || !bytes.Equal(a[i].Body, b[i].Body) {
				t.Errorf("%s record %d: replay gives %s, first %s", f.name, a[i].N, b[i].ID, a[i].ID)
			}
			if prev, dup := seen[a[i].ID]; dup {
				t.Errorf("%s record %d: id %s already used by %s", f.name, a[i].N, a[i].ID, prev)
			}
			seen[a[i].ID] = fmt.Sprint(f.name, " record ", a[i].N)
		}
	}
	// Records without an eventID: the same position in another object, or
	// another version of the object, is another id.
	rec := []byte(`{"eventTime":"2026-02-11T15:30:00Z"}`)
	var ids []string
	for _, o := range []format.Object{{Bucket: "b", Key: "k"}, {Bucket: "b", Key: "k", VersionID: "v2"}, {Bucket: "b", Key: "k2"}, {Bucket: "b2", Key: "k"}} {
		for n := 1; n <= 2; n++ {
			d, err := ct.Decoder(o).Decode(rec, n)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, d.ID)
		}
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != 8 {
		t.Errorf("position ids collide: %v", ids)
	}
}

// TestDecoderKeepsNoInput: the body is a copy; the decoder may be handed
// the same buffer again.
func TestDecoderKeepsNoInput(t *testing.T) {
	ct := mustCT(t, format.Options{})
	dec := ct.Decoder(format.Object{Key: orgKey})
	buf := []byte(`{"eventTime":"2026-02-11T15:30:00Z","eventID":"first"}`)
	d1, err := dec.Decode(buf, 1)
	if err != nil {
		t.Fatal(err)
	}
	copy(buf, `{"eventTime":"2026-02-12T15:30:00Z","eventID":"other"}`)
	d2, err := dec.Decode(buf, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(d1.Body, []byte(`"first"`)) || d1.Index != "cloudtrail-2026-02-11" || d2.Index != "cloudtrail-2026-02-12" {
		t.Errorf("first document changed: %s %s", d1.Index, d1.Body)
	}
}

func TestTemplate(t *testing.T) {
	formattest.CheckTemplate(t, mustCT(t, format.Options{}))
	for _, c := range []struct {
		e    format.Engine
		want string
	}{
		{format.Engine{}, "object"},
		{format.Engine{Distribution: "opensearch", Major: 2, Minor: 19}, "flat_object"},
		{format.Engine{Distribution: "elasticsearch", Major: 8, Minor: 15, Flavor: "default"}, "flattened"},
		{format.Engine{Distribution: "elasticsearch", Major: 7, Minor: 10, Flavor: "oss"}, "object"},
	} {
		name, body := mustCT(t, format.Options{IndexPrefix: "ct"}).IndexTemplate(c.e)
		var m struct {
			Patterns []string `json:"index_patterns"`
			Template struct {
				Mappings struct {
					Properties map[string]struct {
						Type       string `json:"type"`
						Properties map[string]json.RawMessage
					} `json:"properties"`
				} `json:"mappings"`
			} `json:"template"`
		}
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatalf("%+v: %v", c.e, err)
		}
		if name != "ct" || str(m.Patterns) != "[ct-*]" {
			t.Errorf("%+v: template %s patterns %v", c.e, name, m.Patterns)
		}
		props := m.Template.Mappings.Properties
		for _, f := range []string{"requestParameters", "responseElements", "additionalEventData", "serviceEventDetails", "insightDetails"} {
			if props[f].Type != c.want {
				t.Errorf("%+v: %s mapped as %q, want %s", c.e, f, props[f].Type, c.want)
			}
		}
		for f, typ := range map[string]string{"eventTime": "date", "eventID": "keyword", "readOnly": "boolean", "managementEvent": "boolean", "errorMessage": "text", "sourceIPAddress": "keyword"} {
			if props[f].Type != typ {
				t.Errorf("%+v: %s mapped as %q, want %s", c.e, f, props[f].Type, typ)
			}
		}
		if len(props["userIdentity"].Properties) < 8 {
			t.Errorf("%+v: userIdentity mapped with %d fields", c.e, len(props["userIdentity"].Properties))
		}
	}
}
