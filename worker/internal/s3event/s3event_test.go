package s3event

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/logtide/logtide/testenv/refdata"
)

// sampleDirs are the notification sample directories, relative to the
// reference data folder.
var sampleDirs = []string{"s3-notifications", "derived/s3-notifications"}

// sharedDataDir is the reference data folder (see testenv/refdata); the test
// is skipped where it is absent.
func sharedDataDir(tb testing.TB) string {
	tb.Helper()
	dir := refdata.Dir(tb, sampleDirs[0])
	for _, sub := range sampleDirs[1:] {
		if _, err := os.Stat(filepath.Join(dir, sub)); err != nil {
			tb.Fatalf("reference sample folder %s is missing: %v", sub, err)
		}
	}
	return dir
}

// sampleFiles lists the sample files, as paths relative to the data dir.
func sampleFiles(tb testing.TB, data string) []string {
	tb.Helper()
	var files []string
	for _, sub := range sampleDirs {
		ents, err := os.ReadDir(filepath.Join(data, sub))
		if err != nil {
			tb.Fatalf("read %s: %v", sub, err)
		}
		for _, e := range ents {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
				files = append(files, sub+"/"+e.Name())
			}
		}
	}
	sort.Strings(files)
	if len(files) == 0 {
		tb.Fatalf("no sample files under %s", data)
	}
	return files
}

// sampleBodies returns the SQS bodies held by a sample file: the file itself,
// or for a Lambda-shaped *_lambda_event.json file the body of each record.
func sampleBodies(tb testing.TB, path string) [][]byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read sample: %v", err)
	}
	if !strings.HasSuffix(path, "_lambda_event.json") {
		return [][]byte{b}
	}
	var ev struct {
		Records []struct {
			Body *string `json:"body"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		tb.Fatalf("%s: not a Lambda SQS event: %v", path, err)
	}
	if len(ev.Records) == 0 {
		tb.Fatalf("%s: Lambda SQS event without records", path)
	}
	var bodies [][]byte
	for i, r := range ev.Records {
		if r.Body == nil {
			tb.Fatalf("%s: record %d has no body", path, i)
		}
		bodies = append(bodies, []byte(*r.Body))
	}
	return bodies
}

// want is the expected outcome of Parse for one body.
type want struct {
	objects []Object
	test    bool
	ignored int
	err     string // non-empty: a *FormatError whose Reason contains this
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func check(t *testing.T, got Notification, err error, w want) {
	t.Helper()
	if w.err != "" {
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Fatalf("err = %v (%T), want *FormatError containing %q; got %+v", err, err, w.err, got)
		}
		if !strings.Contains(fe.Reason, w.err) {
			t.Fatalf("FormatError reason %q does not contain %q", fe.Reason, w.err)
		}
		if len(fe.Excerpt) > maxExcerpt || !utf8.ValidString(fe.Excerpt) {
			t.Errorf("excerpt is %d bytes or not UTF-8, want <= %d", len(fe.Excerpt), maxExcerpt)
		}
		if len(got.Objects) != 0 || got.Test || got.Ignored != 0 {
			t.Errorf("error returned with non-zero notification %+v", got)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if got.Test != w.test {
		t.Errorf("Test = %v, want %v", got.Test, w.test)
	}
	if got.Ignored != w.ignored {
		t.Errorf("Ignored = %d, want %d", got.Ignored, w.ignored)
	}
	if len(got.Objects) != len(w.objects) {
		t.Fatalf("got %d objects %+v, want %d %+v", len(got.Objects), got.Objects, len(w.objects), w.objects)
	}
	for i, g := range got.Objects {
		e := w.objects[i]
		if !g.EventTime.Equal(e.EventTime) {
			t.Errorf("object %d: EventTime = %v, want %v", i, g.EventTime, e.EventTime)
		}
		if !g.EventTime.IsZero() && g.EventTime.Location() != time.UTC {
			t.Errorf("object %d: EventTime location = %v, want UTC", i, g.EventTime.Location())
		}
		g.EventTime, e.EventTime = time.Time{}, time.Time{}
		if g != e {
			t.Errorf("object %d:\n got %+v\nwant %+v", i, g, e)
		}
	}
}

const gdKey = "AWSLogs/123456789012/GuardDuty/us-east-1/2022/01/13/6f1c2a9e-4d5b-3e8f-9a0b-1c2d3e4f5a6b.jsonl.gz"

var happyFace = Object{
	Bucket:    "sourcebucket",
	Key:       "Happy Face.jpg",
	Size:      1024,
	VersionID: "version",
	ETag:      "d41d8cd98f00b204e9800998ecf8427e",
	Sequencer: "Happy Sequencer",
	EventName: "ObjectCreated:Put",
	EventTime: ts("1970-01-01T00:00:00.123Z"),
}

var gdDirect = Object{
	Bucket:    "gd-findings-export",
	Key:       "security exports/" + gdKey,
	Size:      3616,
	ETag:      "d41d8cd98f00b204e9800998ecf8427e",
	Sequencer: "0061DF6C3B5F1A2B3C",
	EventName: "ObjectCreated:Put",
	EventTime: ts("2022-01-13T00:05:31.412Z"),
}

// sampleWants maps every sample file to the expected result for each of its
// bodies. A sample file without an entry fails TestSamples.
var sampleWants = map[string][]want{
	"s3-notifications/awslambdago_s3_event_direct.json":       {{objects: []Object{happyFace}}},
	"s3-notifications/awslambdago_s3_event_with_decoded.json": {{objects: []Object{happyFace}}},
	"s3-notifications/awslambdago_s3_test_event.json":         {{test: true}},
	"s3-notifications/powertools_s3_eventbridge_object_created.json": {{objects: []Object{{
		Bucket:    "example-bucket",
		Key:       "IMG_m7fzo3.jpg",
		Size:      184662,
		ETag:      "4e68adba0abe2dc8653dc3354e14c01d",
		Sequencer: "006408CAD69598B05E",
		EventName: "ObjectCreated:PutObject",
		EventTime: ts("2023-03-08T17:50:14Z"),
	}}}},
	"s3-notifications/powertools_s3_in_sqs_lambda_event.json": {{objects: []Object{{
		Bucket:    "xxx",
		Key:       "test.pdf",
		Size:      104681,
		VersionID: "yd3d4HaWOT2zguDLvIQLU6ptDTwKBnQV",
		ETag:      "2e3ad1e983318bbd8e73b080e2997980",
		Sequencer: "00643717F9F8B85354",
		EventName: "ObjectCreated:Put",
		EventTime: ts("2023-04-12T20:43:38.021Z"),
	}}}},
	// The SNS Message is {"message": "hello world", ...}: not an S3 event.
	"s3-notifications/powertools_sns_in_sqs_lambda_event.json":                 {{err: `SNS Message: unrecognised JSON object with keys "message", "username"`}},
	"derived/s3-notifications/direct_s3_event_guardduty_key_plus_encoded.json": {{objects: []Object{gdDirect}}},
	"derived/s3-notifications/sns_wrapped_s3_event_sqs_body.json":              {{objects: []Object{gdDirect}}},
	"derived/s3-notifications/eventbridge_object_created_guardduty_key.json": {{objects: []Object{{
		Bucket:    "gd-findings-export",
		Key:       "security exports/" + gdKey,
		Size:      3616,
		ETag:      "4e68adba0abe2dc8653dc3354e14c01d",
		Sequencer: "006408CAD69598B05E",
		EventName: "ObjectCreated:PutObject",
		EventTime: ts("2023-03-08T17:50:14Z"),
	}}}},
}

// fixtureObject is the object the GuardDuty fixtures' direct, SNS and
// EventBridge notifications name.
var fixtureObject = Object{
	Bucket:    "org-security-findings",
	Key:       "guardduty exports/AWSLogs/210987654321/GuardDuty/eu-west-1/2026/03/14/3c8e5d1a-7b2f-4e6c-9a1d-0f4b8c2e6a9d.jsonl.gz",
	Size:      18342,
	VersionID: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
	ETag:      "9b2cf535f27731c974343645a3985328",
	Sequencer: "0065F2C3E1D4A5B6C7",
	EventName: "ObjectCreated:Put",
	EventTime: ts("2026-03-14T09:26:53.589Z"),
}

// fixtureWants maps every file of testdata/ to the expected result for each
// of its bodies.
var fixtureWants = map[string][]want{
	"s3_direct_put.json":    {{objects: []Object{fixtureObject}}},
	"sns_notification.json": {{objects: []Object{fixtureObject}}},
	"eventbridge_object_created.json": {{objects: []Object{func() Object {
		o := fixtureObject
		o.EventName, o.EventTime = "ObjectCreated:PutObject", ts("2026-03-14T09:26:53Z")
		return o
	}()}}},
	"eventbridge_object_deleted.json": {{ignored: 1}},
	"s3_direct_mixed.json": {{ignored: 1, objects: []Object{{
		Bucket: "trail-archive", Key: "AWSLogs/111122223333/GuardDuty/us-west-2/2026/05/02/f00dfeed-0000-4000-8000-000000000001.jsonl.gz",
		Size: 1048576, ETag: "c5b0f1e2d3a4b5c6d7e8f90a1b2c3d4e-3", Sequencer: "006633C1B2A3948576",
		EventName: "ObjectCreated:CompleteMultipartUpload", EventTime: ts("2026-05-02T17:03:11.004Z"),
	}}}},
	"moto_put.json": {{objects: []Object{{
		Bucket: "e2e-1764096275", Key: "security exports/AWSLogs/123456789012/GuardDuty/us-east-1/2026/01/05/9d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6.jsonl.gz",
		Size: 4210, ETag: `"0cc175b9c0f1b6a831c399e269772661"`, Sequencer: "0",
		EventName: "ObjectCreated:Put", EventTime: time.Date(2026, 11, 25, 18, 44, 35, 204512000, time.UTC),
	}}}},
	"s3_test_event.json": {{test: true}},
	// A whole Lambda SQS event instead of one of its bodies.
	"lambda_sqs_event.json": {{err: "eventSource is aws:sqs"}},
}

// fixtureFiles lists testdata/*.json.
func fixtureFiles(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no fixtures in testdata/: %v", err)
	}
	return files
}

// TestFixtures parses the project's own notifications, written after the
// shapes S3, SNS, EventBridge and moto send.
func TestFixtures(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range fixtureFiles(t) {
		name := filepath.Base(p)
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			w, ok := fixtureWants[name]
			if !ok {
				t.Fatalf("fixture %s has no expectation in fixtureWants", name)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			n, err := Parse(b)
			check(t, n, err, w[0])
		})
	}
	for name := range fixtureWants {
		if !seen[name] {
			t.Errorf("fixture %s is missing", name)
		}
	}
}

func TestSamples(t *testing.T) {
	data := sharedDataDir(t)
	files := sampleFiles(t, data)
	seen := map[string]bool{}
	for _, f := range files {
		seen[f] = true
		t.Run(f, func(t *testing.T) {
			wants, ok := sampleWants[f]
			if !ok {
				t.Fatalf("new sample file %s has no expectation in sampleWants", f)
			}
			bodies := sampleBodies(t, filepath.Join(data, filepath.FromSlash(f)))
			if len(bodies) != len(wants) {
				t.Fatalf("%d bodies, want %d", len(bodies), len(wants))
			}
			for i, b := range bodies {
				t.Run(fmt.Sprintf("body%d", i), func(t *testing.T) {
					n, err := Parse(b)
					check(t, n, err, wants[i])
				})
			}
		})
	}
	for f := range sampleWants {
		if !seen[f] {
			t.Errorf("expected sample file %s is missing", f)
		}
	}
}

// TestLambdaEnvelopeIsNotABody checks that passing a whole Lambda SQS event
// (instead of a record's body) is reported clearly.
func TestLambdaEnvelopeIsNotABody(t *testing.T) {
	data := sharedDataDir(t)
	for _, f := range sampleFiles(t, data) {
		if !strings.HasSuffix(f, "_lambda_event.json") {
			continue
		}
		t.Run(f, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(data, filepath.FromSlash(f)))
			if err != nil {
				t.Fatal(err)
			}
			n, err := Parse(b)
			check(t, n, err, want{err: "eventSource is aws:sqs"})
		})
	}
}

// rec builds a direct S3 record in bucket "b" with size 7.
func rec(eventName, rawKey string) string {
	k, _ := json.Marshal(rawKey)
	return fmt.Sprintf(`{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",`+
		`"eventTime":"2026-11-25T18:44:35.204Z","eventName":%q,`+
		`"s3":{"s3SchemaVersion":"1.0","bucket":{"name":"b","arn":"arn:aws:s3:::b"},`+
		`"object":{"key":%s,"size":7,"eTag":"e","sequencer":"0A"}}}`, eventName, k)
}

func records(recs ...string) string {
	return `{"Records":[` + strings.Join(recs, ",") + `]}`
}

func sns(msg string) string {
	m, _ := json.Marshal(msg)
	return `{"Type":"Notification","MessageId":"m","TopicArn":"arn:aws:sns:us-east-1:1:t",` +
		`"Subject":"Amazon S3 Notification","Message":` + string(m) + `,"Timestamp":"2026-11-25T18:44:36.000Z"}`
}

func eb(detailType, key, extra string) string {
	k, _ := json.Marshal(key)
	return `{"version":"0","id":"i","detail-type":"` + detailType + `","source":"aws.s3","account":"1",` +
		`"time":"2026-11-25T18:44:35Z","region":"us-east-1","resources":["arn:aws:s3:::b"],` +
		`"detail":{"version":"0","bucket":{"name":"b"},"object":{"key":` + string(k) +
		`,"size":9,"etag":"et","sequencer":"0B"` + extra + `},"reason":"PutObject"}}`
}

func obj(key, eventName string) Object {
	return Object{Bucket: "b", Key: key, Size: 7, ETag: "e", Sequencer: "0A",
		EventName: eventName, EventTime: ts("2026-11-25T18:44:35.204Z")}
}

func ebObj(key string) Object {
	return Object{Bucket: "b", Key: key, Size: 9, ETag: "et", Sequencer: "0B",
		EventName: "ObjectCreated:PutObject", EventTime: ts("2026-11-25T18:44:35Z")}
}

const badKeyRecord = `{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"x%zzy"}}}`

var syntheticCases = []struct {
	name string
	body string
	want want
}{
	{"multiple records", records(rec("ObjectCreated:Put", "a.gz"), rec("ObjectCreated:CompleteMultipartUpload", "b.gz")),
		want{objects: []Object{obj("a.gz", "ObjectCreated:Put"), obj("b.gz", "ObjectCreated:CompleteMultipartUpload")}}},
	{"mixed create remove restore folder", records(
		rec("ObjectCreated:Put", "one"),
		rec("ObjectRemoved:Delete", "two"),
		rec("ObjectRemoved:DeleteMarkerCreated", "three"),
		rec("ObjectRestore:Completed", "four"),
		rec("ObjectCreated:Put", "folder/"),
		rec("ObjectCreated:Copy", "five"),
	), want{objects: []Object{obj("one", "ObjectCreated:Put"), obj("five", "ObjectCreated:Copy")}, ignored: 4}},
	{"only removes", records(rec("ObjectRemoved:Delete", "x")), want{ignored: 1}},
	{"folder key encoded slash", records(rec("ObjectCreated:Put", "logs%2F")), want{ignored: 1}},
	{"moto style encoded key", records(rec("ObjectCreated:Put", "AWSLogs%2F123%2FGuardDuty%2Fus-east-1%2F2026%2F11%2F25%2Fabc.jsonl.gz")),
		want{objects: []Object{obj("AWSLogs/123/GuardDuty/us-east-1/2026/11/25/abc.jsonl.gz", "ObjectCreated:Put")}}},
	{"plus and encoded plus", records(rec("ObjectCreated:Put", "a+b%2Bc")), want{objects: []Object{obj("a b+c", "ObjectCreated:Put")}}},
	{"encoded colon and equals", records(rec("ObjectCreated:Put", "dt%3D2026-11-25%2Fh%3A1")), want{objects: []Object{obj("dt=2026-11-25/h:1", "ObjectCreated:Put")}}},
	{"unicode key", records(rec("ObjectCreated:Put", "caf%C3%A9+%E2%9C%93")), want{objects: []Object{obj("café ✓", "ObjectCreated:Put")}}},
	{"moto event time without zone", `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",` +
		`"eventTime":"2026-11-25T18:44:35.204512","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"gd"},` +
		`"object":{"key":"k","size":0,"eTag":"e","versionId":"v1","sequencer":"0"}}}]}`,
		want{objects: []Object{{Bucket: "gd", Key: "k", Size: 0, VersionID: "v1", ETag: "e", Sequencer: "0",
			EventName: "ObjectCreated:Put", EventTime: time.Date(2026, 11, 25, 18, 44, 35, 204512000, time.UTC)}}}},
	{"event time without fraction or zone", `{"Records":[{"eventSource":"aws:s3","eventTime":"2026-11-25T18:44:35",` +
		`"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`,
		want{objects: []Object{{Bucket: "b", Key: "k", EventName: "ObjectCreated:Put", EventTime: time.Date(2026, 11, 25, 18, 44, 35, 0, time.UTC)}}}},
	{"event time with offset is normalised", `{"Records":[{"eventSource":"aws:s3","eventTime":"2026-11-25T20:44:35+02:00",` +
		`"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`,
		want{objects: []Object{{Bucket: "b", Key: "k", EventName: "ObjectCreated:Put", EventTime: time.Date(2026, 11, 25, 18, 44, 35, 0, time.UTC)}}}},
	{"unparsable event time is zero", `{"Records":[{"eventSource":"aws:s3","eventTime":"yesterday",` +
		`"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`,
		want{objects: []Object{{Bucket: "b", Key: "k", EventName: "ObjectCreated:Put"}}}},
	{"zero size object kept", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put",` +
		`"s3":{"bucket":{"name":"b"},"object":{"key":"empty.jsonl.gz","size":0}}}]}`,
		want{objects: []Object{{Bucket: "b", Key: "empty.jsonl.gz", EventName: "ObjectCreated:Put"}}}},
	{"unknown fields ignored", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","glacierEventData":{},` +
		`"s3":{"bucket":{"name":"b"},"object":{"key":"k","urlDecodedKey":"nope"}}}],"extra":1}`,
		want{objects: []Object{{Bucket: "b", Key: "k", EventName: "ObjectCreated:Put"}}}},
	{"test event", `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-25T18:44:35.204Z","Bucket":"b","RequestId":"r","HostId":"h"}`,
		want{test: true}},
	{"sns wrapped test event", sns(`{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-25T18:44:35.204Z","Bucket":"b"}`),
		want{test: true}},
	{"sns wrapped mixed records", sns(records(rec("ObjectRemoved:Delete", "x"), rec("ObjectCreated:Post", "a+b%2Bc"))),
		want{objects: []Object{obj("a b+c", "ObjectCreated:Post")}, ignored: 1}},
	{"sns wrapped eventbridge", sns(eb("Object Created", "raw key+1", "")), want{objects: []Object{ebObj("raw key+1")}}},
	{"eventbridge raw space", eb("Object Created", "security exports/x y.jsonl.gz", ""),
		want{objects: []Object{ebObj("security exports/x y.jsonl.gz")}}},
	{"eventbridge plus stays plus", eb("Object Created", "a+b%2Bc", ""), want{objects: []Object{ebObj("a+b%2Bc")}}},
	{"eventbridge version id", eb("Object Created", "k", `,"version-id":"v9"`),
		want{objects: []Object{func() Object { o := ebObj("k"); o.VersionID = "v9"; return o }()}}},
	{"eventbridge folder", eb("Object Created", "dir/", ""), want{ignored: 1}},
	{"eventbridge object deleted", eb("Object Deleted", "k", ""), want{ignored: 1}},
	{"eventbridge restore", eb("Object Restore Completed", "k", ""), want{ignored: 1}},
	{"eventbridge no reason no time", `{"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"b"},"object":{"key":"k"}}}`,
		want{objects: []Object{{Bucket: "b", Key: "k", EventName: "ObjectCreated:"}}}},

	// Errors.
	{"empty body", ``, want{err: "empty body"}},
	{"whitespace body", " \n\t", want{err: "empty body"}},
	{"not json", `hello`, want{err: "not a JSON object"}},
	{"truncated json", `{"Records":[`, want{err: "not a JSON object"}},
	{"trailing garbage", records(rec("ObjectCreated:Put", "k")) + " x", want{err: "not a JSON object"}},
	{"json array", `[{"Records":[]}]`, want{err: "not a JSON object"}},
	{"json null", `null`, want{err: "not a JSON object: null"}},
	{"json string", `"{}"`, want{err: "not a JSON object"}},
	{"json number", `42`, want{err: "not a JSON object"}},
	{"empty object", `{}`, want{err: "unrecognised JSON object with keys (none)"}},
	{"unknown object", `{"foo":1,"bar":2}`, want{err: `unrecognised JSON object with keys "bar", "foo"`}},
	{"member names in any case", `{"records":[]}`, want{err: "no records"}},
	{"empty records", `{"Records":[]}`, want{err: "no records"}},
	{"null records", `{"Records":null}`, want{err: "no records"}},
	{"records not array", `{"Records":{}}`, want{err: "Records is a JSON object where a notification has an array"}},
	{"record not object", `{"Records":[1]}`, want{err: "Records is a JSON number where a notification has an object"}},
	{"bad escape", records(badKeyRecord), want{err: `bad key "x%zzy"`}},
	{"bad escape after good record", records(rec("ObjectCreated:Put", "ok"), badKeyRecord), want{err: "record 1: bad key"}},
	{"bad escape in ignored record is fine", records(rec("ObjectRemoved:Delete", "%zz")), want{ignored: 1}},
	{"truncated escape", records(rec("ObjectCreated:Put", "abc%2")), want{err: `bad key "abc%2"`}},
	{"key not utf8", records(rec("ObjectCreated:Put", "a%FFb")), want{err: "not valid UTF-8"}},
	{"no bucket", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"object":{"key":"k"}}}]}`, want{err: "no bucket name"}},
	{"no key", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{}}}]}`, want{err: "no object key"}},
	{"no s3", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put"}]}`, want{err: "no s3 member"}},
	{"no eventName", `{"Records":[{"eventSource":"aws:s3","s3":{}}]}`, want{err: "no eventName"}},
	{"size is a string", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k","size":"7"}}}]}`, want{err: "Records.s3.object.size is a JSON string where a notification has a number"}},
	{"negative size", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k","size":-1}}}]}`, want{err: "negative size"}},
	{"lambda sqs envelope", `{"Records":[{"messageId":"m","body":"{}","eventSource":"aws:sqs"}]}`, want{err: "eventSource is aws:sqs"}},
	{"cloudtrail log", `{"Records":[{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"PutObject"}]}`, want{err: `eventSource "s3.amazonaws.com" is not aws:s3`}},
	{"sns message not s3", sns(`{"message": "hello world", "username": "lessa"}`), want{err: "SNS Message: unrecognised JSON object"}},
	{"sns message not json", sns(`hello`), want{err: "SNS Message: not a JSON object"}},
	{"sns message empty", sns(``), want{err: "SNS Message: empty body"}},
	{"sns in sns", sns(sns(records(rec("ObjectCreated:Put", "k")))), want{err: "SNS envelope inside an SNS envelope"}},
	{"sns bad key", sns(records(badKeyRecord)), want{err: "SNS Message: record 0: bad key"}},
	{"sns subscription confirmation", `{"Type":"SubscriptionConfirmation","Message":"You have chosen to subscribe","SubscribeURL":"https://example"}`,
		want{err: `Type "SubscriptionConfirmation"`}},
	{"sns message not string", `{"Type":"Notification","Message":{"Records":[]}}`, want{err: "Message is a JSON object where a notification has a string"}},
	{"sns no message", `{"Type":"Notification"}`, want{err: "without Message"}},
	{"sns type not string", `{"Type":1,"Message":"{}"}`, want{err: "Type is a JSON number where a notification has a string"}},
	{"other s3 event", `{"Service":"Amazon S3","Event":"s3:Other"}`, want{err: `unknown event "s3:Other"`}},
	{"test event other service", `{"Service":"Amazon SQS","Event":"s3:TestEvent"}`, want{err: "unknown event"}},
	{"event not string", `{"Service":"Amazon S3","Event":true}`, want{err: "Event is a JSON bool where a notification has a string"}},
	{"eventbridge other source", `{"detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","detail":{}}`, want{err: "is not from aws.s3"}},
	{"eventbridge guardduty finding", `{"detail-type":"GuardDuty Finding","source":"aws.guardduty","detail":{}}`, want{err: "is not from aws.s3"}},
	{"eventbridge no detail", `{"detail-type":"Object Created","source":"aws.s3"}`, want{err: "without detail"}},
	{"eventbridge no key", `{"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"b"},"object":{}}}`, want{err: "no object key"}},
	{"eventbridge no bucket", `{"detail-type":"Object Created","source":"aws.s3","detail":{"object":{"key":"k"}}}`, want{err: "no bucket name"}},
	{"eventbridge detail not object", `{"detail-type":"Object Created","source":"aws.s3","detail":[]}`, want{err: "detail is a JSON array where a notification has an object"}},
	{"oversized body", `{"Records":[` + strings.Repeat(" ", maxBody) + `]}`, want{err: "more than"}},
}

func TestParseSynthetic(t *testing.T) {
	for _, tc := range syntheticCases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := Parse([]byte(tc.body))
			check(t, n, err, tc.want)
		})
	}
}

func TestDecodeKey(t *testing.T) {
	cases := []struct {
		raw, want string
		ok        bool
	}{
		{"plain.txt", "plain.txt", true},
		{"", "", true},
		{"Happy+Face.jpg", "Happy Face.jpg", true},
		{"Happy%20Face.jpg", "Happy Face.jpg", true},
		{"a+b%2Bc", "a b+c", true},
		{"AWSLogs%2F123%2FGuardDuty%2Fx", "AWSLogs/123/GuardDuty/x", true},
		{"AWSLogs/123/x", "AWSLogs/123/x", true},
		{"k%3Dv%3A1", "k=v:1", true},
		{"%e2%9c%93", "✓", true},
		{"%zz", "", false},
		{"100%", "", false},
		{"%4", "", false},
		{"%C3", "", false}, // half a UTF-8 sequence
	}
	for _, c := range cases {
		got, err := decodeKey(c.raw)
		if c.ok {
			if err != nil || got != c.want {
				t.Errorf("decodeKey(%q) = %q, %v; want %q", c.raw, got, err, c.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("decodeKey(%q) = %q, want an error", c.raw, got)
			continue
		}
		// Parse names the record and the key it could not decode.
		body := `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"` + c.raw + `","size":1}}}]}`
		if _, perr := Parse([]byte(body)); perr == nil || !strings.Contains(perr.Error(), fmt.Sprintf("%q", c.raw)) {
			t.Errorf("Parse of a record with key %q: error %v does not name the key", c.raw, perr)
		}
	}
}

func TestFormatErrorMessage(t *testing.T) {
	cases := []struct {
		name, body string
	}{
		{"cut inside a rune", "x" + strings.Repeat("é", 300)},
		{"invalid bytes", strings.Repeat("\xff", 300)},
		{"short", "nope"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.body))
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want *FormatError", err)
			}
			if len(fe.Excerpt) > maxExcerpt || !utf8.ValidString(fe.Excerpt) || fe.Excerpt == "" {
				t.Errorf("bad excerpt (%d bytes) %q", len(fe.Excerpt), fe.Excerpt)
			}
			if len(c.body) <= maxExcerpt && fe.Excerpt != c.body {
				t.Errorf("excerpt %q, want the whole body", fe.Excerpt)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "s3event: not a JSON object") || !strings.Contains(msg, "body starts") {
				t.Errorf("Error() = %q", msg)
			}
		})
	}
	if got := (&FormatError{Reason: "no records"}).Error(); got != "s3event: no records" {
		t.Errorf("Error() without excerpt = %q", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, p := range fixtureFiles(f) {
		raw, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	// The reference samples, where they are, add real bodies.
	data, ok := refdata.Find(sampleDirs[0])
	var samples []string
	if ok {
		samples = sampleFiles(f, data)
	}
	for _, p := range samples {
		full := filepath.Join(data, filepath.FromSlash(p))
		raw, err := os.ReadFile(full)
		if err != nil {
			f.Fatal(err)
		}
		if strings.HasSuffix(p, "_lambda_event.json") {
			f.Add(raw) // the whole Lambda event, not only its bodies
		}
		for _, b := range sampleBodies(f, full) {
			f.Add(b)
		}
	}
	for _, tc := range syntheticCases {
		if len(tc.body) < 64<<10 {
			f.Add([]byte(tc.body))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := Parse(body)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T) is not a *FormatError", err, err)
			}
			if fe.Reason == "" {
				t.Fatalf("FormatError without reason")
			}
			if n.Objects != nil || n.Test || n.Ignored != 0 {
				t.Fatalf("error with non-zero notification %+v", n)
			}
			return
		}
		if n.Ignored < 0 {
			t.Fatalf("Ignored = %d", n.Ignored)
		}
		if n.Test && len(n.Objects) != 0 {
			t.Fatalf("test event with objects %+v", n.Objects)
		}
		for i, o := range n.Objects {
			if o.Bucket == "" || o.Key == "" {
				t.Fatalf("object %d has empty bucket or key: %+v", i, o)
			}
			if strings.HasSuffix(o.Key, "/") {
				t.Fatalf("object %d is a folder key %q", i, o.Key)
			}
			if o.Size < 0 {
				t.Fatalf("object %d has negative size %d", i, o.Size)
			}
			if !strings.HasPrefix(o.EventName, "ObjectCreated:") {
				t.Fatalf("object %d has event name %q", i, o.EventName)
			}
		}
	})
}

// benchBody is an S3 notification of one created object, as S3 sends it.
var benchBody = []byte(`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2026-11-25T18:44:35.204Z","eventName":"ObjectCreated:Put","userIdentity":{"principalId":"AWS:AIDAEXAMPLE"},"requestParameters":{"sourceIPAddress":"10.0.0.1"},"responseElements":{"x-amz-request-id":"C3D13FE58DE4C810","x-amz-id-2":"FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},"s3":{"s3SchemaVersion":"1.0","configurationId":"guardduty","bucket":{"name":"gd-findings-export","ownerIdentity":{"principalId":"A3NL1KOZZKExample"},"arn":"arn:aws:s3:::gd-findings-export"},"object":{"key":"AWSLogs/123456789012/GuardDuty/us-east-1/2026/01/05/6f1c2a9e-4d5b-3e8f-9a0b-1c2d3e4f5a6b.jsonl.gz","size":3616,"eTag":"d41d8cd98f00b204e9800998ecf8427e","sequencer":"0061DF6C3B5F1A2B3C"}}}]}`)

// BenchmarkParse is the cost of the notification of one object: every
// message pays it.
func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if n, err := Parse(benchBody); err != nil || len(n.Objects) != 1 {
			b.Fatal(err)
		}
	}
}

// TestExcerptOfBodiesJustOverTheLimit: a body a few bytes longer than the
// excerpt, held in a slice with no spare capacity (as SQS bodies are), is
// cut without reading past its end.
func TestExcerptOfBodiesJustOverTheLimit(t *testing.T) {
	for n := maxExcerpt - 2; n <= maxExcerpt+utf8.UTFMax+2; n++ {
		body := make([]byte, n) // no spare capacity
		for i := range body {
			body[i] = 'x'
		}
		_, err := Parse(body)
		var fe *FormatError
		if !errors.As(err, &fe) || len(fe.Excerpt) != min(n, maxExcerpt) {
			t.Errorf("%d bytes: %v", n, err)
		}
	}
}
