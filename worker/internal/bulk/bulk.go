// Package bulk gathers the documents of many producers into bulk requests,
// keeps a bounded, adaptive number of requests in flight, sends again what
// the cluster did not take, and tells each document's owner what became of
// it. It knows nothing of queues, messages or objects: every entry carries
// the owner to tell.
package bulk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/logtide/logtide/worker/internal/limit"
	"github.com/logtide/logtide/worker/internal/metrics"
	"github.com/logtide/logtide/worker/internal/sink"
)

// Writer sends one bulk request and reports each item's outcome.
type Writer interface {
	Bulk(ctx context.Context, items []sink.Item) ([]sink.Result, error)
}

// Entry is one document on its way to the cluster.
type Entry struct {
	sink.Item
	// Owner is told what becomes of the entry.
	Owner Owner
	// Line is the owner's number for the entry (a record's line in its
	// object), handed back unchanged.
	Line int
	// Replacement marks an entry written in place of one the cluster
	// refused (its dead-letter document); it is never replaced in turn.
	Replacement bool
}

func (e *Entry) size() int { return len(e.Body) + len(e.ID) + len(e.Index) + 64 }

// Owner learns what becomes of its entries. Its methods are called from the
// goroutines that send requests and must not block.
type Owner interface {
	// Replace returns the entry to write in place of e, which the cluster
	// refused for good (a mapping error, say), or false when there is none.
	Replace(e *Entry, r sink.Result) (Entry, bool)
	// Done is told the outcome of e, once for every entry SubmitAll accepted:
	// err is nil when the document is written or the index already holds
	// it at this or a newer version (r.Outcome says which). An error means
	// the run is stopping (ctx ended) or the cluster refused e for good and
	// Replace gave nothing in its place.
	Done(e *Entry, r sink.Result, err error)
}

// Pressure is told how the cluster copes, so that whoever feeds the batcher
// can take less work while it struggles.
type Pressure interface {
	// Throttled: the cluster pushed back (429, 5xx, unreachable, slow).
	Throttled()
	// Accepted: a request went through.
	Accepted()
	// Pause: a request waits for the cluster to take it; take nothing new
	// until the matching Resume.
	Pause()
	Resume()
}

// Options tunes the batcher.
type Options struct {
	// MaxDocs and MaxBytes bound one request.
	MaxDocs, MaxBytes int
	// Concurrency is the most requests in flight; it halves while the
	// cluster throttles and grows back as it accepts.
	Concurrency int
	// FlushInterval is the longest a document waits for its request to fill.
	FlushInterval time.Duration
	// SlowRequest is the duration above which a request counts as the
	// cluster being overloaded.
	SlowRequest time.Duration
	// RequestTimeout bounds one request, from sending its first byte to
	// reading its last: a cluster that stalls cannot hold a sender forever.
	RequestTimeout time.Duration
	// RetryBase is the first delay before a request or items the cluster did
	// not take are sent again; it doubles up to RetryMax, with jitter. There
	// is no last attempt: what the cluster does not take waits, with intake
	// paused, until it does or the worker stops.
	RetryBase, RetryMax time.Duration

	// Pressure, if not nil, is told how the cluster copes.
	Pressure Pressure
	Logger   *slog.Logger
	Metrics  *metrics.Metrics
}

// DefaultOptions are the worker's defaults.
func DefaultOptions() Options {
	return Options{
		MaxDocs:        1000,
		MaxBytes:       5 << 20,
		Concurrency:    4,
		FlushInterval:  50 * time.Millisecond,
		SlowRequest:    10 * time.Second,
		RequestTimeout: 2 * time.Minute,
		RetryBase:      200 * time.Millisecond,
		RetryMax:       30 * time.Second,
	}
}

// Validate checks the options together.
func (o *Options) Validate() error {
	var errs []error
	if o.Concurrency < 1 || o.Concurrency > 256 {
		errs = append(errs, fmt.Errorf("bulk-concurrency %d: want 1..256", o.Concurrency))
	}
	if o.FlushInterval <= 0 {
		errs = append(errs, errors.New("bulk-flush-interval must be positive"))
	}
	if o.SlowRequest <= 0 {
		errs = append(errs, errors.New("bulk-slow must be positive"))
	}
	if o.MaxDocs < 1 || o.MaxBytes < 1024 {
		errs = append(errs, errors.New("bulk-max-docs must be at least 1 and bulk-max-bytes at least 1024"))
	}
	if o.RequestTimeout <= 0 {
		errs = append(errs, errors.New("bulk-timeout must be positive"))
	}
	if o.RetryBase <= 0 || o.RetryMax < o.RetryBase {
		errs = append(errs, errors.New("bulk retry delays: want 0 < base ≤ max"))
	}
	return errors.Join(errs...)
}

// Batcher gathers the documents of every producer into bulk requests bounded
// by count and bytes, sends a request when it is full or when the flush
// interval has passed since its first document, and keeps up to Concurrency
// requests in flight. SubmitAll blocks while every sender is busy and the next
// request is full: memory stays bounded by (Concurrency + 2) requests and
// what each producer hands over at once, whatever the number of producers.
type Batcher struct {
	w       Writer
	opts    Options
	log     *slog.Logger
	metrics *metrics.Metrics
	in      chan []Entry
	senders *limit.Adaptive
	// maxBytes bounds one request: MaxBytes, lowered when the cluster
	// refuses a request as too large.
	maxBytes atomic.Int64
	// ended is signalled when a producer has submitted its last entry, freed
	// when a sender is done: a producer that waits only for the current
	// request gets it sent as soon as a sender is free, instead of after the
	// flush interval, while producers still streaming fill requests to their
	// limits.
	ended chan struct{}
	freed chan struct{}
}

// New returns a batcher writing to w; Run starts it.
func New(w Writer, o Options) *Batcher {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = metrics.New("")
	}
	if o.Pressure == nil {
		o.Pressure = noPressure{}
	}
	m := o.Metrics
	b := &Batcher{
		w:       w,
		opts:    o,
		log:     o.Logger,
		metrics: m,
		in:      make(chan []Entry),
		ended:   make(chan struct{}, 1),
		freed:   make(chan struct{}, 1),
		senders: limit.New(1, o.Concurrency, func(n int) { m.BulkConcurrency.Set(float64(n)) }),
	}
	b.maxBytes.Store(int64(o.MaxBytes))
	m.BulkMaxBytes.Set(float64(o.MaxBytes))
	return b
}

// gatherWindow is how long a request that an ended producer waits for is
// held for other producers ending at about the same time.
const gatherWindow = 2 * time.Millisecond

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Ended tells the batcher that a producer has submitted its last entry.
func (b *Batcher) Ended() { signal(b.ended) }

// SubmitAll hands entries to the batcher at once: a producer with many
// documents pays for one hand-over, not one per document. Once it returns
// nil, the Owner of each entry is told its outcome, and the batcher owns es:
// the caller must not touch it again. An error (ctx is done) means no entry
// was taken.
func (b *Batcher) SubmitAll(ctx context.Context, es []Entry) error {
	if len(es) == 0 {
		return nil
	}
	select {
	case b.in <- es:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close ends Run once every submitted entry has an outcome. No SubmitAll may
// follow.
func (b *Batcher) Close() { close(b.in) }

// Run batches until Close, then sends what is left and waits for every
// request in flight. ctx cancels the requests themselves (the shutdown grace
// is over): their entries fail.
func (b *Batcher) Run(ctx context.Context) {
	var senders sync.WaitGroup
	defer senders.Wait()
	var cur []Entry
	size := 0
	waiting := false // an ended producer waits for the current request
	flush := time.NewTimer(time.Hour)
	flush.Stop()
	// An ended producer waits a moment for others ending at about the same
	// time, so that small objects share requests.
	gather := time.NewTimer(time.Hour)
	gather.Stop()
	gathering := false

	dispatch := func() {
		batch := cur
		cur, size, waiting = nil, 0, false
		flush.Stop()
		senders.Go(func() {
			defer signal(b.freed)
			defer b.senders.Release(1)
			b.write(ctx, batch)
		})
	}
	// send waits for a free sender: the backpressure that bounds memory.
	send := func() {
		if len(cur) == 0 {
			return
		}
		if b.senders.Acquire(ctx, 1, 1) == 0 {
			for i := range cur {
				cur[i].Owner.Done(&cur[i], sink.Result{}, ctx.Err())
			}
			cur, size, waiting = nil, 0, false
			return
		}
		dispatch()
	}
	sendIfFree := func() {
		if waiting && len(cur) > 0 && b.senders.TryAcquire() {
			dispatch()
		}
	}
	for {
		select {
		case es, ok := <-b.in:
			if !ok {
				send()
				return
			}
			for i := range es {
				if len(cur) == 0 {
					flush.Reset(b.opts.FlushInterval)
				}
				cur = append(cur, es[i])
				size += es[i].size()
				if len(cur) >= b.opts.MaxDocs || int64(size) >= b.maxBytes.Load() {
					send()
				}
			}
		case <-flush.C:
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

type noPressure struct{}

func (noPressure) Throttled() {}
func (noPressure) Accepted()  {}
func (noPressure) Pause()     {}
func (noPressure) Resume()    {}
