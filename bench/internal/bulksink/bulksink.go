// Package bulksink is a minimal stand-in for a search cluster's bulk API: it
// reads each bulk request just far enough to answer every item with success,
// so a benchmark measures the worker and not the cluster. It can also answer
// 429 for a share of items or whole requests, to see the worker back off.
package bulksink

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Sink is the HTTP server.
type Sink struct {
	URL string
	srv *http.Server

	start time.Time
	mu    sync.Mutex
	log   []Event // one per bulk request, in arrival order

	// throttling: answer 429 for every itemEvery-th item and every
	// reqEvery-th request while on.
	throttle  atomic.Bool
	itemEvery int64
	reqEvery  int64
	itemSeq   atomic.Int64
	reqSeq    atomic.Int64

	OK, Throttled, Requests, ThrottledRequests atomic.Int64
	// BodyBytes adds up the bulk request bodies' sizes as sent (their
	// Content-Length).
	BodyBytes atomic.Int64

	// The first bulk requests, kept whole up to keepLimit bytes of body
	// (see Keep).
	keepLimit, keptBytes int64
	kept                 []Request
}

// Request is a bulk request as the sink received it.
type Request struct {
	// URI is its path and query.
	URI  string
	Body []byte
}

// Event is one answered bulk request.
type Event struct {
	At        time.Duration // since the sink started
	OK        int           // items answered 201
	Throttled int           // items answered 429 (all of them for a throttled request)
}

// Start serves on a free port of 127.0.0.1.
func Start() (*Sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Sink{URL: "http://" + ln.Addr().String(), start: time.Now()}
	mux := http.NewServeMux()
	mux.HandleFunc("/_bulk", s.bulk)
	mux.HandleFunc("/", s.other)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	// Every goroutine of the server carries the profile label part=sink.
	go pprof.Do(context.Background(), pprof.Labels("part", "sink"), func(context.Context) { _ = s.srv.Serve(ln) })
	return s, nil
}

// Close stops the server.
func (s *Sink) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}

// Since is the sink's clock.
func (s *Sink) Since() time.Duration { return time.Since(s.start) }

// Throttle starts answering 429 for one item in itemEvery (0: none) and for
// one whole request in reqEvery (0: none).
func (s *Sink) Throttle(itemEvery, reqEvery int) {
	s.itemEvery, s.reqEvery = int64(itemEvery), int64(reqEvery)
	s.throttle.Store(true)
}

// Recover stops throttling.
func (s *Sink) Recover() { s.throttle.Store(false) }

// Reset clears the counters and the log between runs.
func (s *Sink) Reset() {
	s.Recover()
	s.mu.Lock()
	s.log = nil
	s.kept, s.keptBytes = nil, 0
	s.mu.Unlock()
	s.OK.Store(0)
	s.Throttled.Store(0)
	s.Requests.Store(0)
	s.ThrottledRequests.Store(0)
	s.BodyBytes.Store(0)
}

// Keep makes the sink keep the bulk requests it receives whole, in
// arrival order, until their bodies add up to limit bytes (0: none), from
// now until Reset. They are for replaying what a worker sent.
func (s *Sink) Keep(limit int64) {
	s.mu.Lock()
	s.keepLimit = limit
	s.mu.Unlock()
}

// Kept returns the requests kept since the last Reset.
func (s *Sink) Kept() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.kept...)
}

// keepBody reads r's body whole and keeps it with its URI while the kept
// bodies are under the limit; nil otherwise (the body is then unread).
func (s *Sink) keepBody(r *http.Request) []byte {
	s.mu.Lock()
	on := s.keptBytes < s.keepLimit
	s.mu.Unlock()
	if !on {
		return nil
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return data
	}
	s.mu.Lock()
	s.kept = append(s.kept, Request{URI: r.URL.RequestURI(), Body: data})
	s.keptBytes += int64(len(data))
	s.mu.Unlock()
	return data
}

// Events returns a copy of the request log.
func (s *Sink) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.log...)
}

// OKBetween counts items answered with success in [from, to).
func OKBetween(ev []Event, from, to time.Duration) int {
	n := 0
	for _, e := range ev {
		if e.At >= from && e.At < to {
			n += e.OK
		}
	}
	return n
}

func (s *Sink) other(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/_index_template/"):
		_, _ = w.Write([]byte(`{"acknowledged":true}`))
	case r.URL.Path == "/":
		_, _ = w.Write([]byte(`{"name":"bench-sink","cluster_name":"bench","version":{"distribution":"opensearch","number":"2.19.1"},"tagline":"The OpenSearch Project"}`))
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"type":"not_found","reason":"the benchmark sink only answers _bulk"},"status":404}`))
	}
}

type action struct {
	Index string `json:"_index"`
	ID    string `json:"_id"`
}

var (
	bufs    = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 256<<10) }}
)

func (s *Sink) bulk(w http.ResponseWriter, r *http.Request) {
	s.Requests.Add(1)
	s.BodyBytes.Add(max(r.ContentLength, 0))
	var body io.Reader = r.Body
	if data := s.keepBody(r); data != nil {
		body = bytes.NewReader(data)
	}
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	if s.throttle.Load() && s.reqEvery > 0 && s.reqSeq.Add(1)%s.reqEvery == 0 {
		n := 0
		br := bufio.NewReaderSize(body, 64<<10)
		for {
			line, err := br.ReadSlice('\n')
			if len(bytes.TrimSpace(line)) > 0 {
				n++
			}
			if err == bufio.ErrBufferFull {
				for err == bufio.ErrBufferFull {
					_, err = br.ReadSlice('\n')
				}
			}
			if err != nil {
				break
			}
		}
		s.ThrottledRequests.Add(1)
		s.Throttled.Add(int64(n / 2))
		s.record(0, n/2)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"error":{"root_cause":[{"type":"es_rejected_execution_exception","reason":"rejected execution of bulk (benchmark throttle)"}],"type":"es_rejected_execution_exception","reason":"rejected execution of bulk (benchmark throttle)"},"status":429}`))
		return
	}

	// A filter_path naming the items' status (as the worker's does) gets
	// what Elasticsearch and OpenSearch answer to it: each item's status
	// and error, nothing else.
	short := strings.Contains(r.URL.Query().Get("filter_path"), "items.*.status")
	out := bufs.Get().(*bytes.Buffer)
	defer bufs.Put(out)
	out.Reset()
	if short {
		out.WriteString(`{"items":[`)
	} else {
		out.WriteString(`{"took":0,"errors":false,"items":[`)
	}
	br := readers.Get().(*bufio.Reader)
	br.Reset(body)
	defer func() { br.Reset(nil); readers.Put(br) }()
	ok, throttled, first := 0, 0, true
	expectAction := true
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A document longer than the buffer: only action lines are
			// read, so skip the rest of it.
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			if !expectAction {
				expectAction = true
				if err != nil {
					break
				}
				continue
			}
		}
		if len(bytes.TrimSpace(line)) > 0 {
			if expectAction {
				var a map[string]action
				if jerr := json.Unmarshal(line, &a); jerr != nil {
					http.Error(w, "bad action line: "+jerr.Error(), http.StatusBadRequest)
					return
				}
				for op, meta := range a {
					if !first {
						out.WriteByte(',')
					}
					first = false
					th := s.throttle.Load() && s.itemEvery > 0 && s.itemSeq.Add(1)%s.itemEvery == 0
					out.WriteString(`{"` + op + `":{`)
					if !short {
						out.WriteString(`"_index":`)
						writeJSONString(out, meta.Index)
						out.WriteString(`,"_id":`)
						writeJSONString(out, meta.ID)
						out.WriteByte(',')
					}
					switch {
					case th:
						throttled++
						out.WriteString(`"status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution of bulk item (benchmark throttle)"}}}`)
					case short:
						ok++
						out.WriteString(`"status":201}}`)
					default:
						ok++
						out.WriteString(`"_version":1,"result":"created","_shards":{"total":1,"successful":1,"failed":0},"_seq_no":0,"_primary_term":1,"status":201}}`)
					}
					// index, create and update carry a document; delete does not.
					expectAction = op == "delete"
				}
			} else {
				expectAction = true
			}
		}
		if err != nil {
			break
		}
	}
	out.WriteString(`]}`)
	b := out.Bytes()
	if throttled > 0 && !short {
		// "errors" tells clients to look at the items.
		b = bytes.Replace(b, []byte(`"errors":false`), []byte(`"errors":true `), 1)
	}
	s.OK.Add(int64(ok))
	s.Throttled.Add(int64(throttled))
	s.record(ok, throttled)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

func (s *Sink) record(ok, throttled int) {
	s.mu.Lock()
	s.log = append(s.log, Event{At: time.Since(s.start), OK: ok, Throttled: throttled})
	s.mu.Unlock()
}

func writeJSONString(b *bytes.Buffer, v string) {
	q, _ := json.Marshal(v)
	b.Write(q)
}
