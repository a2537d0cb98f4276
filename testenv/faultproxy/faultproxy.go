// Package faultproxy puts a reverse proxy in front of a real server (the
// search cluster, or the S3/SQS emulator), so that a test can make it refuse
// what a real one refuses in production: every bulk request answered with a
// status (a rotated password gives 401 or 403), bodies over a size answered
// with 413 (http.max_content_length, 10 MiB on small Amazon OpenSearch
// Service instance types), or the requests a rule matches answered as the
// rule says (an S3 GetObject refused for a missing kms:Decrypt). Everything
// else goes through unchanged.
package faultproxy

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
)

// Proxy is a running proxy.
type Proxy struct {
	// URL is where the worker is pointed at instead of the cluster.
	URL string

	mu       sync.Mutex
	status   int   // answer to every bulk request, 0 for none
	maxBody  int64 // 413 above this many bytes, 0 for no limit
	rule     *Rule
	srv      *http.Server
	refused  atomic.Int64
	tooLarge atomic.Int64
}

// Start proxies to target (the cluster's URL) on a free port of 127.0.0.1.
func Start(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{URL: "http://" + ln.Addr().String()}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		status, maxBody, rule := p.status, p.maxBody, p.rule
		p.mu.Unlock()
		if rule != nil && rule.Match(r) {
			_, _ = io.Copy(io.Discard, r.Body)
			p.refused.Add(1)
			w.Header().Set("Content-Type", rule.ContentType)
			w.WriteHeader(rule.Status)
			_, _ = io.WriteString(w, rule.Body)
			return
		}
		bulk := strings.HasSuffix(r.URL.Path, "/_bulk")
		if bulk && status != 0 {
			_, _ = io.Copy(io.Discard, r.Body)
			p.refused.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"error":{"type":"security_exception","reason":"refused by the test (status %d)"},"status":%d}`, status, status)
			return
		}
		if maxBody > 0 && r.ContentLength > maxBody {
			_, _ = io.Copy(io.Discard, r.Body)
			p.tooLarge.Add(1)
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// Refuse answers every bulk request with status from now on; 0 lets them
// through again.
func (p *Proxy) Refuse(status int) {
	p.mu.Lock()
	p.status = status
	p.mu.Unlock()
}

// LimitBody answers 413 to requests whose body is larger than n bytes; 0
// removes the limit.
func (p *Proxy) LimitBody(n int64) {
	p.mu.Lock()
	p.maxBody = n
	p.mu.Unlock()
}

// Rule answers the requests it matches with its own response.
type Rule struct {
	Match       func(*http.Request) bool
	Status      int
	ContentType string
	Body        string
}

// Answer applies rule from now on (nil removes it).
func (p *Proxy) Answer(rule *Rule) {
	p.mu.Lock()
	p.rule = rule
	p.mu.Unlock()
}

// Refused is how many requests were refused with the status or a rule.
func (p *Proxy) Refused() int64 { return p.refused.Load() }

// TooLarge is how many requests were refused with 413.
func (p *Proxy) TooLarge() int64 { return p.tooLarge.Load() }

// Close stops the proxy.
func (p *Proxy) Close() error { return p.srv.Close() }
