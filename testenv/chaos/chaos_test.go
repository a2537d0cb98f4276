//go:build chaos && linux

// Package chaos runs a fleet of worker processes against the local moto and
// OpenSearch while killing workers with SIGKILL and stopping the cluster, then
// checks that every finding landed exactly once at its newest version and
// that every poison record was dead-lettered exactly once.
//
// Run it with `make chaos` (services started, env from testenv/env.sh).
package chaos

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logtide/logtide/testenv/awslocal"
	"github.com/logtide/logtide/testenv/search"
	"github.com/logtide/logtide/testenv/services"
	"github.com/logtide/logtide/worker/format/guardduty"
)

// Budget of one run. The whole test aims at under 4 minutes on a 2-core
// machine; hardTimeout ends it well before `go test -timeout` would kill it
// without running the cleanups (which restart OpenSearch if it is down).
const (
	hardTimeout = 7 * time.Minute
	workers     = 3
	// The chaos phase lasts chaosFor, or ends after chaosMin once the
	// outage is over and the queue is empty: killing idle workers proves
	// little and a fast machine need not wait.
	chaosFor = 75 * time.Second
	chaosMin = 40 * time.Second
	// The outage starts early enough that the fleet is still busy with the
	// corpus, so in-flight bulk requests meet a dead cluster.
	outageStartMin = 4 * time.Second
	outageStartMax = 12 * time.Second
	outageMin      = 10 * time.Second
	outageMax      = 15 * time.Second
	// A message the worker gives back after a failure is delayed by up to
	// 5 minutes, growing with its receive count; the drain must outlast the
	// delays the outage and the kills cause.
	drainFor = 3 * time.Minute
	// The queue must stay empty this long before the fleet is stopped.
	quietFor = 4 * time.Second
	termFor  = 10 * time.Second
	// A killed worker's messages come back after this; short so the drain
	// does not wait long for them.
	visibilityTimeout = 10 * time.Second
	// High enough that chaos never moves a good message to the queue's DLQ.
	maxReceiveCount = 50
)

func TestChaos(t *testing.T) {
	began := time.Now()
	esURL := services.Env(t, "OPENSEARCH_URL")
	services.Env(t, "AWS_ENDPOINT_URL")
	ctx, cancel := context.WithTimeout(context.Background(), hardTimeout)
	defer cancel()
	root := repoRoot(t)

	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("LOGTIDE_CHAOS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("LOGTIDE_CHAOS_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("chaos schedule seed %d (LOGTIDE_CHAOS_SEED=%d repeats it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x6368616f73))

	// Logs outlive a failed run so they can be read; a passing run removes them.
	work, err := os.MkdirTemp("", "logtide-chaos-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			os.RemoveAll(work)
		}
	})

	phase := time.Now()
	bin := filepath.Join(work, "worker")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./worker/cmd/worker")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if help, _ := exec.CommandContext(ctx, bin, "run", "--help").CombinedOutput(); !bytes.Contains(help, []byte("--dead-letter-index")) {
		t.Fatalf("the worker has no --dead-letter-index option yet; `worker run --help`:\n%s", help)
	}
	t.Logf("built the worker in %s", since(phase))

	// Provision and upload.
	phase = time.Now()
	awsc, err := awslocal.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("chaos-%d", time.Now().UnixNano())
	st, err := awsc.Provision(ctx, awslocal.Options{Bucket: name, Queue: name,
		VisibilityTimeout: visibilityTimeout, MaxReceiveCount: maxReceiveCount})
	if err != nil {
		t.Fatal(err)
	}
	// The two names must not overlap: <prefix>-* is the findings' index
	// pattern (and their template's), which the dead-letter index must stay out of.
	prefix, dlIndex := name+"-findings", name+"-deadletter"

	// Sized so that the fleet is still working through it for much of the
	// chaos phase (200 to 500 records/s here with three workers, depending on
	// the load), across about 25 daily indices.
	corpus, err := guardduty.NewCorpus(guardduty.CorpusOptions{Seed: 20260105, Objects: 600, FindingsPerObject: 15,
		ReexportPercent: 30, OutOfOrder: true, Regions: []string{"us-east-1", "eu-west-1"}})
	if err != nil {
		t.Fatal(err)
	}
	poison := poisonObjects()
	uploads := make([]upload, 0, len(corpus.Objects())+len(poison.objects))
	for i, o := range corpus.Objects() {
		var buf bytes.Buffer
		if err := corpus.WriteObject(&buf, i); err != nil {
			t.Fatal(err)
		}
		uploads = append(uploads, upload{key: o.Key, body: buf.Bytes()})
	}
	uploads = append(uploads, poison.objects...)
	if err := putAll(ctx, awsc, st.Bucket, uploads); err != nil {
		t.Fatal(err)
	}
	// moto sends each notification before PutObject returns: one per
	// object, plus the s3:TestEvent of the notification configuration.
	if vis, _, _, err := awsc.Depth(ctx, st.QueueURL); err != nil || vis != len(uploads)+1 {
		t.Fatalf("queue holds %d messages (err %v), want %d", vis, err, len(uploads)+1)
	}
	records := corpus.Records() + poison.lines
	t.Logf("uploaded %d objects (%d records, %d poison) in %s", len(uploads), records, len(poison.bad), since(phase))

	t.Cleanup(func() {
		// A passing run leaves nothing behind: every kept shard slows the
		// next OpenSearch restart. A failing one keeps its indices to look at.
		if t.Failed() {
			t.Logf("indices kept for inspection: %s-*, %s", prefix, dlIndex)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// The run's indices and templates all start with its name.
		if err := search.New(esURL).Drop(ctx, name+"*"); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})

	// The fleet.
	fl := &fleet{t: t, bin: bin, dir: work, args: []string{"run",
		"--queue-url", st.QueueURL, "--es-url", esURL,
		"--index-prefix", prefix, "--dead-letter-index", dlIndex,
		"--metrics-addr", "", "--concurrency", "4", "--wait-time", "1s",
		"--shutdown-grace", "5s", "--bulk-max-docs", "50"}}
	t.Cleanup(fl.killAll)
	t.Cleanup(func() {
		if t.Failed() {
			fl.report()
		}
	})
	for i := range workers {
		if err := fl.start(i); err != nil {
			t.Fatal(err)
		}
	}

	// Chaos: kill -9 and restart workers; stop and restart OpenSearch once.
	phase = time.Now()
	var kills, restarts int
	var osRestarts atomic.Int32
	var osTouched atomic.Bool
	t.Cleanup(func() {
		// Whatever happened, leave OpenSearch running for whoever comes next.
		if osTouched.Load() {
			if out, err := servicesSh(context.Background(), root, "start", "opensearch"); err != nil {
				t.Errorf("restarting OpenSearch after the test: %v\n%s", err, out)
			}
		}
	})
	outageAt := randDur(rng, outageStartMin, outageStartMax)
	outageLen := randDur(rng, outageMin, outageMax)
	var outage sync.WaitGroup
	var outageOver atomic.Bool
	// services.sh is never interrupted half-way (a killed `start` could leave
	// a node without pid file); its own timeouts bound it.
	svcCtx := context.WithoutCancel(ctx)
	outage.Go(func() {
		if !sleep(ctx, outageAt) {
			return
		}
		vis, inflight, delayed, _ := awsc.Depth(ctx, st.QueueURL)
		t.Logf("%s: stopping OpenSearch for %s (queue: %d visible, %d in flight, %d delayed)",
			since(phase), outageLen.Round(time.Second), vis, inflight, delayed)
		osTouched.Store(true)
		down := time.Now()
		if out, err := servicesSh(svcCtx, root, "stop", "opensearch"); err != nil {
			t.Errorf("stopping OpenSearch: %v\n%s", err, out)
		}
		sleep(ctx, outageLen) // cut short if the test is ending
		t0 := time.Now()
		if out, err := servicesSh(svcCtx, root, "start", "opensearch"); err != nil {
			t.Errorf("starting OpenSearch again: %v\n%s", err, out)
			return
		}
		osRestarts.Add(1)
		outageOver.Store(true)
		t.Logf("%s: OpenSearch back, down for %s (start took %s)", since(phase), since(down), since(t0))
	})
	// A failing test must not return while the outage is under way.
	defer func() { cancel(); outage.Wait() }()
	var progress sync.WaitGroup
	progressCtx, stopProgress := context.WithCancel(ctx)
	progress.Go(func() {
		// The queue's depth every 10 s shows whether the chaos met work.
		for sleep(progressCtx, 10*time.Second) {
			vis, inflight, delayed, err := awsc.Depth(progressCtx, st.QueueURL)
			if err == nil {
				t.Logf("%s: queue: %d visible, %d in flight, %d delayed", since(phase), vis, inflight, delayed)
			}
		}
	})
	defer func() { stopProgress(); progress.Wait() }()
	for end := time.Now().Add(chaosFor); time.Now().Before(end) && ctx.Err() == nil; {
		if !sleep(ctx, randDur(rng, time.Second, 4*time.Second)) {
			break
		}
		fl.revive()
		i := rng.IntN(workers)
		if err := fl.kill(i); err != nil {
			t.Error(err)
		}
		kills++
		if !sleep(ctx, randDur(rng, 0, 2*time.Second)) {
			break
		}
		if err := fl.start(i); err != nil {
			t.Fatal(err)
		}
		restarts++
		if time.Since(phase) >= chaosMin && outageOver.Load() {
			if vis, inflight, delayed, err := awsc.Depth(ctx, st.QueueURL); err == nil && vis+inflight+delayed == 0 {
				break
			}
		}
	}
	outage.Wait()
	t.Logf("chaos phase over after %s: %d kills, %d restarts, %d OpenSearch restarts", since(phase), kills, restarts, osRestarts.Load())

	// Drain: the queue must stay empty for quietFor.
	phase = time.Now()
	drained := false
	var quietSince time.Time
	var lastDepth string
	for deadline := time.Now().Add(drainFor); time.Now().Before(deadline) && ctx.Err() == nil; {
		fl.revive()
		vis, inflight, delayed, err := awsc.Depth(ctx, st.QueueURL)
		switch {
		case err != nil:
			lastDepth = err.Error()
			quietSince = time.Time{}
		case vis+inflight+delayed == 0:
			if quietSince.IsZero() {
				quietSince = time.Now()
			}
		default:
			lastDepth = fmt.Sprintf("%d visible, %d in flight, %d delayed", vis, inflight, delayed)
			quietSince = time.Time{}
		}
		if !quietSince.IsZero() && time.Since(quietSince) >= quietFor {
			drained = true
			break
		}
		sleep(ctx, time.Second)
	}
	stopProgress()
	progress.Wait()
	if drained {
		t.Logf("queue drained in %s", since(phase))
	} else if ctx.Err() != nil {
		t.Errorf("test deadline (%s) reached before the queue drained (last: %s)", hardTimeout, lastDepth)
	} else {
		t.Errorf("queue not drained within %s (last: %s)", drainFor, lastDepth)
	}

	// Stop: every worker must exit 0 on SIGTERM.
	for i := range workers {
		if err := fl.terminate(i, termFor); err != nil {
			t.Error(err)
		}
	}

	// Verify.
	phase = time.Now()
	es := search.New(esURL)
	want := map[string]guardduty.Finding{}
	for _, f := range corpus.Findings() {
		want[f.ARN] = f
	}
	for _, f := range poison.good {
		if _, dup := want[f.ARN]; dup {
			t.Fatalf("poison finding %s collides with the corpus", f.ARN)
		}
		want[f.ARN] = f
	}
	fig := checkFindings(t, ctx, es, prefix, want)
	dlFound := checkDeadLetters(t, ctx, es, dlIndex, st.Bucket, poison.bad)
	for _, q := range []struct{ name, url string }{{"queue", st.QueueURL}, {"dead-letter queue", st.DLQURL}} {
		vis, inflight, delayed, err := awsc.Depth(ctx, q.url)
		if err != nil || vis+inflight+delayed != 0 {
			t.Errorf("%s not empty: %d visible, %d in flight, %d delayed (err %v)", q.name, vis, inflight, delayed, err)
		}
	}
	t.Logf("verified in %s", since(phase))
	t.Logf("worker log events: %s", fl.logSummary())

	summary := fmt.Sprintf("chaos: records=%d objects=%d findings=%d kills=%d restarts=%d revived=%d opensearch_restarts=%d "+
		"lost=%d duplicated=%d regressed=%d mismatched=%d unexpected=%d dead_lettered=%d/%d elapsed=%s",
		records, len(uploads), len(want), kills, restarts, fl.revivedCount(), osRestarts.Load(),
		fig.lost, fig.duplicated, fig.regressed, fig.mismatched, fig.unexpected, dlFound, len(poison.bad), since(began))
	t.Log(summary)
	fmt.Println(summary)
	if fig.lost+fig.duplicated+fig.regressed+fig.mismatched+fig.unexpected != 0 {
		t.Errorf("findings: %d lost, %d duplicated, %d regressed, %d mismatched, %d unexpected",
			fig.lost, fig.duplicated, fig.regressed, fig.mismatched, fig.unexpected)
	}
	if osRestarts.Load() != 1 {
		t.Errorf("OpenSearch was restarted %d times, want 1", osRestarts.Load())
	}
}

// ---------------------------------------------------------------- fleet

// fleet runs the worker processes, one per slot.
type fleet struct {
	t    *testing.T
	bin  string
	args []string
	dir  string

	mu         sync.Mutex
	procs      map[int]*proc
	starts     map[int]int
	revived    int
	unexpected []string
}

// proc is one worker process.
type proc struct {
	slot int
	cmd  *exec.Cmd
	done chan struct{}
	err  error // from Wait; set before done is closed
	// stopping: the test sent the signal that ends it (kill or SIGTERM), so
	// its exit is expected.
	stopping atomic.Bool
}

func (f *fleet) logPath(slot int) string {
	return filepath.Join(f.dir, fmt.Sprintf("worker-%d.log", slot))
}

// waitStarted waits until the worker last started in slot says it is
// starting to receive (its templates installed), or the context ends.
func (f *fleet) waitStarted(ctx context.Context, slot int) error {
	for {
		b, err := os.ReadFile(f.logPath(slot))
		if err != nil {
			return err
		}
		if i := bytes.LastIndex(b, []byte("=== ")); i >= 0 && bytes.Contains(b[i:], []byte(`"msg":"worker starting"`)) {
			return nil
		}
		if !sleep(ctx, 100*time.Millisecond) {
			return fmt.Errorf("worker %d did not start receiving: %w", slot, ctx.Err())
		}
	}
}

// start launches a worker in slot, appending its output to the slot's log.
func (f *fleet) start(slot int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.procs == nil {
		f.procs, f.starts = map[int]*proc{}, map[int]int{}
	}
	if p := f.procs[slot]; p != nil && !p.exited() {
		return fmt.Errorf("worker %d is still running", slot)
	}
	log, err := os.OpenFile(f.logPath(slot), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	f.starts[slot]++
	fmt.Fprintf(log, "=== %s: start #%d of worker %d\n", time.Now().Format(time.RFC3339Nano), f.starts[slot], slot)
	cmd := exec.Command(f.bin, f.args...)
	cmd.Stdout, cmd.Stderr = log, log
	// A test binary killed by `go test -timeout` runs no cleanup; the kernel
	// then takes the workers down with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("starting worker %d: %w", slot, err)
	}
	p := &proc{slot: slot, cmd: cmd, done: make(chan struct{})}
	f.procs[slot] = p
	go func() {
		err := cmd.Wait()
		fmt.Fprintf(log, "=== %s: worker %d (pid %d) exited: %v\n", time.Now().Format(time.RFC3339Nano), slot, cmd.Process.Pid, exitText(err))
		log.Close()
		p.err = err
		if !p.stopping.Load() {
			f.mu.Lock()
			f.unexpected = append(f.unexpected, fmt.Sprintf("worker %d (pid %d) exited on its own: %s", slot, cmd.Process.Pid, exitText(err)))
			f.mu.Unlock()
			f.t.Errorf("worker %d (pid %d) exited on its own: %s (log %s)", slot, cmd.Process.Pid, exitText(err), f.logPath(slot))
		}
		close(p.done)
	}()
	return nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL to the worker in slot and waits for it to be gone.
func (f *fleet) kill(slot int) error {
	f.mu.Lock()
	p := f.procs[slot]
	f.mu.Unlock()
	if p == nil || p.exited() {
		return nil
	}
	p.stopping.Store(true)
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill worker %d: %w", slot, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("worker %d (pid %d) still there 10s after SIGKILL", slot, p.cmd.Process.Pid)
	}
}

// terminate sends SIGTERM and requires a clean exit (status 0) within d.
func (f *fleet) terminate(slot int, d time.Duration) error {
	f.mu.Lock()
	p := f.procs[slot]
	f.mu.Unlock()
	if p == nil {
		return fmt.Errorf("worker %d was never started", slot)
	}
	if p.exited() {
		return fmt.Errorf("worker %d (pid %d) was already gone at shutdown: %s", slot, p.cmd.Process.Pid, exitText(p.err))
	}
	p.stopping.Store(true)
	t0 := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("SIGTERM worker %d: %w", slot, err)
	}
	select {
	case <-p.done:
	case <-time.After(d):
		return fmt.Errorf("worker %d (pid %d) did not exit within %s of SIGTERM", slot, p.cmd.Process.Pid, d)
	}
	if p.err != nil {
		return fmt.Errorf("worker %d (pid %d) exited with %s after SIGTERM, want status 0", slot, p.cmd.Process.Pid, exitText(p.err))
	}
	f.t.Logf("worker %d stopped cleanly %s after SIGTERM", slot, since(t0))
	return nil
}

// revive restarts workers that exited without being told to (already
// reported as failures), so the run can still finish and be measured.
func (f *fleet) revive() {
	f.mu.Lock()
	var dead []int
	for slot, p := range f.procs {
		if p.exited() && !p.stopping.Load() {
			dead = append(dead, slot)
		}
	}
	f.mu.Unlock()
	for _, slot := range dead {
		if err := f.start(slot); err != nil {
			f.t.Error(err)
			continue
		}
		f.mu.Lock()
		f.revived++
		f.mu.Unlock()
	}
}

func (f *fleet) revivedCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.revived
}

func (f *fleet) killAll() {
	f.mu.Lock()
	procs := slices.Collect(maps.Values(f.procs))
	f.mu.Unlock()
	for _, p := range procs {
		if !p.exited() {
			p.stopping.Store(true)
			p.cmd.Process.Kill()
			<-p.done
		}
	}
}

// report names the logs of a failed run and shows the errors they hold.
func (f *fleet) report() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.unexpected {
		f.t.Log(u)
	}
	for slot := range workers {
		path := f.logPath(slot)
		f.t.Logf("worker %d log: %s", slot, path)
		errs := grepLines(path, `"level":"ERROR"`, 15)
		if len(errs) > 0 {
			f.t.Logf("last errors of worker %d:\n%s", slot, strings.Join(errs, "\n"))
		}
	}
}

// logSummary counts the workers' log lines by level and message, to show what
// the chaos made them do (returned messages, failed objects, retries).
func (f *fleet) logSummary() string {
	counts := map[string]int{}
	for slot := range workers {
		fh, err := os.Open(f.logPath(slot))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var l struct {
				Level, Msg, Reason string
				ReceiveCount       int `json:"receive_count"`
			}
			if json.Unmarshal(sc.Bytes(), &l) != nil || l.Msg == "" {
				continue
			}
			k := l.Level + " " + l.Msg
			if l.Reason != "" {
				k += " (" + l.Reason + ")"
			}
			counts[k]++
			if l.Msg == "object done" && l.ReceiveCount > 1 {
				// Work a killed worker had started (or a returned message).
				counts[k+", redelivered message"]++
			}
		}
		fh.Close()
	}
	keys := slices.Sorted(maps.Keys(counts))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("\n  %6d %s", counts[k], k)
	}
	return strings.Join(parts, "")
}

// grepLines returns the last n lines of path containing s.
func grepLines(path, s string, n int) []string {
	fh, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer fh.Close()
	var out []string
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			out = append(out, sc.Text())
			if len(out) > n {
				out = out[1:]
			}
		}
	}
	return out
}

func exitText(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}

// ---------------------------------------------------------------- data

type upload struct {
	key  string
	body []byte
}

// putAll uploads concurrently; moto queues each notification synchronously.
func putAll(ctx context.Context, c *awslocal.Clients, bucket string, ups []upload) error {
	ch := make(chan upload)
	errc := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for u := range ch {
				_, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(u.key), Body: bytes.NewReader(u.body)})
				if err != nil {
					select {
					case errc <- fmt.Errorf("put %s: %w", u.key, err):
					default:
					}
				}
			}
		})
	}
	for _, u := range ups {
		ch <- u
	}
	close(ch)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// poisonLine is one record that must end in the dead-letter index.
type poisonLine struct {
	key   string
	line  int // 1-based, as the worker numbers lines
	stage string
	raw   string
	arn   string // of a finding the cluster rejects, else ""
}

type poisonSet struct {
	objects []upload
	lines   int
	good    []guardduty.Finding // valid findings of the poison objects
	bad     []poisonLine
}

// poisonObjects builds export objects mixing valid findings with records
// the worker cannot index: a line that is not JSON, a finding without arn
// (both refused before indexing) and a finding whose severity is an object,
// which the cluster refuses because severity is mapped as float.
func poisonObjects() poisonSet {
	const (
		account = "123456789012"
		region  = "us-east-1"
	)
	var ps poisonSet
	created := time.Date(2026, 1, 6, 9, 0, 0, 0, time.UTC)
	finding := func(obj, n int, withARN bool, severity any) (map[string]any, guardduty.Finding) {
		id := fmt.Sprintf("c4a05%03d%04d", obj, n)
		arn := fmt.Sprintf("arn:aws:guardduty:%s:%s:detector/chaos/finding/%s", region, account, id)
		c := created.Add(time.Duration(obj*97+n) * time.Minute)
		u := c.Add(time.Duration(n+1)*time.Hour + 123*time.Millisecond)
		count := n%4 + 1
		m := map[string]any{
			"schemaVersion": "2.0", "accountId": account, "region": region, "partition": "aws",
			"id": id, "type": "Recon:EC2/PortProbeUnprotectedPort",
			"resource": map[string]any{"resourceType": "Instance"},
			"service": map[string]any{"serviceName": "guardduty", "detectorId": "chaos", "count": count,
				"archived": false, "eventFirstSeen": c.Format(time.RFC3339), "eventLastSeen": u.Format(time.RFC3339)},
			"severity":  severity,
			"createdAt": c.Format("2006-01-02T15:04:05.000Z"),
			"updatedAt": u.Format("2006-01-02T15:04:05.000Z"),
			"title":     "chaos test finding",
		}
		if withARN {
			m["arn"] = arn
		}
		return m, guardduty.Finding{ARN: arn, ID: id, Account: account, Region: region,
			Type: "Recon:EC2/PortProbeUnprotectedPort", CreatedAt: c, UpdatedAt: u, Count: count, Exports: 1}
	}
	// Where the three kinds of poison sit in each object (line numbers).
	layouts := [][3]int{{2, 4, 6}, {1, 7, 3}, {9, 5, 10}}
	for obj, at := range layouts {
		key := fmt.Sprintf("AWSLogs/%s/GuardDuty/%s/2026/01/06/chaos-poison-%d.jsonl.gz", account, region, obj)
		var lines []string
		for n := 1; n <= 10; n++ {
			var raw string
			switch n {
			case at[0]:
				raw = `{not json`
				ps.bad = append(ps.bad, poisonLine{key: key, line: n, stage: "transform", raw: raw})
			case at[1]:
				m, _ := finding(obj, n, false, 5.0)
				raw = mustJSON(m)
				ps.bad = append(ps.bad, poisonLine{key: key, line: n, stage: "transform", raw: raw})
			case at[2]:
				m, e := finding(obj, n, true, map[string]any{"x": 1})
				raw = mustJSON(m)
				ps.bad = append(ps.bad, poisonLine{key: key, line: n, stage: "index", raw: raw, arn: e.ARN})
			default:
				m, e := finding(obj, n, true, float64(n%8)+0.5)
				raw = mustJSON(m)
				ps.good = append(ps.good, e)
			}
			lines = append(lines, raw)
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(strings.Join(lines, "\n") + "\n"))
		zw.Close()
		ps.objects = append(ps.objects, upload{key: key, body: buf.Bytes()})
		ps.lines += len(lines)
	}
	return ps
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// ---------------------------------------------------------------- checks

type figures struct {
	lost, duplicated, regressed, mismatched, unexpected int
}

// checkFindings compares every document under <prefix>-* with the expected
// final state of each finding.
func checkFindings(t *testing.T, ctx context.Context, es *search.Client, prefix string, want map[string]guardduty.Finding) figures {
	t.Helper()
	var fig figures
	pattern := prefix + "-*"
	if err := es.Refresh(ctx, pattern); err != nil {
		t.Fatal(err)
	}
	hits, err := es.All(ctx, pattern)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	var report []string
	note := func(format string, a ...any) {
		if len(report) < 20 {
			report = append(report, fmt.Sprintf(format, a...))
		}
	}
	for _, h := range hits {
		f, ok := want[h.ID]
		if !ok {
			fig.unexpected++
			note("unexpected document %s/%s", h.Index, h.ID)
			continue
		}
		if seen[h.ID]++; seen[h.ID] > 1 {
			fig.duplicated++
			note("duplicate of %s in %s", h.ID, h.Index)
		}
		var d struct {
			Service struct {
				Count int `json:"count"`
			} `json:"service"`
		}
		if err := json.Unmarshal(h.Source, &d); err != nil {
			t.Fatalf("%s: %v", h.ID, err)
		}
		wantIndex := prefix + "-" + f.CreatedAt.UTC().Format("2006-01-02")
		switch v := f.UpdatedAt.UnixMilli(); {
		case h.Version < v:
			fig.regressed++
			note("%s: version %d, count %d; want the newer %d, count %d", h.ID, h.Version, d.Service.Count, v, f.Count)
		case h.Version > v || d.Service.Count != f.Count || h.Index != wantIndex:
			fig.mismatched++
			note("%s in %s: version %d, count %d; want %s, version %d, count %d", h.ID, h.Index, h.Version, d.Service.Count, wantIndex, v, f.Count)
		}
	}
	for arn := range want {
		if seen[arn] == 0 {
			fig.lost++
			note("lost %s", arn)
		}
	}
	if len(report) > 0 {
		t.Logf("finding discrepancies (first %d):\n%s", len(report), strings.Join(report, "\n"))
	}
	return fig
}

// checkDeadLetters requires exactly one dead-letter document per poison
// (key, line) and reports how many matched.
func checkDeadLetters(t *testing.T, ctx context.Context, es *search.Client, index, bucket string, bad []poisonLine) int {
	t.Helper()
	if err := es.Refresh(ctx, index); err != nil {
		t.Fatal(err)
	}
	hits, err := es.All(ctx, index)
	if err != nil {
		t.Fatal(err)
	}
	type where struct {
		key  string
		line int
	}
	want := map[where]poisonLine{}
	for _, b := range bad {
		want[where{b.key, b.line}] = b
	}
	got := map[where]int{}
	matched := 0
	for _, h := range hits {
		var d struct {
			Bucket string          `json:"bucket"`
			Key    string          `json:"key"`
			Line   json.Number     `json:"line"`
			Reason string          `json:"reason"`
			Stage  string          `json:"stage"`
			Raw    json.RawMessage `json:"raw"`
		}
		dec := json.NewDecoder(bytes.NewReader(h.Source))
		dec.UseNumber()
		if err := dec.Decode(&d); err != nil {
			t.Errorf("dead-letter document %s: %v", h.ID, err)
			continue
		}
		line, err := d.Line.Int64()
		var raw string
		if err == nil {
			err = json.Unmarshal(d.Raw, &raw)
		}
		if err != nil {
			t.Errorf("dead-letter document %s: line or raw malformed (%v): %s", h.ID, err, h.Source)
			continue
		}
		w := where{d.Key, int(line)}
		b, ok := want[w]
		if !ok || d.Bucket != bucket {
			t.Errorf("unexpected dead-letter document %s: %.600s", h.ID, h.Source)
			continue
		}
		if got[w]++; got[w] > 1 {
			t.Errorf("second dead-letter document for %s line %d: %s", w.key, w.line, h.ID)
			continue
		}
		okDoc := d.Stage == b.stage && d.Reason != ""
		switch b.stage {
		case "index":
			// What was sent: the record plus the fields the worker adds.
			okDoc = okDoc && strings.Contains(raw, b.arn)
		default:
			okDoc = okDoc && strings.TrimSpace(raw) == b.raw
		}
		if !okDoc {
			t.Errorf("dead-letter document for %s line %d: stage %q reason %q raw %.200q; want stage %q and the record",
				w.key, w.line, d.Stage, d.Reason, raw, b.stage)
			continue
		}
		matched++
	}
	for w := range want {
		if got[w] == 0 {
			t.Errorf("no dead-letter document for %s line %d (%s)", w.key, w.line, want[w].stage)
		}
	}
	return matched
}

// ---------------------------------------------------------------- helpers

// servicesSh runs testenv/services.sh.
func servicesSh(ctx context.Context, root string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(root, "testenv", "services.sh"), args...)
	cmd.Dir = root
	return cmd.CombinedOutput()
}

func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test file")
	}
	root := filepath.Join(filepath.Dir(file), "..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not found from %s: %v", file, err)
	}
	return root
}

func randDur(r *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(r.Int64N(int64(hi-lo)+1))
}

// sleep waits d or until ctx is done; it reports whether the full wait passed.
func sleep(ctx context.Context, d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func since(t time.Time) time.Duration { return time.Since(t).Round(100 * time.Millisecond) }
