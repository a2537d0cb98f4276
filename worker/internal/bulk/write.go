package bulk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logtide/logtide/worker/internal/backoff"
	"github.com/logtide/logtide/worker/internal/sink"
)

// write sends one batch until every entry has an outcome. Items that fail in
// a way that may pass are sent again, alone, with exponential backoff and
// jitter; an entry the cluster refuses is replaced by the entry its owner
// gives in its place, sent at once.
func (b *Batcher) write(ctx context.Context, pending []Entry) {
	w := retries{b: b}
	defer w.end()
	items := make([]sink.Item, 0, len(pending))
	for attempt := 1; len(pending) > 0; attempt++ {
		items = items[:0]
		for i := range pending {
			items = append(items, pending[i].Item)
		}
		res, err := b.send(ctx, items)
		if err != nil {
			var re *sink.RequestError
			switch {
			case errors.As(err, &re) && !re.Retryable:
				fail(pending, &Error{Permanent: true, Reason: "bulk_rejected", Err: err})
				return
			case attempt >= b.opts.Attempts || ctx.Err() != nil:
				fail(pending, &Error{Reason: "bulk_unavailable", Err: fmt.Errorf("%d attempts: %w", attempt, err)})
				return
			}
			if !w.wait(ctx, pending, attempt, "bulk request failed; retrying", "documents", len(items), "err", err) {
				return
			}
			continue
		}
		var again []Entry
		var reason string
		again, reason = b.sort(pending, res)
		pending = again
		if reason == "" {
			b.opts.Pressure.Accepted()
			b.senders.Accepted()
			continue // done, or only replacements to send at once
		}
		if attempt >= b.opts.Attempts {
			fail(pending, &Error{Reason: "bulk_throttled", Err: fmt.Errorf("%d documents still failing after %d attempts: %s", len(pending), attempt, reason)})
			return
		}
		if !w.wait(ctx, pending, attempt, "bulk items throttled; retrying them", "documents", len(pending), "reason", reason) {
			return
		}
	}
}

// send makes one request and measures it.
func (b *Batcher) send(ctx context.Context, items []sink.Item) ([]sink.Result, error) {
	start := time.Now()
	res, err := b.w.Bulk(ctx, items)
	took := time.Since(start)
	b.metrics.BulkDuration.Observe(took.Seconds())
	if err != nil {
		b.metrics.BulkRequests.WithLabelValues("error").Inc()
		return nil, err
	}
	b.metrics.BulkRequests.WithLabelValues("ok").Inc()
	if took > b.opts.SlowRequest {
		b.opts.Pressure.Throttled()
		b.senders.Throttled()
	}
	return res, nil
}

// sort tells the owners of the entries that have an outcome, and returns
// the entries to send again (the throttled ones and the replacements of
// refused ones) with the cluster's last reason for throttling, if any.
func (b *Batcher) sort(pending []Entry, res []sink.Result) (again []Entry, throttled string) {
	// Counted here and added once per request: the metrics' label lookups
	// would otherwise run for every document.
	var outcomes [sink.Rejected + 1]int
	for i, r := range res {
		e := &pending[i]
		outcomes[r.Outcome]++
		if r.Outcome == sink.Retry || r.Outcome == sink.Rejected {
			b.metrics.BulkItemFailures.WithLabelValues(failureReason(r)).Inc()
		}
		switch r.Outcome {
		case sink.Written, sink.Stale:
			e.Owner.Done(e, r, nil)
		case sink.Retry:
			again = append(again, *e)
			throttled = r.Reason
		default: // refused for good
			if e.Replacement {
				e.Owner.Done(e, r, &Error{Permanent: true, Reason: "dead_letter_rejected",
					Err: fmt.Errorf("line %d: index %s refused the replacement document (status %d): %s", e.Line, e.Index, r.Status, r.Reason)})
				continue
			}
			rep, ok := e.Owner.Replace(e, r)
			if !ok {
				e.Owner.Done(e, r, &Error{Permanent: true, Reason: "bulk_item_rejected",
					Err: fmt.Errorf("line %d: refused (status %d): %s", e.Line, r.Status, r.Reason)})
				continue
			}
			rep.Replacement = true
			again = append(again, rep)
		}
	}
	for o, n := range outcomes {
		addCount(b.metrics.BulkItems, sink.Outcome(o).String(), n)
	}
	return again, throttled
}

// retries waits between the attempts of one batch; while it waits, the
// cluster's pressure is paused.
type retries struct {
	b      *Batcher
	paused bool
}

// wait reports the throttling, waits out the back-off of this attempt and
// reports whether to go on; when ctx ends first it fails what is pending.
func (w *retries) wait(ctx context.Context, pending []Entry, attempt int, msg string, attrs ...any) bool {
	w.b.opts.Pressure.Throttled()
	w.b.senders.Throttled()
	if !w.paused {
		w.paused = true
		w.b.opts.Pressure.Pause()
	}
	d := backoff.Delay(w.b.opts.RetryBase, w.b.opts.RetryMax, attempt)
	w.b.log.Warn(msg, append(attrs, "attempt", attempt, "retry_in", d.Round(time.Millisecond))...)
	if !backoff.Sleep(ctx, d) {
		fail(pending, ctx.Err())
		return false
	}
	return true
}

func (w *retries) end() {
	if w.paused {
		w.b.opts.Pressure.Resume()
	}
}

// fail tells every owner that its entry will not be written.
func fail(pending []Entry, err error) {
	for i := range pending {
		pending[i].Owner.Done(&pending[i], sink.Result{}, err)
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
