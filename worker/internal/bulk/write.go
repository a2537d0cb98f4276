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

// write sends one batch until every entry has an outcome, or ctx ends.
//
// A problem of the cluster is never a problem of the documents: a request
// that gets no answer, or any refusal but two (a 401 or 403 while a
// password rotates, a 404 of a misrouted endpoint, 429, 5xx, timeouts), and
// items the cluster does not take yet, are sent again with capped back-off
// for as long as it takes, while the owners' intake is paused. Only what the
// documents themselves cause ends differently: a document refused for good
// is replaced by the entry its owner gives in its place, sent at once; a
// request refused for its size (413) or its content (400) is split in
// halves until the one document at fault is known and replaced.
func (b *Batcher) write(ctx context.Context, pending []Entry) {
	w := retries{b: b}
	defer w.end()
	items := make([]sink.Item, 0, len(pending))
	for len(pending) > 0 {
		items = items[:0]
		size := 0
		for i := range pending {
			items = append(items, pending[i].Item)
			size += pending[i].size()
		}
		res, err := b.send(ctx, items)
		if ctx.Err() != nil {
			fail(pending, ctx.Err())
			return
		}
		var re *sink.RequestError
		switch {
		case errors.As(err, &re) && (re.TooLarge() || re.BadRequest()):
			if len(pending) > 1 {
				if re.TooLarge() {
					b.shrink(size)
				}
				half := len(pending) / 2
				b.write(ctx, pending[:half])
				b.write(ctx, pending[half:])
				return
			}
			pending = b.refuseAlone(ctx, &w, pending[0], re)
			continue
		case err != nil:
			if !w.wait(ctx, pending, "the cluster did not take a bulk request; sending it again", "documents", len(items), "err", err) {
				return
			}
			continue
		}
		again, reason := b.sort(pending, res)
		pending = again
		if reason == "" {
			b.opts.Pressure.Accepted()
			b.senders.Accepted()
			w.attempt = 0
			continue // done, or only replacements to send at once
		}
		if !w.wait(ctx, pending, "the cluster did not take some bulk items; sending them again", "documents", len(pending), "reason", reason) {
			return
		}
	}
}

// refuseAlone handles one document in a request the cluster refused as a
// whole (413 or 400): the document is the cause, and is replaced. A
// replacement refused so is sent again later: a dead-letter document is
// small and well-formed, so the cluster's settings are at fault.
func (b *Batcher) refuseAlone(ctx context.Context, w *retries, e Entry, re *sink.RequestError) []Entry {
	reason := fmt.Sprintf("the cluster refused a bulk request holding only this document (status %d): %v", re.Status, re.Err)
	if re.TooLarge() {
		reason = fmt.Sprintf("the document alone (%d bytes) is larger than the cluster accepts in one request (status 413)", len(e.Body))
	}
	b.metrics.BulkItemFailures.WithLabelValues(re.Reason()).Inc()
	if !e.Replacement {
		if rep, ok := e.Owner.Replace(&e, sink.Result{Outcome: sink.Rejected, Status: re.Status, Reason: reason}); ok {
			rep.Replacement = true
			return []Entry{rep}
		}
		e.Owner.Done(&e, sink.Result{}, fmt.Errorf("line %d: %s, and its owner has no replacement", e.Line, reason))
		return nil
	}
	if !w.wait(ctx, []Entry{e}, "the cluster refused a dead-letter document; sending it again", "index", e.Index, "reason", reason) {
		return nil
	}
	return []Entry{e}
}

// shrink lowers the bytes per request after the cluster refused a request
// of size bytes as too large, so that later requests fit.
func (b *Batcher) shrink(size int) {
	limit := max(size/2, minMaxBytes)
	for {
		cur := b.maxBytes.Load()
		if int64(limit) >= cur {
			return
		}
		if b.maxBytes.CompareAndSwap(cur, int64(limit)) {
			b.metrics.BulkMaxBytes.Set(float64(limit))
			b.log.Warn("the cluster refused a bulk request as too large (413); sending smaller ones from now on",
				"request_bytes", size, "max_bytes", limit)
			return
		}
	}
}

// minMaxBytes is the least the bytes per request shrink to: one document
// still goes alone in a request of any size.
const minMaxBytes = 16 << 10

// send makes one request, within the request timeout, and measures it.
func (b *Batcher) send(ctx context.Context, items []sink.Item) ([]sink.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, b.opts.RequestTimeout)
	defer cancel()
	start := time.Now()
	res, err := b.w.Bulk(ctx, items)
	took := time.Since(start)
	b.metrics.BulkDuration.Observe(took.Seconds())
	if err != nil {
		b.metrics.BulkRequests.WithLabelValues("error").Inc()
		var re *sink.RequestError
		if errors.As(err, &re) {
			b.metrics.BulkRequestFailures.WithLabelValues(re.Reason()).Inc()
		}
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
// the entries to send again (the ones the cluster did not take yet, and the
// replacements of refused ones) with the cluster's last reason for not
// taking an item, if any.
func (b *Batcher) sort(pending []Entry, res []sink.Result) (again []Entry, notTaken string) {
	// Counted here and added once per request: the metrics' label lookups
	// would otherwise run for every document.
	var outcomes [sink.Rejected + 1]int
	for i, r := range res {
		e := &pending[i]
		outcomes[r.Outcome]++
		if r.Outcome == sink.Retry || r.Outcome == sink.Rejected {
			b.metrics.BulkItemFailures.WithLabelValues(failureReason(r)).Inc()
		}
		switch {
		case r.Outcome == sink.Written, r.Outcome == sink.Stale:
			e.Owner.Done(e, r, nil)
		case r.Outcome == sink.Retry:
			again = append(again, *e)
			notTaken = r.Reason
		case e.Replacement:
			// The dead-letter index refusing a document is a problem of its
			// settings, not of the record: sent again until it takes it.
			again = append(again, *e)
			notTaken = fmt.Sprintf("index %s refused a dead-letter document (status %d): %s", e.Index, r.Status, r.Reason)
		default: // refused for good
			rep, ok := e.Owner.Replace(e, r)
			if !ok {
				e.Owner.Done(e, r, fmt.Errorf("line %d: refused (status %d): %s, and its owner has no replacement", e.Line, r.Status, r.Reason))
				continue
			}
			rep.Replacement = true
			again = append(again, rep)
		}
	}
	for o, n := range outcomes {
		addCount(b.metrics.BulkItems, sink.Outcome(o).String(), n)
	}
	return again, notTaken
}

// retries waits between the attempts of one batch; while it waits, the
// owners' intake is paused.
type retries struct {
	b       *Batcher
	paused  bool
	attempt int // attempts since the cluster last took something
}

// wait reports that the cluster did not take the batch, waits out the
// back-off and reports whether to go on; when ctx ends first it fails what
// is pending.
func (w *retries) wait(ctx context.Context, pending []Entry, msg string, attrs ...any) bool {
	w.attempt++
	w.b.opts.Pressure.Throttled()
	w.b.senders.Throttled()
	if !w.paused {
		w.paused = true
		w.b.opts.Pressure.Pause()
		w.b.metrics.BulkWaiting.Inc()
	}
	d := backoff.Delay(w.b.opts.RetryBase, w.b.opts.RetryMax, w.attempt)
	w.b.log.Warn(msg, append(attrs, "attempt", w.attempt, "retry_in", d.Round(time.Millisecond))...)
	if !backoff.Sleep(ctx, d) {
		fail(pending, ctx.Err())
		return false
	}
	return true
}

func (w *retries) end() {
	if w.paused {
		w.b.opts.Pressure.Resume()
		w.b.metrics.BulkWaiting.Dec()
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
