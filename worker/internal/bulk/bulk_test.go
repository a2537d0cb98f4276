package bulk

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/internal/sink"
)

// fakeWriter answers each item with answer(call, item); it records every
// request's ids.
type fakeWriter struct {
	mu     sync.Mutex
	calls  [][]string
	answer func(call int, it sink.Item) sink.Outcome
	err    func(call int) error // a failure of the whole request
}

func (w *fakeWriter) Bulk(_ context.Context, items []sink.Item) ([]sink.Result, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	call := len(w.calls)
	var ids []string
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	w.calls = append(w.calls, ids)
	if w.err != nil {
		if err := w.err(call); err != nil {
			return nil, err
		}
	}
	res := make([]sink.Result, len(items))
	for i, it := range items {
		o := sink.Written
		if w.answer != nil {
			o = w.answer(call, it)
		}
		res[i] = sink.Result{Outcome: o, Status: map[sink.Outcome]int{sink.Written: 201, sink.Stale: 409, sink.Retry: 429, sink.Rejected: 400}[o], Reason: o.String()}
	}
	return res, nil
}

// owner records what became of its entries.
type owner struct {
	mu       sync.Mutex
	outcomes map[string]string // id → outcome or error
	replaced []string
	done     chan struct{}
	want     int
}

func newOwner(want int) *owner {
	return &owner{outcomes: map[string]string{}, done: make(chan struct{}), want: want}
}

func (o *owner) Replace(e *Entry, r sink.Result) (Entry, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.replaced = append(o.replaced, e.ID)
	return Entry{Item: sink.Item{Index: "dead", ID: "dead-" + e.ID, Body: []byte(`{}`)}, Owner: o, Line: e.Line}, true
}

func (o *owner) Done(e *Entry, r sink.Result, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, dup := o.outcomes[e.ID]; dup {
		panic("outcome told twice for " + e.ID)
	}
	switch {
	case err != nil:
		o.outcomes[e.ID] = "error: " + err.Error()
	case e.Replacement:
		o.outcomes[e.ID] = "replacement " + r.Outcome.String()
	default:
		o.outcomes[e.ID] = r.Outcome.String()
	}
	if len(o.outcomes) == o.want {
		close(o.done)
	}
}

// pressure counts the signals of the batcher.
type pressure struct {
	mu                                   sync.Mutex
	throttled, accepted, paused, resumed int
}

func (p *pressure) Throttled() { p.mu.Lock(); p.throttled++; p.mu.Unlock() }
func (p *pressure) Accepted()  { p.mu.Lock(); p.accepted++; p.mu.Unlock() }
func (p *pressure) Pause()     { p.mu.Lock(); p.paused++; p.mu.Unlock() }
func (p *pressure) Resume()    { p.mu.Lock(); p.resumed++; p.mu.Unlock() }

func testOptions() Options {
	o := DefaultOptions()
	o.RetryBase, o.RetryMax = time.Millisecond, 5*time.Millisecond
	o.FlushInterval = 5 * time.Millisecond
	return o
}

// run submits n entries per owner, waits for every outcome and stops the
// batcher.
func run(t *testing.T, w Writer, o Options, owners ...*owner) {
	t.Helper()
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	b := New(w, o)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var running sync.WaitGroup
	running.Go(func() { b.Run(ctx) })
	for i, ow := range owners {
		for j := range ow.want {
			e := Entry{Item: sink.Item{Index: "i", ID: fmt.Sprintf("o%d-%d", i, j), Body: []byte(`{}`)}, Owner: ow, Line: j + 1}
			if err := b.SubmitAll(ctx, []Entry{e}); err != nil {
				t.Fatal(err)
			}
		}
		b.Ended()
	}
	for _, ow := range owners {
		select {
		case <-ow.done:
		case <-ctx.Done():
			t.Fatalf("outcomes missing: %v", ow.outcomes)
		}
	}
	b.Close()
	running.Wait()
}

func TestOwnersShareRequestsAndOnlyFailedItemsAreRetried(t *testing.T) {
	w := &fakeWriter{answer: func(call int, it sink.Item) sink.Outcome {
		switch {
		case call < 2 && it.ID == "o1-2":
			return sink.Retry
		case it.ID == "o0-1":
			return sink.Stale
		}
		return sink.Written
	}}
	p := &pressure{}
	o := testOptions()
	o.Pressure = p
	a, b := newOwner(3), newOwner(3)
	run(t, w, o, a, b)
	if fmt.Sprint(a.outcomes) != "map[o0-0:written o0-1:stale o0-2:written]" || fmt.Sprint(b.outcomes) != "map[o1-0:written o1-1:written o1-2:written]" {
		t.Errorf("outcomes %v %v", a.outcomes, b.outcomes)
	}
	if len(w.calls) != 3 || len(w.calls[0]) != 6 || fmt.Sprint(w.calls[1:]) != "[[o1-2] [o1-2]]" {
		t.Errorf("requests %v: want one of both owners' entries, then the throttled item alone twice", w.calls)
	}
	if p.paused != 1 || p.resumed != 1 || p.throttled < 2 || p.accepted < 1 {
		t.Errorf("pressure: %d throttled, %d accepted, %d paused, %d resumed: want one pause while retrying, ended by one resume", p.throttled, p.accepted, p.paused, p.resumed)
	}
}

func TestRefusedEntryIsReplaced(t *testing.T) {
	w := &fakeWriter{answer: func(_ int, it sink.Item) sink.Outcome {
		if it.ID == "o0-0" {
			return sink.Rejected
		}
		return sink.Written
	}}
	a := newOwner(2)
	run(t, w, testOptions(), a)
	if fmt.Sprint(a.replaced) != "[o0-0]" || a.outcomes["dead-o0-0"] != "replacement written" || a.outcomes["o0-1"] != "written" {
		t.Errorf("replaced %v, outcomes %v", a.replaced, a.outcomes)
	}
	if _, told := a.outcomes["o0-0"]; told {
		t.Errorf("the refused entry got an outcome of its own besides its replacement: %v", a.outcomes)
	}
}

// TestClusterRefusalIsWaitedOut: however the cluster refuses a request
// (a rotated password, throttling, an outage), the documents wait, with
// intake paused, and are written once it takes them.
func TestClusterRefusalIsWaitedOut(t *testing.T) {
	for _, refusal := range []error{
		&sink.RequestError{Status: 401, Err: errors.New("unauthorized")},
		&sink.RequestError{Status: 403, Err: errors.New("security_exception")},
		&sink.RequestError{Status: 404, Err: errors.New("no handler")},
		&sink.RequestError{Status: 408, Err: errors.New("timeout")},
		&sink.RequestError{Status: 429, Err: errors.New("es_rejected_execution_exception")},
		&sink.RequestError{Status: 502, Err: errors.New("bad gateway")},
		&sink.RequestError{Err: errors.New("dial tcp: connection refused")},
	} {
		t.Run(refusal.Error(), func(t *testing.T) {
			// 30 refusals: well past any former limit of attempts.
			w := &fakeWriter{err: func(call int) error {
				if call < 30 {
					return refusal
				}
				return nil
			}}
			p := &pressure{}
			o := testOptions()
			o.RetryMax = time.Millisecond
			o.Pressure = p
			a := newOwner(2)
			run(t, w, o, a)
			if fmt.Sprint(a.outcomes) != "map[o0-0:written o0-1:written]" || len(w.calls) != 31 {
				t.Errorf("%d requests, outcomes %v", len(w.calls), a.outcomes)
			}
			if p.paused != 1 || p.resumed != 1 {
				t.Errorf("paused %d, resumed %d: intake must pause while the cluster refuses", p.paused, p.resumed)
			}
		})
	}
}

// TestItemsTheClusterDoesNotTakeYet: items refused for reasons of the
// cluster (credentials, a missing index, throttling) are sent again until
// taken, never dead-lettered.
func TestItemsTheClusterDoesNotTakeYet(t *testing.T) {
	w := &fakeWriter{answer: func(call int, it sink.Item) sink.Outcome {
		if call < 20 && it.ID == "o0-1" {
			return sink.Retry
		}
		return sink.Written
	}}
	a := newOwner(2)
	o := testOptions()
	o.RetryMax = time.Millisecond
	run(t, w, o, a)
	if fmt.Sprint(a.outcomes) != "map[o0-0:written o0-1:written]" || len(a.replaced) != 0 {
		t.Errorf("outcomes %v, replaced %v", a.outcomes, a.replaced)
	}
}

// TestRefusedReplacementIsSentAgain: the dead-letter index refusing a
// replacement is a problem of its settings: the replacement waits.
func TestRefusedReplacementIsSentAgain(t *testing.T) {
	w := &fakeWriter{answer: func(call int, it sink.Item) sink.Outcome {
		switch {
		case it.ID == "o0-0":
			return sink.Rejected
		case it.Index == "dead" && call < 6:
			return sink.Rejected
		}
		return sink.Written
	}}
	a := newOwner(2)
	o := testOptions()
	o.RetryMax = time.Millisecond
	run(t, w, o, a)
	if a.outcomes["dead-o0-0"] != "replacement written" || len(w.calls) < 6 {
		t.Errorf("%d requests, outcomes %v", len(w.calls), a.outcomes)
	}
}

// sizeLimited refuses requests of more than limit bytes of documents with
// 413, like a cluster's http.max_content_length.
type sizeLimited struct {
	fakeWriter
	limit int
	sizes []int
}

func (w *sizeLimited) Bulk(ctx context.Context, items []sink.Item) ([]sink.Result, error) {
	n := 0
	for _, it := range items {
		n += len(it.Body)
	}
	w.mu.Lock()
	w.sizes = append(w.sizes, n)
	w.mu.Unlock()
	if n > w.limit {
		return nil, &sink.RequestError{Status: 413, Err: errors.New("Request Entity Too Large")}
	}
	return w.fakeWriter.Bulk(ctx, items)
}

// TestRequestsFitTheCluster: a request refused as too large is split in
// halves until its parts fit; a document that alone is too large is
// replaced (dead-lettered) with the reason; later requests are made small
// enough from the start.
func TestRequestsFitTheCluster(t *testing.T) {
	w := &sizeLimited{limit: 40 << 10}
	o := testOptions()
	o.MaxBytes = 1 << 20
	o.FlushInterval = time.Hour // requests are sent when full, or at the end
	b := New(w, o)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var running sync.WaitGroup
	running.Go(func() { b.Run(ctx) })
	a := newOwner(101)
	doc := []byte(`{"x":"` + strings.Repeat("a", 1000) + `"}`)
	for i := range 100 {
		if err := b.SubmitAll(ctx, []Entry{{Item: sink.Item{Index: "i", ID: fmt.Sprintf("d%d", i), Body: doc}, Owner: a, Line: i + 1}}); err != nil {
			t.Fatal(err)
		}
	}
	huge := Entry{Item: sink.Item{Index: "i", ID: "huge", Body: []byte(`{"x":"` + strings.Repeat("b", 50<<10) + `"}`)}, Owner: a, Line: 101}
	if err := b.SubmitAll(ctx, []Entry{huge}); err != nil {
		t.Fatal(err)
	}
	// Sent when full or at the end: wait for the first round's outcomes.
	b.Ended()
	deadline := time.Now().Add(5 * time.Second)
	for {
		a.mu.Lock()
		n := len(a.outcomes)
		a.mu.Unlock()
		if n == 101 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	firstRound := len(w.sizes)
	// A second round: the size that fits is known, no request is refused.
	a2 := newOwner(100)
	for i := range 100 {
		if err := b.SubmitAll(ctx, []Entry{{Item: sink.Item{Index: "i", ID: fmt.Sprintf("e%d", i), Body: doc}, Owner: a2, Line: i + 1}}); err != nil {
			t.Fatal(err)
		}
	}
	b.Close()
	running.Wait()
	for _, ow := range []*owner{a, a2} {
		select {
		case <-ow.done:
		default:
			t.Fatalf("outcomes missing: %d of %d", len(ow.outcomes), ow.want)
		}
	}
	written := 0
	for id, out := range a.outcomes {
		if out == "written" && id != "huge" {
			written++
		}
	}
	if written != 100 || fmt.Sprint(a.replaced) != "[huge]" || a.outcomes["dead-huge"] != "replacement written" {
		t.Errorf("%d written, replaced %v, outcome of the huge one: %q", written, a.replaced, a.outcomes["dead-huge"])
	}
	if got := b.maxBytes.Load(); got > 40<<10 {
		t.Errorf("max bytes %d after the refusals: later requests would be refused again", got)
	}
	refused := 0
	for i, n := range w.sizes {
		if n > w.limit {
			if i >= firstRound {
				t.Errorf("a request of the second round was refused: sizes %v", w.sizes[firstRound:])
			}
			refused++
		}
	}
	if refused == 0 {
		t.Error("no request was refused: the test did not exercise the limit")
	}
}

// TestBadRequestFindsTheDocument: a request refused for its content (400)
// is split until the document at fault is alone, and only it is replaced.
func TestBadRequestFindsTheDocument(t *testing.T) {
	w := &fakeWriter{}
	w.err = func(int) error { return nil }
	bad := &badDoc{fakeWriter: w, bad: "o0-5"}
	a := newOwner(8)
	run(t, bad, testOptions(), a)
	if fmt.Sprint(a.replaced) != "[o0-5]" || a.outcomes["dead-o0-5"] != "replacement written" {
		t.Errorf("replaced %v, outcomes %v", a.replaced, a.outcomes)
	}
	for id, out := range a.outcomes {
		if id != "o0-5" && id != "dead-o0-5" && out != "written" {
			t.Errorf("%s: %s", id, out)
		}
	}
}

// badDoc refuses with 400 any request holding the document bad.
type badDoc struct {
	*fakeWriter
	bad string
}

func (w *badDoc) Bulk(ctx context.Context, items []sink.Item) ([]sink.Result, error) {
	for _, it := range items {
		if it.ID == w.bad {
			return nil, &sink.RequestError{Status: 400, Err: errors.New("x_content_parse_exception")}
		}
	}
	return w.fakeWriter.Bulk(ctx, items)
}

// TestStalledRequestsHaveADeadline: a cluster that sends its headers and
// then nothing, or stops reading the request, cannot hold a sender: each
// request ends after RequestTimeout and is sent again, until one is
// answered.
func TestStalledRequestsHaveADeadline(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1: // stops reading the request
			<-release
			return
		case 2, 3: // answers its headers, then nothing
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			<-release
			return
		}
		body, _ := io.ReadAll(r.Body)
		n := strings.Count(string(body), "\n") / 2
		items := strings.TrimSuffix(strings.Repeat(`{"index":{"status":201}},`, n), ",")
		fmt.Fprintf(w, `{"errors":false,"items":[%s]}`, items)
	}))
	defer srv.Close()
	defer close(release) // before the server closes: it waits for its handlers
	s, err := sink.New(sink.Options{URLs: []string{srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	o := testOptions()
	o.RequestTimeout = 200 * time.Millisecond
	o.RetryMax = time.Millisecond
	a := newOwner(3)
	start := time.Now()
	run(t, s, o, a)
	if fmt.Sprint(a.outcomes) != "map[o0-0:written o0-1:written o0-2:written]" || calls.Load() != 4 {
		t.Errorf("%d requests, outcomes %v", calls.Load(), a.outcomes)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("three stalled requests took %s", took)
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// TestSubmitAllFillsRequestsInOrder: entries handed over at once land in
// requests bounded by MaxDocs, in order, each with its outcome, whether a
// hand-over fills part of a request, exactly one, or several.
func TestSubmitAllFillsRequestsInOrder(t *testing.T) {
	w := &fakeWriter{}
	o := testOptions()
	o.MaxDocs = 4
	o.FlushInterval = time.Hour // only full requests, and the last one at Close
	b := New(w, o)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var running sync.WaitGroup
	running.Go(func() { b.Run(ctx) })
	ow := newOwner(3 + 4 + 6)
	n := 0
	for _, size := range []int{3, 4, 6} {
		var es []Entry
		for range size {
			es = append(es, Entry{Item: sink.Item{Index: "i", ID: fmt.Sprint(n), Body: []byte(`{}`)}, Owner: ow, Line: n + 1})
			n++
		}
		if err := b.SubmitAll(ctx, es); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.SubmitAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
	b.Close()
	running.Wait()
	select {
	case <-ow.done:
	default:
		t.Fatalf("outcomes missing: %v", ow.outcomes)
	}
	// Requests go out on concurrent senders: their order is the senders'.
	calls := slices.Clone(w.calls)
	slices.SortFunc(calls, func(a, b []string) int { return cmp.Compare(atoi(a[0]), atoi(b[0])) })
	if got, want := fmt.Sprint(calls), "[[0 1 2 3] [4 5 6 7] [8 9 10 11] [12]]"; got != want {
		t.Errorf("requests %s, want %s", got, want)
	}
	for id, out := range ow.outcomes {
		if out != "written" {
			t.Errorf("%s: %s", id, out)
		}
	}

	// A hand-over refused because ctx is done: nothing of it is taken.
	b2 := New(w, o)
	done, stop := context.WithCancel(context.Background())
	stop()
	if err := b2.SubmitAll(done, []Entry{{Item: sink.Item{ID: "x"}, Owner: ow}}); !errors.Is(err, context.Canceled) {
		t.Errorf("SubmitAll with ctx done: %v, want context.Canceled", err)
	}
}
