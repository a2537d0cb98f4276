package limit

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestAIMD(t *testing.T) {
	var seen []int
	l := New(2, 16, func(n int) { seen = append(seen, n) })
	l.Throttled()
	l.Throttled() // within the same second: counted once
	if l.Limit() != 8 {
		t.Fatalf("bound %v after one burst, want 8", l.Limit())
	}
	for range 3 {
		l.lastCut = time.Time{}
		l.Throttled()
	}
	if l.Limit() != 2 {
		t.Fatalf("bound %v, want the minimum 2", l.Limit())
	}
	for range 200 {
		l.Accepted()
	}
	if l.Limit() != 16 {
		t.Fatalf("bound %v after recovery, want 16", l.Limit())
	}
	if fmt.Sprint(seen[:5]) != "[16 8 4 2 3]" || seen[len(seen)-1] != 16 {
		t.Errorf("published bounds %v", seen)
	}

	// Acquire admits up to the bound and waits for a release.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if n := l.Acquire(ctx, 1, 10); n != 10 {
		t.Fatalf("acquired %d", n)
	}
	if n := l.Acquire(ctx, 1, 10); n != 6 {
		t.Fatalf("acquired %d, want the remaining 6", n)
	}
	got := make(chan int)
	go func() { got <- l.Acquire(ctx, 1, 1) }()
	select {
	case n := <-got:
		t.Fatalf("acquired %d beyond the bound", n)
	case <-time.After(50 * time.Millisecond):
	}
	l.Release(1)
	if n := <-got; n != 1 {
		t.Fatalf("acquired %d after a release", n)
	}

	// While paused nothing is admitted, even with free slots.
	l.Release(16)
	l.Pause()
	if l.TryAcquire() {
		t.Fatal("TryAcquire took a slot while paused")
	}
	go func() { got <- l.Acquire(ctx, 1, 1) }()
	select {
	case n := <-got:
		t.Fatalf("acquired %d while paused", n)
	case <-time.After(50 * time.Millisecond):
	}
	l.Resume()
	if n := <-got; n != 1 {
		t.Fatalf("acquired %d after resuming", n)
	}
}
