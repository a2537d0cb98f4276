package pipeline

import (
	"context"
	"sync"
	"time"
)

// gate holds back intake while the cluster pushes back: from the first
// retryable bulk failure of a batch until that batch is written or given up,
// no new message is received. Messages in work keep retrying; the queue keeps
// the rest, so an outage never turns into a loop of receive, download and
// return, and the work held in memory stays bounded by the messages in flight.
type gate struct {
	mu      sync.Mutex
	failing int
}

// enter marks one batch as failing.
func (g *gate) enter() {
	g.mu.Lock()
	g.failing++
	g.mu.Unlock()
}

// leave marks a failing batch as settled (written or given up).
func (g *gate) leave() {
	g.mu.Lock()
	g.failing--
	g.mu.Unlock()
}

func (g *gate) closed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.failing > 0
}

// wait blocks while a batch is failing or until ctx is done; it reports
// whether it waited at all.
func (g *gate) wait(ctx context.Context) bool {
	waited := false
	for g.closed() {
		waited = true
		if !sleep(ctx, 50*time.Millisecond) {
			break
		}
	}
	return waited
}
