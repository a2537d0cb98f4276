package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/logtide/logtide/worker/internal/backoff"
	"github.com/logtide/logtide/worker/internal/queue"
	"github.com/logtide/logtide/worker/internal/s3event"
)

// finalTimeout bounds the last delete or visibility change of a message; it
// runs even when work was cancelled, so it needs its own deadline.
const finalTimeout = 10 * time.Second

// failure is a classified reason a message cannot be deleted yet.
type failure struct {
	// permanent: retrying will not help; keep the message for the queue's
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

// classify says whether err is permanent and gives its metrics label.
func classify(err error) (perm bool, reason string) {
	var f *failure
	if errors.As(err, &f) {
		return f.permanent, f.reason
	}
	return false, "retryable"
}

func isPermanent(err error) bool {
	perm, _ := classify(err)
	return perm
}

// handle processes one message and decides its fate; this is the only place
// that deletes a message, returns it to the queue or keeps it there for the
// queue's redrive.
func (p *Pipeline) handle(ctx context.Context, m queue.Message, vis time.Duration) {
	p.metrics.MessagesInFlight.Inc()
	defer p.metrics.MessagesInFlight.Dec()
	log := p.log.With("message_id", m.ID, "receive_count", m.ReceiveCount)
	log.Debug("message received")

	note, err := s3event.Parse(m.Body)
	if err != nil {
		p.keepForRedrive(log, permanent("unparsable_body", err))
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

	switch perm, _ := classify(err); {
	case err == nil:
		p.delete(log, m, "done")
	case ctx.Err() != nil:
		p.returnToQueue(log, m, 0, "shutdown", err)
	case perm:
		p.keepForRedrive(log, err)
	default:
		// Try again later, not hot: the delay grows with each receive.
		p.returnToQueue(log, m, backoff.Delay(5*time.Second, 5*time.Minute, m.ReceiveCount), "retryable", err)
	}
}

// objects processes every object of a message, even after one fails, and
// returns the worst failure: one that will not pass (the message is kept for
// the redrive) before one that may (it is returned for a later attempt).
func (p *Pipeline) objects(ctx context.Context, log *slog.Logger, messageID string, objs []s3event.Object) error {
	var worst error
	for _, o := range objs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		err := p.object(ctx, log, objectRef{Object: o, messageID: messageID})
		if err == nil {
			continue
		}
		if worst == nil || (isPermanent(err) && !isPermanent(worst)) {
			worst = err
		}
	}
	return worst
}

func (p *Pipeline) delete(log *slog.Logger, m queue.Message, reason string) {
	p.deletes.delete(m, func(err error) {
		if err != nil {
			// The work is durable; a redelivery will find every document
			// already at its version and succeed as a no-op.
			log.Error("delete failed; the message will be redelivered", "err", err)
			return
		}
		p.metrics.MessagesDeleted.WithLabelValues(reason).Inc()
		log.Debug("message deleted", "reason", reason)
	})
}

// returnToQueue makes the message visible again after the given delay.
func (p *Pipeline) returnToQueue(log *slog.Logger, m queue.Message, after time.Duration, reason string, cause error) {
	ctx, cancel := context.WithTimeout(context.Background(), finalTimeout)
	defer cancel()
	if err := p.queue.SetVisibility(ctx, m, after); err != nil {
		log.Error("could not return the message; it reappears when its visibility timeout ends", "err", err, "cause", cause)
		return
	}
	p.metrics.MessagesReturned.WithLabelValues(reason).Inc()
	log.Warn("message returned to the queue", "reason", reason, "visible_in", after, "err", cause)
}

// keepForRedrive leaves the message as it is: it becomes visible again when
// its visibility timeout ends, and the queue's redrive policy moves it to
// the dead-letter queue after maxReceiveCount receives.
func (p *Pipeline) keepForRedrive(log *slog.Logger, err error) {
	_, reason := classify(err)
	p.metrics.MessagesKeptForRedrive.WithLabelValues(reason).Inc()
	log.Error("message not deleted: permanent failure; the queue's redrive policy moves it to the dead-letter queue", "reason", reason, "err", err)
}

// heartbeat extends a message's visibility every half timeout while it is
// in work, so that no other worker receives it.
type heartbeat struct {
	cancel context.CancelFunc
	done   sync.WaitGroup
}

func (p *Pipeline) startHeartbeat(ctx context.Context, log *slog.Logger, m queue.Message, vis time.Duration) *heartbeat {
	ctx, cancel := context.WithCancel(ctx)
	h := &heartbeat{cancel: cancel}
	h.done.Go(func() {
		t := time.NewTicker(vis / 2)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			for failures := 1; ; failures++ {
				ectx, cancel := context.WithTimeout(ctx, vis/4)
				err := p.queue.SetVisibility(ectx, m, vis)
				cancel()
				if err == nil {
					p.metrics.VisibilityExtensions.Inc()
					log.Debug("visibility extended", "by", vis)
					break
				}
				if ctx.Err() != nil { // cut short by the end of the work
					return
				}
				// Half a timeout is left since the last extension: try again
				// at once, and again, well before it lapses.
				d := backoff.Delay(200*time.Millisecond, vis/8, failures)
				log.Warn("visibility extension failed; retrying", "err", err, "attempt", failures, "retry_in", d.Round(time.Millisecond))
				if !backoff.Sleep(ctx, d) {
					return
				}
			}
		}
	})
	return h
}

// stop ends the heartbeat, cancels an extension in flight and waits for it:
// after stop no visibility change of the message is under way.
func (h *heartbeat) stop() {
	h.cancel()
	h.done.Wait()
}
