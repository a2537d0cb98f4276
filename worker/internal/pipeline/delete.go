package pipeline

import (
	"context"
	"sync"
	"time"

	"github.com/logtide/logtide/worker/internal/queue"
)

// deleteWindow is how long the first delete waits for others to share its
// DeleteMessageBatch request.
const deleteWindow = 20 * time.Millisecond

// deleteSenders is how many DeleteMessageBatch requests may be in flight:
// one at a time would cap a worker at ten deletes per round trip to SQS.
const deleteSenders = 4

type deleteRequest struct {
	m queue.Message
	// done is called with the outcome of this message's entry.
	done func(error)
}

// deleter gathers the deletes of messages finishing at about the same time
// into DeleteMessageBatch requests of up to 10.
type deleter struct {
	q    Queue
	reqs chan deleteRequest
}

func newDeleter(q Queue) *deleter {
	// The buffer lets a finished message free its slot without waiting for
	// the delete request: the work is already durable.
	return &deleter{q: q, reqs: make(chan deleteRequest, 100)}
}

// delete queues m for deletion; done gets the outcome of its entry.
func (d *deleter) delete(m queue.Message, done func(error)) {
	d.reqs <- deleteRequest{m: m, done: done}
}

// run serves deletes until close, then sends what is queued and waits for
// every request; it must outlive every caller of delete.
func (d *deleter) run() {
	var sending sync.WaitGroup
	defer sending.Wait()
	slots := make(chan struct{}, deleteSenders)
	for first := range d.reqs {
		batch := []deleteRequest{first}
		t := time.NewTimer(deleteWindow)
	collect:
		for len(batch) < 10 {
			select {
			case r, ok := <-d.reqs:
				if !ok {
					break collect
				}
				batch = append(batch, r)
			case <-t.C:
				break collect
			}
		}
		t.Stop()
		slots <- struct{}{}
		sending.Go(func() {
			defer func() { <-slots }()
			d.send(batch)
		})
	}
}

// close ends run once every pending delete is sent.
func (d *deleter) close() { close(d.reqs) }

func (d *deleter) send(batch []deleteRequest) {
	// Deletes run after the work is durable, even during shutdown: they get
	// a deadline of their own.
	ctx, cancel := context.WithTimeout(context.Background(), finalTimeout)
	defer cancel()
	msgs := make([]queue.Message, len(batch))
	for i, r := range batch {
		msgs[i] = r.m
	}
	errs, err := d.q.DeleteBatch(ctx, msgs)
	for i, r := range batch {
		if err != nil {
			r.done(err)
		} else {
			r.done(errs[i])
		}
	}
}
