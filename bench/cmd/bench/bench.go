package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/logtide/logtide/bench/internal/backend"
	"github.com/logtide/logtide/bench/internal/bulksink"
	"github.com/logtide/logtide/bench/internal/corpus"
	"github.com/logtide/logtide/bench/internal/floor"
	"github.com/logtide/logtide/bench/internal/report"
	"github.com/logtide/logtide/bench/internal/sysinfo"
	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/guardduty"
)

// bucket holds every object on the fast S3 server.
const bucket = "bench-exports"

type bench struct {
	c       config
	runID   string
	logDir  string
	started time.Time
	machine sysinfo.Machine
	load0   string

	typical, tiny, throttle, huge *corpus.Set
	// formats are the other log types' typical corpora and floors.
	formats []formatSet

	decode map[string]floor.Decode // "<corpus> <parse>"
	io     map[string][]floor.IO   // "<backend> <corpus>"

	fake     *backend.FakeS3
	emq      *backend.ElasticMQ
	fast     *backend.AWS
	sink     *bulksink.Sink
	hasPprof bool

	main     report.Table
	cpu      report.Table
	timeline report.Table
	targets  []string
	// throttleSummary says what the throttled run did, in words.
	throttleSummary string
	notes           []string
	profiles        []string
	queues          int
	warm            string // how ElasticMQ was warmed up
}

func newBench(c config) *bench {
	b := &bench{
		c:       c,
		runID:   fmt.Sprintf("%d", time.Now().Unix()),
		started: time.Now(),
		decode:  map[string]floor.Decode{},
		io:      map[string][]floor.IO{},
	}
	b.logDir = filepath.Join(c.root, ".cache", "bench", "logs")
	b.main = report.Table{
		Head:  []string{"row", "corpus", "objects", "findings", "MB", "s", "objects/s", "findings/s", "MB/s", "CPU-s/GB", "peak RSS MiB", "vs floor"},
		Right: []bool{false, false, true, true, true, true, true, true, true, true, true, false},
	}
	b.cpu = report.Table{
		Head:  []string{"worker row", "wall s", "worker", "worker cores", "harness (S3 + sink)", "ElasticMQ", "OpenSearch", "everything else", "machine busy"},
		Right: []bool{false, true, true, true, true, true, true, true, true},
	}
	return b
}

func (b *bench) close() {
	if b.sink != nil {
		b.sink.Close()
	}
	if b.emq != nil {
		b.emq.Stop()
	}
	if b.fake != nil {
		b.fake.Close()
	}
}

func (b *bench) run(ctx context.Context) error {
	if err := os.MkdirAll(b.logDir, 0o755); err != nil {
		return err
	}
	if _, err := os.Stat(b.c.workerBin); err != nil {
		return fmt.Errorf("worker binary: %w (run make build)", err)
	}
	help, _ := exec.Command(b.c.workerBin, "run", "--help").CombinedOutput()
	b.hasPprof = strings.Contains(string(help), "--pprof-addr")
	b.machine = sysinfo.Describe()
	b.load0 = sysinfo.LoadAvg()
	logf("machine: %d CPUs (%s), %s; load average %s", b.machine.CPUs, b.machine.CPUModel, b.machine.MemTotal, b.load0)

	// Corpora for the floors first, so the decode floor runs in a process
	// whose heap is about as small as the worker's.
	var err error
	if b.typical, err = b.generate("typical", format.GenerateOptions{Seed: b.c.seed, Objects: b.c.typicalObjects, RecordsPerObject: b.c.typicalFindings, Prefix: "typical"}); err != nil {
		return err
	}
	if b.tiny, err = b.generate("tiny", format.GenerateOptions{Seed: b.c.seed + 1, Objects: b.c.tinyObjects, RecordsPerObject: 1, UpdatePercent: -1, Prefix: "tiny"}); err != nil {
		return err
	}
	if err := b.decodeFloors(); err != nil {
		return err
	}
	if err := b.formatFloors(); err != nil {
		return err
	}
	if b.c.rows["throttle"] {
		if b.throttle, err = b.generate("throttle", format.GenerateOptions{Seed: b.c.seed + 2, Objects: b.c.throttleObjects, RecordsPerObject: b.c.typicalFindings, Prefix: "throttle"}); err != nil {
			return err
		}
	}
	if b.c.hugeFindings > 0 && b.c.rows["huge"] {
		if b.huge, err = b.generate("huge", format.GenerateOptions{Seed: b.c.seed + 3, Objects: 1, RecordsPerObject: b.c.hugeFindings, Prefix: "huge"}); err != nil {
			return err
		}
		if b.huge.Raw < 1<<30 {
			b.notes = append(b.notes, fmt.Sprintf("The huge object is %.2f GiB uncompressed, under the 1 GiB aimed at: raise -huge-findings.", float64(b.huge.Raw)/(1<<30)))
		}
	}

	if err := b.startFast(ctx); err != nil {
		return err
	}
	b.ioFloors(ctx)
	b.workerRows(ctx)
	b.write()
	return nil
}

func (b *bench) generate(name string, o format.GenerateOptions) (*corpus.Set, error) {
	// The GuardDuty findings exports are the format the targets are set on.
	s, err := corpus.Generate(name, guardduty.Spec, o)
	if err != nil {
		return nil, err
	}
	logf("corpus %s: %d objects, %d lines, %.1f MB uncompressed, %.1f MB gzip, rendered in %s",
		name, len(s.Objects), s.Lines, float64(s.Raw)/1e6, float64(s.Gz)/1e6, s.GenTime.Round(time.Millisecond))
	return s, nil
}

func (b *bench) label(s *corpus.Set) string {
	switch s.Name {
	case "typical", "throttle":
		return fmt.Sprintf("typical %d×%d", len(s.Objects), b.c.typicalFindings)
	case "tiny":
		return fmt.Sprintf("tiny %d×1", len(s.Objects))
	case "huge":
		return fmt.Sprintf("huge 1×%dk", b.c.hugeFindings/1000)
	}
	return s.Name
}

// ---------------------------------------------------------------- decode floor

func (b *bench) decodeFloors() error {
	for _, s := range []*corpus.Set{b.typical, b.tiny} {
		for _, p := range []floor.Parse{floor.Unmarshal, floor.Valid} {
			d, err := floor.RunDecode(s, p, 1500*time.Millisecond, 2000)
			if err != nil {
				return fmt.Errorf("decode floor %s: %w", s.Name, err)
			}
			b.decode[s.Name+" "+p.String()] = d
			logf("decode floor %s %s: %.1f MB per CPU-s, %.0f findings per CPU-s (%d passes)", s.Name, p, d.MBPerCPUSecond(), d.LinesPerCPUSecond(), d.Passes)
			vs := "floor"
			if p == floor.Valid {
				vs = "second reference: the Unmarshal floor costs " + report.Ratio(b.decode[s.Name+" json.Unmarshal"].CPUPerGB()/d.CPUPerGB())
			}
			b.main.Add("decode floor, gunzip + "+p.String(), b.label(s), fmt.Sprint(len(s.Objects)), fmt.Sprint(s.Lines),
				report.Num(float64(s.Raw)/1e6), report.Num(d.CPU.Seconds()/float64(d.Passes))+" CPU",
				"–", report.Num(d.LinesPerCPUSecond())+" /CPU-s", report.Num(d.MBPerCPUSecond())+" /CPU-s",
				report.Num(d.CPUPerGB()), "–", vs)
		}
	}
	return nil
}

// ---------------------------------------------------------------- servers

func (b *bench) startFast(ctx context.Context) error {
	var err error
	if b.fake, err = backend.StartFakeS3(); err != nil {
		return fmt.Errorf("gofakes3: %w", err)
	}
	lib, err := backend.InstallElasticMQ(ctx, b.c.root, os.Stderr)
	if err != nil {
		return err
	}
	t0 := time.Now()
	if b.emq, err = backend.StartElasticMQ(ctx, b.c.root, lib); err != nil {
		return err
	}
	logf("ElasticMQ (pid %d) at %s in %s; gofakes3 at %s", b.emq.Pid, b.emq.URL, time.Since(t0).Round(100*time.Millisecond), b.fake.URL)
	if b.fast, err = backend.Connect("ElasticMQ + gofakes3", b.fake.URL, b.emq.URL); err != nil {
		return err
	}
	for _, s := range []*corpus.Set{b.typical, b.tiny, b.throttle, b.huge} {
		if s == nil {
			continue
		}
		for i := range s.Objects {
			if err := b.fake.Put(bucket, s.Objects[i].Key, s.Objects[i].Gz); err != nil {
				return fmt.Errorf("seeding gofakes3: %w", err)
			}
		}
	}
	// gofakes3 keeps its own copy of the huge object; ours is not needed.
	if b.huge != nil {
		b.huge.Objects[0].Gz = nil
	}
	if b.sink, err = bulksink.Start(); err != nil {
		return err
	}
	return nil
}

// ---------------------------------------------------------------- I/O floor

func (b *bench) ioFloors(ctx context.Context) {
	b.warmUp(ctx)
	b.ioFloor(ctx, b.fast, "fast", bucket, b.tiny, b.c.ioObjects)
	b.ioFloor(ctx, b.fast, "fast", bucket, b.typical, b.c.ioObjects)
	if b.c.motoObjects <= 0 || !b.c.rows["moto"] {
		return
	}
	moto, err := b.motoSeed(ctx)
	if err != nil {
		b.main.Add("I/O floor, moto", "", "", "", "", "", "", "", "", "", "", "skipped: "+err.Error())
		logf("moto I/O floor skipped: %v", err)
		return
	}
	defer b.motoCleanup(moto)
	b.ioFloor(ctx, moto.aws, "moto", moto.bucket, b.tiny.Subset("tiny", b.c.motoObjects), b.c.motoObjects)
	b.ioFloor(ctx, moto.aws, "moto", moto.bucket, b.typical, b.c.motoObjects)
}

// warmUp runs the tiny objects through the plain loop until ElasticMQ's
// rate stops rising: its JVM compiles its hot paths during the first
// hundred thousand or so requests, and a cold server made the floors and the
// worker runs of a benchmark up to twice as slow at its start as at its end.
func (b *bench) warmUp(ctx context.Context) {
	const minRounds, maxRounds = 5, 14
	s := b.tiny
	reps := max(1, (4000+len(s.Objects)-1)/len(s.Objects))
	var rates []string
	best, flat := 0.0, 0
	for i := range maxRounds {
		r := b.ioLevel(ctx, b.fast, "fast", bucket, s, reps, 16)
		if r.Err != nil {
			return
		}
		rate := r.ObjectsPerSecond()
		rates = append(rates, report.Num(rate))
		// Settled: two rounds in a row not 3 % above the best before them.
		if rate < 1.03*best {
			flat++
		} else {
			flat = 0
		}
		best = math.Max(best, rate)
		if i+1 >= minRounds && flat >= 2 {
			b.warm = fmt.Sprintf("ElasticMQ was warmed up with %d rounds of the tiny objects through the I/O floor's loop at c=16 (objects/s: %s) until two rounds in a row were not 3 %% faster than the best before them.",
				i+1, strings.Join(rates, ", "))
			logf("ElasticMQ warm after %d rounds", i+1)
			return
		}
	}
	b.warm = fmt.Sprintf("ElasticMQ's rate still rose after %d warm-up rounds (objects/s: %s); the floors may read low.", maxRounds, strings.Join(rates, ", "))
	logf("%s", b.warm)
}

// ioFloor runs the plain loop at every concurrency level on a fresh queue
// each time and reports the best level. Each level moves at least
// minObjects notifications: a corpus with fewer objects is queued several
// times over, so that no level is timed over a few milliseconds.
func (b *bench) ioFloor(ctx context.Context, aws *backend.AWS, key, bkt string, s *corpus.Set, minObjects int) {
	var runs []floor.IO
	reps := max(1, (minObjects+len(s.Objects)-1)/len(s.Objects))
	total := reps * len(s.Objects)
	for _, lvl := range b.c.levels {
		runs = append(runs, b.ioLevel(ctx, aws, key, bkt, s, reps, lvl))
	}
	b.io[key+" "+s.Name] = runs
	best, ok := bestIO(runs)
	var lv []string
	for _, r := range runs {
		if r.Err != nil {
			lv = append(lv, fmt.Sprintf("c=%d failed", r.Concurrency))
		} else {
			lv = append(lv, fmt.Sprintf("c=%d %s/s", r.Concurrency, report.Num(r.ObjectsPerSecond())))
		}
	}
	name := "I/O floor, " + aws.Name
	if !ok {
		msg := "failed"
		for _, r := range runs {
			if r.Err != nil {
				msg = "failed: " + r.Err.Error()
				break
			}
		}
		b.main.Add(name, b.label(s), fmt.Sprint(total), fmt.Sprint(reps*s.Lines), "", "", "", "", "", "", "", msg)
		return
	}
	reads := ""
	if reps > 1 {
		reads = fmt.Sprintf(" each object read %d times;", reps)
	}
	cpu := ""
	if best.CPUKnown {
		// The CPU of the whole level, which ran a little longer than its
		// timed part; per object it is what this path costs the machine.
		per := func(d time.Duration) string { return report.Num(d.Seconds()/float64(best.Objects)*1e6) + " µs" }
		cpu = fmt.Sprintf("; CPU per object: loop + S3 %s, ElasticMQ %s, whole machine %s", per(best.HarnessCPU), per(best.ServerCPU), per(best.Busy))
	}
	b.main.Add(name, b.label(s), fmt.Sprint(best.Objects), fmt.Sprint(reps*s.Lines),
		report.Num(float64(best.Bytes)/1e6)+" gz", report.Num(best.Wall.Seconds()),
		report.Num(best.ObjectsPerSecond()), report.Num(float64(reps*s.Lines)/best.Wall.Seconds()),
		report.Num(float64(best.Bytes)/1e6/best.Wall.Seconds())+" gz", "–", "–",
		fmt.Sprintf("floor;%s best c=%d (%s)%s", reads, best.Concurrency, strings.Join(lv, ", "), cpu))
}

// ioLevel runs the plain loop once at one concurrency level on a fresh
// queue holding every object of s reps times, and measures the CPU each
// party spent meanwhile.
func (b *bench) ioLevel(ctx context.Context, aws *backend.AWS, key, bkt string, s *corpus.Set, reps, lvl int) floor.IO {
	r, _ := b.runLevel(ctx, aws, key, bkt, s, reps, lvl, levelOpts{})
	return r
}

// levelOpts are the less common options of runLevel.
type levelOpts struct {
	// read is how the loop reads each object (default: to the end,
	// discarded).
	read func() floor.Reader
	// profileOut, if set, receives a CPU profile of this process while the
	// loop runs.
	profileOut string
}

// runLevel is ioLevel with options; profErr says why a profile asked for
// could not be written.
func (b *bench) runLevel(ctx context.Context, aws *backend.AWS, key, bkt string, s *corpus.Set, reps, lvl int, o levelOpts) (r floor.IO, profErr error) {
	// The loop's goroutines, and the connections they open, carry the
	// profile label part=loop.
	pprof.Do(ctx, pprof.Labels("part", "loop"), func(ctx context.Context) {
		r, profErr = b.runLevelLabelled(ctx, aws, key, bkt, s, reps, lvl, o)
	})
	return r, profErr
}

func (b *bench) runLevelLabelled(ctx context.Context, aws *backend.AWS, key, bkt string, s *corpus.Set, reps, lvl int, o levelOpts) (floor.IO, error) {
	total := reps * len(s.Objects)
	qurl, err := aws.CreateQueue(ctx, fmt.Sprintf("bench-%s-io-%s-%d-%d", b.runID, s.Name, lvl, b.nextQueue()), 60*time.Second)
	if err != nil {
		return floor.IO{Concurrency: lvl, Err: err}, nil
	}
	defer aws.DeleteQueue(ctx, qurl)
	now := time.Now()
	var bodies []string
	for range reps {
		for _, o := range s.Objects {
			bodies = append(bodies, backend.Notification(bkt, o.Key, int64(len(o.Gz)), now))
		}
	}
	if err := aws.Enqueue(ctx, qurl, bodies); err != nil {
		return floor.IO{Concurrency: lvl, Err: err}, nil
	}
	emqPid := 0
	if key == "fast" && b.emq != nil {
		emqPid = b.emq.Pid
	}
	h0, err1 := floor.ProcessCPU()
	e0, err2 := sysinfo.ProcCPU(emqPid)
	m0, err3 := sysinfo.MachineBusy()
	var stopProfile func() error
	var profErr error
	if o.profileOut != "" {
		stopProfile, profErr = startHarnessProfile(o.profileOut)
	}
	read := o.read
	if read == nil {
		read = floor.Discard
	}
	r := floor.RunIOReading(ctx, aws, qurl, total, lvl, 90*time.Second, read)
	if stopProfile != nil {
		profErr = stopProfile()
	}
	h1, _ := floor.ProcessCPU()
	e1, _ := sysinfo.ProcCPU(emqPid)
	m1, _ := sysinfo.MachineBusy()
	if emqPid > 0 && err1 == nil && err2 == nil && err3 == nil {
		r.HarnessCPU, r.ServerCPU, r.Busy, r.CPUKnown = h1-h0, e1-e0, m1-m0, true
	}
	if r.Err != nil {
		logf("I/O floor %s %s c=%d: %v", aws.Name, s.Name, lvl, r.Err)
	} else {
		logf("I/O floor %s %s c=%d: %.1f objects/s, %.1f MB/s (gzip)", aws.Name, s.Name, lvl, r.ObjectsPerSecond(), float64(r.Bytes)/1e6/r.Wall.Seconds())
	}
	return r, profErr
}

// nextQueue numbers queues, so that no two runs share one.
func (b *bench) nextQueue() int {
	b.queues++
	return b.queues
}

func bestIO(runs []floor.IO) (floor.IO, bool) {
	var best floor.IO
	ok := false
	for _, r := range runs {
		if r.Err == nil && (!ok || r.ObjectsPerSecond() > best.ObjectsPerSecond()) {
			best, ok = r, true
		}
	}
	return best, ok
}
