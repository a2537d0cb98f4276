// Package source opens S3 objects as streams, counts the bytes read and turns
// S3 failures into errors that say whether retrying can help and what to fix.
package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// S3 opens objects from Amazon S3.
type S3 struct {
	client *s3.Client
	idle   time.Duration
}

// DefaultIdleTimeout is how long a read may wait for S3 by default.
const DefaultIdleTimeout = 2 * time.Minute

// New wraps an S3 client. idle bounds every wait for S3, the request for an
// object and each read of its body: a server that stops sending cannot hold
// a worker forever (an object of any size still streams, as long as its
// bytes keep coming). Zero means DefaultIdleTimeout.
func New(client *s3.Client, idle time.Duration) *S3 {
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	return &S3{client: client, idle: idle}
}

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
	ctx, cancel := context.WithCancelCause(ctx)
	w := &watchdog{cancel: cancel, idle: s.idle}
	w.arm()
	out, err := s.client.GetObject(ctx, in)
	w.disarm()
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, errIdle) {
			err = fmt.Errorf("%w: %w", cause, err)
		}
		cancel(nil)
		return nil, classify(bucket, key, err)
	}
	return &body{ReadCloser: out.Body, ctx: ctx, w: w}, nil
}

// errIdle is the cause of a request cut because S3 sent nothing for too
// long.
var errIdle = errors.New("no data from S3 within the read timeout")

// watchdog cancels the request of an object when one wait for S3 lasts
// longer than idle. It is armed only while the worker waits for S3, not
// while the object's records wait for the cluster.
type watchdog struct {
	cancel context.CancelCauseFunc
	idle   time.Duration
	t      *time.Timer
}

func (w *watchdog) arm() {
	if w.t == nil {
		w.t = time.AfterFunc(w.idle, func() { w.cancel(fmt.Errorf("%w (%s)", errIdle, w.idle)) })
		return
	}
	w.t.Reset(w.idle)
}

func (w *watchdog) disarm() { w.t.Stop() }

// body is an object's content under its watchdog.
type body struct {
	io.ReadCloser
	ctx context.Context
	w   *watchdog
}

func (b *body) Read(p []byte) (int, error) {
	b.w.arm()
	n, err := b.ReadCloser.Read(p)
	b.w.disarm()
	if err != nil && !errors.Is(err, io.EOF) {
		if cause := context.Cause(b.ctx); errors.Is(cause, errIdle) {
			err = fmt.Errorf("%w: %w", cause, err)
		}
	}
	return n, err
}

func (b *body) Close() error {
	b.w.disarm()
	err := b.ReadCloser.Close()
	b.w.cancel(nil)
	return err
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
