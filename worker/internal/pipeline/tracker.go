package pipeline

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logtide/logtide/worker/internal/bulk"
	"github.com/logtide/logtide/worker/internal/deadletter"
	"github.com/logtide/logtide/worker/internal/metrics"
	"github.com/logtide/logtide/worker/internal/sink"
)

// counts is one object's record accounting. An object is done only when it
// balances: read == indexed + stale + skipped + deadLettered.
type counts struct {
	read, indexed, stale, skipped, deadLettered int
	// history counts the history copies of the records' documents (see
	// format.History) by outcome; they are not records.
	history struct{ written, duplicate, deadLettered int }
}

func (c *counts) balanced() bool { return c.read == c.indexed+c.stale+c.skipped+c.deadLettered }

// recordCounters are the records_total counters, looked up once, and the
// history_documents_total ones.
type recordCounters struct {
	read, indexed, stale, skipped, deadLettered prometheus.Counter

	historyWritten, historyDuplicate, historyDeadLettered prometheus.Counter
}

func newRecordCounters(m *metrics.Metrics) recordCounters {
	return recordCounters{
		read:         m.Records.WithLabelValues("read"),
		indexed:      m.Records.WithLabelValues("indexed"),
		stale:        m.Records.WithLabelValues("stale"),
		skipped:      m.Records.WithLabelValues("skipped"),
		deadLettered: m.Records.WithLabelValues("dead_lettered"),

		historyWritten:      m.HistoryDocuments.WithLabelValues("written"),
		historyDuplicate:    m.HistoryDocuments.WithLabelValues("duplicate"),
		historyDeadLettered: m.HistoryDocuments.WithLabelValues("dead_lettered"),
	}
}

// tracker follows the documents of one object while they ride in bulk
// requests shared with other objects; it is their bulk.Owner. It resolves
// exactly once: when the object's stream has ended and every document it
// submitted has an outcome.
type tracker struct {
	ref       objectRef
	batcher   *bulk.Batcher
	deadIndex string
	records   *recordCounters
	progress  *atomic.Uint64

	mu          sync.Mutex
	c           counts
	outstanding int
	ended       bool
	err         error // the first failure; the object is not done
	done        chan struct{}
	// history owns the history copies of the object's documents.
	history historyOwner
}

func (p *Pipeline) newTracker(ref objectRef) *tracker {
	t := &tracker{ref: ref, batcher: p.bulk, deadIndex: p.opts.DeadLetterIndex, records: &p.records, progress: &p.progress, done: make(chan struct{})}
	t.history = historyOwner{t}
	return t
}

// read counts one record read.
func (t *tracker) read() {
	t.progress.Add(1)
	t.mu.Lock()
	t.c.read++
	t.mu.Unlock()
}

// skip counts one record read that holds nothing to index.
func (t *tracker) skip() {
	t.mu.Lock()
	t.c.skipped++
	t.mu.Unlock()
	t.records.skipped.Inc()
}

// submit counts reads records read and hands their documents (es, which
// the bulk layer owns from then on) to it at once.
func (t *tracker) submit(ctx context.Context, reads int, es []bulk.Entry) error {
	t.progress.Add(uint64(reads))
	t.mu.Lock()
	t.c.read += reads
	t.outstanding += len(es)
	t.mu.Unlock()
	if err := t.batcher.SubmitAll(ctx, es); err != nil {
		t.fail(len(es), err)
		return err
	}
	return nil
}

// deadLetter is the entry keeping a record that cannot be indexed in the
// dead-letter index.
func (t *tracker) deadLetter(r deadletter.Record) bulk.Entry {
	o := t.ref
	r.Bucket, r.Key, r.VersionID, r.MessageID = o.Bucket, o.Key, o.VersionID, o.messageID
	now := time.Now()
	return bulk.Entry{
		Item:        sink.Item{Index: t.deadIndex, ID: r.ID(), Version: deadletter.Version(now), Body: r.Body(now)},
		Line:        r.Line,
		Replacement: true,
		Owner:       t,
	}
}

// historyOwner is the bulk.Owner of the history copies of an object's
// documents: they must be written before the object is done, but their
// outcomes are not the records' (a copy already there is a replay).
type historyOwner struct{ t *tracker }

// Replace keeps a history copy the cluster refused in the dead-letter
// index, apart from the record's own document.
func (h historyOwner) Replace(e *bulk.Entry, r sink.Result) (bulk.Entry, bool) {
	d := h.t.deadLetter(deadletter.Record{
		Line: e.Line, Stage: deadletter.StageIndex, Reason: r.Reason, Status: r.Status, Copy: deadletter.CopyHistory,
		Raw: e.Body, TargetIndex: e.Index, TargetID: e.ID,
	})
	d.Owner = h
	return d, true
}

// Done records the outcome of a history copy.
func (h historyOwner) Done(e *bulk.Entry, r sink.Result, err error) {
	t := h.t
	if err != nil {
		t.fail(1, err)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case e.Replacement:
		t.c.history.deadLettered++
		t.records.historyDeadLettered.Inc()
	case r.Outcome == sink.Stale:
		t.c.history.duplicate++
		t.records.historyDuplicate.Inc()
	default:
		t.c.history.written++
		t.records.historyWritten.Inc()
	}
	t.outstanding--
	t.resolveIfDone()
}

// Replace keeps a document the cluster refused in the dead-letter index,
// with the cluster's reason.
func (t *tracker) Replace(e *bulk.Entry, r sink.Result) (bulk.Entry, bool) {
	return t.deadLetter(deadletter.Record{
		Line: e.Line, Stage: deadletter.StageIndex, Reason: r.Reason, Status: r.Status,
		Raw: e.Body, TargetIndex: e.Index, TargetID: e.ID, TargetVersion: e.Version,
	}), true
}

// Done records the outcome of one document.
func (t *tracker) Done(e *bulk.Entry, r sink.Result, err error) {
	if err != nil {
		t.fail(1, err)
		return
	}
	t.progress.Add(1)
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case e.Replacement:
		t.c.deadLettered++
		t.records.deadLettered.Inc()
	case r.Outcome == sink.Stale:
		t.c.stale++
		t.records.stale.Inc()
	default:
		t.c.indexed++
		t.records.indexed.Inc()
	}
	t.outstanding--
	t.resolveIfDone()
}

// fail records n documents that have no outcome; the object cannot be done.
func (t *tracker) fail(n int, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == nil {
		t.err = err
	}
	t.outstanding -= n
	t.resolveIfDone()
}

// end marks the stream as finished (err non-nil if it broke off).
func (t *tracker) end(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil && t.err == nil {
		t.err = err
	}
	t.ended = true
	t.resolveIfDone()
}

func (t *tracker) resolveIfDone() {
	if t.ended && t.outstanding == 0 {
		select {
		case <-t.done:
		default:
			close(t.done)
		}
	}
}

// result is the final count and error; valid once done is closed.
func (t *tracker) result() (counts, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.c, t.err
}
