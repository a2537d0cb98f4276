// Package awshttp holds what the AWS SDK's HTTP clients need around them in
// every program of the project.
package awshttp

import (
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// RequestBodyFix wraps the HTTP client of an AWS service client so that a
// request body no longer offers io.WriterTo to net/http.
//
// smithy-go sends a request body wrapped in a reader that it closes as soon
// as Do returns, that is when the response headers have arrived, while the
// transport's write goroutine may still be finishing the request: after
// copying Content-Length bytes, net/http drains the body with
// io.Copy(io.Discard, body) to detect extra bytes. io.Copy prefers the
// body's WriteTo, which smithy-go (up to at least v1.28.9) answers with
// io.EOF once closed; net/http takes that for a failed request write and
// closes the connection, cutting off a response body still being read (an
// SQS ReceiveMessage answer larger than the transport's 4 KiB read buffer
// fails with "use of closed network connection", the SDK retries, and the
// messages of the lost answer stay hidden until their visibility timeout).
// Without WriteTo, io.Copy reads: Read on the closed body returns io.EOF,
// which io.Copy reports as a clean end.
func RequestBodyFix(c aws.HTTPClient) aws.HTTPClient {
	return bodyNoWriteToClient{c}
}

type bodyNoWriteToClient struct{ next aws.HTTPClient }

func (c bodyNoWriteToClient) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		r := req.WithContext(req.Context()) // shallow copy; the SDK keeps its own
		r.Body = readCloserOnly{req.Body}
		req = r
	}
	return c.next.Do(req)
}

// readCloserOnly hides every method of the wrapped body but Read and Close.
type readCloserOnly struct{ io.ReadCloser }
