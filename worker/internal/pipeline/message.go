package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/logtide/logtide/worker/internal/queue"
	"github.com/logtide/logtide/worker/internal/s3event"
)

// settleTimeout bounds the final delete or visibility change of a message; it
// runs even when work was cancelled, so it needs its own deadline.
const settleTimeout = 10 * time.Second

// failure is a classified reason a message cannot be deleted yet.
type failure struct {
	// permanent: retrying will not help; leave the message for the queue's
	// redrive (DLQ) instead of returning it hot.
	permanent bool
	// reason is a low-cardinality label for metrics.
	reason string
	err    error
}

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

func permanent(reason string, err error) error {
	return &failure{permanent: true, reason: reason, err: err}
}
func retryable(reason string, err error) error { return &failure{reason: reason, err: err} }

// handle processes one message and decides its fate; this is the only place
// that deletes, returns or leaves a message.
func (p *Pipeline) handle(ctx context.Context, m queue.Message, vis time.Duration) {
	p.m.MessagesInFlight.Inc()
	defer p.m.MessagesInFlight.Dec()
	log := p.log.With("message_id", m.ID, "receive_count", m.ReceiveCount)
	log.Debug("message received")

	note, err := s3event.Parse(m.Body)
	if err != nil {
		p.leave(log, m, permanent("unparsable_body", err))
		return
	}
	if len(note.Objects) == 0 {
		reason := "nothing_to_do"
		if note.Test {
			reason = "test_event"
		}
		p.delete(log, m, reason)
		return
	}

	// Keep the message hidden while it is in work, however long that takes.
	hb := p.startHeartbeat(ctx, log, m, vis)
	err = p.objects(ctx, log, m.ID, note.Objects)
	hb.stop()

	var f *failure
	switch {
	case err == nil:
		p.delete(log, m, "done")
	case ctx.Err() != nil:
		p.giveBack(log, m, 0, "shutdown", err)
	case errors.As(err, &f) && f.permanent:
		p.leave(log, m, err)
	default:
		// Try again later, not hot: the delay grows with each receive.
		p.giveBack(log, m, backoff(5*time.Second, 5*time.Minute, m.ReceiveCount), "retryable", err)
	}
}

func (p *Pipeline) objects(ctx context.Context, log *slog.Logger, messageID string, objs []s3event.Object) error {
	for _, o := range objs {
		if err := p.object(ctx, log, objectRef{Object: o, messageID: messageID}); err != nil {
			return err
		}
	}
	return nil
}

func (p *Pipeline) delete(log *slog.Logger, m queue.Message, reason string) {
	p.deletes.delete(m, func(err error) {
		if err != nil {
			// The work is durable; a redelivery will find every document
			// already at its version and succeed as a no-op.
			log.Error("delete failed; the message will be redelivered", "err", err)
			return
		}
		p.m.MessagesDeleted.WithLabelValues(reason).Inc()
		log.Debug("message deleted", "reason", reason)
	})
}

func (p *Pipeline) giveBack(log *slog.Logger, m queue.Message, after time.Duration, reason string, cause error) {
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	if err := p.q.SetVisibility(ctx, m, after); err != nil {
		log.Error("could not return the message; it reappears when its visibility timeout ends", "err", err, "cause", cause)
		return
	}
	p.m.MessagesReturned.WithLabelValues(reason).Inc()
	log.Warn("message returned to the queue", "reason", reason, "visible_in", after, "err", cause)
}

func (p *Pipeline) leave(log *slog.Logger, m queue.Message, err error) {
	reason := "permanent"
	var f *failure
	if errors.As(err, &f) {
		reason = f.reason
	}
	p.m.MessagesLeft.WithLabelValues(reason).Inc()
	log.Error("message not deleted: permanent failure; the queue's redrive policy moves it to the dead-letter queue", "reason", reason, "err", err)
}

// heartbeat extends a message's visibility every half timeout while it is
// in work, so no other worker receives it. It runs on a timer rather than a
// goroutine of its own: most messages are done long before the first beat.
type heartbeat struct {
	p   *Pipeline
	ctx context.Context
	log *slog.Logger
	m   queue.Message
	vis time.Duration

	mu      sync.Mutex
	t       *time.Timer
	stopped bool
	cancel  context.CancelFunc // of the extension in flight, if any
	beating sync.WaitGroup
}

func (p *Pipeline) startHeartbeat(ctx context.Context, log *slog.Logger, m queue.Message, vis time.Duration) *heartbeat {
	h := &heartbeat{p: p, ctx: ctx, log: log, m: m, vis: vis}
	h.mu.Lock()
	h.t = time.AfterFunc(vis/2, h.beat)
	h.mu.Unlock()
	return h
}

func (h *heartbeat) beat() {
	h.mu.Lock()
	if h.stopped || h.ctx.Err() != nil {
		h.mu.Unlock()
		return
	}
	ctx, cancel := context.WithTimeout(h.ctx, h.vis/2)
	h.cancel = cancel
	h.beating.Add(1)
	h.mu.Unlock()
	defer h.beating.Done()

	err := h.p.q.SetVisibility(ctx, h.m, h.vis)
	cancel()
	switch {
	case err == nil:
		h.p.m.VisibilityExtensions.Inc()
		h.log.Debug("visibility extended", "by", h.vis)
	case h.ctx.Err() == nil && !h.isStopped(): // not cut short by the end of the work
		h.log.Warn("visibility extension failed", "err", err)
	}
	h.mu.Lock()
	if !h.stopped {
		h.t.Reset(h.vis / 2)
	}
	h.mu.Unlock()
}

func (h *heartbeat) isStopped() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stopped
}

// stop ends the heartbeat, cancels an extension in flight and waits for it:
// after stop no visibility change of the message is under way.
func (h *heartbeat) stop() {
	h.mu.Lock()
	h.stopped = true
	h.t.Stop()
	if h.cancel != nil {
		h.cancel()
	}
	h.mu.Unlock()
	h.beating.Wait()
}
