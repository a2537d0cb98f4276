package backfill

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/logtide/logtide/worker/internal/queue"
)

// Queue is an in-memory queue with SQS's semantics, through which a
// backfill hands its objects to the worker's pipeline, one message each: a
// received message is hidden for a visibility timeout the pipeline extends
// while it works; a deleted message is done; a message the pipeline
// returns or gives up on shows again, and after MaxReceives receives it
// counts as failed, as a dead-letter queue would have taken it.
type Queue struct {
	vis         time.Duration
	maxReceives int
	bucket      string
	region      string
	resolve     func(seq int64, err error)
	poll        time.Duration

	mu     sync.Mutex
	ready  []*memMessage
	hidden map[string]*memMessage
	wake   chan struct{}
}

type memMessage struct {
	seq       int64
	body      []byte
	receives  int
	handle    string
	visibleAt time.Time
	sentAt    time.Time
}

func newQueue(bucket, region string, vis time.Duration, maxReceives int, resolve func(seq int64, err error)) *Queue {
	return &Queue{vis: vis, maxReceives: maxReceives, bucket: bucket, region: region, resolve: resolve, poll: time.Second,
		hidden: map[string]*memMessage{}, wake: make(chan struct{}, 1)}
}

// add queues object o as message seq.
func (q *Queue) add(seq int64, o Object) {
	now := time.Now()
	m := &memMessage{seq: seq, body: Notification(q.region, q.bucket, o, now), sentAt: now}
	q.mu.Lock()
	q.ready = append(q.ready, m)
	q.mu.Unlock()
	q.signal()
}

func (q *Queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Receive returns up to max visible messages, waiting up to a second for
// one.
func (q *Queue) Receive(ctx context.Context, max int) ([]queue.Message, error) {
	deadline := time.NewTimer(q.poll)
	defer deadline.Stop()
	for {
		msgs, next := q.take(max)
		if len(msgs) > 0 {
			return msgs, nil
		}
		wait := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			wait.Stop()
			return nil, ctx.Err()
		case <-deadline.C:
			wait.Stop()
			return nil, nil
		case <-q.wake:
		case <-wait.C:
		}
		wait.Stop()
	}
}

// take hands out up to max visible messages; with none, it says when the
// next hidden one shows again.
func (q *Queue) take(max int) ([]queue.Message, time.Time) {
	now := time.Now()
	next := now.Add(q.poll)
	q.mu.Lock()
	var gaveUp []*memMessage
	for id, m := range q.hidden {
		if m.visibleAt.After(now) {
			if m.visibleAt.Before(next) {
				next = m.visibleAt
			}
			continue
		}
		delete(q.hidden, id)
		if m.receives >= q.maxReceives {
			gaveUp = append(gaveUp, m)
			continue
		}
		q.ready = append(q.ready, m)
	}
	var out []queue.Message
	for len(out) < max && len(q.ready) > 0 {
		m := q.ready[0]
		q.ready = q.ready[1:]
		m.receives++
		m.handle = strconv.FormatInt(m.seq, 10) + "/" + strconv.Itoa(m.receives)
		m.visibleAt = now.Add(q.vis)
		id := strconv.FormatInt(m.seq, 10)
		q.hidden[id] = m
		out = append(out, queue.Message{ID: id, Handle: m.handle, Body: m.body, ReceiveCount: m.receives, SentAt: m.sentAt})
	}
	q.mu.Unlock()
	for _, m := range gaveUp {
		q.resolve(m.seq, fmt.Errorf("not done after %d attempts (the reason is in the worker's log lines above)", m.receives))
	}
	return out, next
}

// find returns the hidden message m names, if its receipt is current.
func (q *Queue) find(m queue.Message) (*memMessage, bool) {
	mm, ok := q.hidden[m.ID]
	if !ok || mm.handle != m.Handle {
		return nil, false
	}
	return mm, true
}

// DeleteBatch marks the messages' objects done.
func (q *Queue) DeleteBatch(_ context.Context, msgs []queue.Message) ([]error, error) {
	errs := make([]error, len(msgs))
	var done []int64
	q.mu.Lock()
	for i, m := range msgs {
		mm, ok := q.find(m)
		if !ok {
			errs[i] = fmt.Errorf("message %s: receipt handle %s is not current", m.ID, m.Handle)
			continue
		}
		delete(q.hidden, m.ID)
		done = append(done, mm.seq)
	}
	q.mu.Unlock()
	for _, seq := range done {
		q.resolve(seq, nil)
	}
	return errs, nil
}

// SetVisibility hides the message for d from now (0 shows it at once).
func (q *Queue) SetVisibility(_ context.Context, m queue.Message, d time.Duration) error {
	q.mu.Lock()
	mm, ok := q.find(m)
	if ok {
		mm.visibleAt = time.Now().Add(d)
	}
	q.mu.Unlock()
	if !ok {
		return fmt.Errorf("message %s: receipt handle %s is not current", m.ID, m.Handle)
	}
	q.signal()
	return nil
}

// Attributes reports the visibility timeout and the messages waiting and in
// work.
func (q *Queue) Attributes(context.Context) (time.Duration, queue.Depth, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.vis, queue.Depth{Visible: len(q.ready), InFlight: len(q.hidden)}, nil
}
