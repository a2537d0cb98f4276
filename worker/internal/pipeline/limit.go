package pipeline

import (
	"context"
	"math"
	"sync"
	"time"
)

// limiter bounds the messages in work and adapts the bound to the cluster:
// it halves when the cluster throttles (429, 5xx, unreachable, or a bulk
// request slower than the configured limit) and grows by about one message
// per round of successful writes (additive increase, multiplicative
// decrease), between min and max. While any batch is failing it admits
// nothing at all, so an outage never becomes a loop of receive, download and
// return; the messages already in work keep retrying.
//
// With one bulk request in flight per message at most, the bound on messages
// is also the bound on objects in flight and on concurrent bulk requests.
type limiter struct {
	mu       sync.Mutex
	inFlight int
	limit    float64
	min, max float64
	failing  int
	lastCut  time.Time
	changed  chan struct{} // closed and replaced at every change
	onChange func(limit int)
}

func newLimiter(min, max int, onChange func(int)) *limiter {
	if min < 1 {
		min = 1
	}
	if max < min {
		max = min
	}
	l := &limiter{limit: float64(max), min: float64(min), max: float64(max), changed: make(chan struct{}), onChange: onChange}
	if onChange != nil {
		onChange(max)
	}
	return l
}

// notify wakes waiters; callers hold mu.
func (l *limiter) notify() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// acquire waits until at least min(atLeast, limit) slots are free (any
// number when nothing is in flight), then reserves up to want of them and
// returns how many it reserved (0 when ctx is done).
func (l *limiter) acquire(ctx context.Context, atLeast, want int) int {
	for {
		l.mu.Lock()
		limit := int(math.Floor(l.limit))
		free := limit - l.inFlight
		enough := free >= min(atLeast, limit) || (l.inFlight == 0 && free > 0)
		if l.failing == 0 && free > 0 && enough {
			n := min(want, free)
			l.inFlight += n
			l.mu.Unlock()
			return n
		}
		ch := l.changed
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return 0
		}
	}
}

// tryAcquire reserves one slot if one is free right now.
func (l *limiter) tryAcquire() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failing == 0 && int(math.Floor(l.limit))-l.inFlight > 0 {
		l.inFlight++
		return true
	}
	return false
}

// release frees n slots.
func (l *limiter) release(n int) {
	l.mu.Lock()
	l.inFlight -= n
	l.notify()
	l.mu.Unlock()
}

// throttled cuts the bound in half, at most once a second so that one burst
// of failures seen by many messages counts once.
func (l *limiter) throttled() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Since(l.lastCut) < time.Second {
		return
	}
	l.lastCut = time.Now()
	l.set(math.Max(l.min, l.limit/2))
}

// succeeded grows the bound by 1/limit: about one message per round of
// successful writes of every message in flight.
func (l *limiter) succeeded() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limit < l.max {
		l.set(math.Min(l.max, l.limit+1/l.limit))
	}
}

func (l *limiter) set(v float64) {
	before := int(l.limit)
	l.limit = v
	l.notify()
	if l.onChange != nil && int(v) != before {
		l.onChange(int(v))
	}
}

// enter marks a batch as failing: intake stops until it leaves.
func (l *limiter) enter() {
	l.mu.Lock()
	l.failing++
	l.mu.Unlock()
}

// leave marks a failing batch as settled (written or given up).
func (l *limiter) leave() {
	l.mu.Lock()
	l.failing--
	l.notify()
	l.mu.Unlock()
}
