// Package pipeline moves notifications from the queue through object
// decoding and transformation into the search cluster. It owns concurrency and
// decides each message's fate: a message is deleted only when every record of
// every object it names is accounted for; otherwise it is returned to the
// queue or left for the queue's redrive policy.
package pipeline

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/logtide/logtide/worker/internal/metrics"
	"github.com/logtide/logtide/worker/internal/queue"
	"github.com/logtide/logtide/worker/internal/sink"
	"github.com/logtide/logtide/worker/internal/transform"
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

// Sink writes documents in bulk and reports each item's outcome.
type Sink interface {
	Bulk(ctx context.Context, items []sink.Item) ([]sink.Result, error)
}

// Transform turns one record into a document.
type Transform interface {
	Transform(line []byte) (transform.Document, error)
}

// Options tunes the pipeline. Zero values take the defaults below.
type Options struct {
	// Concurrency is the most messages processed at once (default 8); the
	// pipeline works with fewer while the cluster throttles, down to
	// MinConcurrency (default 1).
	Concurrency    int
	MinConcurrency int
	// SlowBulk is the bulk request duration above which the cluster counts as
	// overloaded and intake shrinks (default 10 s).
	SlowBulk time.Duration
	// MaxLineBytes bounds one record (default 4 MiB).
	MaxLineBytes int
	// BulkMaxDocs and BulkMaxBytes bound one bulk request (defaults 1000 and
	// 5 MiB).
	BulkMaxDocs  int
	BulkMaxBytes int
	// BulkConcurrency is the most bulk requests in flight (default 4); it
	// shrinks while the cluster throttles, like intake.
	BulkConcurrency int
	// BulkFlushInterval is the longest a document waits for its bulk request
	// to fill (default 50 ms).
	BulkFlushInterval time.Duration
	// BulkAttempts is how many times a bulk request with retryable failures is
	// sent before the message is returned to the queue (default 12: with the
	// default delays, several minutes of cluster outage or throttling).
	BulkAttempts int
	// RetryBase is the first retry delay; it doubles up to RetryMax, with
	// jitter (defaults 200 ms and 30 s).
	RetryBase, RetryMax time.Duration
	// ExitWhenIdle, when positive, ends Run once no message has been seen for
	// that long, nothing is in flight and the queue reports itself empty.
	ExitWhenIdle time.Duration
	// ShutdownGrace is how long in-flight messages may run on after the
	// context is cancelled (default 20 s, below ECS's 30 s stop timeout).
	ShutdownGrace time.Duration
	// DeadLetterIndex receives the records that cannot be indexed (default
	// "logtide-deadletter").
	DeadLetterIndex string
	// QueuePollInterval is how often the queue's depth is read for the
	// queue_messages gauge (default 30 s; negative disables).
	QueuePollInterval time.Duration
	// VisibilityTimeout overrides the queue's own; zero asks the queue.
	VisibilityTimeout time.Duration

	Logger  *slog.Logger
	Metrics *metrics.Metrics
}

func (o *Options) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Concurrency, 8)
	def(&o.MaxLineBytes, 4<<20)
	def(&o.BulkMaxDocs, 1000)
	def(&o.BulkMaxBytes, 5<<20)
	def(&o.BulkAttempts, 12)
	def(&o.BulkConcurrency, 4)
	defd(&o.BulkFlushInterval, 50*time.Millisecond)
	defd(&o.RetryBase, 200*time.Millisecond)
	defd(&o.RetryMax, 30*time.Second)
	defd(&o.ShutdownGrace, 20*time.Second)
	def(&o.MinConcurrency, 1)
	defd(&o.SlowBulk, 10*time.Second)
	if o.QueuePollInterval == 0 {
		o.QueuePollInterval = 30 * time.Second
	}
	if o.DeadLetterIndex == "" {
		o.DeadLetterIndex = "logtide-deadletter"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = metrics.New("")
	}
}

// Pipeline is the worker's processing loop.
type Pipeline struct {
	q   Queue
	src Source
	snk Sink
	tr  Transform
	o   Options
	log *slog.Logger
	m   *metrics.Metrics
	// intake bounds and adapts the messages in work.
	intake *limiter
	// deletes batches the deletes of finished messages.
	deletes *deleter
	// batches gathers documents of all objects into bulk requests.
	batches *batcher
	// working counts messages in work (not slots reserved for a receive).
	working atomic.Int64
}

// New assembles a pipeline.
func New(q Queue, src Source, snk Sink, tr Transform, o Options) *Pipeline {
	o.defaults()
	p := &Pipeline{q: q, src: src, snk: snk, tr: tr, o: o, log: o.Logger, m: o.Metrics, deletes: newDeleter(q)}
	p.intake = newLimiter(o.MinConcurrency, o.Concurrency, func(n int) { p.m.IntakeLimit.Set(float64(n)) })
	p.batches = newBatcher(p)
	return p
}

// Run receives and processes messages until ctx is cancelled (or the queue
// stays idle, see Options.ExitWhenIdle). Cancelling ctx stops receiving at
// once; messages in flight get ShutdownGrace to finish, after which they are
// made visible again, never deleted. Run returns nil on a clean stop.
func (p *Pipeline) Run(ctx context.Context) error {
	vis := p.o.VisibilityTimeout
	if vis <= 0 {
		v, _, err := p.q.Attributes(ctx)
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
		t := time.NewTimer(p.o.ShutdownGrace)
		defer t.Stop()
		select {
		case <-t.C:
			p.log.Warn("shutdown grace period over; returning unfinished messages to the queue", "grace", p.o.ShutdownGrace)
			cancelWork()
		case <-workCtx.Done():
		}
	})
	defer stopGrace()

	deletesDone := make(chan struct{})
	go func() {
		defer close(deletesDone)
		p.deletes.run()
	}()
	batchesDone := make(chan struct{})
	go func() {
		defer close(batchesDone)
		p.batches.run(workCtx)
	}()
	// Every goroutine below returns once ctx is done and its message, if
	// any, is settled.
	var g sync.WaitGroup
	pollCtx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	if p.o.QueuePollInterval > 0 {
		g.Go(func() { p.pollDepth(pollCtx) })
	}
	// Handlers live as long as the run and take messages one after the
	// other: a fresh goroutine per message would grow its stack through the
	// SDK's deep call chains again for every message. There is one per slot
	// of the intake, so a received message never waits long for one.
	work := make(chan queue.Message)
	for range p.o.Concurrency {
		g.Go(func() {
			for m := range work {
				p.handle(workCtx, m, vis)
				// The slot is freed when the message's fate is settled.
				p.working.Add(-1)
				p.intake.release(1)
			}
		})
	}
	start := func(m queue.Message) {
		p.working.Add(1)
		work <- m
	}
	// One receive loop takes at most ten messages per round trip; with many
	// messages in flight (small objects finish fast) several loops keep the
	// handlers fed. The first loop to find the queue idle stops them all.
	recvCtx, stopReceiving := context.WithCancel(ctx)
	var receivers sync.WaitGroup
	for range p.receivers() {
		receivers.Go(func() {
			defer stopReceiving()
			p.receive(recvCtx, start)
		})
	}
	receivers.Wait()
	stopReceiving()
	close(work)
	stopPoll()
	g.Wait()
	// Every handler has settled its message: no document and no delete can
	// come after this.
	close(p.batches.in)
	<-batchesDone
	p.deletes.close()
	<-deletesDone
	return nil
}

// receivers is how many receive loops run: one per 16 messages of
// Concurrency, at most 8.
func (p *Pipeline) receivers() int { return min(8, (p.o.Concurrency+15)/16) }

// receive asks for exactly as many messages as the intake admits, so no
// message waits in memory while its visibility timeout runs. It returns when
// ctx is done or, with ExitWhenIdle, when the queue has stayed empty.
func (p *Pipeline) receive(ctx context.Context, start func(queue.Message)) {
	lastBusy := time.Now()
	failures := 0
	for {
		// Receive in batches: waiting for half of this loop's share of the
		// slots (up to 10) to free up costs little latency and saves most
		// of the receive requests.
		n := p.intake.acquire(ctx, min(10, (p.o.Concurrency/p.receivers()+1)/2), 10)
		if n == 0 {
			return
		}
		msgs, err := p.q.Receive(ctx, n)
		if len(msgs) < n {
			p.intake.release(n - len(msgs))
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			d := backoff(p.o.RetryBase, p.o.RetryMax, failures)
			p.log.Error("receive failed", "err", err, "retry_in", d)
			if !sleep(ctx, d) {
				return
			}
			continue
		}
		failures = 0
		for _, m := range msgs {
			p.m.MessagesReceived.Inc()
			if !m.SentAt.IsZero() {
				p.m.MessageAge.Observe(max(0, time.Since(m.SentAt).Seconds()))
			}
			start(m)
		}
		if len(msgs) > 0 || p.working.Load() > 0 {
			lastBusy = time.Now()
			continue
		}
		if p.o.ExitWhenIdle > 0 && time.Since(lastBusy) >= p.o.ExitWhenIdle {
			// Messages may be in flight at other workers or delayed: only an
			// empty queue ends the run.
			_, depth, err := p.q.Attributes(ctx)
			if err == nil && depth.Total() == 0 {
				p.log.Info("queue idle; stopping", "idle_for", time.Since(lastBusy).Round(time.Second))
				return
			}
		}
	}
}

// pollDepth publishes the queue's depth until ctx is done, so dashboards and
// alerts see the backlog from the workers' own metrics.
func (p *Pipeline) pollDepth(ctx context.Context) {
	t := time.NewTicker(p.o.QueuePollInterval)
	defer t.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, d, err := p.q.Attributes(cctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			p.m.QueuePollFailures.Inc()
			p.log.Warn("reading the queue's depth failed", "err", err)
		} else {
			p.m.QueueMessages.WithLabelValues("visible").Set(float64(d.Visible))
			p.m.QueueMessages.WithLabelValues("in_flight").Set(float64(d.InFlight))
			p.m.QueueMessages.WithLabelValues("delayed").Set(float64(d.Delayed))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
