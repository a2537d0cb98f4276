package backoff

import (
	"context"
	"testing"
	"time"
)

func TestDelay(t *testing.T) {
	for attempt, want := range map[int]time.Duration{0: 100, 1: 100, 2: 200, 3: 400, 4: 800, 5: 1000, 50: 1000} {
		for range 100 {
			d := Delay(100, 1000, attempt)
			if d < want/2 || d > want {
				t.Fatalf("attempt %d: %v, want %v..%v", attempt, d, want/2, want)
			}
		}
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Sleep(ctx, time.Hour) {
		t.Fatal("a cancelled sleep reported a full wait")
	}
	if !Sleep(context.Background(), time.Millisecond) {
		t.Fatal("a full wait reported as cut short")
	}
}
