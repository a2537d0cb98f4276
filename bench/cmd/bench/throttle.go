package main

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/logtide/logtide/bench/internal/bulksink"
	"github.com/logtide/logtide/bench/internal/report"
	"github.com/logtide/logtide/bench/internal/workerrun"
)

// throttleRow runs a corpus into the discard sink, which answers 429 for a
// share of items and of whole requests during a window that opens once a
// share of the findings is written, and then recovers. The worker's gauges,
// sampled from /metrics, show whether it backed off and grew back.
func (b *bench) throttleRow(ctx context.Context) {
	s := b.throttle
	b.sink.Reset()
	var (
		offset         time.Duration // sink clock minus run clock
		offsetSet      bool
		started, ended bool
		tStart, tEnd   time.Duration // run clock
	)
	onSample := func(sm workerrun.Sample) {
		if !offsetSet {
			offset, offsetSet = b.sink.Since()-sm.At, true
		}
		ok := b.sink.OK.Load()
		if !started && float64(ok) >= b.c.throttleAt*float64(s.Lines) {
			b.sink.Throttle(b.c.throttleItems, b.c.throttleReqs)
			started, tStart = true, sm.At
		}
		if started && !ended && sm.At-tStart >= b.c.throttleWindow {
			b.sink.Recover()
			ended, tEnd = true, sm.At
		}
	}
	name := "discard, 429 window"
	w := b.runWorker(ctx, workerOpts{name: name, key: "throttle", set: s, esURL: b.sink.URL, onSample: onSample, timeout: 6 * time.Minute})
	b.sink.Recover()
	b.addCPURow(w)
	label := b.label(s)
	if w.err != nil {
		b.addMain(w, label, "")
		return
	}
	if !started || !ended {
		b.addMain(w, label, "the run ended before the throttle window closed: raise -throttle-objects")
		return
	}
	ev := b.sink.Events()
	var first, last time.Duration = -1, 0
	for _, e := range ev {
		if e.OK > 0 && first < 0 {
			first = e.At
		}
		last = e.At
	}
	ws, we := tStart+offset, tEnd+offset
	rate := func(from, to time.Duration) float64 {
		if to <= from {
			return math.NaN()
		}
		return float64(bulksink.OKBetween(ev, from, to)) / (to - from).Seconds()
	}
	before, during, after := rate(first, ws), rate(ws, we), rate(we, last+time.Nanosecond)
	// The first write after the window shows how long the retry back-off
	// kept the worker waiting on a cluster that had already recovered.
	resumed := "no write after the window"
	for _, e := range ev {
		if e.At >= we && e.OK > 0 {
			resumed = fmt.Sprintf("first write %s s after the window", report.Num((e.At - we).Seconds()))
			break
		}
	}

	gauge := "logtide_messages_in_flight"
	if w.res.Final.Has("logtide_intake_limit") {
		gauge = "logtide_intake_limit"
	}
	// Before: the gauge's largest value before the window (the configured
	// concurrency if the window opened before the first scrape).
	pre, low := 0.0, math.Inf(1)
	for _, sm := range w.res.Samples {
		v := sm.Values.Sum(gauge)
		if sm.At < tStart {
			pre = math.Max(pre, v)
		}
		if sm.At >= tStart && sm.At < tEnd {
			low = math.Min(low, v)
		}
	}
	if pre == 0 {
		pre = float64(b.c.concurrency)
	}
	back := time.Duration(-1)
	for _, sm := range w.res.Samples {
		if sm.At >= tEnd && sm.Values.Sum(gauge) >= pre {
			back = sm.At - tEnd
			break
		}
	}
	backs := "did not return to it before the queue ran dry"
	if back >= 0 {
		backs = fmt.Sprintf("back to %.0f %s after the window", pre, report.Num(back.Seconds())+" s")
	}
	b.addMain(w, label, fmt.Sprintf("findings/s before %s, during 429s %s, after %s; %s %.0f → %.0f, %s; %s",
		report.Num(before), report.Num(during), report.Num(after), gauge, pre, low, resumed, backs))
	b.throttleSummary = fmt.Sprintf("The sink answered 429 for one item in %d and one whole bulk request in %d from %.1f s to %.1f s of the worker's run "+
		"(opened once %.0f %% of the findings were written), then recovered. Items answered 429: %d, whole requests answered 429: %d. "+
		"Findings written per second: %s before, %s during, %s after (%s). `%s`: %.0f before, lowest %.0f during, %s.",
		b.c.throttleItems, b.c.throttleReqs, tStart.Seconds(), tEnd.Seconds(), b.c.throttleAt*100,
		b.sink.Throttled.Load(), b.sink.ThrottledRequests.Load(),
		report.Num(before), report.Num(during), report.Num(after), resumed, gauge, pre, low, backs)

	// The timeline: one line a second.
	b.timeline = report.Table{
		Head:  []string{"t s", "sink", "written/s", "messages_in_flight", "intake_limit", "objects_in_flight", "bulk items retried (total)"},
		Right: []bool{true, false, true, true, true, true, true},
	}
	hasLimit := w.res.Final.Has("logtide_intake_limit")
	next := time.Second
	for _, sm := range w.res.Samples {
		if sm.At < next {
			continue
		}
		phase := "ok"
		switch {
		case sm.At >= tStart && sm.At < tEnd:
			phase = "429"
		case sm.At >= tEnd:
			phase = "recovered"
		}
		lim := "–"
		if hasLimit {
			lim = report.Num(sm.Values.Sum("logtide_intake_limit"))
		}
		at := sm.At + offset
		b.timeline.Add(fmt.Sprintf("%.1f", sm.At.Seconds()), phase, report.Num(rate(at-time.Second, at)),
			report.Num(sm.Values.Sum("logtide_messages_in_flight")), lim,
			report.Num(sm.Values.Sum("logtide_objects_in_flight")),
			report.Num(sm.Values.Get("logtide_bulk_items_total", `outcome="retry"`)))
		next = (sm.At/time.Second + 1) * time.Second
	}
}
