package bulk

import (
	"context"
	"fmt"
	"strings"
	"sync"
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
			if err := b.Submit(ctx, e); err != nil {
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

func TestGivesUpAfterAttempts(t *testing.T) {
	w := &fakeWriter{err: func(int) error { return &sink.RequestError{Retryable: true, Err: fmt.Errorf("connection refused")} }}
	o := testOptions()
	o.Attempts = 3
	a := newOwner(1)
	run(t, w, o, a)
	if len(w.calls) != 3 || !strings.HasPrefix(a.outcomes["o0-0"], "error: 3 attempts") {
		t.Errorf("%d requests, outcomes %v", len(w.calls), a.outcomes)
	}
}
