package pipeline

import (
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/logtide/logtide/worker/internal/deadletter"
	"github.com/logtide/logtide/worker/internal/decode"
	"github.com/logtide/logtide/worker/internal/s3event"
	"github.com/logtide/logtide/worker/internal/sink"
)

// tally is one object's record accounting. An object is done only when it
// balances: read == indexed + stale + deadLettered.
type tally struct {
	read, indexed, stale, deadLettered int
	bytes                              int64
}

func (t *tally) balanced() bool { return t.read == t.indexed+t.stale+t.deadLettered }

// objectRef names the object being processed, for dead-letter documents.
type objectRef struct {
	s3event.Object
	messageID string
}

// object streams one object into the sink. It returns nil only when every
// record of the object is accounted for: indexed, already present at a newer
// version, or dead-lettered with its reason.
func (p *Pipeline) object(ctx context.Context, log *slog.Logger, o objectRef) error {
	start := time.Now()
	log = log.With("bucket", o.Bucket, "key", o.Key)
	p.m.ObjectsInFlight.Inc()
	defer p.m.ObjectsInFlight.Dec()
	var t tally
	err := p.stream(ctx, o, &t)
	if err == nil && !t.balanced() {
		err = retryable("unbalanced", fmt.Errorf("s3://%s/%s: %d records read but %d indexed, %d stale, %d dead-lettered", o.Bucket, o.Key, t.read, t.indexed, t.stale, t.deadLettered))
	}
	p.m.ObjectBytes.Add(float64(t.bytes))
	p.m.Records.WithLabelValues("read").Add(float64(t.read))
	attrs := []any{"records_read", t.read, "records_indexed", t.indexed, "records_stale", t.stale,
		"records_dead_lettered", t.deadLettered, "balanced", err == nil && t.balanced()}
	if err != nil {
		p.m.Objects.WithLabelValues("failed").Inc()
		log.Error("object failed", append(attrs, "err", err)...)
		return err
	}
	p.m.Objects.WithLabelValues("done").Inc()
	if !o.EventTime.IsZero() {
		p.m.Lag.Observe(time.Since(o.EventTime).Seconds())
	}
	log.Info("object done", append(attrs, "bytes", t.bytes, "duration", time.Since(start).Round(time.Millisecond))...)
	return nil
}

func (p *Pipeline) stream(ctx context.Context, o objectRef, t *tally) error {
	body, err := p.src.Open(ctx, o.Bucket, o.Key, o.VersionID)
	if err != nil {
		return classifyOpen(err)
	}
	defer body.Close()
	counted := &countingReader{r: body, n: &t.bytes}
	in, err := decode.Open(counted)
	if err != nil {
		return classifyRead(ctx, o, 0, err)
	}
	sc := decode.NewScanner(in, p.o.MaxLineBytes)
	b := batch{}
	for {
		rec, line, err := sc.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var le *decode.LineError
		if errors.As(err, &le) {
			t.read++
			b.add(p.deadLetter(o, deadletter.Record{Line: line, Stage: deadletter.StageDecode, Reason: le.Reason, Raw: le.Head, RawBytes: le.Size}))
		} else if err != nil {
			return classifyRead(ctx, o, line, err)
		} else {
			t.read++
			doc, err := p.tr.Transform(rec)
			if err != nil {
				b.add(p.deadLetter(o, deadletter.Record{Line: line, Stage: deadletter.StageTransform, Reason: err.Error(), Raw: rec}))
			} else {
				b.add(entry{item: sink.Item{Index: doc.Index, ID: doc.ID, Version: doc.Version, Body: doc.Body}, line: line})
			}
		}
		if len(b.entries) >= p.o.BulkMaxDocs || b.bytes >= p.o.BulkMaxBytes {
			if err := p.flush(ctx, o, &b, t); err != nil {
				return err
			}
		}
	}
	return p.flush(ctx, o, &b, t)
}

// classifyRead sorts stream failures: a corrupt gzip stream will never read
// better; a cut connection may.
func classifyRead(ctx context.Context, o objectRef, line int, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	wrapped := fmt.Errorf("s3://%s/%s: reading after line %d: %w", o.Bucket, o.Key, line, err)
	var corrupt flate.CorruptInputError
	if errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) || errors.As(err, &corrupt) {
		return permanent("corrupt_object", wrapped)
	}
	return retryable("object_read", wrapped)
}

// deadLetter turns a failed record into a write to the dead-letter index.
func (p *Pipeline) deadLetter(o objectRef, r deadletter.Record) entry {
	r.Bucket, r.Key, r.VersionID, r.MessageID = o.Bucket, o.Key, o.VersionID, o.messageID
	return entry{
		item:       sink.Item{Index: p.o.DeadLetterIndex, ID: r.ID(), Body: r.Body(time.Now())},
		line:       r.Line,
		deadLetter: true,
	}
}

// entry is one document of a bulk request and where it came from.
type entry struct {
	item       sink.Item
	line       int
	deadLetter bool // a dead-letter document, not the record itself
}

// batch is a bulk request in the making.
type batch struct {
	entries []entry
	bytes   int
}

func (b *batch) add(e entry) {
	b.entries = append(b.entries, e)
	b.bytes += len(e.item.Body) + len(e.item.ID) + len(e.item.Index) + 64
}

// flush writes the batch. Items that fail with a retryable status are sent
// again, alone, with exponential backoff and jitter; a document the cluster
// rejects is replaced by its dead-letter document. Only a dead-letter document
// that cannot be written fails the object.
func (p *Pipeline) flush(ctx context.Context, o objectRef, b *batch, t *tally) error {
	pending := b.entries
	b.entries, b.bytes = nil, 0
	items := make([]sink.Item, 0, len(pending))
	holding := false
	hold := func() {
		p.intake.throttled()
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
				return permanent("bulk_rejected", fmt.Errorf("s3://%s/%s: %w", o.Bucket, o.Key, err))
			}
			if attempt >= p.o.BulkAttempts || ctx.Err() != nil {
				return retryable("bulk_unavailable", fmt.Errorf("s3://%s/%s: %d attempts: %w", o.Bucket, o.Key, attempt, err))
			}
			hold()
			d := backoff(p.o.RetryBase, p.o.RetryMax, attempt)
			p.log.Warn("bulk request failed; retrying", "bucket", o.Bucket, "key", o.Key, "attempt", attempt, "retry_in", d.Round(time.Millisecond), "err", err)
			if !sleep(ctx, d) {
				return ctx.Err()
			}
			continue
		}
		p.m.BulkRequests.WithLabelValues("ok").Inc()
		if time.Since(start) > p.o.SlowBulk {
			p.intake.throttled()
		}
		var again []entry
		var lastReason string
		for i, r := range res {
			e := pending[i]
			p.m.BulkItems.WithLabelValues(r.Outcome.String()).Inc()
			if r.Outcome == sink.Retry || r.Outcome == sink.Rejected {
				p.m.BulkItemFailures.WithLabelValues(failureReason(r)).Inc()
			}
			switch {
			case r.Outcome == sink.Retry:
				again = append(again, e)
				lastReason = r.Reason
			case e.deadLetter && (r.Outcome == sink.Written || r.Outcome == sink.Stale):
				t.deadLettered++
				p.m.Records.WithLabelValues("dead_lettered").Inc()
			case e.deadLetter:
				return permanent("dead_letter_rejected", fmt.Errorf("s3://%s/%s: line %d: the dead-letter index %s refused the record (status %d): %s", o.Bucket, o.Key, e.line, p.o.DeadLetterIndex, r.Status, r.Reason))
			case r.Outcome == sink.Written:
				t.indexed++
				p.m.Records.WithLabelValues("indexed").Inc()
			case r.Outcome == sink.Stale:
				t.stale++
				p.m.Records.WithLabelValues("stale").Inc()
			default: // rejected: keep it, with the cluster's reason, in the dead-letter index
				again = append(again, p.deadLetter(o, deadletter.Record{
					Line: e.line, Stage: deadletter.StageIndex, Reason: r.Reason, Status: r.Status,
					Raw: e.item.Body, TargetIndex: e.item.Index, TargetID: e.item.ID,
				}))
			}
		}
		pending = again
		if lastReason == "" {
			p.intake.succeeded()
			continue // done, or only new dead-letter documents to send at once
		}
		if attempt >= p.o.BulkAttempts {
			return retryable("bulk_throttled", fmt.Errorf("s3://%s/%s: %d items still failing after %d attempts: %s", o.Bucket, o.Key, len(pending), attempt, lastReason))
		}
		hold()
		d := backoff(p.o.RetryBase, p.o.RetryMax, attempt)
		p.log.Warn("bulk items throttled; retrying them", "bucket", o.Bucket, "key", o.Key, "items", len(pending), "attempt", attempt, "retry_in", d.Round(time.Millisecond), "reason", lastReason)
		if !sleep(ctx, d) {
			return ctx.Err()
		}
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n *int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	*c.n += int64(n)
	return n, err
}

// backoff is base·2^(attempt-1), capped, with full jitter in its upper half.
func backoff(base, max time.Duration, attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d/2 + rand.N(d/2+1)
}

// sleep waits d or until ctx is done; it reports whether the full wait passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
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
