package searchhttp

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// sigV4 signs requests with AWS Signature Version 4.
type sigV4 struct {
	next    http.RoundTripper
	signer  *v4.Signer
	creds   aws.CredentialsProvider
	service string
	region  string
	clock   func() time.Time
}

// RoundTrip signs a copy of req. The signature covers the payload, so the
// body is read whole (bulk bodies are already in memory) and sent from that
// copy. A request that already carries Authorization is sent as it is: its
// sender chose its own credentials.
func (s *sigV4) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Authorization") != "" {
		return s.next.RoundTrip(req)
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		// Sized from the declared length, the body is read in one piece.
		buf := bytes.NewBuffer(make([]byte, 0, max(req.ContentLength, 0)+bytes.MinRead))
		_, err := buf.ReadFrom(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("SigV4: reading the request body: %w", err)
		}
		body = buf.Bytes()
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])

	// A RoundTripper must not modify the caller's request.
	r := req.Clone(req.Context())
	r.ContentLength = int64(len(body))
	r.TransferEncoding = nil
	if req.Body != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		// Lets the transport resend the same, still validly signed, body
		// when a reused connection turns out to be closed.
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		if len(body) == 0 {
			r.Body, r.GetBody = http.NoBody, nil
		}
	}
	creds, err := s.creds.Retrieve(r.Context())
	if err != nil {
		return nil, fmt.Errorf("SigV4: AWS credentials: %w", err)
	}
	if err := s.signer.SignHTTP(r.Context(), creds, r, payloadHash, s.service, s.region, s.clock()); err != nil {
		return nil, fmt.Errorf("SigV4: signing: %w", err)
	}
	return s.next.RoundTrip(r)
}
