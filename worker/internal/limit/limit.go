// Package limit provides the adaptive bound the worker puts on its work: how
// many messages it takes at once, and how many bulk requests it sends at
// once. The bound halves when the cluster pushes back and grows back slowly
// while it accepts (additive increase, multiplicative decrease), and it can
// be paused altogether while the cluster refuses everything.
package limit

import (
	"context"
	"math"
	"sync"
	"time"
)

// Adaptive bounds a number of things in progress between min and max.
type Adaptive struct {
	mu       sync.Mutex
	inUse    int
	limit    float64
	min, max float64
	paused   int
	lastCut  time.Time
	changed  chan struct{} // closed and replaced at every change
	onChange func(limit int)
}

// New starts at max. onChange, if not nil, is told every new whole-number
// bound (a gauge), starting with max.
func New(min, max int, onChange func(int)) *Adaptive {
	if min < 1 {
		min = 1
	}
	if max < min {
		max = min
	}
	l := &Adaptive{limit: float64(max), min: float64(min), max: float64(max), changed: make(chan struct{}), onChange: onChange}
	if onChange != nil {
		onChange(max)
	}
	return l
}

// notify wakes waiters; callers hold mu.
func (l *Adaptive) notify() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// Acquire waits until at least min(atLeast, bound) slots are free (any
// number when nothing is in use) and nothing pauses the bound, then takes up
// to want of them and returns how many it took (0 when ctx is done).
func (l *Adaptive) Acquire(ctx context.Context, atLeast, want int) int {
	for {
		l.mu.Lock()
		limit := int(math.Floor(l.limit))
		free := limit - l.inUse
		enough := free >= min(atLeast, limit) || (l.inUse == 0 && free > 0)
		if l.paused == 0 && free > 0 && enough {
			n := min(want, free)
			l.inUse += n
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

// TryAcquire takes one slot if one is free right now.
func (l *Adaptive) TryAcquire() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.paused == 0 && int(math.Floor(l.limit))-l.inUse > 0 {
		l.inUse++
		return true
	}
	return false
}

// Release frees n slots.
func (l *Adaptive) Release(n int) {
	l.mu.Lock()
	l.inUse -= n
	l.notify()
	l.mu.Unlock()
}

// Throttled halves the bound, at most once a second, so that one burst of
// failures seen by many requests counts once.
func (l *Adaptive) Throttled() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Since(l.lastCut) < time.Second {
		return
	}
	l.lastCut = time.Now()
	l.set(math.Max(l.min, l.limit/2))
}

// Accepted grows the bound by 1/bound: about one slot per round of
// successful requests of everything in progress.
func (l *Adaptive) Accepted() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limit < l.max {
		l.set(math.Min(l.max, l.limit+1/l.limit))
	}
}

// Limit is the current whole-number bound.
func (l *Adaptive) Limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int(l.limit)
}

func (l *Adaptive) set(v float64) {
	before := int(l.limit)
	l.limit = v
	l.notify()
	if l.onChange != nil && int(v) != before {
		l.onChange(int(v))
	}
}

// Pause admits nothing new until the matching Resume; pauses nest.
func (l *Adaptive) Pause() {
	l.mu.Lock()
	l.paused++
	l.mu.Unlock()
}

// Resume ends one Pause.
func (l *Adaptive) Resume() {
	l.mu.Lock()
	l.paused--
	l.notify()
	l.mu.Unlock()
}

// Paused reports whether any Pause is in effect.
func (l *Adaptive) Paused() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.paused > 0
}
