package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/logtide/logtide/bench/internal/corpus"
	"github.com/logtide/logtide/bench/internal/floor"
	"github.com/logtide/logtide/bench/internal/report"
)

// tinyEvidence is what the tiny-object target is judged on. Both paths keep
// the two cores busy, so what bounds their rates is the CPU each object
// costs everything on the path. The I/O floor runs again right before each
// worker run, at every level from 4 up, and the best of them counts:
// ElasticMQ's speed drifts as the benchmark goes on, so only neighbouring
// runs compare (and which upper level is best varies by a few per cent).
// With -pprof, profiles split the CPU of both paths further.
type tinyEvidence struct {
	b      *bench
	set    *corpus.Set
	sweep  floor.IO // the best level of the I/O floor's first sweep
	levels []int    // the levels run again before each worker run
	paired []floor.IO
	// decoded are runs of the loop that also inflates every object and
	// checks every line is JSON, at the level of each paired run: the most
	// a worker that refuses bad lines itself could reach, sending nothing.
	decoded []floor.IO

	split    *floorSplit              // the floor's CPU by part, profiled
	sdkShare float64                  // of the profiled worker's CPU, in stacks through the AWS SDK or net/http
	harness  map[string]time.Duration // this process's CPU during the profiled worker run, by part
}

func (b *bench) newTinyEvidence(s *corpus.Set) *tinyEvidence {
	t := &tinyEvidence{b: b, set: s}
	best, ok := bestIO(b.io["fast "+s.Name])
	if !ok {
		return t
	}
	t.sweep = best
	for _, lvl := range b.c.levels {
		if lvl >= 4 || lvl == best.Concurrency {
			t.levels = append(t.levels, lvl)
		}
	}
	return t
}

// measureFloor runs the floor at each of the upper levels and keeps the best.
func (t *tinyEvidence) measureFloor(ctx context.Context) {
	var rs []floor.IO
	for _, lvl := range t.levels {
		rs = append(rs, t.b.ioLevel(ctx, t.b.fast, "fast", bucket, t.set, 1, lvl))
	}
	r, ok := bestIO(rs)
	if !ok {
		return
	}
	t.paired = append(t.paired, r)
	d, _ := t.b.runLevel(ctx, t.b.fast, "fast", bucket, t.set, 1, r.Concurrency, levelOpts{read: floor.GunzipValid})
	if d.Err == nil {
		t.decoded = append(t.decoded, d)
	}
}

// median is the run with the median rate.
func median(runs []floor.IO) floor.IO {
	p := append([]floor.IO(nil), runs...)
	sort.Slice(p, func(i, j int) bool { return p[i].ObjectsPerSecond() < p[j].ObjectsPerSecond() })
	return p[len(p)/2]
}

// floor is the median of the floor runs made next to the worker runs, or
// the first sweep's best if there are none.
func (t *tinyEvidence) floor() floor.IO {
	if len(t.paired) == 0 {
		return t.sweep
	}
	return median(t.paired)
}

// share is the worker's rate over the floor's.
func (t *tinyEvidence) share(w *workerRow) float64 {
	return w.rate(float64(len(t.set.Objects))) / t.floor().ObjectsPerSecond()
}

// profileFloor takes a labelled profile of one more floor run.
func (t *tinyEvidence) profileFloor(ctx context.Context) {
	if len(t.levels) == 0 {
		return
	}
	split, err := t.b.floorProfile(ctx, t.set, t.floor().Concurrency)
	if err != nil {
		t.b.profiles = append(t.b.profiles, fmt.Sprintf("I/O floor, %s: no profile (%v).", t.set.Name, err))
		return
	}
	t.split = split
}

// readProfiles reads the profiled worker run's two profiles: the worker's
// and this process's.
func (t *tinyEvidence) readProfiles(ctx context.Context, pw *workerRow) {
	if pw.err != nil {
		return
	}
	if pw.harnessProfile != "" && pw.harnessErr == nil {
		if prof, err := readProfile(ctx, pw.harnessProfile); err == nil {
			t.harness = prof.byLabel("part")
		}
	}
	if pw.res.Profile != "" {
		if prof, err := readProfile(ctx, pw.res.Profile); err == nil && prof.total() > 0 {
			t.sdkShare = float64(prof.matching(isClientCall)) / float64(prof.total())
		}
	}
}

// explain is the target line's text for worker run w.
func (t *tinyEvidence) explain(w *workerRow) string {
	us := func(d time.Duration) string { return report.Num(float64(d.Microseconds())) + " µs" }
	fl := t.floor()
	n := time.Duration(len(t.set.Objects))
	note := ""
	if len(t.paired) > 0 {
		lo, hi := t.paired[0].ObjectsPerSecond(), t.paired[0].ObjectsPerSecond()
		for _, r := range t.paired {
			lo, hi = min(lo, r.ObjectsPerSecond()), max(hi, r.ObjectsPerSecond())
		}
		note = fmt.Sprintf(" (the floor's best of c=%s run again before each worker run: median of %d, %s–%s objects/s)",
			joinInts(t.levels, ", "), len(t.paired), report.Num(lo), report.Num(hi))
	}
	got := fmt.Sprintf("%s (%s vs %s objects/s%s)", report.Pct(t.share(w)), report.Num(w.rate(float64(n))), report.Num(fl.ObjectsPerSecond()), note)
	if fl.CPUKnown && fl.Objects > 0 {
		fc := (fl.HarnessCPU + fl.ServerCPU) / time.Duration(fl.Objects)
		wk, hs, eq, span := w.res.CPU/n, w.harnessCPU/n, w.emqCPU/n, "whole lifetimes"
		if w.workKnown {
			wk, hs, eq, span = w.workCPU/n, w.workHarnessCPU/n, w.workEmqCPU/n, "from the worker's start to its last delete"
		}
		got += fmt.Sprintf(". CPU per object on the worker's path %s (worker %s, S3 + sink %s, ElasticMQ %s, %s) against %s on the floor's (loop + S3, ElasticMQ): "+
			"at equal CPU the worker's path reaches %s of the floor's rate; 80 %% would leave the worker %s per object",
			us(wk+hs+eq), us(wk), us(hs), us(eq), span, us(fc), report.Pct(float64(fc)/float64(wk+hs+eq)), us(time.Duration(float64(fc)/0.8)-hs-eq))
	}
	if len(t.decoded) > 0 {
		d := median(t.decoded)
		got += fmt.Sprintf(". The same loop inflating every object and checking every line is JSON (sending nothing): %s objects/s, %s of the floor (median of %d, each after its floor run)",
			report.Num(d.ObjectsPerSecond()), report.Pct(d.ObjectsPerSecond()/fl.ObjectsPerSecond()), len(t.decoded))
	}
	if t.split == nil {
		return got
	}
	got += fmt.Sprintf(". Profiles: on the floor's path the loop costs %s per object (%s of it parsing notifications, the rest in its SDK calls) and gofakes3 %s",
		us(t.split.perObject["loop"]), us(t.split.parse), us(t.split.perObject["s3"]))
	if t.sdkShare > 0 && w.workKnown {
		got += fmt.Sprintf("; in the worker, stacks through the AWS SDK or net/http hold %s of its CPU, %s per object",
			report.Pct(t.sdkShare), us(time.Duration(t.sdkShare*float64(w.workCPU/n))))
	}
	if len(t.harness) > 0 {
		got += fmt.Sprintf("; on the worker's path, this process spent %s per object in gofakes3, %s in the sink and %s in the rest (sampling the worker, whole run)",
			us(t.harness["s3"]/n), us(t.harness["sink"]/n), us((t.harness[""]+t.harness["loop"])/n))
	}
	return got
}

// floorSplit is the CPU per object of each part of a profiled I/O floor
// run in this process, by the profile label "part".
type floorSplit struct {
	perObject map[string]time.Duration // "loop", "s3", "" (unlabelled)
	// parse is the loop's CPU per object in parsing notifications, the
	// only part of the loop that is not a call of the SDK.
	parse time.Duration
}

// floorProfile runs the I/O floor once more at lvl with a CPU profile of
// this process, and splits its CPU by part. The run is not used for rates:
// profiling costs CPU.
func (b *bench) floorProfile(ctx context.Context, s *corpus.Set, lvl int) (*floorSplit, error) {
	out := filepath.Join(b.logDir, "..", "floor-cpu-"+s.Name+".pprof")
	r, err := b.runLevel(ctx, b.fast, "fast", bucket, s, 1, lvl, levelOpts{profileOut: out})
	if r.Err != nil {
		return nil, r.Err
	}
	if err != nil {
		return nil, err
	}
	prof, err := readProfile(ctx, out)
	if err != nil {
		return nil, err
	}
	split := &floorSplit{perObject: map[string]time.Duration{}}
	for part, d := range prof.byLabel("part") {
		split.perObject[part] = d / time.Duration(r.Objects)
	}
	split.parse = prof.matching(func(fn string) bool { return strings.HasSuffix(fn, "/backend.ParseNotification") }) / time.Duration(r.Objects)
	return split, nil
}

// isClientCall tells a function of the AWS SDK or of net/http: a stack
// through one is the worker's share of a request (signing, middleware,
// connection loops and their system calls).
func isClientCall(fn string) bool {
	return strings.HasPrefix(fn, "github.com/aws/") || strings.HasPrefix(fn, "net/http.")
}

func joinInts(v []int, sep string) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, sep)
}
