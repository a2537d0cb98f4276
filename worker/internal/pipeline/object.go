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
	"github.com/logtide/logtide/worker/internal/source"
)

// objectRef names the object being processed, for dead-letter documents.
type objectRef struct {
	s3event.Object
	messageID string
}

// object streams one object into the batcher and waits for the outcome of
// every document it submitted. It returns nil only when every record of the
// object is accounted for: indexed, already present at a newer version, or
// dead-lettered with its reason.
func (p *Pipeline) object(ctx context.Context, log *slog.Logger, o objectRef) error {
	start := time.Now()
	log = log.With("bucket", o.Bucket, "key", o.Key)
	p.m.ObjectsInFlight.Inc()
	defer p.m.ObjectsInFlight.Dec()
	ack := newObjectAck(o)
	var bytes int64
	err := p.stream(ctx, ack, &bytes)
	p.batches.doneReading()
	ack.end(err)
	<-ack.done // the batcher settles or fails every submitted document
	t, err := ack.result()
	if err == nil && !t.balanced() {
		err = retryable("unbalanced", fmt.Errorf("%d records read but %d indexed, %d stale, %d dead-lettered", t.read, t.indexed, t.stale, t.deadLettered))
	}
	var se *source.Error
	if err != nil && !errors.As(err, &se) { // source errors name the object already
		err = fmt.Errorf("s3://%s/%s: %w", o.Bucket, o.Key, err)
	}
	p.m.ObjectBytes.Add(float64(bytes))
	p.m.Records.WithLabelValues("read").Add(float64(t.read))
	attrs := []any{"records_read", t.read, "records_indexed", t.indexed, "records_stale", t.stale,
		"records_dead_lettered", t.deadLettered, "balanced", err == nil}
	if err != nil {
		p.m.Objects.WithLabelValues("failed").Inc()
		log.Error("object failed", append(attrs, "err", err)...)
		return err
	}
	p.m.Objects.WithLabelValues("done").Inc()
	if !o.EventTime.IsZero() {
		p.m.Lag.Observe(time.Since(o.EventTime).Seconds())
	}
	log.Info("object done", append(attrs, "bytes", bytes, "duration", time.Since(start).Round(time.Millisecond))...)
	return nil
}

// stream reads the object and submits a document (or a dead-letter document)
// for every record. An error means the stream broke off.
func (p *Pipeline) stream(ctx context.Context, ack *objectAck, bytes *int64) error {
	o := ack.ref
	body, err := p.src.Open(ctx, o.Bucket, o.Key, o.VersionID)
	if err != nil {
		return classifyOpen(err)
	}
	defer body.Close()
	in, err := decode.Open(&countingReader{r: body, n: bytes})
	if err != nil {
		return classifyRead(ctx, 0, err)
	}
	defer in.Close()
	sc := decode.NewScanner(in, p.o.MaxLineBytes)
	defer sc.Close()
	for {
		rec, line, err := sc.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var e entry
		var le *decode.LineError
		switch {
		case errors.As(err, &le):
			e = p.deadLetter(ack, deadletter.Record{Line: line, Stage: deadletter.StageDecode, Reason: le.Reason, Raw: le.Head, RawBytes: le.Size})
		case err != nil:
			return classifyRead(ctx, line, err)
		default:
			doc, err := p.tr.Transform(rec)
			if err != nil {
				e = p.deadLetter(ack, deadletter.Record{Line: line, Stage: deadletter.StageTransform, Reason: err.Error(), Raw: rec})
			} else {
				// rec is reused by the scanner; the transform's body is a copy.
				e = entry{item: sink.Item{Index: doc.Index, ID: doc.ID, Version: doc.Version, Body: doc.Body}, line: line, ack: ack}
			}
		}
		ack.read(1)
		if err := p.batches.submit(ctx, e); err != nil {
			return err
		}
	}
}

// classifyOpen sorts failures to open an object: a missing object or a
// denied access stays so; anything else may pass on a later attempt.
func classifyOpen(err error) error {
	var se *source.Error
	if errors.As(err, &se) && se.Permanent {
		return permanent("object_unavailable", err)
	}
	return retryable("object_read", fmt.Errorf("open: %w", err))
}

// classifyRead sorts stream failures: a corrupt gzip stream will never read
// better; a cut connection may.
func classifyRead(ctx context.Context, line int, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	wrapped := fmt.Errorf("reading after line %d: %w", line, err)
	var corrupt flate.CorruptInputError
	if errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) || errors.As(err, &corrupt) {
		return permanent("corrupt_object", wrapped)
	}
	return retryable("object_read", wrapped)
}

// deadLetter turns a failed record into a write to the dead-letter index.
func (p *Pipeline) deadLetter(ack *objectAck, r deadletter.Record) entry {
	o := ack.ref
	r.Bucket, r.Key, r.VersionID, r.MessageID = o.Bucket, o.Key, o.VersionID, o.messageID
	return entry{
		item:       sink.Item{Index: p.o.DeadLetterIndex, ID: r.ID(), Body: r.Body(time.Now())},
		line:       r.Line,
		deadLetter: true,
		ack:        ack,
	}
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
