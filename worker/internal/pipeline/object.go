package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/logtide/logtide/worker/internal/decode"
	"github.com/logtide/logtide/worker/internal/s3event"
	"github.com/logtide/logtide/worker/internal/sink"
	"github.com/logtide/logtide/worker/internal/transform"
)

// tally is one object's record accounting.
type tally struct {
	read, indexed, stale int
	bytes                int64
}

// object streams one object into the sink. It returns nil only when every
// record of the object is indexed (or already present at a newer version).
func (p *Pipeline) object(ctx context.Context, log *slog.Logger, o s3event.Object) error {
	start := time.Now()
	log = log.With("bucket", o.Bucket, "key", o.Key)
	var t tally
	err := p.stream(ctx, o, &t)
	p.m.ObjectBytes.Add(float64(t.bytes))
	p.m.Records.WithLabelValues("read").Add(float64(t.read))
	if err != nil {
		p.m.Objects.WithLabelValues("failed").Inc()
		log.Error("object failed", "records_read", t.read, "records_indexed", t.indexed, "records_stale", t.stale, "err", err)
		return err
	}
	p.m.Objects.WithLabelValues("done").Inc()
	log.Info("object done", "records_read", t.read, "records_indexed", t.indexed, "records_stale", t.stale,
		"bytes", t.bytes, "duration", time.Since(start).Round(time.Millisecond))
	return nil
}

func (p *Pipeline) stream(ctx context.Context, o s3event.Object, t *tally) error {
	body, err := p.src.Open(ctx, o.Bucket, o.Key, o.VersionID)
	if err != nil {
		return classifyOpen(err)
	}
	defer body.Close()
	counted := &countingReader{r: body, n: &t.bytes}
	in, err := decode.Open(counted)
	if err != nil {
		return permanent("bad_object", fmt.Errorf("s3://%s/%s: %w", o.Bucket, o.Key, err))
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
			p.m.Records.WithLabelValues("failed").Inc()
			return permanent("bad_record", fmt.Errorf("s3://%s/%s: %w", o.Bucket, o.Key, le))
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return retryable("object_read", fmt.Errorf("s3://%s/%s: reading after line %d: %w", o.Bucket, o.Key, line, err))
		}
		t.read++
		doc, err := p.tr.Transform(rec)
		if err != nil {
			p.m.Records.WithLabelValues("failed").Inc()
			return permanent("bad_record", fmt.Errorf("s3://%s/%s: line %d: %w", o.Bucket, o.Key, line, err))
		}
		b.add(doc, line)
		if len(b.items) >= p.o.BulkMaxDocs || b.bytes >= p.o.BulkMaxBytes {
			if err := p.flush(ctx, o, &b, t); err != nil {
				return err
			}
		}
	}
	return p.flush(ctx, o, &b, t)
}

// batch is a bulk request in the making, with the line each item came from.
type batch struct {
	items []sink.Item
	lines []int
	bytes int
}

func (b *batch) add(d transform.Document, line int) {
	b.items = append(b.items, sink.Item{Index: d.Index, ID: d.ID, Version: d.Version, Body: d.Body})
	b.lines = append(b.lines, line)
	b.bytes += len(d.Body) + len(d.ID) + len(d.Index) + 64
}

func (b *batch) reset() {
	b.items, b.lines, b.bytes = b.items[:0], b.lines[:0], 0
}

// flush writes the batch. Items that fail with a retryable status are sent
// again, alone, with exponential backoff and jitter; a rejected item fails the
// object with its line and the cluster's reason.
func (p *Pipeline) flush(ctx context.Context, o s3event.Object, b *batch, t *tally) error {
	defer b.reset()
	items, lines := b.items, b.lines
	var rejected error
	for attempt := 1; len(items) > 0; attempt++ {
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
			if !sleep(ctx, backoff(p.o.RetryBase, p.o.RetryMax, attempt)) {
				return ctx.Err()
			}
			continue
		}
		p.m.BulkRequests.WithLabelValues("ok").Inc()
		var retryItems []sink.Item
		var retryLines []int
		var lastReason string
		for i, r := range res {
			p.m.BulkItems.WithLabelValues(r.Outcome.String()).Inc()
			switch r.Outcome {
			case sink.Written:
				t.indexed++
				p.m.Records.WithLabelValues("indexed").Inc()
			case sink.Stale:
				t.stale++
				p.m.Records.WithLabelValues("stale").Inc()
			case sink.Retry:
				retryItems = append(retryItems, items[i])
				retryLines = append(retryLines, lines[i])
				lastReason = r.Reason
			case sink.Rejected:
				p.m.Records.WithLabelValues("failed").Inc()
				if rejected == nil {
					rejected = permanent("record_rejected", fmt.Errorf("s3://%s/%s: line %d: rejected by the cluster (status %d): %s", o.Bucket, o.Key, lines[i], r.Status, r.Reason))
				}
			}
		}
		items, lines = retryItems, retryLines
		if len(items) == 0 {
			break
		}
		if attempt >= p.o.BulkAttempts {
			return retryable("bulk_throttled", fmt.Errorf("s3://%s/%s: %d items still failing after %d attempts, e.g. line %d: %s", o.Bucket, o.Key, len(items), attempt, lines[0], lastReason))
		}
		if !sleep(ctx, backoff(p.o.RetryBase, p.o.RetryMax, attempt)) {
			return ctx.Err()
		}
	}
	return rejected
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
