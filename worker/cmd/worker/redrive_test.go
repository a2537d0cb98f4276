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
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	fmt.Fprint(zw, strings.Join(lines, "\n")+"\n")
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	key := "AWSLogs/123456789012/GuardDuty/us-east-1/2026/01/05/poison.jsonl.gz"
	if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(name), Key: aws.String(key), Body: bytes.NewReader(buf.Bytes())}); err != nil {
		t.Fatal(err)
	}
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
