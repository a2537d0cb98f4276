package pipeline

import (
	"sync"

	"github.com/logtide/logtide/worker/internal/sink"
)

// tally is one object's record accounting. An object is done only when it
// balances: read == indexed + stale + deadLettered.
type tally struct {
	read, indexed, stale, deadLettered int
}

func (t *tally) balanced() bool { return t.read == t.indexed+t.stale+t.deadLettered }

// objectAck tracks the documents of one object while they ride in bulk
// requests shared with other objects. It resolves exactly once: when the
// object's stream has ended and every document it submitted has an outcome.
type objectAck struct {
	ref objectRef

	mu          sync.Mutex
	t           tally
	outstanding int
	ended       bool
	err         error // the first failure; the object is not done
	done        chan struct{}
}

func newObjectAck(ref objectRef) *objectAck {
	return &objectAck{ref: ref, done: make(chan struct{})}
}

// submitted counts one more document in flight for this object.
func (a *objectAck) submitted() {
	a.mu.Lock()
	a.outstanding++
	a.mu.Unlock()
}

// settled records the outcome of one document.
func (a *objectAck) settled(o sink.Outcome, deadLetter bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case deadLetter:
		a.t.deadLettered++
	case o == sink.Stale:
		a.t.stale++
	default:
		a.t.indexed++
	}
	a.outstanding--
	a.maybeResolve()
}

// failed records a document that has no outcome; the object cannot be done.
func (a *objectAck) failed(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err == nil {
		a.err = err
	}
	a.outstanding--
	a.maybeResolve()
}

// end marks the stream as finished (err non-nil if it broke off).
func (a *objectAck) end(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil && a.err == nil {
		a.err = err
	}
	a.ended = true
	a.maybeResolve()
}

func (a *objectAck) maybeResolve() {
	if a.ended && a.outstanding == 0 {
		select {
		case <-a.done:
		default:
			close(a.done)
		}
	}
}

// result is the final tally and error; valid once done is closed.
func (a *objectAck) result() (tally, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.t, a.err
}

// read counts records read.
func (a *objectAck) read(records int) {
	a.mu.Lock()
	a.t.read += records
	a.mu.Unlock()
}
