package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logtide/logtide/worker/internal/deadletter"
	"github.com/logtide/logtide/worker/internal/sink"
)

// entry is one document on its way to the cluster and the object it belongs
// to.
type entry struct {
	item       sink.Item
	line       int
	deadLetter bool // a dead-letter document, not the record itself
	ack        *objectAck
}

func (e entry) size() int { return len(e.item.Body) + len(e.item.ID) + len(e.item.Index) + 64 }

// batcher gathers the documents of every object in work into bulk requests
// bounded by count and bytes, sends a request when it is full or when the
// flush interval has passed since its first document, and keeps up to
// BulkConcurrency requests in flight. Submitting blocks while every sender is
// busy and the next request is full: memory stays bounded by
// (BulkConcurrency + 2) requests whatever the number of objects in flight.
type batcher struct {
	p       *Pipeline
	in      chan entry
	senders *limiter
	// ended is signalled when an object's stream has been read to its end,
	// freed when a sender is done: an object that waits only for the current
	// request gets it sent as soon as a sender is free, instead of after the
	// flush interval, while an object still streaming fills requests to
	// their limits.
	ended chan struct{}
	freed chan struct{}
}

func newBatcher(p *Pipeline) *batcher {
	return &batcher{
		p:       p,
		in:      make(chan entry),
		ended:   make(chan struct{}, 1),
		freed:   make(chan struct{}, 1),
		senders: newLimiter(1, p.o.BulkConcurrency, func(n int) { p.m.BulkConcurrency.Set(float64(n)) }),
	}
}

// gatherWindow is how long a request that a finished object waits for is held
// for other objects finishing at about the same time.
const gatherWindow = 2 * time.Millisecond

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// doneReading tells the batcher that an object has submitted its last
// document.
func (b *batcher) doneReading() { signal(b.ended) }

// submit hands a document to the batcher; its outcome arrives through its ack.
func (b *batcher) submit(ctx context.Context, e entry) error {
	e.ack.submitted()
	select {
	case b.in <- e:
		return nil
	case <-ctx.Done():
		e.ack.failed(ctx.Err())
		return ctx.Err()
	}
}

// run batches until in is closed, then flushes what is left and waits for
// every request in flight. ctx cancels the requests themselves (shutdown
// grace over): their documents fail and their objects are not done.
func (b *batcher) run(ctx context.Context) {
	var senders sync.WaitGroup
	defer senders.Wait()
	o := b.p.o
	var cur []entry
	size := 0
	waiting := false // an object that has ended waits for the current request
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	dispatch := func() {
		batch := cur
		cur, size, waiting = nil, 0, false
		timer.Stop()
		senders.Add(1)
		go func() {
			defer senders.Done()
			defer signal(b.freed)
			defer b.senders.release(1)
			b.flush(ctx, batch)
		}()
	}
	// send waits for a free sender: this is the backpressure that bounds
	// memory.
	send := func() {
		if len(cur) == 0 {
			return
		}
		if b.senders.acquire(ctx, 1, 1) == 0 {
			for _, e := range cur {
				e.ack.failed(ctx.Err())
			}
			cur, size, waiting = nil, 0, false
			return
		}
		dispatch()
	}
	sendIfFree := func() {
		if waiting && len(cur) > 0 && b.senders.tryAcquire() {
			dispatch()
		}
	}
	// An object that has ended waits a moment (gather) for others finishing
	// at about the same time, so that small objects share requests.
	gather := time.NewTimer(time.Hour)
	gather.Stop()
	gathering := false
	for {
		select {
		case e, ok := <-b.in:
			if !ok {
				send()
				return
			}
			if len(cur) == 0 {
				timer.Reset(o.BulkFlushInterval)
			}
			cur = append(cur, e)
			size += e.size()
			if len(cur) >= o.BulkMaxDocs || size >= o.BulkMaxBytes {
				send()
			}
		case <-timer.C:
			send()
		case <-b.ended:
			waiting = true
			if !gathering {
				gathering = true
				gather.Reset(gatherWindow)
			}
		case <-gather.C:
			gathering = false
			sendIfFree()
		case <-b.freed:
			if !gathering {
				sendIfFree()
			}
		}
	}
}

// flush writes one batch. Items that fail with a retryable status are sent
// again, alone, with exponential backoff and jitter; a document the cluster
// rejects is replaced by its dead-letter document. Every entry ends settled
// or failed on its object's ack.
func (b *batcher) flush(ctx context.Context, pending []entry) {
	p := b.p
	failAll := func(err error) {
		for _, e := range pending {
			e.ack.failed(err)
		}
	}
	items := make([]sink.Item, 0, len(pending))
	holding := false
	hold := func() {
		p.intake.throttled()
		b.senders.throttled()
		if !holding {
			holding = true
			p.intake.enter()
		}
	}
	defer func() {
		if holding {
			p.intake.leave()
		}
	}()
	// retryLater holds intake, waits out the back-off of this attempt and
	// reports whether to go on; on shutdown it fails what is pending.
	retryLater := func(attempt int, msg string, attrs ...any) bool {
		hold()
		d := backoff(p.o.RetryBase, p.o.RetryMax, attempt)
		p.log.Warn(msg, append(attrs, "attempt", attempt, "retry_in", d.Round(time.Millisecond))...)
		if !sleep(ctx, d) {
			failAll(ctx.Err())
			return false
		}
		return true
	}
	for attempt := 1; len(pending) > 0; attempt++ {
		items = items[:0]
		for _, e := range pending {
			items = append(items, e.item)
		}
		start := time.Now()
		res, err := p.snk.Bulk(ctx, items)
		p.m.BulkDuration.Observe(time.Since(start).Seconds())
		if err != nil {
			p.m.BulkRequests.WithLabelValues("error").Inc()
			var re *sink.RequestError
			if errors.As(err, &re) && !re.Retryable {
				failAll(permanent("bulk_rejected", err))
				return
			}
			if attempt >= p.o.BulkAttempts || ctx.Err() != nil {
				failAll(retryable("bulk_unavailable", fmt.Errorf("%d attempts: %w", attempt, err)))
				return
			}
			if !retryLater(attempt, "bulk request failed; retrying", "documents", len(items), "err", err) {
				return
			}
			continue
		}
		p.m.BulkRequests.WithLabelValues("ok").Inc()
		if time.Since(start) > p.o.SlowBulk {
			p.intake.throttled()
			b.senders.throttled()
		}
		var again []entry
		var lastReason string
		// Counted here and added once per request: the metrics' label
		// lookups would otherwise run for every document.
		var outcomes [sink.Rejected + 1]int
		var indexed, stale, deadLettered int
		for i, r := range res {
			e := pending[i]
			outcomes[r.Outcome]++
			if r.Outcome == sink.Retry || r.Outcome == sink.Rejected {
				p.m.BulkItemFailures.WithLabelValues(failureReason(r)).Inc()
			}
			switch {
			case r.Outcome == sink.Retry:
				again = append(again, e)
				lastReason = r.Reason
			case r.Outcome == sink.Written || r.Outcome == sink.Stale:
				switch {
				case e.deadLetter:
					deadLettered++
				case r.Outcome == sink.Written:
					indexed++
				default:
					stale++
				}
				e.ack.settled(r.Outcome, e.deadLetter)
			case e.deadLetter:
				e.ack.failed(permanent("dead_letter_rejected", fmt.Errorf("line %d: the dead-letter index %s refused the record (status %d): %s", e.line, p.o.DeadLetterIndex, r.Status, r.Reason)))
			default: // rejected: keep it, with the cluster's reason, in the dead-letter index
				again = append(again, p.deadLetter(e.ack, deadletter.Record{
					Line: e.line, Stage: deadletter.StageIndex, Reason: r.Reason, Status: r.Status,
					Raw: e.item.Body, TargetIndex: e.item.Index, TargetID: e.item.ID,
				}))
			}
		}
		for o, n := range outcomes {
			addCount(p.m.BulkItems, sink.Outcome(o).String(), n)
		}
		addCount(p.m.Records, "indexed", indexed)
		addCount(p.m.Records, "stale", stale)
		addCount(p.m.Records, "dead_lettered", deadLettered)
		pending = again
		if lastReason == "" {
			p.intake.succeeded()
			b.senders.succeeded()
			continue // done, or only new dead-letter documents to send at once
		}
		if attempt >= p.o.BulkAttempts {
			failAll(retryable("bulk_throttled", fmt.Errorf("%d documents still failing after %d attempts: %s", len(pending), attempt, lastReason)))
			return
		}
		if !retryLater(attempt, "bulk items throttled; retrying them", "documents", len(pending), "reason", lastReason) {
			return
		}
	}
}

// failureReason is a low-cardinality label for a failed item: the cluster's
// error type, or its status.
func failureReason(r sink.Result) string {
	if r.ErrorType != "" {
		return r.ErrorType
	}
	return fmt.Sprintf("status_%d", r.Status)
}

// addCount adds n to the counter of label, if n is not zero.
func addCount(c *prometheus.CounterVec, label string, n int) {
	if n > 0 {
		c.WithLabelValues(label).Add(float64(n))
	}
}
