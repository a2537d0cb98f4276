package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/logtide/logtide/bench/internal/backend"
	"github.com/logtide/logtide/bench/internal/corpus"
	"github.com/logtide/logtide/bench/internal/floor"
	"github.com/logtide/logtide/bench/internal/report"
	"github.com/logtide/logtide/bench/internal/sysinfo"
	"github.com/logtide/logtide/bench/internal/workerrun"
)

// workerRow is one run of the worker binary and what was measured around it.
type workerRow struct {
	name string
	set  *corpus.Set // the objects queued, in queue order
	res  workerrun.Result
	err  error

	// CPU used during the worker's lifetime by each party.
	harnessCPU, emqCPU, osCPU, busy time.Duration
	osKnown                         bool
	// CPU used from the worker's start until it had deleted every message,
	// when known: what bounds the row's rate, without the idle time before
	// the worker exits.
	workCPU, workHarnessCPU, workEmqCPU time.Duration
	workKnown                           bool
	harnessProfile                      string
	harnessErr                          error
}

type workerOpts struct {
	name            string // for people
	key             string // for queue and file names
	set             *corpus.Set
	esURL           string
	installTemplate bool
	indexPrefix     string
	deadLetter      string
	profile         workerrun.Profile
	onSample        func(workerrun.Sample)
	timeout         time.Duration
	concurrency     int // 0: -concurrency
	// harnessProfile, if set, is where a CPU profile of this process
	// (gofakes3, the sink, the sampling) during the worker's run is written.
	harnessProfile string
}

// runWorker queues one notification per object on a fresh ElasticMQ queue and
// runs the worker until it has deleted them all and exited on idle.
func (b *bench) runWorker(ctx context.Context, o workerOpts) *workerRow {
	w := &workerRow{name: o.name, set: o.set}
	qurl, err := b.fast.CreateQueue(ctx, "bench-"+b.runID+"-"+o.key, 60*time.Second)
	if err != nil {
		w.err = err
		return w
	}
	defer b.fast.DeleteQueue(context.WithoutCancel(ctx), qurl)
	now := time.Now()
	bodies := make([]string, len(o.set.Objects))
	for i, ob := range o.set.Objects {
		bodies[i] = backend.Notification(bucket, ob.Key, int64(len(ob.Gz)), now)
	}
	if err := b.fast.Enqueue(ctx, qurl, bodies); err != nil {
		w.err = err
		return w
	}
	if o.indexPrefix == "" {
		o.indexPrefix = "bench" + b.runID
	}
	if o.deadLetter == "" {
		o.deadLetter = "benchdl" + b.runID
	}
	if o.concurrency == 0 {
		o.concurrency = b.c.concurrency
	}
	args := []string{
		"--queue-url", qurl,
		"--es-url", o.esURL,
		"--exit-when-idle", "3s",
		"--install-template=" + strconv.FormatBool(o.installTemplate),
		"--concurrency", strconv.Itoa(o.concurrency),
		"--index-prefix", o.indexPrefix,
		"--dead-letter-index", o.deadLetter,
	}
	args = append(args, b.c.workerArgs...)
	home, _ := os.UserHomeDir()
	if o.timeout == 0 {
		o.timeout = 3 * time.Minute
	}
	if !b.hasPprof {
		o.profile = workerrun.Profile{}
	}
	spec := workerrun.Spec{
		Bin: b.c.workerBin, Args: args, Env: append(b.fast.WorkerEnv(os.Getenv("PATH"), home), b.c.workerEnv...),
		Log:           filepath.Join(b.logDir, "worker-"+o.key+".log"),
		ExpectDeleted: len(o.set.Objects), Timeout: o.timeout, SampleEvery: 100 * time.Millisecond,
		OnSample: o.onSample, Profile: o.profile,
	}
	osPid := b.openSearchPid()
	h0, _ := floor.ProcessCPU()
	e0, _ := sysinfo.ProcCPU(b.emq.Pid)
	var hc, ec time.Duration
	var errC error
	spec.OnComplete = func() {
		var err error
		hc, errC = floor.ProcessCPU()
		ec, err = sysinfo.ProcCPU(b.emq.Pid)
		errC = errors.Join(errC, err)
	}
	m0, _ := sysinfo.MachineBusy()
	var s0 time.Duration
	if osPid > 0 {
		s0, err = sysinfo.ProcCPU(osPid)
		w.osKnown = err == nil
	}
	logf("worker %s: %d objects, %d lines, %.0f MB uncompressed …", o.name, len(o.set.Objects), o.set.Lines, float64(o.set.Raw)/1e6)
	var stopHarness func() error
	if o.harnessProfile != "" {
		w.harnessProfile = o.harnessProfile
		stopHarness, w.harnessErr = startHarnessProfile(o.harnessProfile)
	}
	w.res = workerrun.Run(ctx, spec)
	if stopHarness != nil {
		w.harnessErr = stopHarness()
	}
	h1, _ := floor.ProcessCPU()
	e1, _ := sysinfo.ProcCPU(b.emq.Pid)
	m1, _ := sysinfo.MachineBusy()
	if w.osKnown {
		s1, err := sysinfo.ProcCPU(osPid)
		w.osKnown = err == nil
		w.osCPU = s1 - s0
	}
	w.harnessCPU, w.emqCPU, w.busy = h1-h0, e1-e0, m1-m0
	if w.res.CPUAtComplete > 0 && errC == nil && hc > 0 {
		w.workCPU, w.workHarnessCPU, w.workEmqCPU, w.workKnown = w.res.CPUAtComplete, hc-h0, ec-e0, true
	}
	w.err = w.res.Err
	if w.err == nil {
		read := w.res.Final.Get("logtide_records_total", `outcome="read"`)
		if int(read) != o.set.Lines {
			b.notes = append(b.notes, fmt.Sprintf("worker %s: logtide_records_total{outcome=\"read\"} is %.0f, the corpus has %d lines.", o.name, read, o.set.Lines))
		}
		if got := w.res.Final.Sum("logtide_messages_received_total"); int(got) > len(o.set.Objects) {
			b.notes = append(b.notes, fmt.Sprintf("worker %s: %.0f messages received for %d objects: some were delivered twice (a receive whose answer the worker never saw, or a visibility timeout that ran out), and the row's time includes the wait for their redelivery (see %s).",
				o.name, got, len(o.set.Objects), spec.Log))
		}
		logf("worker %s: done in %.2fs (exit after %.2fs), CPU %.2fs, peak RSS %.0f MiB (getrusage maxrss %.0f MiB)",
			o.name, w.res.Complete.Seconds(), w.res.Lifetime.Seconds(), w.res.CPU.Seconds(), mib(w.res.PeakRSS), mib(w.res.RusageMaxRSS))
		if f := w.res.Final; f.Has("logtide_sqs_requests_total") {
			req := func(labels ...string) float64 { return f.Get("logtide_sqs_requests_total", labels...) }
			each := func(n, reqs float64) float64 { return n / max(reqs, 1) }
			receives, deletes := req(`operation="ReceiveMessage"`, `outcome="ok"`), req(`operation="DeleteMessageBatch"`)
			logf("worker %s: SQS requests: ReceiveMessage %.0f with messages (%.1f each), %.0f empty; DeleteMessageBatch %.0f (%.1f each); ChangeMessageVisibility %.0f; GetQueueAttributes %.0f; failed %.0f",
				o.name, receives, each(f.Sum("logtide_messages_received_total"), receives), req(`operation="ReceiveMessage"`, `outcome="empty"`),
				deletes, each(f.Sum("logtide_messages_deleted_total"), deletes),
				req(`operation="ChangeMessageVisibility"`), req(`operation="GetQueueAttributes"`), req(`outcome="error"`))
		}
	} else {
		logf("worker %s: %v", o.name, w.err)
	}
	return w
}

// openSearchPid is the local node's pid from the services' pid file, if it
// names a running OpenSearch runner.
func (b *bench) openSearchPid() int {
	raw, err := os.ReadFile(filepath.Join(b.c.root, ".cache", "run", "opensearch.pid"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || !strings.Contains(sysinfo.Cmdline(pid), "OpenSearchRunner") {
		return 0
	}
	return pid
}

func (w *workerRow) cpuPerGB() float64 {
	return w.res.CPU.Seconds() / (float64(w.set.Raw) / 1e9)
}

func (w *workerRow) rate(n float64) float64 { return n / w.res.Complete.Seconds() }

func mib(bytes int64) float64 { return float64(bytes) / (1 << 20) }

// addMain puts a worker row in the main table.
func (b *bench) addMain(w *workerRow, label, vs string) {
	name := "worker → " + w.name
	if w.err != nil {
		b.main.Add(name, label, fmt.Sprint(len(w.set.Objects)), fmt.Sprint(w.set.Lines), report.Num(float64(w.set.Raw)/1e6),
			"", "", "", "", "", "", "failed: "+w.err.Error())
		return
	}
	b.main.Add(name, label, fmt.Sprint(len(w.set.Objects)), fmt.Sprint(w.set.Lines), report.Num(float64(w.set.Raw)/1e6),
		report.Num(w.res.Complete.Seconds()), report.Num(w.rate(float64(len(w.set.Objects)))), report.Num(w.rate(float64(w.set.Lines))),
		report.Num(w.rate(float64(w.set.Raw)/1e6)), report.Num(w.cpuPerGB()), report.Num(mib(w.res.PeakRSS)), vs)
}

func (b *bench) addCPURow(w *workerRow) {
	if w.res.Lifetime == 0 {
		return
	}
	osc := "–"
	if w.osKnown {
		osc = report.Num(w.osCPU.Seconds())
	}
	other := w.busy - w.res.CPU - w.harnessCPU - w.emqCPU
	if w.osKnown {
		other -= w.osCPU
	}
	wall := w.res.Lifetime.Seconds()
	cores := "–"
	if w.res.Complete > 0 {
		cores = report.Num(w.res.CPU.Seconds() / w.res.Complete.Seconds())
	}
	b.cpu.Add(w.name, report.Num(wall), report.Num(w.res.CPU.Seconds()), cores, report.Num(w.harnessCPU.Seconds()),
		report.Num(w.emqCPU.Seconds()), osc, report.Num(math.Max(0, other.Seconds())),
		report.Pct(w.busy.Seconds()/(wall*float64(b.machine.CPUs))))
}

func (b *bench) decodeCPUPerGB(corpusName string) float64 {
	d, ok := b.decode[corpusName+" json.Unmarshal"]
	if !ok {
		return math.NaN()
	}
	return d.CPUPerGB()
}

// ---------------------------------------------------------------- rows

func (b *bench) workerRows(ctx context.Context) {
	if b.c.rows["typical"] {
		b.discardRow(ctx, b.typical, "discard, typical", "typical", false)
	}
	if b.c.rows["tiny"] {
		b.discardRow(ctx, b.tiny, "discard, tiny", "tiny", b.c.pprof)
	}
	if b.huge != nil {
		b.hugeRow(ctx)
	}
	if b.c.rows["opensearch"] {
		b.openSearchRow(ctx)
	}
	if b.c.rows["throttle"] {
		b.throttleRow(ctx)
	}
	if b.c.rows["formats"] {
		b.formatRows(ctx)
	}
}

// profiledRun runs o once more, into a reset sink, under the CPU profiler
// for as long as the measured run w took, keeps the profile in file (under
// .cache/bench) and its top for the report. The worker idles for 3 s before
// it exits, so the profile may outlast the work by up to that much.
func (b *bench) profiledRun(ctx context.Context, w *workerRow, o workerOpts, file string) *workerRow {
	b.sink.Reset()
	secs := max(1, int(math.Ceil(w.res.Complete.Seconds())))
	name := o.name
	o.name += " (profiled)"
	o.key += "-pprof"
	o.profile = workerrun.Profile{After: 200 * time.Millisecond, Seconds: secs, Out: filepath.Join(b.logDir, "..", file)}
	pw := b.runWorker(ctx, o)
	b.profileText(name+" (a separate run)", pw)
	return pw
}

// discardRow runs the corpus into the discarding sink -repeat times and
// reports the run with the median completion time (the machine may be
// shared; one run can be unlucky). A profiled run, if asked for, comes on
// top and is not in the table: profiling costs the worker CPU.
func (b *bench) discardRow(ctx context.Context, s *corpus.Set, name, key string, profile bool) {
	conc := b.c.concurrency
	var tiny *tinyEvidence
	if s.Name == "tiny" {
		conc = b.c.tinyConc
		tiny = b.newTinyEvidence(s)
	}
	var runs []*workerRow
	for i := range b.c.repeat {
		if tiny != nil {
			tiny.measureFloor(ctx)
		}
		b.sink.Reset()
		w := b.runWorker(ctx, workerOpts{name: name, key: fmt.Sprintf("%s-%d", key, i+1), set: s, esURL: b.sink.URL, concurrency: conc})
		if reqs := b.sink.Requests.Load(); reqs > 0 {
			logf("worker %s: the sink answered %d bulk requests, %.1f items each", name, reqs, float64(b.sink.OK.Load()+b.sink.Throttled.Load())/float64(reqs))
		}
		if w.err != nil {
			b.addCPURow(w)
			b.addMain(w, b.label(s), "")
			return
		}
		runs = append(runs, w)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].res.Complete < runs[j].res.Complete })
	w := runs[len(runs)/2]
	b.addCPURow(w)
	if tiny != nil && profile {
		tiny.profileFloor(ctx)
	}
	if profile && b.hasPprof {
		o := workerOpts{name: name, key: key, set: s, esURL: b.sink.URL, concurrency: conc}
		if tiny != nil {
			o.harnessProfile = filepath.Join(b.logDir, "..", "harness-cpu-"+key+".pprof")
		}
		pw := b.profiledRun(ctx, w, o, "worker-cpu-"+key+".pprof")
		if tiny != nil {
			tiny.readProfiles(ctx, pw)
		}
	}
	cpuRatio := w.cpuPerGB() / b.decodeCPUPerGB(s.Name)
	vs := fmt.Sprintf("CPU/GB %s decode floor", report.Ratio(cpuRatio))
	if tiny != nil {
		vs = fmt.Sprintf("objects/s %s of I/O floor; --concurrency %d; ", report.Pct(tiny.share(w)), conc) + vs
	}
	if len(runs) > 1 {
		vs += fmt.Sprintf("; median of %d runs (findings/s %s–%s)", len(runs),
			report.Num(runs[len(runs)-1].rate(float64(s.Lines))), report.Num(runs[0].rate(float64(s.Lines))))
	}
	b.addMain(w, b.label(s), vs)
	switch {
	case s.Name == "typical":
		b.target(cpuRatio <= 2, "worker CPU-s/GB ≤ 2× decode floor (typical exports, discard sink)", report.Ratio(cpuRatio))
	case tiny != nil:
		b.target(tiny.share(w) >= 0.8, "tiny objects ≥ 80 % of the I/O floor's objects/s (same ElasticMQ + gofakes3)", tiny.explain(w))
	}
}

func (b *bench) hugeRow(ctx context.Context) {
	set := corpus.Join("huge", b.huge, b.typical.Subset("typical", b.c.hugeCompanions))
	b.sink.Reset()
	prof := workerrun.Profile{}
	if b.c.pprof {
		// The run takes about 10 s here: profile its middle.
		prof = workerrun.Profile{After: 2 * time.Second, Seconds: 6, Out: filepath.Join(b.logDir, "..", "worker-cpu-huge.pprof")}
	}
	maxObjects, maxRSS := 0.0, 0.0
	name := fmt.Sprintf("discard, huge + %d typical", b.c.hugeCompanions)
	w := b.runWorker(ctx, workerOpts{name: name, key: "huge", set: set, esURL: b.sink.URL, profile: prof, timeout: 8 * time.Minute,
		onSample: func(s workerrun.Sample) {
			maxObjects = math.Max(maxObjects, s.Values.Sum("logtide_objects_in_flight"))
			maxRSS = math.Max(maxRSS, s.Values.Sum("process_resident_memory_bytes"))
		}})
	b.addCPURow(w)
	b.profileText(name+" (profiled while measured)", w)
	label := fmt.Sprintf("huge 1×%dk (%.2f GiB) + %d typical", b.c.hugeFindings/1000, float64(b.huge.Raw)/(1<<30), b.c.hugeCompanions)
	if w.err != nil {
		b.addMain(w, label, "")
		return
	}
	cpuRatio := w.cpuPerGB() / b.decodeCPUPerGB("typical")
	b.addMain(w, label, fmt.Sprintf("CPU/GB %s decode floor; at most %.0f objects in flight seen", report.Ratio(cpuRatio), maxObjects))
	rss := mib(w.res.PeakRSS)
	b.target(rss <= 256, fmt.Sprintf("peak RSS ≤ 256 MiB streaming the huge object with --concurrency %d", b.c.concurrency),
		fmt.Sprintf("%s MiB (VmHWM; largest sampled process_resident_memory_bytes %s MiB; %.0f objects in flight at most)",
			report.Num(rss), report.Num(maxRSS/(1<<20)), maxObjects))
}

// target records whether a goal holds.
func (b *bench) target(ok bool, what, got string) {
	mark := "FAIL"
	if ok {
		mark = "PASS"
	}
	b.targets = append(b.targets, fmt.Sprintf("- **%s** %s: %s", mark, what, got))
}
