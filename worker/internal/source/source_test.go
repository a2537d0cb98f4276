package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const (
	bucket = "guardduty-exports"
	// A space and a non-ASCII letter: the error must name the key as decoded,
	// the way an operator would look it up.
	key = "AWSLogs/123456789012/GuardDuty/eu-west-1/2026/03/01/ä b.jsonl.gz"
)

// newClient points a real S3 client at url, path-style, with dummy static
// credentials and no retries: each case sees exactly one answer.
func newClient(url string) *S3 { return newClientIdle(url, 0) }

// newClientIdle is newClient with a read timeout.
func newClientIdle(url string, idle time.Duration) *S3 {
	return New(s3.New(s3.Options{
		Region:                     "eu-west-1",
		BaseEndpoint:               aws.String(url),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Retryer:                    aws.NopRetryer{},
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		HTTPClient:                 &http.Client{Timeout: 10 * time.Second},
	}), idle)
}

// s3Error writes an error the way S3 does for GetObject: an XML <Error>
// document with the request ids also in headers.
func s3Error(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-amz-request-id", "4442587FB7D0A2F9")
	w.Header().Set("x-amz-id-2", "vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQjryTjKlc5aLWGVHPZLj5NeC6qMa0emYBDXOo6QBU0Wo=")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>%s</Code><Message>%s</Message><Key>%s</Key><RequestId>4442587FB7D0A2F9</RequestId><HostId>vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQjryTjKlc5aLWGVHPZLj5NeC6qMa0emYBDXOo6QBU0Wo=</HostId></Error>`,
		code, message, key)
}

// archived writes S3's answer to a GetObject of an object in an archive
// storage class that was not restored.
func archived(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>InvalidObjectState</Code><Message>The operation is not valid for the object's storage class</Message><StorageClass>GLACIER</StorageClass><RequestId>4442587FB7D0A2F9</RequestId><HostId>vlR7PnpV2Ce81l0PRw6j</HostId></Error>`)
}

// fakeS3 answers every request with respond and records the paths and
// queries it was asked for.
type fakeS3 struct {
	respond func(w http.ResponseWriter, r *http.Request)
	mu      sync.Mutex
	reqs    []string
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.reqs = append(f.reqs, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
	f.mu.Unlock()
	f.respond(w, r)
}

func serve(t *testing.T, respond func(w http.ResponseWriter, r *http.Request)) (*S3, *fakeS3) {
	t.Helper()
	f := &fakeS3{respond: respond}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return newClient(srv.URL), f
}

func TestOpenClassifiesErrors(t *testing.T) {
	cases := []struct {
		name      string
		status    int
		code, msg string // empty code: no body at all
		permanent bool
		hint      []string // substrings the hint must hold
	}{
		{name: "no such key", status: 404, code: "NoSuchKey", msg: "The specified key does not exist.",
			permanent: true, hint: []string{"does not exist"}},
		{name: "no such bucket", status: 404, code: "NoSuchBucket", msg: "The specified bucket does not exist",
			permanent: true, hint: []string{"bucket does not exist"}},
		{name: "access denied", status: 403, code: "AccessDenied", msg: "Access Denied",
			permanent: true, hint: []string{"s3:GetObject", "kms:Decrypt"}},
		// What S3 answers for an SSE-KMS object when the caller may read the
		// object but not use its key.
		{name: "access denied by kms", status: 403, code: "AccessDenied",
			msg:       "User: arn:aws:sts::123456789012:assumed-role/logtide-worker/task is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab because no identity-based policy allows the kms:Decrypt action",
			permanent: true, hint: []string{"kms:Decrypt"}},
		// GetObject of an object in an archive storage class that was not
		// restored: a 403 that is not about permissions.
		{name: "archived object", status: 403, code: "InvalidObjectState",
			permanent: true, hint: []string{"GLACIER archive", "restore"}},
		{name: "kms key disabled", status: 400, code: "KMS.DisabledException",
			msg:       "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab is disabled.",
			permanent: true, hint: []string{"KMS key"}},
		// A 403 or 404 without a body (as proxies and HEAD answers give) is
		// still classified by its status.
		{name: "bare 403", status: 403, permanent: true, hint: []string{"s3:GetObject", "kms:Decrypt"}},
		{name: "bare 404", status: 404, permanent: true, hint: []string{"does not exist"}},
		{name: "internal error", status: 500, code: "InternalError", msg: "We encountered an internal error. Please try again."},
		{name: "slow down", status: 503, code: "SlowDown", msg: "Please reduce your request rate."},
		{name: "service unavailable", status: 503, code: "ServiceUnavailable", msg: "Service is unable to handle request."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, f := serve(t, func(w http.ResponseWriter, r *http.Request) {
				switch c.code {
				case "":
					w.WriteHeader(c.status)
					return
				case "InvalidObjectState":
					archived(w)
					return
				}
				s3Error(w, c.status, c.code, c.msg)
			})
			body, err := src.Open(context.Background(), bucket, key, "")
			if err == nil {
				body.Close()
				t.Fatal("no error")
			}
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("%T is not a *source.Error: %v", err, err)
			}
			if se.Permanent != c.permanent {
				t.Errorf("Permanent = %v, want %v: %v", se.Permanent, c.permanent, err)
			}
			for _, h := range c.hint {
				if !strings.Contains(se.Hint, h) {
					t.Errorf("hint %q lacks %q", se.Hint, h)
				}
			}
			if !c.permanent && se.Hint != "" {
				t.Errorf("retryable error with a hint %q", se.Hint)
			}
			if s := err.Error(); !strings.Contains(s, "s3://"+bucket+"/"+key) {
				t.Errorf("error does not name the object: %s", s)
			}
			if c.code != "" && !strings.Contains(err.Error(), c.code) {
				t.Errorf("error does not carry S3's code %s: %v", c.code, err)
			}
			if len(f.reqs) != 1 {
				t.Errorf("%d requests, want 1 (retries disabled): %v", len(f.reqs), f.reqs)
			}
		})
	}
}

func TestOpenConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = newClient("http://"+addr).Open(context.Background(), bucket, key, "")
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("%T is not a *source.Error: %v", err, err)
	}
	if se.Permanent {
		t.Errorf("an unreachable endpoint is permanent: %v", err)
	}
	if !strings.Contains(err.Error(), "s3://"+bucket+"/"+key) {
		t.Errorf("error does not name the object: %v", err)
	}
}

func TestOpenCancelled(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	src, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := src.Open(ctx, bucket, key, "")
	var se *Error
	if !errors.As(err, &se) || se.Permanent {
		t.Fatalf("cancelled open: %v, want a retryable *source.Error", err)
	}
}

func TestOpenStreamsBody(t *testing.T) {
	// Larger than any single read buffer, so the body really streams.
	want := make([]byte, 3<<20+17)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range want {
		want[i] = byte(r.Uint32())
	}
	src, f := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-gzip")
		w.Header().Set("Content-Length", fmt.Sprint(len(want)))
		w.Header().Set("x-amz-server-side-encryption", "aws:kms")
		w.Write(want)
	})
	body, err := src.Open(context.Background(), bucket, key, "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := body.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, want the %d bytes served", len(got), len(want))
	}
	if len(f.reqs) != 1 {
		t.Fatalf("requests %v", f.reqs)
	}
	req := f.reqs[0]
	if !strings.HasPrefix(req, "GET /"+bucket+"/"+key+"?") || !strings.Contains(req, "versionId=3HL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY") {
		t.Errorf("request %q is not a path-style GetObject of that version", req)
	}
}

// TestStalledReadsHaveADeadline: S3 stopping in the middle of an object, or
// before its headers, cannot hold the worker: the wait ends after the read
// timeout with an error saying so. A reader that takes its time between
// reads (its records wait for the cluster) is not cut.
func TestStalledReadsHaveADeadline(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.Contains(r.URL.Path, "before-headers"):
			<-release
		case strings.Contains(r.URL.Path, "mid-object"):
			w.Header().Set("Content-Length", "1000")
			_, _ = w.Write([]byte(strings.Repeat("x", 100)))
			w.(http.Flusher).Flush()
			<-release
		default:
			_, _ = w.Write([]byte(strings.Repeat("y", 100)))
		}
	}))
	defer srv.Close()
	defer close(release) // before the server closes: it waits for its handlers
	const idle = 300 * time.Millisecond
	c := newClientIdle(srv.URL, idle)
	ctx := context.Background()

	start := time.Now()
	_, err := c.Open(ctx, bucket, "before-headers", "")
	if err == nil || !strings.Contains(err.Error(), "no data from S3") || time.Since(start) > 5*idle {
		t.Errorf("stalled before the headers: %v after %s", err, time.Since(start))
	}

	body, err := c.Open(ctx, bucket, "mid-object", "")
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	_, err = io.ReadAll(body)
	body.Close()
	if err == nil || !strings.Contains(err.Error(), "no data from S3") || time.Since(start) > 5*idle {
		t.Errorf("stalled mid-object: %v after %s", err, time.Since(start))
	}

	body, err = c.Open(ctx, bucket, "slow-reader", "")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * idle) // the worker busy elsewhere, not waiting for S3
	b, err := io.ReadAll(body)
	body.Close()
	if err != nil || len(b) != 100 {
		t.Errorf("a slow reader was cut: %d bytes, %v", len(b), err)
	}
}
