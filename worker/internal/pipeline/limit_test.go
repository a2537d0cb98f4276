package pipeline

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/internal/queue"
	"github.com/logtide/logtide/worker/internal/sink"
)

// downSink is unreachable until up is closed.
type downSink struct {
	fakeSink
	up       chan struct{}
	mu       sync.Mutex
	failures int
}

func (s *downSink) Bulk(ctx context.Context, items []sink.Item) ([]sink.Result, error) {
	select {
	case <-s.up:
		return s.fakeSink.Bulk(ctx, items)
	default:
		s.mu.Lock()
		s.failures++
		s.mu.Unlock()
		return nil, &sink.RequestError{Retryable: true, Err: fmt.Errorf("connection refused")}
	}
}

// TestOutagePausesIntake: while the cluster is down no new message is taken;
// once it is back, everything is written and deleted.
func TestOutagePausesIntake(t *testing.T) {
	q := &fakeQueue{pending: []queue.Message{{ID: "first", Body: note("k")}}}
	src := fakeSource{"k": gzLines(finding("1", 1))}
	snk := &downSink{up: make(chan struct{})}
	p := newTestPipeline(t, q, src, snk, Options{Concurrency: 4})
	p.o.RetryBase, p.o.RetryMax = 50*time.Millisecond, 100*time.Millisecond
	p.o.BulkAttempts = 100
	p.o.ExitWhenIdle = 300 * time.Millisecond

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	time.Sleep(200 * time.Millisecond) // the first message is failing now
	q.mu.Lock()
	q.pending = append(q.pending, queue.Message{ID: "second", Body: note("k")})
	q.mu.Unlock()
	time.Sleep(500 * time.Millisecond)
	q.mu.Lock()
	waiting := len(q.pending)
	q.mu.Unlock()
	if waiting != 1 {
		t.Errorf("a message was taken while the cluster was down")
	}
	close(snk.up)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(slices.Sorted(slices.Values(q.deleted))) != "[first second]" || len(q.visibility) != 0 {
		t.Errorf("deleted %v, visibility %v", q.deleted, q.visibility)
	}
	if snk.failures < 3 {
		t.Errorf("only %d failed attempts: the outage was not exercised", snk.failures)
	}
}

func TestLimiterAIMD(t *testing.T) {
	var seen []int
	l := newLimiter(2, 16, func(n int) { seen = append(seen, n) })
	l.throttled()
	l.throttled() // within the same second: counted once
	if l.limit != 8 {
		t.Fatalf("limit %v after one burst, want 8", l.limit)
	}
	for range 3 {
		l.lastCut = time.Time{}
		l.throttled()
	}
	if l.limit != 2 {
		t.Fatalf("limit %v, want the floor 2", l.limit)
	}
	for range 200 {
		l.succeeded()
	}
	if l.limit != 16 {
		t.Fatalf("limit %v after recovery, want 16", l.limit)
	}
	if fmt.Sprint(seen[:5]) != "[16 8 4 2 3]" || seen[len(seen)-1] != 16 {
		t.Errorf("published limits %v", seen)
	}

	// acquire admits up to the limit and waits for a release.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if n := l.acquire(ctx, 1, 10); n != 10 {
		t.Fatalf("acquired %d", n)
	}
	if n := l.acquire(ctx, 1, 10); n != 6 {
		t.Fatalf("acquired %d, want the remaining 6", n)
	}
	got := make(chan int)
	go func() { got <- l.acquire(ctx, 1, 1) }()
	select {
	case n := <-got:
		t.Fatalf("acquired %d beyond the limit", n)
	case <-time.After(50 * time.Millisecond):
	}
	l.release(1)
	if n := <-got; n != 1 {
		t.Fatalf("acquired %d after a release", n)
	}

	// While a batch is failing nothing is admitted, even with free slots.
	l.release(16)
	l.enter()
	go func() { got <- l.acquire(ctx, 1, 1) }()
	select {
	case n := <-got:
		t.Fatalf("acquired %d while failing", n)
	case <-time.After(50 * time.Millisecond):
	}
	l.leave()
	if n := <-got; n != 1 {
		t.Fatalf("acquired %d after recovery", n)
	}
}
