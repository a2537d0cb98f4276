//go:build integration

package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/logtide/logtide/testenv/awslocal"
)

// TestPermanentFailuresEndInDLQ: a notification for an object that no longer
// exists and a body that is no notification are never deleted by the worker;
// the queue's redrive policy moves them to the dead-letter queue, and the
// logs say why.
func TestPermanentFailuresEndInDLQ(t *testing.T) {
	esURL := env(t, "OPENSEARCH_URL")
	env(t, "AWS_ENDPOINT_URL")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := awslocal.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("redrive-%d", time.Now().UnixNano())
	st, err := c.Provision(ctx, awslocal.Options{Bucket: name, Queue: name, VisibilityTimeout: 2 * time.Second, MaxReceiveCount: 2})
	if err != nil {
		t.Fatal(err)
	}
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
