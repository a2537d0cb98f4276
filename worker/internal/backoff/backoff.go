// Package backoff spaces out the attempts of something that failed:
// exponential delays with jitter, and a wait that ends with its context.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Delay is base·2^(attempt-1), capped at max, with full jitter in its upper
// half, so that many workers failing together do not retry together.
func Delay(base, max time.Duration, attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d/2 + rand.N(d/2+1)
}

// Sleep waits d or until ctx is done; it reports whether the full wait
// passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
