//go:build integration

package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/logtide/logtide/testenv/awslocal"
	"github.com/logtide/logtide/testenv/search"
	"github.com/logtide/logtide/testenv/syncbuf"
	"github.com/logtide/logtide/worker/format/guardduty"
)

// TestPermanentFailuresEndInDLQ: a notification for an object that no longer
// exists and a body that is no notification are never deleted by the worker;
// the queue's redrive policy moves them to the dead-letter queue, and the
// logs say why.
func TestPermanentFailuresEndInDLQ(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, st, name, esURL := newStack(t, ctx, "redrive", awslocal.Options{VisibilityTimeout: 2 * time.Second, MaxReceiveCount: 2})
	key := "AWSLogs/123456789012/GuardDuty/us-east-1/2026/01/05/gone.jsonl.gz"
	if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(name), Key: aws.String(key), Body: bytes.NewReader([]byte("{}\n"))}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(st.QueueURL), MessageBody: aws.String("this is not a notification")}); err != nil {
		t.Fatal(err)
	}

	logs := runWorker(t, ctx, "--queue-url", st.QueueURL, "--es-url", esURL, "--index-prefix", name,
		"--exit-when-idle", "2s", "--metrics-addr", "", "--wait-time", "1s")

	checkQueueEmpty(t, ctx, c, st.QueueURL)
	vis, _, _, err := c.Depth(ctx, st.DLQURL)
	if err != nil || vis != 2 {
		t.Errorf("dead-letter queue holds %d messages (err %v), want 2", vis, err)
	}
	for _, want := range []string{`"reason":"object_unavailable"`, "the object does not exist", key, `"reason":"unparsable_body"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%.3000s", want, logs)
		}
	}
}

// TestPoisonRecordsAreDeadLettered: lines that are not JSON, lack an arn, or
// are rejected by the cluster's mapping are kept in the dead-letter index
// with their object, line and reason; the rest of the object is indexed and
// the message deleted.
func TestPoisonRecordsAreDeadLettered(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, st, name, esURL := newStack(t, ctx, "poison", awslocal.Options{})
	good := func(id string) string {
		return `{"arn":"arn:aws:guardduty:us-east-1:123456789012:detector/d/finding/` + id + `","id":"` + id + `","type":"Recon:EC2/PortProbeUnprotectedPort","severity":5,"createdAt":"2026-01-05T10:00:00.000Z","updatedAt":"2026-01-05T11:00:00.000Z"}`
	}
	lines := []string{
		good("a1"),
		`{not json`,
		`{"id":"no-arn","createdAt":"2026-01-05T10:00:00.000Z","updatedAt":"2026-01-05T11:00:00.000Z"}`,
		strings.Replace(good("a2"), `"severity":5`, `"severity":{"x":1}`, 1),
		good("a3"),
	}
	key := "AWSLogs/123456789012/GuardDuty/us-east-1/2026/01/05/poison.jsonl.gz"
	putLines(t, ctx, c, name, key, lines)
	dl := "dl-" + name
	logs := runWorker(t, ctx, "--queue-url", st.QueueURL, "--es-url", esURL, "--index-prefix", name,
		"--dead-letter-index", dl, "--exit-when-idle", "2s", "--metrics-addr", "", "--wait-time", "1s")
	checkQueueEmpty(t, ctx, c, st.QueueURL)
	if !strings.Contains(logs, `"records_read":5,"records_indexed":2,"records_stale":0,"records_skipped":0,"records_dead_lettered":3,"balanced":true`) {
		t.Errorf("no balanced accounting line in the logs:\n%.3000s", logs)
	}

	es := search.New(esURL)
	if err := es.Refresh(ctx, name+"-*"); err != nil {
		t.Fatal(err)
	}
	hits, err := es.All(ctx, name+"-2*")
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 {
		t.Errorf("%d findings indexed, want 2", len(hits))
	}
	dead, err := es.All(ctx, dl)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]string{}
	for _, h := range dead {
		var d struct {
			Bucket, Key, Stage, Reason, Raw string
			Line                            int
		}
		if err := json.Unmarshal(h.Source, &d); err != nil {
			t.Fatal(err)
		}
		if d.Bucket != name || d.Key != key || d.Raw == "" || d.Reason == "" {
			t.Errorf("dead-letter document %s", h.Source)
		}
		got[d.Line] = d.Stage
	}
	if fmt.Sprint(got) != "map[2:transform 3:transform 4:index]" {
		t.Errorf("dead-lettered lines and stages: %v", got)
	}
}

// putLines writes the lines, gzipped, as one object.
func putLines(t *testing.T, ctx context.Context, c *awslocal.Clients, bucket, key string, lines []string) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	fmt.Fprint(zw, strings.Join(lines, "\n")+"\n")
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(buf.Bytes())}); err != nil {
		t.Fatal(err)
	}
}

func runRedrive(t *testing.T, ctx context.Context, args ...string) (int, string) {
	t.Helper()
	var out, errOut syncbuf.Buffer
	code := run(ctx, append([]string{"redrive"}, args...), &out, &errOut)
	return code, out.String() + errOut.String()
}

// TestRedriveQueue: a message that reached the DLQ (its object was gone)
// is moved back once the object is there again, and the worker indexes it.
func TestRedriveQueue(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, st, name, esURL := newStack(t, ctx, "redrive-q", awslocal.Options{VisibilityTimeout: 2 * time.Second, MaxReceiveCount: 2})
	corpus, err := guardduty.NewCorpus(guardduty.CorpusOptions{Seed: 5, Objects: 1, FindingsPerObject: 5})
	if err != nil {
		t.Fatal(err)
	}
	key := corpus.Objects()[0].Key
	putObjects(t, ctx, c, st.Bucket, corpus, []int{0})
	if _, err := c.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(st.Bucket), Key: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	args := []string{"--queue-url", st.QueueURL, "--es-url", esURL, "--index-prefix", name, "--dead-letter-index", "dl-" + name,
		"--exit-when-idle", "2s", "--metrics-addr", "", "--wait-time", "1s"}
	runWorker(t, ctx, args...)
	if vis, _, _, err := c.Depth(ctx, st.DLQURL); err != nil || vis != 1 {
		t.Fatalf("dead-letter queue holds %d messages (err %v), want 1", vis, err)
	}

	code, out := runRedrive(t, ctx, "--dlq-url", st.DLQURL, "--dry-run")
	if code != 0 || !strings.Contains(out, "dry run: 1 messages in "+st.DLQURL+" would move to "+st.QueueURL) || !strings.Contains(out, "s3://"+st.Bucket+"/"+key) {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}
	// The messages it looked at show again (SQS's counts lag a little).
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		vis, inFlight, _, _ := c.Depth(ctx, st.DLQURL)
		if vis == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the dry run the DLQ shows %d messages, %d in flight; want 1 visible", vis, inFlight)
		}
	}

	putObjects(t, ctx, c, st.Bucket, corpus, []int{0}) // the cause is fixed
	// Drop the new notification: only the redriven message announces it.
	if _, err := c.SQS.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(st.QueueURL)}); err != nil {
		t.Fatal(err)
	}
	code, out = runRedrive(t, ctx, "--dlq-url", st.DLQURL)
	if code != 0 || !strings.Contains(out, "moved 1 of 1 messages") || !strings.Contains(out, "(loop)") {
		t.Fatalf("redrive: exit %d\n%s", code, out)
	}
	checkQueueEmpty(t, ctx, c, st.DLQURL)
	runWorker(t, ctx, args...)
	checkQueueEmpty(t, ctx, c, st.QueueURL)
	es := search.New(esURL)
	if err := es.Refresh(ctx, name+"-*"); err != nil {
		t.Fatal(err)
	}
	hits, err := es.All(ctx, name+"-*")
	if err != nil || len(hits) != 5 {
		t.Errorf("%d findings indexed (err %v), want 5", len(hits), err)
	}
}

// TestRedriveIndex: records a wrongly mapped index refused are replayed
// from the dead-letter index once the mapping is fixed; a record that can
// never be read stays, with its reason.
func TestRedriveIndex(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, st, name, esURL := newStack(t, ctx, "redrive-i", awslocal.Options{})
	es := search.New(esURL)
	finding := func(id, extra string) string {
		return `{"arn":"arn:aws:guardduty:us-east-1:123456789012:detector/d/finding/` + id + `","id":"` + id + `","type":"Recon:EC2/PortProbeUnprotectedPort","severity":5,"createdAt":"2026-01-05T10:00:00.000Z","updatedAt":"2026-01-05T11:00:00.000Z"` + extra + `}`
	}
	lines := []string{finding("a1", ""), `{not json`, finding("a2", `,"title":"port probe"`), finding("a3", "")}
	key := "AWSLogs/123456789012/GuardDuty/us-east-1/2026/01/05/mapping.jsonl.gz"
	putLines(t, ctx, c, name, key, lines)
	// Someone created the day's index by hand with title as a number.
	index := name + "-2026-01-05"
	if err := es.Do(ctx, "PUT", "/"+index, map[string]any{"mappings": map[string]any{"properties": map[string]any{"title": map[string]any{"type": "long"}}}}, nil); err != nil {
		t.Fatal(err)
	}
	dl := "dl-" + name
	base := []string{"--es-url", esURL, "--index-prefix", name, "--dead-letter-index", dl}
	runWorker(t, ctx, append([]string{"--queue-url", st.QueueURL, "--exit-when-idle", "2s", "--metrics-addr", "", "--wait-time", "1s"}, base...)...)
	stages := func() map[int]string {
		t.Helper()
		if err := es.Refresh(ctx, dl); err != nil {
			t.Fatal(err)
		}
		dead, err := es.All(ctx, dl)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int]string{}
		for _, h := range dead {
			var d struct {
				Stage string
				Line  int
			}
			if err := json.Unmarshal(h.Source, &d); err != nil {
				t.Fatal(err)
			}
			got[d.Line] = d.Stage
		}
		return got
	}
	if got := stages(); fmt.Sprint(got) != "map[2:transform 3:index]" {
		t.Fatalf("dead-lettered before the fix: %v", got)
	}

	code, out := runRedrive(t, ctx, append([]string{"--from-index", "--dry-run"}, base...)...)
	if code != 0 || !strings.Contains(out, "dry run: 2 records of 1 objects in "+dl) || !strings.Contains(out, "s3://"+name+"/"+key+": 2 records") {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}

	// The fix: the wrong index goes; the template makes the next one.
	if err := es.Do(ctx, "DELETE", "/"+index, nil, nil); err != nil {
		t.Fatal(err)
	}
	code, out = runRedrive(t, ctx, append([]string{"--from-index", "s3://" + name + "/AWSLogs/"}, base...)...)
	if code != 0 || !strings.Contains(out, "replayed 1 objects with 2 records in "+dl+": 1 records indexed now (removed from it), 1 failed again") {
		t.Fatalf("replay: exit %d\n%s", code, out)
	}
	if got := stages(); fmt.Sprint(got) != "map[2:transform]" {
		t.Errorf("dead-lettered after the replay: %v", got)
	}
	if err := es.Refresh(ctx, name+"-2*"); err != nil {
		t.Fatal(err)
	}
	hits, err := es.All(ctx, name+"-2*")
	if err != nil || len(hits) != 3 {
		t.Errorf("%d findings indexed after the replay (err %v), want 3", len(hits), err)
	}

	// Again: nothing changes, nothing is duplicated.
	code, out = runRedrive(t, ctx, append([]string{"--from-index"}, base...)...)
	if code != 0 || !strings.Contains(out, "0 records indexed now (removed from it), 1 failed again") {
		t.Errorf("second replay: exit %d\n%s", code, out)
	}
	if got := stages(); fmt.Sprint(got) != "map[2:transform]" {
		t.Errorf("dead-lettered after the second replay: %v", got)
	}
}
