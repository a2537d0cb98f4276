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
		return nil, &sink.RequestError{Err: fmt.Errorf("connection refused")}
	}
}

// TestOutagePausesIntake: while the cluster is down no new message is taken;
// once it is back, everything is written and deleted.
func TestOutagePausesIntake(t *testing.T) {
	q := &fakeQueue{pending: []queue.Message{{ID: "first", Body: note("k")}}}
	src := fakeSource{"k": gzLines(finding("1", 1))}
	snk := &downSink{up: make(chan struct{})}
	p := newTestPipeline(t, q, src, snk, func(o *Options) {
		o.Concurrency = 4
		o.Bulk.RetryBase, o.Bulk.RetryMax = 50*time.Millisecond, 100*time.Millisecond
		o.ExitWhenIdle = 300 * time.Millisecond
	})

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
