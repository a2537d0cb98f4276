package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/logtide/logtide/worker/format"
)

// S3 is the part of the S3 client the check uses.
type S3 interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// Router chooses the format of each object from its key.
type Router interface {
	Route(key string) (format.Format, format.Claim)
}

// listPages bounds the search for the newest object: a bucket of millions
// of keys is not listed whole.
const listPages = 10

// checkBucket checks that the newest object under prefix (of the first
// listPages pages) can be read, SSE-KMS included, and that a format reads
// it. Without s3:ListBucket (the worker needs none) it reads prefix as the
// key of an object.
func checkBucket(ctx context.Context, r *Report, c S3, router Router, bucket, prefix string) {
	const part = "bucket"
	if bucket == "" {
		r.add(part, "bucket", Skip, "no s3://BUCKET[/PREFIX] given: the bucket is not checked", "")
		return
	}
	where := "s3://" + bucket + "/" + prefix
	key, listed, err := newest(ctx, c, bucket, prefix)
	switch {
	case err != nil && awsCode(err) == "NoSuchBucket":
		r.add(part, "bucket exists", Fail, where+": no such bucket", "check the bucket's name; the SDK's region must reach it")
		return
	case err != nil && denied(err):
		r.add(part, "find the newest object", Skip, "listing refused ("+awsMessage(err)+"); the worker needs no s3:ListBucket, so "+where+" is read as an object's key", "")
		key = prefix
	case err != nil:
		r.add(part, "find the newest object", Fail, awsMessage(err), "check the S3 endpoint and network path (AWS_ENDPOINT_URL, VPC endpoint)")
		return
	case key == "":
		r.add(part, "find the newest object", Fail, fmt.Sprintf("no object under %s (%d keys listed)", where, listed), "check the prefix: it is where the service writes its logs, e.g. AWSLogs/")
		return
	default:
		r.add(part, "find the newest object", Pass, fmt.Sprintf("%s (newest of %d keys listed)", key, listed), "")
	}
	if key == "" {
		r.add(part, "read an object", Skip, "give s3://BUCKET/KEY of an object to test the read", "")
		return
	}

	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		var nf *types.NotFound
		switch {
		case errors.As(err, &nf) || awsCode(err) == "NotFound" || awsCode(err) == "NoSuchKey":
			r.add(part, "read an object", Fail, "s3://"+bucket+"/"+key+": no such object", "give s3://BUCKET/PREFIX where the logs are")
		case denied(err):
			r.add(part, "read an object", Fail, awsMessage(err), fmt.Sprintf("grant s3:GetObject on arn:aws:s3:::%s/%s* to the worker's role (and, for a bucket of another account, in its bucket policy)", bucket, prefix))
		default:
			r.add(part, "read an object", Fail, awsMessage(err), "")
		}
		return
	}
	kms := head.ServerSideEncryption == types.ServerSideEncryptionAwsKms || head.ServerSideEncryption == types.ServerSideEncryptionAwsKmsDsse
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Range: aws.String("bytes=0-1023")})
	if err == nil {
		_, err = io.Copy(io.Discard, got.Body)
		got.Body.Close()
	}
	encryption := "not encrypted with KMS"
	if kms {
		encryption = "SSE-KMS with " + aws.ToString(head.SSEKMSKeyId)
	}
	switch {
	case err == nil:
		r.add(part, "read an object", Pass, fmt.Sprintf("read its first bytes (%s, %d bytes, %s)", encryption, aws.ToInt64(head.ContentLength), aws.ToTime(head.LastModified).UTC().Format(time.RFC3339)), "")
	case denied(err) && (kms || strings.Contains(strings.ToLower(err.Error()), "kms")):
		r.add(part, "read an object", Fail, awsMessage(err),
			fmt.Sprintf("grant kms:Decrypt on the key %s to the worker's role, in the key policy and the role's policy, with the condition kms:ViaService = s3.<region>.amazonaws.com", aws.ToString(head.SSEKMSKeyId)))
		return
	case denied(err):
		r.add(part, "read an object", Fail, awsMessage(err), fmt.Sprintf("grant s3:GetObject on arn:aws:s3:::%s/%s* to the worker's role", bucket, prefix))
		return
	default:
		r.add(part, "read an object", Fail, awsMessage(err), "")
		return
	}

	switch f, claim := router.Route(key); claim {
	case format.Read:
		r.add(part, "a format reads it", Pass, "read as "+f.Name(), "")
	case format.Skip:
		r.add(part, "a format reads it", Pass, "skipped on purpose (a digest, a test file or a skip rule)", "")
	default:
		r.add(part, "a format reads it", Fail, "no format reads this key: its message would go to the dead-letter queue",
			"add --route 'PATTERN=FORMAT' for this layout (or PATTERN=skip for logs not to index); formats read the standard AWSLogs/<account>/<service>/ layouts")
	}
}

// newest lists up to listPages pages under prefix and returns the key
// modified last.
func newest(ctx context.Context, c S3, bucket, prefix string) (key string, listed int, err error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
	var when time.Time
	for range listPages {
		out, err := c.ListObjectsV2(ctx, in)
		if err != nil {
			return "", listed, err
		}
		for _, o := range out.Contents {
			listed++
			k := aws.ToString(o.Key)
			if strings.HasSuffix(k, "/") {
				continue
			}
			if t := aws.ToTime(o.LastModified); key == "" || t.After(when) {
				key, when = k, t
			}
		}
		if !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
			break
		}
		in.ContinuationToken = out.NextContinuationToken
	}
	return key, listed, nil
}
