// Package awslocal provisions the AWS side of the pipeline on a local
// S3/SQS-compatible server (moto) for the demo and the integration tests: a
// bucket whose ObjectCreated notifications go to a queue, and a dead-letter
// queue behind it. It is test and demo tooling, not part of the worker.
package awslocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/logtide/logtide/shared/awshttp"
)

// Clients are S3 and SQS clients configured from the environment
// (AWS_ENDPOINT_URL pointing at the local server).
type Clients struct {
	S3  *s3.Client
	SQS *sqs.Client
}

// Connect builds clients from the SDK's standard configuration chain.
func Connect(ctx context.Context) (*Clients, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	if cfg.BaseEndpoint == nil {
		return nil, fmt.Errorf("AWS_ENDPOINT_URL is not set: refusing to provision against real AWS")
	}
	return &Clients{
		S3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.UsePathStyle = true
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
			o.HTTPClient = awshttp.RequestBodyFix(o.HTTPClient)
		}),
		SQS: sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.HTTPClient = awshttp.RequestBodyFix(o.HTTPClient) }),
	}, nil
}

// Stack is a provisioned bucket, queue and dead-letter queue.
type Stack struct {
	Bucket   string
	QueueURL string
	DLQURL   string
}

// Options names what to create.
type Options struct {
	Bucket, Queue string
	// VisibilityTimeout of the main queue (default 30 s).
	VisibilityTimeout time.Duration
	// MaxReceiveCount before a message moves to the dead-letter queue (default 5).
	MaxReceiveCount int
	// NoNotification leaves the bucket without its notification, like a
	// bucket whose objects predate it.
	NoNotification bool
}

// Provision creates the queues (the main one with a redrive policy to the
// dead-letter queue), the bucket and the bucket's ObjectCreated notification
// to the queue. It is idempotent for the same names.
func (c *Clients) Provision(ctx context.Context, o Options) (Stack, error) {
	if o.VisibilityTimeout <= 0 {
		o.VisibilityTimeout = 30 * time.Second
	}
	if o.MaxReceiveCount <= 0 {
		o.MaxReceiveCount = 5
	}
	st := Stack{Bucket: o.Bucket}
	dlq, err := c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(o.Queue + "-dlq")})
	if err != nil {
		return st, fmt.Errorf("create dead-letter queue: %w", err)
	}
	st.DLQURL = aws.ToString(dlq.QueueUrl)
	dlqArn, err := c.queueArn(ctx, st.DLQURL)
	if err != nil {
		return st, err
	}
	redrive, _ := json.Marshal(map[string]any{"deadLetterTargetArn": dlqArn, "maxReceiveCount": o.MaxReceiveCount})
	q, err := c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(o.Queue),
		Attributes: map[string]string{
			string(sqstypes.QueueAttributeNameVisibilityTimeout): fmt.Sprint(int(o.VisibilityTimeout / time.Second)),
			string(sqstypes.QueueAttributeNameRedrivePolicy):     string(redrive),
		},
	})
	if err != nil {
		return st, fmt.Errorf("create queue: %w", err)
	}
	st.QueueURL = aws.ToString(q.QueueUrl)
	qArn, err := c.queueArn(ctx, st.QueueURL)
	if err != nil {
		return st, err
	}
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(o.Bucket)}); err != nil {
		var owned *s3types.BucketAlreadyOwnedByYou
		if !errors.As(err, &owned) {
			return st, fmt.Errorf("create bucket: %w", err)
		}
	}
	if o.NoNotification {
		return st, nil
	}
	_, err = c.S3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(o.Bucket),
		NotificationConfiguration: &s3types.NotificationConfiguration{
			QueueConfigurations: []s3types.QueueConfiguration{{
				QueueArn: aws.String(qArn),
				Events:   []s3types.Event{s3types.EventS3ObjectCreated},
			}},
		},
	})
	if err != nil {
		return st, fmt.Errorf("bucket notification: %w", err)
	}
	return st, nil
}

func (c *Clients) queueArn(ctx context.Context, url string) (string, error) {
	out, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", fmt.Errorf("queue arn of %s: %w", url, err)
	}
	return out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], nil
}

// Depth returns the visible, in-flight and delayed message counts of a queue.
func (c *Clients) Depth(ctx context.Context, url string) (visible, inFlight, delayed int, err error) {
	out, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		return 0, 0, 0, err
	}
	a := out.Attributes
	_, err = fmt.Sscan(a[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)]+" "+
		a[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)]+" "+
		a[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed)], &visible, &inFlight, &delayed)
	return visible, inFlight, delayed, err
}
