// Package backend runs and talks to the S3/SQS-compatible servers the
// benchmarks use: ElasticMQ (SQS) and gofakes3 (S3) for throughput, moto for
// reference. Everything binds to and is reached on 127.0.0.1 only.
package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/logtide/logtide/shared/awshttp"
)

// Region is the region every local server is addressed in.
const Region = "us-east-1"

// AWS is a pair of S3 and SQS endpoints with clients for them.
type AWS struct {
	Name          string
	S3URL, SQSURL string
	S3            *s3.Client
	SQS           *sqs.Client
}

// Connect builds clients with dummy credentials for local endpoints. It
// refuses anything but 127.0.0.1, so a benchmark can never reach AWS.
func Connect(name, s3URL, sqsURL string) (*AWS, error) {
	for _, u := range []string{s3URL, sqsURL} {
		p, err := url.Parse(u)
		if err != nil || p.Hostname() != "127.0.0.1" {
			return nil, fmt.Errorf("endpoint %q is not on 127.0.0.1", u)
		}
	}
	hc := &http.Client{Transport: &http.Transport{
		MaxIdleConns: 256, MaxIdleConnsPerHost: 128, IdleConnTimeout: 30 * time.Second,
	}}
	cfg := aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:  hc,
	}
	a := &AWS{Name: name, S3URL: s3URL, SQSURL: sqsURL}
	a.S3 = s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(s3URL)
		o.UsePathStyle = true
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.HTTPClient = awshttp.RequestBodyFix(o.HTTPClient)
	})
	a.SQS = sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		o.BaseEndpoint = aws.String(sqsURL)
		o.HTTPClient = awshttp.RequestBodyFix(o.HTTPClient)
	})
	return a, nil
}

// WorkerEnv is the environment a worker child process needs to reach these
// endpoints: per-service endpoint variables (S3 and SQS live on different
// ports), dummy credentials, and nothing inherited that could point the SDK
// at a real account.
func (a *AWS) WorkerEnv(path, home string) []string {
	return []string{
		"PATH=" + path,
		"HOME=" + home,
		"AWS_ENDPOINT_URL_S3=" + a.S3URL,
		"AWS_ENDPOINT_URL_SQS=" + a.SQSURL,
		"AWS_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	}
}

// CreateQueue creates a queue with the given visibility timeout.
func (a *AWS) CreateQueue(ctx context.Context, name string, visibility time.Duration) (string, error) {
	out, err := a.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(name),
		Attributes: map[string]string{
			string(sqstypes.QueueAttributeNameVisibilityTimeout): fmt.Sprint(int(visibility / time.Second)),
		},
	})
	if err != nil {
		return "", fmt.Errorf("%s: create queue %s: %w", a.Name, name, err)
	}
	return aws.ToString(out.QueueUrl), nil
}

// DeleteQueue removes a queue; errors are ignored (cleanup).
func (a *AWS) DeleteQueue(ctx context.Context, queueURL string) {
	_, _ = a.SQS.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(queueURL)})
}

// Enqueue sends bodies in batches of ten.
func (a *AWS) Enqueue(ctx context.Context, queueURL string, bodies []string) error {
	for i := 0; i < len(bodies); i += 10 {
		var entries []sqstypes.SendMessageBatchRequestEntry
		for j := i; j < min(i+10, len(bodies)); j++ {
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(j)), MessageBody: aws.String(bodies[j])})
		}
		out, err := a.SQS.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries})
		if err != nil {
			return fmt.Errorf("%s: send messages: %w", a.Name, err)
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("%s: %d messages refused: %s", a.Name, len(out.Failed), aws.ToString(out.Failed[0].Message))
		}
	}
	return nil
}

// CreateBucket creates a bucket, accepting one that exists already.
func (a *AWS) CreateBucket(ctx context.Context, bucket string) error {
	_, err := a.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	if err != nil && !strings.Contains(err.Error(), "BucketAlreadyOwnedByYou") && !strings.Contains(err.Error(), "BucketAlreadyExists") {
		return fmt.Errorf("%s: create bucket: %w", a.Name, err)
	}
	return nil
}

// Notification is the body S3 sends to SQS for one created object. Neither
// ElasticMQ nor gofakes3 delivers notifications, so the benchmark writes the
// bodies itself, in the shape real S3 uses.
func Notification(bucket, key string, size int64, at time.Time) string {
	type obj struct {
		Key       string `json:"key"`
		Size      int64  `json:"size"`
		ETag      string `json:"eTag"`
		Sequencer string `json:"sequencer"`
	}
	type s3r struct {
		SchemaVersion string         `json:"s3SchemaVersion"`
		Bucket        map[string]any `json:"bucket"`
		Object        obj            `json:"object"`
	}
	type rec struct {
		EventVersion string `json:"eventVersion"`
		EventSource  string `json:"eventSource"`
		AWSRegion    string `json:"awsRegion"`
		EventTime    string `json:"eventTime"`
		EventName    string `json:"eventName"`
		S3           s3r    `json:"s3"`
	}
	r := rec{
		EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: Region,
		EventTime: at.UTC().Format("2006-01-02T15:04:05.000Z"), EventName: "ObjectCreated:Put",
		S3: s3r{
			SchemaVersion: "1.0",
			Bucket:        map[string]any{"name": bucket, "arn": "arn:aws:s3:::" + bucket},
			// S3 URL-encodes keys in notifications, spaces as '+'.
			Object: obj{Key: strings.ReplaceAll(url.QueryEscape(key), "%2F", "/"), Size: size, ETag: "0", Sequencer: fmt.Sprintf("%016X", at.UnixNano())},
		},
	}
	b, _ := json.Marshal(map[string]any{"Records": []rec{r}})
	return string(b)
}

// ParseNotification returns the bucket and key of a body written by
// Notification (or by S3 itself).
func ParseNotification(body string) (bucket, key string, err error) {
	var n struct {
		Records []struct {
			S3 struct {
				Bucket struct {
					Name string `json:"name"`
				} `json:"bucket"`
				Object struct {
					Key string `json:"key"`
				} `json:"object"`
			} `json:"s3"`
		} `json:"Records"`
	}
	if err := json.Unmarshal([]byte(body), &n); err != nil {
		return "", "", err
	}
	if len(n.Records) != 1 {
		return "", "", errors.New("not one record")
	}
	k, err := url.QueryUnescape(n.Records[0].S3.Object.Key)
	if err != nil {
		return "", "", err
	}
	return n.Records[0].S3.Bucket.Name, k, nil
}
