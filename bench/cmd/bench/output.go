package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/logtide/logtide/bench/internal/corpus"
	"github.com/logtide/logtide/bench/internal/report"
	"github.com/logtide/logtide/bench/internal/sysinfo"
)

// profileText keeps the top of a worker CPU profile for the report.
func (b *bench) profileText(row string, w *workerRow) {
	if !b.c.pprof {
		return
	}
	if !b.hasPprof {
		if len(b.profiles) == 0 {
			b.profiles = append(b.profiles, "The worker binary has no --pprof-addr: no profiles taken.")
		}
		return
	}
	if w.err != nil {
		return
	}
	if w.res.ProfErr != nil || w.res.Profile == "" {
		why := "the run ended before the profile did"
		if w.res.ProfErr != nil {
			why = w.res.ProfErr.Error()
		}
		b.profiles = append(b.profiles, fmt.Sprintf("%s: no profile (%s).", row, why))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var parts []string
	for _, args := range [][]string{{"-top", "-nodecount=18"}, {"-top", "-cum", "-nodecount=30"}} {
		cmd := exec.CommandContext(ctx, "go", append(append([]string{"tool", "pprof"}, args...), b.c.workerBin, w.res.Profile)...)
		out, err := cmd.Output()
		if err != nil {
			b.profiles = append(b.profiles, fmt.Sprintf("%s: go tool pprof failed: %v", row, err))
			return
		}
		var keep []string
		for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
			if strings.HasPrefix(l, "File:") || strings.HasPrefix(l, "Build ID:") || strings.HasPrefix(l, "Type:") || strings.HasPrefix(l, "Time:") {
				continue
			}
			keep = append(keep, l)
		}
		parts = append(parts, strings.Join(keep, "\n"))
	}
	rel, _ := filepath.Rel(b.c.root, w.res.Profile)
	b.profiles = append(b.profiles, fmt.Sprintf("%s (profile kept in `%s`; by own time, then cumulative):\n\n```\n%s\n```", row, rel, strings.Join(parts, "\n\n")))
}

// write prints the report and stores it.
func (b *bench) write() {
	var r strings.Builder
	m := b.machine
	fmt.Fprintf(&r, "Run %s UTC, %s. Machine: %d CPUs (`nproc`), %s, %s memory, Linux %s, %s.\n",
		b.started.UTC().Format("2006-01-02 15:04"), time.Since(b.started).Round(time.Second), m.CPUs, m.CPUModel, m.MemTotal, m.Kernel, m.Go)
	fmt.Fprintf(&r, "Load average at the start %s, at the end %s.\n\n", b.load0, sysinfo.LoadAvg())
	fmt.Fprintf(&r, "Command: `make bench` (`go run ./bench/cmd/bench%s`).\n\n", argsText())
	extra := ""
	if len(b.c.workerArgs) > 0 {
		extra = " " + strings.Join(b.c.workerArgs, " ")
	}
	if len(b.c.workerEnv) > 0 {
		extra += "` and environment `" + strings.Join(b.c.workerEnv, " ")
	}
	fmt.Fprintf(&r, "Worker rows and the first I/O floors: ElasticMQ (SQS, JSON protocol) and gofakes3 (S3, in the harness process); "+
		"the worker reaches them through AWS_ENDPOINT_URL_SQS and AWS_ENDPOINT_URL_S3, with `--concurrency %d%s` (`--concurrency %d` for the tiny objects). "+
		"MB and GB are 10^6 and 10^9 bytes of uncompressed JSON Lines unless marked gz. "+
		"Decode floor rows are per CPU-second of one goroutine; worker rows are wall-clock rates from the worker's start until it deleted the last message, "+
		"and CPU-s/GB is the worker's whole-life CPU time (getrusage of the child) per GB.", b.c.concurrency, extra, b.c.tinyConc)
	if b.warm != "" {
		r.WriteString(" " + b.warm)
	}
	r.WriteString("\n\n")
	r.WriteString(b.main.String())
	r.WriteString("\nTargets:\n\n")
	r.WriteString(strings.Join(b.targets, "\n") + "\n")
	if len(b.cpu.Rows) > 0 {
		r.WriteString("\nCPU-seconds used during each worker row's lifetime (everything else: processes outside this benchmark, from /proc/stat):\n\n")
		r.WriteString(b.cpu.String())
	}
	if b.throttleSummary != "" {
		r.WriteString("\nThrottled sink: " + b.throttleSummary + "\n\n")
		r.WriteString(b.timeline.String())
	}
	if len(b.profiles) > 0 {
		r.WriteString("\nWorker CPU profiles:\n\n")
		r.WriteString(strings.Join(b.profiles, "\n\n") + "\n")
	}
	if len(b.notes) > 0 {
		r.WriteString("\nNotes:\n\n")
		for _, n := range b.notes {
			r.WriteString("- " + n + "\n")
		}
	}
	out := r.String()
	fmt.Print("\n" + out)
	if err := os.MkdirAll(filepath.Dir(b.c.out), 0o755); err == nil {
		if err := os.WriteFile(b.c.out, []byte(out), 0o644); err != nil {
			logf("writing %s: %v", b.c.out, err)
		} else {
			logf("report written to %s", b.c.out)
		}
	}
	if b.c.record != "" {
		if err := report.Record(b.c.record, out); err != nil {
			logf("recording into %s: %v", b.c.record, err)
		} else {
			logf("results recorded in %s", b.c.record)
		}
	}
}

func argsText() string {
	if len(os.Args) < 2 {
		return ""
	}
	return " " + strings.Join(os.Args[1:], " ")
}

// floorSplit is the CPU per object of each part of a profiled I/O floor
// run in this process, by the profile label "part".
type floorSplit struct {
	perObject map[string]time.Duration // "loop", "s3", "" (unlabelled)
	// parse is the loop's CPU per object in parsing notifications, the
	// only part of the loop that is not a call of the SDK.
	parse time.Duration
	file  string
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
	split := &floorSplit{perObject: map[string]time.Duration{}, file: out}
	for part, d := range prof.byLabel("part") {
		split.perObject[part] = d / time.Duration(r.Objects)
	}
	split.parse = prof.matching(func(fn string) bool { return strings.HasSuffix(fn, "/backend.ParseNotification") }) / time.Duration(r.Objects)
	return split, nil
}

// rawProfile is a CPU profile as go tool pprof -raw prints it: samples with
// their labels and stacks, and the functions at each location.
type rawProfile struct {
	samples []rawSample
	funcs   map[int][]string // location id → functions, innermost first
}

type rawSample struct {
	cpu    time.Duration
	labels map[string]string
	locs   []int // innermost first
}

// readProfile runs go tool pprof -raw on file.
func readProfile(ctx context.Context, file string) (*rawProfile, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-raw", file).Output()
	if err != nil {
		return nil, fmt.Errorf("go tool pprof -raw %s: %w", file, err)
	}
	return parseRaw(string(out))
}

// parseRaw reads go tool pprof -raw output: after "samples/count", one line
// per sample ("count nanoseconds: loc loc …") followed by indented
// "name:[value]" lines for its labels; after "Locations", one line per
// location ("id: address M=n function file:line …") followed by indented
// lines for the functions inlined into it.
func parseRaw(raw string) (*rawProfile, error) {
	p := &rawProfile{funcs: map[int][]string{}}
	lines := strings.Split(raw, "\n")
	i := 0
	for i < len(lines) && !strings.HasPrefix(lines[i], "samples/count") {
		i++
	}
	if i == len(lines) {
		return nil, errors.New("pprof -raw: no samples section")
	}
	for i++; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if t == "" {
			continue
		}
		if name, value, ok := strings.Cut(t, ":["); ok && !strings.ContainsAny(name, " \t") && len(p.samples) > 0 {
			last := &p.samples[len(p.samples)-1]
			if last.labels == nil {
				last.labels = map[string]string{}
			}
			last.labels[name] = strings.TrimSuffix(value, "]")
			continue
		}
		f := strings.Fields(t)
		if len(f) < 2 || !strings.HasSuffix(f[1], ":") {
			break // the end of the samples section
		}
		ns, err := strconv.ParseInt(strings.TrimSuffix(f[1], ":"), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("pprof -raw: sample line %q: %w", t, err)
		}
		sm := rawSample{cpu: time.Duration(ns)}
		for _, l := range f[2:] {
			id, err := strconv.Atoi(l)
			if err != nil {
				return nil, fmt.Errorf("pprof -raw: sample line %q: %w", t, err)
			}
			sm.locs = append(sm.locs, id)
		}
		p.samples = append(p.samples, sm)
	}
	for i < len(lines) && strings.TrimSpace(lines[i]) != "Locations" {
		i++
	}
	last := -1
	for i++; i < len(lines); i++ {
		l := lines[i]
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if id, ok := strings.CutSuffix(f[0], ":"); ok {
			n, err := strconv.Atoi(id)
			if err != nil {
				break // the next section
			}
			last = n
			if len(f) >= 4 {
				p.funcs[n] = append(p.funcs[n], f[3])
			}
			continue
		}
		if last < 0 || !strings.HasPrefix(l, " ") {
			break
		}
		p.funcs[last] = append(p.funcs[last], f[0])
	}
	return p, nil
}

// byLabel sums the samples by their value of label ("" for none).
func (p *rawProfile) byLabel(label string) map[string]time.Duration {
	sums := map[string]time.Duration{}
	for _, s := range p.samples {
		sums[s.labels[label]] += s.cpu
	}
	return sums
}

// total is the CPU of every sample.
func (p *rawProfile) total() time.Duration {
	var t time.Duration
	for _, s := range p.samples {
		t += s.cpu
	}
	return t
}

// matching sums the samples with a function on their stack for which match
// is true.
func (p *rawProfile) matching(match func(fn string) bool) time.Duration {
	var t time.Duration
	for _, s := range p.samples {
	stack:
		for _, l := range s.locs {
			for _, fn := range p.funcs[l] {
				if match(fn) {
					t += s.cpu
					break stack
				}
			}
		}
	}
	return t
}
