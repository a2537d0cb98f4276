package cloudtrail

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logtide/logtide/testenv/refdata"
	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

// readSample reads a reference sample as the worker reads the object at
// key: every record decoded, no dead letter, every document valid.
func readSample(t *testing.T, ct *CloudTrail, path, key string) ([]formattest.Doc, []map[string]any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res := formattest.Read(t, ct, format.Object{Bucket: "samples", Key: key}, b)
	if len(res.Dead) > 0 || len(res.Skipped) > 0 {
		t.Errorf("%s: dead letters %+v, skipped %v", path, res.Dead, res.Skipped)
	}
	var bodies []map[string]any
	for _, d := range res.Docs {
		bodies = append(bodies, formattest.Check(t, ct, d.Document))
	}
	return res.Docs, bodies
}

// TestReferenceSamples reads the public samples: API calls (one failed),
// a data event, an Insights event, an Identity Center console sign-in and
// a service event; an empty file; 43 records of many services.
func TestReferenceSamples(t *testing.T) {
	dir := filepath.Join(refdata.Dir(t, "cloudtrail"), "cloudtrail")
	ct := mustCT(t, format.Options{})
	const key = "AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/19/123456789012_CloudTrail_us-east-1_20230719T2120Z_EXAMPLEa1b2c3d4E.json.gz"

	docs, bodies := readSample(t, ct, filepath.Join(dir, "otel_cloudtrail_log.json"), key)
	if len(docs) != 7 {
		t.Fatalf("otel sample: %d documents, want 7", len(docs))
	}
	for i, w := range []map[string]string{
		{"event.action": "StartInstances", "event.outcome": "success", "user.name": "Mateo", "source.ip": "192.0.2.0", "cloud.service.name": "ec2"},
		{"event.action": "CreateUser", "event.category": "[iam]", "event.type": "[creation]", "user.name": "Mary"},
		{"event.action": "Publish", "eventCategory": "Data", "user.name": "ExampleUser", "related.user": "[ExampleUser Bob]"},
		{"event.kind": "alert", "event.action": "ApiCallRateInsight", "event.provider": "ssm.amazonaws.com", "event.outcome": "<none>"},
		{"event.action": "UpdateTrail", "event.outcome": "failure", "cloud.account.id": "111122223333", "user.name": "Terry"},
		{"event.action": "ConsoleLogin", "event.category": "[authentication]", "user.name": "identity-center-user", "source.ip": "192.0.2.1"},
		{"event.action": "RotateKey", "source.address": "AWS Internal", "source.ip": "<none>", "user.name": "<none>", "cloud.region": "us-west-2"},
	} {
		expect(t, "otel record "+docs[i].ID, bodies[i], w)
	}
	if docs[3].Index != "cloudtrail-insight-2023-01-02" || docs[3].ID != "654a30ff-b0f3-4527-81b6-EXAMPLEf2393" {
		t.Errorf("insight: %s/%s", docs[3].Index, docs[3].ID)
	}
	if docs[0].Index != "cloudtrail-2023-07-19" || docs[0].ID != "e755e09c-42f9-4c5c-9064-EXAMPLE228c7" {
		t.Errorf("first record: %s/%s", docs[0].Index, docs[0].ID)
	}

	if docs, _ := readSample(t, ct, filepath.Join(dir, "otel_cloudtrail_log_empty.json"), key); len(docs) != 0 {
		t.Errorf("empty sample: %d documents", len(docs))
	}

	docs, bodies = readSample(t, ct, filepath.Join(dir, "panther_cloudtrail_records.json"), key)
	if len(docs) != 43 {
		t.Fatalf("panther sample: %d documents, want 43", len(docs))
	}
	for i, m := range bodies {
		// An address written with a leading zero (06.237.252.245) is not
		// an IP address: it stays in source.address only.
		if src, _ := m["sourceIPAddress"].(string); src != "" && get(m, "source.address") != src {
			t.Errorf("panther record %d: source.address %v, sourceIPAddress %s", i+1, get(m, "source.address"), src)
		}
	}
}

// TestDerivedObjects reads the gzip copies at their keys: log files of an
// account trail and an organization trail are read without a dead
// letter, the digest is skipped.
func TestDerivedObjects(t *testing.T) {
	root := filepath.Join(refdata.Dir(t, "derived/cloudtrail"), "derived", "cloudtrail")
	ct := mustCT(t, format.Options{})
	read, skipped, records := 0, 0, 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		key := "cloudtrail-bucket/" + filepath.ToSlash(rel)
		switch ct.Claim(format.ParseKey(key)) {
		case format.Read:
			docs, _ := readSample(t, ct, path, key)
			read++
			records += len(docs)
			if strings.Contains(key, "/o-exampleorg1/") && len(docs) == 0 {
				t.Errorf("%s: no documents", key)
			}
		case format.Skip:
			if !strings.Contains(key, "/CloudTrail-Digest/") {
				t.Errorf("%s skipped", key)
			}
			skipped++
		default:
			t.Errorf("%s not claimed", key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if read != 3 || skipped != 1 || records == 0 {
		t.Errorf("%d files read (%d records), %d skipped; want 3 read, 1 skipped", read, records, skipped)
	}
}
