// Package pipeline moves notifications from the queue through object
// decoding and transformation into the bulk layer. It owns the worker's
// goroutines and decides each message's fate: a message is deleted only when
// every record of every object it names is accounted for; otherwise it is
// returned to the queue or kept there for the queue's redrive policy.
//
// The path of one message, file by file: receive.go (the receive loop and
// the adaptive intake), message.go (the message's fate and its visibility
// heartbeat), object.go (an object streamed record by record into the bulk
// layer), tracker.go (each object's count of records and their outcomes),
// delete.go (batched deletes).
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/internal/bulk"
	"github.com/logtide/logtide/worker/internal/indexname"
	"github.com/logtide/logtide/worker/internal/limit"
	"github.com/logtide/logtide/worker/internal/metrics"
	"github.com/logtide/logtide/worker/internal/queue"
)

// Queue is the part of the SQS client the pipeline uses.
type Queue interface {
	Receive(ctx context.Context, max int) ([]queue.Message, error)
	DeleteBatch(ctx context.Context, msgs []queue.Message) ([]error, error)
	SetVisibility(ctx context.Context, m queue.Message, d time.Duration) error
	Attributes(ctx context.Context) (time.Duration, queue.Depth, error)
}

// Source opens an object as a stream.
type Source interface {
	Open(ctx context.Context, bucket, key, versionID string) (io.ReadCloser, error)
}

// Router chooses the format of each object from its key.
type Router interface {
	Route(key string) (format.Format, format.Claim)
}

// Options tunes the pipeline. Start from DefaultOptions.
type Options struct {
	// Concurrency is the most messages processed at once; the pipeline works
	// with fewer while the cluster throttles, down to MinConcurrency.
	Concurrency    int
	MinConcurrency int
	// MaxLineBytes bounds one record.
	MaxLineBytes int
	// ExitWhenIdle, when positive, ends Run once no message has been seen for
	// that long, nothing is in flight and the queue reports itself empty.
	ExitWhenIdle time.Duration
	// ShutdownGrace is how long in-flight messages may run on after the
	// context is cancelled (below ECS's 30 s stop timeout).
	ShutdownGrace time.Duration
	// DeadLetterIndex receives the records that cannot be indexed.
	DeadLetterIndex string
	// QueuePollInterval is how often the queue's depth is read for the
	// queue_messages gauge (negative disables).
	QueuePollInterval time.Duration
	// VisibilityTimeout overrides the queue's own; zero asks the queue.
	VisibilityTimeout time.Duration
	// RetryBase and RetryMax bound the waits between failed receives.
	RetryBase, RetryMax time.Duration
	// StallTimeout is how long the pipeline may hold messages without any
	// progress (a record read, a document written, a message finished)
	// before Health reports it stuck. Waiting for the cluster is not being
	// stuck. Zero disables the check.
	StallTimeout time.Duration

	// Bulk tunes the bulk requests shared by every object in work.
	Bulk bulk.Options

	Logger  *slog.Logger
	Metrics *metrics.Metrics
}

// DefaultOptions are the worker's defaults.
func DefaultOptions() Options {
	return Options{
		Concurrency:       8,
		MinConcurrency:    1,
		MaxLineBytes:      4 << 20,
		ShutdownGrace:     20 * time.Second,
		DeadLetterIndex:   "logtide-deadletter",
		QueuePollInterval: 30 * time.Second,
		RetryBase:         200 * time.Millisecond,
		RetryMax:          30 * time.Second,
		StallTimeout:      10 * time.Minute,
		Bulk:              bulk.DefaultOptions(),
	}
}

// Validate checks the options together.
func (o *Options) Validate() error {
	var errs []error
	if o.Concurrency < 1 || o.Concurrency > 1000 {
		errs = append(errs, fmt.Errorf("concurrency %d: want 1..1000", o.Concurrency))
	}
	if o.MinConcurrency < 1 || o.MinConcurrency > o.Concurrency {
		errs = append(errs, fmt.Errorf("min-concurrency %d: want 1..concurrency", o.MinConcurrency))
	}
	if o.MaxLineBytes < 1024 {
		errs = append(errs, fmt.Errorf("max-line-bytes %d: want at least 1024", o.MaxLineBytes))
	}
	if o.ExitWhenIdle < 0 {
		errs = append(errs, errors.New("exit-when-idle must not be negative"))
	}
	if o.ShutdownGrace < 0 {
		errs = append(errs, errors.New("shutdown-grace must not be negative"))
	}
	if o.StallTimeout < 0 {
		errs = append(errs, errors.New("stall-timeout must not be negative"))
	}
	if err := indexname.Check(o.DeadLetterIndex); err != nil {
		errs = append(errs, fmt.Errorf("dead-letter-index %q: %w", o.DeadLetterIndex, err))
	}
	errs = append(errs, o.Bulk.Validate())
	return errors.Join(errs...)
}

// Pipeline is the worker's processing loop.
type Pipeline struct {
	queue   Queue
	source  Source
	router  Router
	opts    Options
	log     *slog.Logger
	metrics *metrics.Metrics
	// intake bounds and adapts the messages in work.
	intake *limit.Adaptive
	// deletes batches the deletes of finished messages.
	deletes *deleter
	// bulk gathers documents of all objects into bulk requests.
	bulk *bulk.Batcher
	// records counts records by outcome (label lookups done once).
	records recordCounters
	// working counts messages in work (not slots reserved for a receive).
	working atomic.Int64
	// progress counts steps of work: records read, documents written,
	// messages finished. Health watches it.
	progress atomic.Uint64
	health   struct {
		mu    sync.Mutex
		seen  uint64    // progress at the last look
		since time.Time // when progress was last seen to move
	}
}

// New assembles a pipeline writing through w. The options must be valid
// (see Options.Validate).
func New(q Queue, src Source, w bulk.Writer, r Router, o Options) *Pipeline {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = metrics.New("")
	}
	m := o.Metrics
	p := &Pipeline{queue: q, source: src, router: r, opts: o, log: o.Logger, metrics: m, deletes: newDeleter(q)}
	p.intake = limit.New(o.MinConcurrency, o.Concurrency, func(n int) { m.IntakeLimit.Set(float64(n)) })
	bo := o.Bulk
	bo.Pressure, bo.Logger, bo.Metrics = p.intake, o.Logger, m
	p.bulk = bulk.New(w, bo)
	p.records = newRecordCounters(m)
	p.health.since = time.Now()
	return p
}

// Health reports an error when messages are in work but nothing has moved
// for StallTimeout: the worker is stuck and had better be replaced (its
// messages then return to the queue). Waiting for the cluster to take a
// request is not being stuck: the worker keeps its messages and resumes
// when the cluster does.
func (p *Pipeline) Health() error {
	if p.opts.StallTimeout <= 0 {
		return nil
	}
	n := p.progress.Load()
	p.health.mu.Lock()
	defer p.health.mu.Unlock()
	now := time.Now()
	if n != p.health.seen || p.working.Load() == 0 || p.intake.Paused() {
		p.health.seen, p.health.since = n, now
		return nil
	}
	if d := now.Sub(p.health.since); d > p.opts.StallTimeout {
		return fmt.Errorf("no progress for %s with %d messages in work", d.Round(time.Second), p.working.Load())
	}
	return nil
}

// Run receives and processes messages until ctx is cancelled (or the queue
// stays idle, see Options.ExitWhenIdle). Cancelling ctx stops receiving at
// once; messages in flight get ShutdownGrace to finish, after which they are
// made visible again, never deleted. Run returns nil on a clean stop.
func (p *Pipeline) Run(ctx context.Context) error {
	vis := p.opts.VisibilityTimeout
	if vis <= 0 {
		v, _, err := p.queue.Attributes(ctx)
		if err != nil {
			return fmt.Errorf("reading the queue's visibility timeout: %w", err)
		}
		vis = v
	}
	if vis < 2*time.Second {
		vis = 2 * time.Second
	}

	// Work outlives the receive context by the grace period: a shutdown stops
	// intake immediately but lets finished work be written and deleted.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stopGrace := context.AfterFunc(ctx, func() {
		t := time.NewTimer(p.opts.ShutdownGrace)
		defer t.Stop()
		select {
		case <-t.C:
			p.log.Warn("shutdown grace period over; returning unfinished messages to the queue", "grace", p.opts.ShutdownGrace)
			cancelWork()
		case <-workCtx.Done():
		}
	})
	defer stopGrace()

	// The deleter and the batcher outlive every handler: they are closed
	// once the last handler has decided its message's fate.
	var writers sync.WaitGroup
	writers.Go(p.deletes.run)
	writers.Go(func() { p.bulk.Run(workCtx) })

	var handlers sync.WaitGroup
	pollCtx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	if p.opts.QueuePollInterval > 0 {
		handlers.Go(func() { p.pollDepth(pollCtx) })
	}
	// Handlers live as long as the run and take messages one after the
	// other: a fresh goroutine per message would grow its stack through the
	// SDK's deep call chains again for every message. There is one per slot
	// of the intake, so a received message never waits long for one.
	work := make(chan queue.Message)
	for range p.opts.Concurrency {
		handlers.Go(func() {
			for m := range work {
				p.handle(workCtx, m, vis)
				// The slot is freed once the message's fate is decided.
				p.working.Add(-1)
				p.progress.Add(1)
				p.intake.Release(1)
			}
		})
	}
	p.receiveAll(ctx, work)
	close(work)
	stopPoll()
	handlers.Wait()
	// Every handler has decided its message's fate: no document and no
	// delete can come after this.
	p.bulk.Close()
	p.deletes.close()
	writers.Wait()
	return nil
}
