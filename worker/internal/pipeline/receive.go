package pipeline

import (
	"context"
	"sync"
	"time"

	"github.com/logtide/logtide/worker/internal/backoff"
	"github.com/logtide/logtide/worker/internal/queue"
)

// receiveAll runs the receive loops until ctx is done or, with ExitWhenIdle,
// the queue has stayed empty. One loop takes at most ten messages per round
// trip; with many messages in flight (small objects finish fast) several
// loops keep the handlers fed. The first loop to find the queue idle stops
// them all.
func (p *Pipeline) receiveAll(ctx context.Context, work chan<- queue.Message) {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var loops sync.WaitGroup
	for range p.receivers() {
		loops.Go(func() {
			defer stop()
			p.receive(ctx, work)
		})
	}
	loops.Wait()
}

// receivers is how many receive loops run: one per 16 messages of
// Concurrency, at most 8.
func (p *Pipeline) receivers() int { return min(8, (p.opts.Concurrency+15)/16) }

// receive asks for exactly as many messages as the intake admits, so no
// message waits in memory while its visibility timeout runs.
func (p *Pipeline) receive(ctx context.Context, work chan<- queue.Message) {
	lastBusy := time.Now()
	failures := 0
	for {
		// Receive in batches: waiting for half of this loop's share of the
		// slots (up to 10) to free up costs little latency and saves most
		// of the receive requests.
		n := p.intake.Acquire(ctx, min(10, (p.opts.Concurrency/p.receivers()+1)/2), 10)
		if n == 0 {
			return
		}
		msgs, err := p.queue.Receive(ctx, n)
		if len(msgs) < n {
			p.intake.Release(n - len(msgs))
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			d := backoff.Delay(p.opts.RetryBase, p.opts.RetryMax, failures)
			p.log.Error("receive failed", "err", err, "retry_in", d)
			if !backoff.Sleep(ctx, d) {
				return
			}
			continue
		}
		failures = 0
		for _, m := range msgs {
			p.metrics.MessagesReceived.Inc()
			if !m.SentAt.IsZero() {
				p.metrics.MessageAge.Observe(max(0, time.Since(m.SentAt).Seconds()))
			}
			p.working.Add(1)
			work <- m
		}
		if len(msgs) > 0 || p.working.Load() > 0 {
			lastBusy = time.Now()
			continue
		}
		if p.opts.ExitWhenIdle > 0 && time.Since(lastBusy) >= p.opts.ExitWhenIdle {
			// Messages may be in flight at other workers or delayed: only an
			// empty queue ends the run.
			_, depth, err := p.queue.Attributes(ctx)
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
	t := time.NewTicker(p.opts.QueuePollInterval)
	defer t.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, d, err := p.queue.Attributes(cctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			p.metrics.QueuePollFailures.Inc()
			p.log.Warn("reading the queue's depth failed", "err", err)
		} else {
			p.metrics.QueueMessages.WithLabelValues("visible").Set(float64(d.Visible))
			p.metrics.QueueMessages.WithLabelValues("in_flight").Set(float64(d.InFlight))
			p.metrics.QueueMessages.WithLabelValues("delayed").Set(float64(d.Delayed))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
