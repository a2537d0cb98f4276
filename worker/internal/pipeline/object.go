package pipeline

import (
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/internal/bulk"
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

// object streams one object into the bulk layer and waits for the outcome
// of every document it submitted. It returns nil only when every record of
// the object is accounted for: indexed, already present (at this or a newer
// version), skipped (a line that holds no record, such as a header) or
// dead-lettered with its reason.
func (p *Pipeline) object(ctx context.Context, log *slog.Logger, o objectRef) error {
	start := time.Now()
	log = log.With("bucket", o.Bucket, "key", o.Key)
	f, claim := p.router.Route(o.Key)
	switch claim {
	case format.NotMine:
		p.metrics.Objects.WithLabelValues("failed").Inc()
		err := permanent("unrouted", fmt.Errorf("s3://%s/%s: no format reads this key; add a --route rule naming its format", o.Bucket, o.Key))
		log.Error("object failed", "err", err)
		return err
	case format.Skip:
		p.metrics.Objects.WithLabelValues("skipped").Inc()
		if f == nil {
			log.Info("object skipped", "by", "a --route rule")
		} else {
			log.Info("object skipped", "format", f.Name())
		}
		return nil
	}
	p.metrics.ObjectsInFlight.Inc()
	defer p.metrics.ObjectsInFlight.Dec()
	t := p.newTracker(o)
	var bytes int64
	err := p.stream(ctx, t, f, &bytes)
	p.bulk.Ended()
	t.end(err)
	<-t.done // every submitted document has its outcome
	c, err := t.result()
	if err == nil && !c.balanced() {
		err = retryable("unbalanced", fmt.Errorf("%d records read but %d indexed, %d stale, %d skipped, %d dead-lettered", c.read, c.indexed, c.stale, c.skipped, c.deadLettered))
	}
	var se *source.Error
	if err != nil && !errors.As(err, &se) { // source errors name the object already
		err = fmt.Errorf("s3://%s/%s: %w", o.Bucket, o.Key, err)
	}
	p.metrics.ObjectBytes.Add(float64(bytes))
	p.records.read.Add(float64(c.read))
	attrs := []any{"records_read", c.read, "records_indexed", c.indexed, "records_stale", c.stale,
		"records_skipped", c.skipped, "records_dead_lettered", c.deadLettered, "balanced", err == nil}
	if h := c.history; h.written+h.duplicate+h.deadLettered > 0 {
		attrs = append(attrs, "history_written", h.written, "history_duplicate", h.duplicate, "history_dead_lettered", h.deadLettered)
	}
	if err != nil {
		p.metrics.Objects.WithLabelValues("failed").Inc()
		log.Error("object failed", append(attrs, "err", err)...)
		return err
	}
	p.metrics.Objects.WithLabelValues("done").Inc()
	if !o.EventTime.IsZero() {
		p.metrics.Lag.Observe(time.Since(o.EventTime).Seconds())
	}
	log.Info("object done", append(attrs, "format", f.Name(), "bytes", bytes, "duration", time.Since(start).Round(time.Millisecond))...)
	return nil
}

// stream reads the object and submits a document (or a dead-letter document)
// for every record. An error means the stream broke off.
func (p *Pipeline) stream(ctx context.Context, t *tracker, f format.Format, bytes *int64) (err error) {
	o := t.ref
	body, err := p.source.Open(ctx, o.Bucket, o.Key, o.VersionID)
	if err != nil {
		return classifyOpen(err)
	}
	defer body.Close()
	in, err := decode.Open(&countingReader{r: body, n: bytes})
	if err != nil {
		return classifyRead(ctx, 0, err)
	}
	defer in.Close()
	sc := p.frame(in, f.Framing())
	defer sc.Close()
	dec := f.Decoder(format.Object{Bucket: o.Bucket, Key: o.Key, VersionID: o.VersionID})
	hist, _ := f.(format.History)
	// Documents go to the bulk layer a handful at a time: one hand-over
	// per document cost the flow-log row a fifth of its CPU. What was
	// gathered is handed over however the stream ends.
	var out handOver
	defer func() {
		if ferr := out.flush(ctx, t); err == nil {
			err = ferr
		}
	}()
	for {
		rec, line, err := sc.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var e bulk.Entry
		var copied *bulk.Entry // the document's history copy, if any
		var le *decode.LineError
		switch {
		case errors.As(err, &le):
			e = t.deadLetter(deadletter.Record{Line: line, Stage: deadletter.StageDecode, Reason: le.Reason, Raw: le.Head, RawBytes: le.Size})
		case err != nil:
			return classifyRead(ctx, line, err)
		default:
			doc, err := dec.Decode(rec, line)
			switch {
			case errors.Is(err, format.ErrNotARecord):
				t.read()
				t.skip()
				continue
			case err != nil:
				e = t.deadLetter(deadletter.Record{Line: line, Stage: deadletter.StageTransform, Reason: err.Error(), Raw: rec})
			default:
				// rec is reused by the scanner; the document's body is a copy.
				e = bulk.Entry{Item: sink.Item{Index: doc.Index, ID: doc.ID, Version: doc.Version, Body: doc.Body}, Line: line, Owner: t}
				if hist != nil {
					if h, ok := hist.HistoryOf(doc); ok {
						copied = &bulk.Entry{Item: sink.Item{Index: h.Index, ID: h.ID, Version: h.Version, Body: h.Body}, Line: line, Owner: t.history}
					}
				}
			}
		}
		out.add(e)
		if copied != nil {
			out.add(*copied)
		}
		out.reads++
		if out.full() {
			if err := out.flush(ctx, t); err != nil {
				return err
			}
		}
	}
}

// handOver gathers the documents of one object's records for the bulk
// layer, up to handOverDocs documents or handOverBytes of them. The first
// hand-over of an object grows as it fills (an object of one record makes a
// slice of one); the next ones start at the size the last one reached.
type handOver struct {
	entries []bulk.Entry
	bytes   int
	reads   int // records read since the last flush
	size    int // the length of the last hand-over
}

const (
	handOverDocs  = 64
	handOverBytes = 256 << 10
)

func (h *handOver) add(e bulk.Entry) {
	if h.entries == nil && h.size > 0 {
		h.entries = make([]bulk.Entry, 0, h.size)
	}
	h.entries = append(h.entries, e)
	h.bytes += len(e.Body)
}

func (h *handOver) full() bool { return len(h.entries) >= handOverDocs || h.bytes >= handOverBytes }

// flush counts the records read and hands what was gathered over; the bulk
// layer keeps the slice, so the next record starts a new one.
func (h *handOver) flush(ctx context.Context, t *tracker) error {
	if h.reads == 0 && len(h.entries) == 0 {
		return nil
	}
	err := t.submit(ctx, h.reads, h.entries)
	*h = handOver{size: len(h.entries)}
	return err
}

// records cuts an object's content into records.
type records interface {
	// Next returns the next record and its line; see decode.Scanner.
	Next() ([]byte, int, error)
	Close()
}

// frame reads the records of an object in the format's framing.
func (p *Pipeline) frame(in io.Reader, f format.Framing) records {
	switch f {
	case format.Lines:
		return decode.NewScanner(in, p.opts.MaxLineBytes)
	case format.RecordsArray:
		return decode.NewArrayScanner(in, "Records", p.opts.MaxLineBytes)
	}
	panic(fmt.Sprintf("pipeline: unknown framing %d", f))
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

// classifyRead sorts stream failures: a corrupt gzip stream or an encoding
// the worker does not read will never read better; a cut connection may.
func classifyRead(ctx context.Context, line int, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	wrapped := fmt.Errorf("reading after line %d: %w", line, err)
	var corrupt flate.CorruptInputError
	var unsupported *decode.UnsupportedError
	var syntax *decode.SyntaxError
	switch {
	case errors.As(err, &unsupported):
		return permanent("unsupported_encoding", err)
	case errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) || errors.As(err, &corrupt) || errors.As(err, &syntax):
		return permanent("corrupt_object", wrapped)
	}
	return retryable("object_read", wrapped)
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
