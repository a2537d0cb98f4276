package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

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
