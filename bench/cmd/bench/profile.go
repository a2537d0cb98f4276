package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

// startHarnessProfile starts a CPU profile of this process into out.
func startHarnessProfile(out string) (stop func() error, err error) {
	f, err := os.Create(out)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
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
