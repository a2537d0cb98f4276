// Package sink writes documents to Elasticsearch or OpenSearch with bulk
// requests and classifies every item's outcome once: written, stale (the index
// already holds this or a newer version), retryable, or rejected.
package sink

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/olivere/elastic/v7"

	"github.com/logtide/logtide/worker/format/jsonscan"
)

// Options configures the connection to the cluster.
type Options struct {
	// URLs are the cluster's HTTP endpoints; requests are spread over them.
	URLs []string
	// HTTPClient carries TLS settings and request signing; nil means
	// http.DefaultClient.
	HTTPClient *http.Client
}

// Sink is a bulk writer. It is safe for concurrent use.
type Sink struct {
	client *elastic.Client
}

// Validate checks the endpoints.
func (o Options) Validate() error {
	var errs []error
	if len(o.URLs) == 0 {
		errs = append(errs, errors.New("es-url: at least one endpoint is required"))
	}
	for _, u := range o.URLs {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("es-url %q: want http(s)://host[:port]", redact(u)))
		}
		if err == nil && p.User != nil {
			errs = append(errs, errors.New("es-url: credentials in the URL are not accepted"))
		}
	}
	return errors.Join(errs...)
}

// redact drops anything between the scheme and the host: it may hold a
// password.
func redact(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		if j := strings.LastIndex(u, "@"); j > i {
			return u[:i+3] + u[j+1:]
		}
	}
	return u
}

// New connects lazily: no request is made until the first call, so a worker can
// start while the cluster is down and recover once it answers.
func New(o Options) (*Sink, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	opts := []elastic.ClientOptionFunc{
		elastic.SetURL(o.URLs...),
		elastic.SetSniff(false), // required for Amazon OpenSearch Service and single nodes
		elastic.SetHealthcheck(false),
	}
	if o.HTTPClient != nil {
		opts = append(opts, elastic.SetHttpClient(o.HTTPClient))
	}
	c, err := elastic.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("search client: %w", err)
	}
	return &Sink{client: c}, nil
}

// Item is one document to index.
type Item struct {
	Index string
	ID    string
	// Version is an external version: the cluster keeps the document with the
	// highest version, so an older copy delivered late never replaces a newer
	// one. Zero means the record has no versions: the first copy written
	// stays, and later copies are duplicates.
	Version int64
	Body    []byte
}

// Outcome is the classified result of one bulk item.
type Outcome int

// Item outcomes.
const (
	// Written: the document is stored.
	Written Outcome = iota
	// Stale: the index already holds this document at this or a newer
	// version, or, for a document without versions, already holds it (a
	// duplicate). The record is accounted for; nothing needs to change.
	Stale
	// Retry: a problem of the cluster, not of the document (see
	// clusterStatus); sending it again once the cluster recovers succeeds.
	Retry
	// Rejected: the cluster will never accept this document as it is (a
	// mapping error, an invalid id): any other 4xx.
	Rejected
)

func (o Outcome) String() string {
	switch o {
	case Written:
		return "written"
	case Stale:
		return "stale"
	case Retry:
		return "retry"
	case Rejected:
		return "rejected"
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// Result is the outcome of one item, in request order.
type Result struct {
	Outcome Outcome
	Status  int
	// Reason is the cluster's error type and reason when the item failed.
	Reason string
	// ErrorType is the cluster's error type alone, e.g.
	// mapper_parsing_exception.
	ErrorType string
}

// RequestError is a failure of a whole bulk request. Status is the
// cluster's HTTP status, 0 when no answer came (connection refused, TLS
// failure, timeout).
type RequestError struct {
	Status int
	Err    error
}

func (e *RequestError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("bulk request: status %d: %v", e.Status, e.Err)
	}
	return fmt.Sprintf("bulk request: %v", e.Err)
}

func (e *RequestError) Unwrap() error { return e.Err }

// TooLarge reports a request refused for its size (413): smaller requests
// may pass.
func (e *RequestError) TooLarge() bool { return e.Status == http.StatusRequestEntityTooLarge }

// BadRequest reports a request refused for its content (400): one of its
// documents is one the cluster cannot read at all.
func (e *RequestError) BadRequest() bool { return e.Status == http.StatusBadRequest }

// Reason is a low-cardinality label for metrics: status_<code>, or why no
// answer came (timeout, tls, unreachable, no_answer).
func (e *RequestError) Reason() string {
	if e.Status != 0 {
		return "status_" + strconv.Itoa(e.Status)
	}
	var certErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	var opErr *net.OpError
	switch {
	case errors.Is(e.Err, context.DeadlineExceeded) || os.IsTimeout(e.Err):
		return "timeout"
	case errors.As(e.Err, &certErr) || errors.As(e.Err, &recordErr) || strings.Contains(e.Err.Error(), "tls:"):
		return "tls"
	case errors.As(e.Err, &opErr) && opErr.Op == "dial", errors.Is(e.Err, elastic.ErrNoClient):
		return "unreachable"
	}
	return "no_answer"
}

// Bulk indexes items in one request and returns one result per item. An error
// means the request as a whole got no per-item answer.
//
// The request body is written straight from the documents' bytes: building it
// through the client's per-item request objects would copy and re-encode
// every document.
func (s *Sink) Bulk(ctx context.Context, items []Item) ([]Result, error) {
	if len(items) == 0 {
		return nil, nil
	}
	// The client sends a string body as it is; a builder sized up front
	// hands its bytes over without a copy.
	size := 0
	for _, it := range items {
		size += len(it.Body) + len(it.Index) + len(it.ID) + actionOverhead
	}
	var buf strings.Builder
	buf.Grow(size)
	for _, it := range items {
		writeAction(&buf, it)
		buf.Write(it.Body)
		buf.WriteByte('\n')
	}
	resp, err := s.client.PerformRequest(ctx, elastic.PerformRequestOptions{
		Method:      http.MethodPost,
		Path:        "/_bulk",
		Params:      url.Values{"filter_path": {bulkFilter}},
		Body:        buf.String(),
		ContentType: "application/x-ndjson",
	})
	if err != nil {
		return nil, classifyRequest(err)
	}
	out, err := readBulkResponse(resp.Body, len(items))
	if err != nil {
		return nil, &RequestError{Err: fmt.Errorf("bulk response (status %d): %w", resp.StatusCode, err)}
	}
	return out, nil
}

// bulkFilter keeps, of the answer to a bulk request, what the worker reads:
// each item's status and error. The whole answer (index, id, version,
// shards, sequence numbers of every item) is several times longer, and
// reading it cost as much CPU as decoding a record of a flow log.
// Elasticsearch and OpenSearch both honour filter_path; an answer sent
// whole reads the same.
const bulkFilter = "items.*.status,items.*.error.type,items.*.error.reason"

// readBulkResponse reads the result of each of the n items of a bulk
// request from its answer.
func readBulkResponse(body []byte, n int) ([]Result, error) {
	s := jsonscan.New(body)
	if !s.Object() {
		return nil, errors.New("not a JSON object")
	}
	out := make([]Result, 0, n)
	found := false
	for s.Member() {
		if string(s.Name()) != "items" {
			continue
		}
		if found || !s.Array() {
			return nil, errors.New("items is not one array")
		}
		found = true
		for s.Element() {
			it, ok := readItem(&s)
			if !ok {
				out = append(out, classifyItem(nil))
				continue
			}
			out = append(out, classifyItem(&it))
		}
	}
	switch err := s.End(); {
	case err != nil:
		return nil, fmt.Errorf("not JSON: %w", err)
	case !found:
		return nil, errors.New("no items")
	case len(out) != n:
		return nil, fmt.Errorf("%d results for %d items", len(out), n)
	}
	return out, nil
}

// readItem reads one element of a bulk answer's items at the cursor of s:
// {"<action>":{"status":N,"error":{"type":T,"reason":R}}}, anything else
// ignored. It reports false when there is no action object.
func readItem(s *jsonscan.Scanner) (it bulkItem, ok bool) {
	if !s.Object() {
		return it, false
	}
	for s.Member() {
		// The action's name: index, create, update or delete. An item
		// has one.
		if ok || !s.Object() {
			continue
		}
		ok = true
		for s.Member() {
			switch string(s.Name()) {
			case "status":
				it.Status, _ = strconv.Atoi(string(s.Value()))
			case "error":
				it.Error = readError(s)
			}
		}
	}
	return it, ok
}

// readError reads an item's error at the cursor of s: an object with a
// type and a reason, or (from something else than a cluster) any value,
// kept as the reason.
func readError(s *jsonscan.Scanner) *itemError {
	e := &itemError{}
	if !s.Object() {
		v := s.Value()
		if len(v) > 0 && v[0] == '"' {
			e.Reason = jsonscan.String(v)
		} else {
			e.Reason = string(v)
		}
		return e
	}
	for s.Member() {
		v := s.Value()
		if len(v) == 0 || v[0] != '"' {
			continue
		}
		switch string(s.Name()) {
		case "type":
			e.Type = jsonscan.String(v)
		case "reason":
			e.Reason = jsonscan.String(v)
		}
	}
	return e
}

// actionOverhead bounds the bytes of an action line besides the index name
// and the id (escapes aside), plus the document's newline.
const actionOverhead = 96

// writeAction writes the action line of one document: an index action at
// its external version, or, for a document without versions, a create
// action: the first copy written stays, and a replay of the same record
// (the same _id) is answered as a conflict, counted as a duplicate.
func writeAction(buf *strings.Builder, it Item) {
	if it.Version > 0 {
		buf.WriteString(`{"index":{"_index":`)
	} else {
		buf.WriteString(`{"create":{"_index":`)
	}
	writeJSONString(buf, it.Index)
	buf.WriteString(`,"_id":`)
	writeJSONString(buf, it.ID)
	if it.Version > 0 {
		buf.WriteString(`,"version":`)
		buf.WriteString(strconv.FormatInt(it.Version, 10))
		buf.WriteString(`,"version_type":"external_gte"`)
	}
	buf.WriteString("}}\n")
}

// writeJSONString writes s as a JSON string; index names and ids are almost
// always plain ASCII, which takes the fast path.
func writeJSONString(buf *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			b, _ := json.Marshal(s) // a string always encodes
			buf.Write(b)
			return
		}
	}
	buf.WriteByte('"')
	buf.WriteString(s)
	buf.WriteByte('"')
}

// bulkItem is the answer for one item: its status and its error, if any.
type bulkItem struct {
	Status int
	Error  *itemError
}

type itemError struct {
	Type, Reason string
}

func classifyItem(r *bulkItem) Result {
	if r == nil {
		return Result{Outcome: Retry, Reason: "no result for item"}
	}
	res := Result{Status: r.Status}
	if r.Error != nil {
		res.Reason = r.Error.Type + ": " + r.Error.Reason
		res.ErrorType = r.Error.Type
	}
	switch {
	case r.Status >= 200 && r.Status < 300 && r.Error == nil:
		res.Outcome = Written
	case r.Status == http.StatusConflict && r.Error != nil && r.Error.Type == "version_conflict_engine_exception":
		res.Outcome = Stale
	case clusterStatus(r.Status):
		res.Outcome = Retry
	default:
		res.Outcome = Rejected
	}
	return res
}

// clusterStatus reports an item status that is the cluster's problem, not
// the document's: throttled (429), failing (5xx, or no status), refusing
// the worker's credentials (401, 403: a rotated password, a role mapping
// being edited, a read-only index), an index that cannot be created (404)
// or a timeout (408). Sending the item again once the cluster recovers
// will succeed.
func clusterStatus(status int) bool {
	switch status {
	case 0, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusRequestTimeout, http.StatusTooManyRequests:
		return true
	}
	return status >= 500
}

func classifyRequest(err error) error {
	var ee *elastic.Error
	if errors.As(err, &ee) {
		return &RequestError{Status: ee.Status, Err: err}
	}
	return &RequestError{Err: err}
}

// PutComponentTemplate installs or replaces a component template. It is
// idempotent.
func (s *Sink) PutComponentTemplate(ctx context.Context, name, body string) error {
	_, err := s.client.IndexPutComponentTemplate(name).BodyString(body).Do(ctx)
	if err != nil {
		return fmt.Errorf("component template %q: %w", name, err)
	}
	return nil
}

// Cluster is what the cluster says of itself.
type Cluster struct {
	// Distribution is "opensearch" or "elasticsearch".
	Distribution string
	// Version is its version number, e.g. "2.19.1".
	Version string
	// Flavor is Elasticsearch's build flavor ("default" or "oss").
	Flavor string
}

// Cluster asks the cluster what it is (GET /).
func (s *Sink) Cluster(ctx context.Context) (Cluster, error) {
	resp, err := s.client.PerformRequest(ctx, elastic.PerformRequestOptions{Method: http.MethodGet, Path: "/"})
	if err != nil {
		return Cluster{}, fmt.Errorf("cluster information: %w", err)
	}
	var info struct {
		Version struct {
			Distribution string `json:"distribution"`
			Number       string `json:"number"`
			BuildFlavor  string `json:"build_flavor"`
		} `json:"version"`
	}
	if err := json.Unmarshal(resp.Body, &info); err != nil {
		return Cluster{}, fmt.Errorf("cluster information: %w", err)
	}
	c := Cluster{Distribution: info.Version.Distribution, Version: info.Version.Number, Flavor: info.Version.BuildFlavor}
	if c.Distribution == "" {
		c.Distribution = "elasticsearch"
	}
	return c, nil
}

// PutIndexTemplate installs or replaces a composable index template. It is
// idempotent.
func (s *Sink) PutIndexTemplate(ctx context.Context, name, body string) error {
	_, err := s.client.IndexPutIndexTemplate(name).BodyString(body).Do(ctx)
	if err != nil {
		return fmt.Errorf("index template %q: %w", name, err)
	}
	return nil
}

// DeleteDocument removes one document; a document already gone is not an
// error.
func (s *Sink) DeleteDocument(ctx context.Context, index, id string) error {
	_, err := s.client.Delete().Index(index).Id(id).Do(ctx)
	if err != nil && !elastic.IsNotFound(err) {
		return fmt.Errorf("delete %s/_doc/%s: %w", index, id, err)
	}
	return nil
}

// Status is the cluster's HTTP status in an error of this package, 0 when
// no answer came.
func Status(err error) int {
	var re *RequestError
	if errors.As(err, &re) {
		return re.Status
	}
	var ae *AnswerError
	if errors.As(err, &ae) {
		return ae.Status
	}
	var ee *elastic.Error
	if errors.As(err, &ee) {
		return ee.Status
	}
	return 0
}

// Do sends one JSON request to the cluster and returns the answer's body;
// an answer of 300 or more is a *RequestError holding the status and the
// start of the answer (the cluster's own reason, which names a missing API
// as "no handler found").
func (s *Sink) Do(ctx context.Context, method, path string, params url.Values, body any) ([]byte, error) {
	resp, err := s.client.PerformRequest(ctx, elastic.PerformRequestOptions{Method: method, Path: path, Params: params, Body: body, IgnoreErrors: errorStatuses})
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		msg := string(resp.Body)
		if len(msg) > 500 {
			msg = msg[:500] + "…"
		}
		return resp.Body, &AnswerError{Status: resp.StatusCode, Msg: fmt.Sprintf("%s %s: %d: %s", method, path, resp.StatusCode, msg)}
	}
	return resp.Body, nil
}

// AnswerError is an answer of the cluster that is not a success.
type AnswerError struct {
	Status int
	Msg    string
}

func (e *AnswerError) Error() string { return e.Msg }

// errorStatuses are every status of an answer Do reads itself.
var errorStatuses = func() []int {
	var s []int
	for c := 300; c < 600; c++ {
		s = append(s, c)
	}
	return s
}()
