// Package searchhttp builds the HTTP client that talks to the search cluster:
// TLS verification (with an optional private CA), and either HTTP basic
// authentication or AWS Signature Version 4 for Amazon OpenSearch Service and
// OpenSearch Serverless. Everything is checked once, in New, so a
// misconfiguration stops the worker at start instead of failing every
// request.
package searchhttp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// SigV4 service names.
const (
	// ServiceES signs for Amazon OpenSearch Service (and Elasticsearch
	// Service) domains.
	ServiceES = "es"
	// ServiceAOSS is OpenSearch Serverless, which the worker refuses (see
	// Validate).
	ServiceAOSS = "aoss"
)

// Defaults of the transport.
const (
	DefaultDialTimeout           = 10 * time.Second
	DefaultTLSHandshakeTimeout   = 10 * time.Second
	DefaultResponseHeaderTimeout = 90 * time.Second
	// DefaultMaxIdleConnsPerHost keeps a connection per concurrent bulk
	// request alive between requests, up to a fleet-friendly bound.
	DefaultMaxIdleConnsPerHost = 32
)

// Options configures the client. The zero value is a plain client with TLS
// verification against the system roots and no authentication.
type Options struct {
	// CAFile is a PEM bundle of CA certificates trusted in addition to the
	// system roots, for clusters with a private CA. Appending (rather than
	// replacing) keeps public endpoints such as Amazon OpenSearch Service
	// domains working with the same setting.
	CAFile string
	// InsecureSkipVerify disables certificate verification. It is an explicit
	// opt-out for test clusters; the caller should log it loudly.
	InsecureSkipVerify bool

	// Username and Password (or PasswordFile, whose content minus trailing
	// line breaks is the password, for mounted secrets) enable HTTP basic
	// authentication. The file is read once, in New.
	Username     string
	Password     Secret
	PasswordFile string

	// APIKey (or APIKeyFile, read once in New) authenticates with an
	// Elasticsearch API key: the "encoded" value the create API key call
	// returns (base64 of id:key), or id:key itself.
	APIKey     Secret
	APIKeyFile string

	// SigV4 signs every request with AWS Signature Version 4 for service
	// SigV4Service (ServiceES when empty) in Region, with credentials from
	// AWS.Credentials. It excludes basic authentication.
	SigV4        bool
	SigV4Service string
	Region       string
	AWS          aws.Config
	// Clock gives the signing time; nil means time.Now.
	Clock func() time.Time

	// Timeouts and pool size; zero means the Default* constants.
	DialTimeout           time.Duration
	TLSHandshakeTimeout   time.Duration
	ResponseHeaderTimeout time.Duration
	MaxIdleConnsPerHost   int
}

// Secret is a string that prints as [redacted], so that printing or logging
// the options never shows the password.
type Secret string

func (Secret) String() string { return "[redacted]" }

// AuthMode names the authentication the options select: "none", "basic",
// "apikey" or "sigv4". It never includes a secret, so it is safe to log.
func (o Options) AuthMode() string {
	switch {
	case o.SigV4:
		return "sigv4"
	case o.hasAPIKey():
		return "apikey"
	case o.hasBasic():
		return "basic"
	}
	return "none"
}

// New checks the options and builds the client. With SigV4 it also resolves
// the credentials once, so a task without usable credentials fails at start.
func New(ctx context.Context, o Options) (*http.Client, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	tr, err := o.transport()
	if err != nil {
		return nil, err
	}
	var rt http.RoundTripper = tr
	switch o.AuthMode() {
	case "basic":
		pw := string(o.Password)
		if o.PasswordFile != "" {
			b, err := os.ReadFile(o.PasswordFile)
			if err != nil {
				return nil, fmt.Errorf("search password file: %w", err)
			}
			pw = strings.TrimRight(string(b), "\r\n")
			if pw == "" {
				return nil, fmt.Errorf("search password file %s is empty", o.PasswordFile)
			}
		}
		rt = &headerAuth{next: rt, value: "Basic " + base64.StdEncoding.EncodeToString([]byte(o.Username+":"+pw))}
	case "apikey":
		key := string(o.APIKey)
		if o.APIKeyFile != "" {
			b, err := os.ReadFile(o.APIKeyFile)
			if err != nil {
				return nil, fmt.Errorf("search API key file: %w", err)
			}
			key = strings.TrimSpace(string(b))
			if key == "" {
				return nil, fmt.Errorf("search API key file %s is empty", o.APIKeyFile)
			}
		}
		if strings.Contains(key, ":") { // id:key, not yet encoded
			key = base64.StdEncoding.EncodeToString([]byte(key))
		}
		rt = &headerAuth{next: rt, value: "ApiKey " + key}
	case "sigv4":
		s, err := o.signer(ctx, rt)
		if err != nil {
			return nil, err
		}
		rt = s
	}
	// No client-wide timeout: a bulk request's duration depends on its size;
	// the transport bounds each phase and the caller's context the rest.
	return &http.Client{Transport: rt}, nil
}

// Validate checks the options together.
func (o Options) Validate() error {
	var errs []error
	basic := o.hasBasic()
	if o.SigV4 && basic {
		errs = append(errs, errors.New("SigV4 signing and basic authentication are mutually exclusive"))
	}
	if o.hasAPIKey() {
		if o.SigV4 || basic {
			errs = append(errs, errors.New("an API key excludes basic authentication and SigV4 signing"))
		}
		if o.APIKey != "" && o.APIKeyFile != "" {
			errs = append(errs, errors.New("API key: both a key and a key file"))
		}
	}
	if o.SigV4 {
		switch o.SigV4Service {
		case "", ServiceES:
		case ServiceAOSS:
			errs = append(errs, errors.New("SigV4 service aoss: Amazon OpenSearch Serverless is not supported: its time-series collections assign their own document ids, "+
				"so a replayed object would be indexed twice and an older copy of a finding could not be refused; use an OpenSearch Service domain (es)"))
		default:
			errs = append(errs, fmt.Errorf("SigV4 service %q: want %s", o.SigV4Service, ServiceES))
		}
		if o.Region == "" {
			errs = append(errs, errors.New("SigV4 signing needs a region: set --es-region, or the AWS region of the SDK (AWS_REGION)"))
		}
	}
	if !o.SigV4 && !o.hasAPIKey() && basic {
		if o.Username == "" {
			errs = append(errs, errors.New("basic authentication: a password without a username"))
		}
		if o.Password != "" && o.PasswordFile != "" {
			errs = append(errs, errors.New("basic authentication: both a password and a password file"))
		}
		if o.Password == "" && o.PasswordFile == "" {
			errs = append(errs, errors.New("basic authentication: a username without a password"))
		}
	}
	if o.InsecureSkipVerify && o.CAFile != "" {
		errs = append(errs, errors.New("a CA file and skipping certificate verification contradict each other"))
	}
	return errors.Join(errs...)
}

func (o Options) tlsConfig() (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.InsecureSkipVerify}
	if o.CAFile == "" {
		return c, nil
	}
	pem, err := os.ReadFile(o.CAFile)
	if err != nil {
		return nil, fmt.Errorf("search CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		// Without system roots (some minimal images), the bundle alone is the
		// trust: private clusters still work.
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("search CA file %s: no PEM certificate found", o.CAFile)
	}
	c.RootCAs = pool
	return c, nil
}

func (o Options) transport() (*http.Transport, error) {
	tc, err := o.tlsConfig()
	if err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: or(o.DialTimeout, DefaultDialTimeout), KeepAlive: 30 * time.Second}
	perHost := o.MaxIdleConnsPerHost
	if perHost <= 0 {
		perHost = DefaultMaxIdleConnsPerHost
	}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		TLSClientConfig:       tc,
		TLSHandshakeTimeout:   or(o.TLSHandshakeTimeout, DefaultTLSHandshakeTimeout),
		ResponseHeaderTimeout: or(o.ResponseHeaderTimeout, DefaultResponseHeaderTimeout),
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          4 * perHost,
		MaxIdleConnsPerHost:   perHost,
		// HTTP/1.1 on purpose (a custom TLS config leaves HTTP/2 off unless
		// forced): concurrent multi-megabyte bulk bodies spread over a pool
		// of connections instead of sharing one connection's flow control.
		ForceAttemptHTTP2: false,
	}, nil
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// headerAuth sets the Authorization header (basic credentials, an API key)
// of the requests that carry none of their own.
type headerAuth struct {
	next  http.RoundTripper
	value string
}

func (h *headerAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Authorization") != "" {
		return h.next.RoundTrip(req)
	}
	// A RoundTripper must not modify the caller's request.
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", h.value)
	return h.next.RoundTrip(r)
}

func (o Options) signer(ctx context.Context, next http.RoundTripper) (*sigV4, error) {
	creds := o.AWS.Credentials
	if creds == nil {
		return nil, errors.New("SigV4 signing needs AWS credentials")
	}
	if _, ok := creds.(*aws.CredentialsCache); !ok {
		creds = aws.NewCredentialsCache(creds)
	}
	// Bounded: a credential endpoint that never answers must not hang the start.
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := creds.Retrieve(rctx); err != nil {
		return nil, fmt.Errorf("SigV4 signing: no usable AWS credentials: %w", err)
	}
	service := o.SigV4Service
	if service == "" {
		service = ServiceES
	}
	clock := o.Clock
	if clock == nil {
		clock = time.Now
	}
	return &sigV4{next: next, signer: v4.NewSigner(), creds: creds, service: service, region: o.Region, clock: clock}, nil
}

// hasBasic reports whether any basic-auth setting is given.
func (o Options) hasAPIKey() bool { return o.APIKey != "" || o.APIKeyFile != "" }

func (o Options) hasBasic() bool { return o.Username != "" || o.Password != "" || o.PasswordFile != "" }
