// Package source opens S3 objects as streams, counts the bytes read and turns
// S3 failures into errors that say whether retrying can help and what to fix.
package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// S3 opens objects from Amazon S3.
type S3 struct {
	client *s3.Client
}

// New wraps an S3 client.
func New(client *s3.Client) *S3 { return &S3{client: client} }

// Error is a failed open with its classification.
type Error struct {
	Bucket, Key string
	// Permanent means retrying the same request will not help (missing
	// object, access denied); the message should go to the queue's redrive.
	Permanent bool
	// Hint says what is likely wrong, when known.
	Hint string
	Err  error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("s3://%s/%s: %v", e.Bucket, e.Key, e.Err)
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Open starts streaming an object; versionID may be empty.
func (s *S3) Open(ctx context.Context, bucket, key, versionID string) (io.ReadCloser, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return nil, classify(bucket, key, err)
	}
	return out.Body, nil
}

func classify(bucket, key string, err error) error {
	e := &Error{Bucket: bucket, Key: key, Err: err}
	var nsk *types.NoSuchKey
	var nsb *types.NoSuchBucket
	var ios *types.InvalidObjectState
	var api smithy.APIError
	var resp *smithyhttp.ResponseError
	switch {
	case errors.As(err, &nsk):
		e.Permanent, e.Hint = true, "the object does not exist (deleted, or the notification names another key)"
	// GetObject does not model NoSuchBucket: it arrives as a generic API
	// error and would otherwise be reported as a missing object.
	case errors.As(err, &nsb) || (errors.As(err, &api) && api.ErrorCode() == "NoSuchBucket"):
		e.Permanent, e.Hint = true, "the bucket does not exist"
	// A 403 that is no permission problem: the object is in an archive
	// storage class and was not restored.
	case errors.As(err, &ios):
		e.Permanent, e.Hint = true, "the object is in an archive storage class; restore it before it can be read"
		if ios.StorageClass != "" {
			e.Hint = "the object is in the " + string(ios.StorageClass) + " archive storage class; restore it before it can be read"
		}
	case errors.As(err, &api) && api.ErrorCode() == "AccessDenied":
		e.Permanent = true
		e.Hint = "check s3:GetObject on this key for the worker's role, and kms:Decrypt on the KMS key if the object is SSE-KMS encrypted (GuardDuty exports always are)"
	case errors.As(err, &api) && (api.ErrorCode() == "KMS.DisabledException" || api.ErrorCode() == "KMS.NotFoundException"):
		e.Permanent, e.Hint = true, "the object's KMS key is disabled or gone"
	case errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusForbidden:
		e.Permanent, e.Hint = true, "access denied: check s3:GetObject, and kms:Decrypt for SSE-KMS objects"
	case errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusNotFound:
		e.Permanent, e.Hint = true, "the object does not exist"
	}
	return e
}
