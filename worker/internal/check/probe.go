package check

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/logtide/logtide/worker/internal/route"
	"github.com/logtide/logtide/worker/internal/s3event"
)

// probe puts a small object under the prefix and waits for its
// notification on the queue: the one step that proves the bucket's
// notification and the queue's policy. Workers skip the probe object; other
// messages received while looking are shown again at once (each counts a
// receive). The probe object and its message are removed.
func probe(ctx context.Context, r *Report, c S3, q SQS, bucket, prefix, queueURL string, timeout time.Duration) {
	const part, step = "notification", "probe object announced"
	if bucket == "" || queueURL == "" {
		r.add(part, step, Skip, "--probe needs both s3://BUCKET[/PREFIX] and --queue-url", "")
		return
	}
	key := prefix + route.ProbePrefix + fmt.Sprint(time.Now().UnixNano()) + ".gz"
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("logtide check probe\n")}); err != nil {
		hint := ""
		if denied(err) {
			hint = "the probe needs s3:PutObject and s3:DeleteObject under the prefix: run check --probe with an operator's credentials"
		}
		r.add(part, step, Fail, "putting the probe s3://"+bucket+"/"+key+": "+awsMessage(err), hint)
		return
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_, _ = c.DeleteObject(dctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	}()
	start := time.Now()
	deadline := start.Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		wait := min(5, max(1, int32(time.Until(deadline)/time.Second)))
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: wait, VisibilityTimeout: 30})
		if err != nil {
			r.add(part, step, Fail, "receiving: "+awsMessage(err), "")
			return
		}
		found := false
		for _, m := range out.Messages {
			if announces(aws.ToString(m.Body), bucket, key) {
				found = true
				_, _ = q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle})
				continue
			}
			_, _ = q.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0})
		}
		if found {
			r.add(part, step, Pass, fmt.Sprintf("s3://%s/%s arrived on the queue after %s", bucket, key, time.Since(start).Round(100*time.Millisecond)), "")
			return
		}
	}
	r.add(part, step, Fail, fmt.Sprintf("no notification of s3://%s/%s within %s", bucket, key, timeout),
		"check the bucket's event notification (s3:ObjectCreated:* to this queue, and its prefix and suffix filters: the probe ends in .gz), "+
			"and that the queue's policy lets s3.amazonaws.com send with aws:SourceArn = the bucket; workers running on the queue may also have taken it (they log the key and skip it)")
}

// announces reports whether body is a notification of the object.
func announces(body, bucket, key string) bool {
	n, err := s3event.Parse([]byte(body))
	if err != nil {
		return false
	}
	for _, o := range n.Objects {
		if o.Bucket == bucket && o.Key == key {
			return true
		}
	}
	return false
}
