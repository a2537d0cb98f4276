package backfill

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress counts a backfill's objects and shows them: on a terminal as a
// bar redrawn in place, otherwise as a plain line every interval (CI, ECS
// logs). Log lines written through it appear above the bar.
type progress struct {
	out      io.Writer
	terminal bool
	interval time.Duration
	start    time.Time
	now      func() time.Time

	mu sync.Mutex
	// objects and bytes listed to load, done and failed
	listedN, listedB int64
	doneN, doneB     int64
	failedN          int64
	skipped          map[string]int64
	listing          bool // still listing: the total is not known yet
	drawn            bool // a bar is on the terminal's last line
}

func newProgress(out io.Writer, terminal bool, interval time.Duration) *progress {
	return &progress{out: out, terminal: terminal, interval: interval, start: time.Now(), now: time.Now, skipped: map[string]int64{}, listing: true}
}

func (p *progress) listed(size int64) {
	p.mu.Lock()
	p.listedN++
	p.listedB += size
	p.mu.Unlock()
}

func (p *progress) done(size int64) {
	p.mu.Lock()
	p.doneN++
	p.doneB += size
	p.mu.Unlock()
}

func (p *progress) failedOne(key string, err error) {
	p.mu.Lock()
	p.failedN++
	p.mu.Unlock()
	p.printf("failed: %s: %v", key, err)
}

func (p *progress) skip(reason string) {
	p.mu.Lock()
	p.skipped[reason]++
	p.mu.Unlock()
}

func (p *progress) listingDone() {
	p.mu.Lock()
	p.listing = false
	p.mu.Unlock()
}

// run shows the progress until ctx ends.
func (p *progress) run(ctx context.Context) {
	every := p.interval
	if p.terminal {
		every = 250 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.show()
		}
	}
}

// show draws the bar, or writes a line.
func (p *progress) show() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal {
		fmt.Fprintf(p.out, "\r\033[K%s", p.barLocked())
		p.drawn = true
		return
	}
	fmt.Fprintf(p.out, "backfill: %s\n", p.lineLocked())
}

// Write writes log lines above the bar.
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.out, "\r\033[K")
		p.drawn = false
	}
	return p.out.Write(b)
}

func (p *progress) printf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	if !strings.HasSuffix(line, "\n") {
		line += "\n"
	}
	_, _ = p.Write([]byte(line))
}

// finish shows the progress a last time, the bar on a line of its own.
func (p *progress) finish() {
	p.show()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.out)
		p.drawn = false
	}
}

// lineLocked is the progress in one plain line.
func (p *progress) lineLocked() string {
	elapsed := p.now().Sub(p.start)
	total := fmt.Sprint(p.listedN)
	if p.listing {
		total += "+ (listing)"
	}
	return fmt.Sprintf("%d/%s objects, %s/%s, %s, %s, ETA %s, %d failed",
		p.doneN, total, formatBytes(p.doneB), formatBytes(p.listedB),
		rate(float64(p.doneN), elapsed, "objects/s"), rate(float64(p.doneB)/1e6, elapsed, "MB/s"), p.etaLocked(elapsed), p.failedN)
}

// barLocked is the progress as a terminal bar.
func (p *progress) barLocked() string {
	const width = 24
	fill := 0
	if p.listedN > 0 {
		fill = int(float64(width) * float64(p.doneN+p.failedN) / float64(p.listedN))
		if p.listing {
			fill = min(fill, width-1)
		}
	}
	fill = max(0, min(width, fill))
	return "[" + strings.Repeat("=", fill) + strings.Repeat(" ", width-fill) + "] " + p.lineLocked()
}

// etaLocked is the time left at the rate so far, unknown while listing.
func (p *progress) etaLocked(elapsed time.Duration) string {
	left := p.listedN - p.doneN - p.failedN
	switch {
	case p.listing:
		return "after listing"
	case left <= 0:
		return "0s"
	case p.doneN == 0:
		return "unknown"
	}
	per := elapsed / time.Duration(p.doneN)
	return (per * time.Duration(left)).Round(time.Second).String()
}

func rate(n float64, d time.Duration, unit string) string {
	if d <= 0 {
		return "0 " + unit
	}
	return fmt.Sprintf("%.1f %s", n/d.Seconds(), unit)
}

func formatBytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

// skippedSummary lists the objects not loaded, by reason.
func (p *progress) skippedSummary() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b bytes.Buffer
	for _, why := range []string{skipNotLog, skipByFormat, skipDates, skipFolder} {
		if n := p.skipped[why]; n > 0 {
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%d %s", n, why)
		}
	}
	return b.String()
}
