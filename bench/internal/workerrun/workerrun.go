// Package workerrun runs the real worker binary as a child process, follows
// it through its /metrics endpoint (the worker's public contract, with its
// CLI) and collects what the kernel knows about it once it exits: CPU time
// and peak resident memory.
package workerrun

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/logtide/logtide/bench/internal/sysinfo"
)

// Spec is one run.
type Spec struct {
	Bin  string
	Args []string // after "run"; --metrics-addr is added
	Env  []string
	Log  string // file receiving the worker's stderr and stdout

	// ExpectDeleted ends the measured interval: the run is complete when the
	// worker has deleted this many messages.
	ExpectDeleted int
	Timeout       time.Duration
	SampleEvery   time.Duration
	// OnSample, if set, sees every scrape (e.g. to start a throttle window).
	OnSample func(Sample)
	// OnComplete, if set, is called as soon as the run is seen complete,
	// before the worker's idle time before exiting.
	OnComplete func()

	// Profile, if Seconds > 0, takes a CPU profile After the start through
	// the worker's --pprof-addr and writes it to Out.
	Profile Profile
}

// Profile asks for a CPU profile during the run.
type Profile struct {
	After   time.Duration
	Seconds int
	Out     string
}

// Sample is one scrape of /metrics.
type Sample struct {
	At     time.Duration // since the process started
	Values Metrics
}

// Result is what a run measured.
type Result struct {
	// Complete is the time from process start until ExpectDeleted messages
	// were deleted (resolution: SampleEvery).
	Complete time.Duration
	// Lifetime is the time from process start until it exited.
	Lifetime time.Duration
	CPU      time.Duration // user + system, whole lifetime
	// CPUAtComplete is the worker's CPU time when the run was seen complete
	// (/proc/<pid>/stat, 10 ms resolution), or 0 if it could not be read.
	CPUAtComplete time.Duration
	// PeakRSS is the worker's resident-memory high-water mark (VmHWM of
	// /proc/<pid>/status, read at every sample; the worker idles for
	// --exit-when-idle before exiting, so the last reading is final).
	PeakRSS int64
	// RusageMaxRSS is getrusage's ru_maxrss of the child. It is NOT the
	// worker's own peak: Go starts children with vfork semantics, and Linux
	// carries the parent's RSS high-water mark at exec over into the child's
	// maxrss, so it reads at least this harness's resident size.
	RusageMaxRSS int64
	Samples      []Sample
	Final        Metrics // last scrape before the worker stopped serving
	Profile      string  // path of the CPU profile, if one was taken
	ProfErr      error
	Err          error
}

// Run starts the worker and waits until it has deleted the expected messages
// and exited by itself (--exit-when-idle), or until the timeout, when it is
// killed and the result carries an error.
func Run(ctx context.Context, s Spec) Result {
	var res Result
	mport, err := sysinfo.FreePort()
	if err != nil {
		res.Err = err
		return res
	}
	maddr := fmt.Sprintf("127.0.0.1:%d", mport)
	args := append([]string{"run"}, s.Args...)
	args = append(args, "--metrics-addr", maddr)
	var paddr string
	if s.Profile.Seconds > 0 {
		pport, err := sysinfo.FreePort()
		if err != nil {
			res.Err = err
			return res
		}
		paddr = fmt.Sprintf("127.0.0.1:%d", pport)
		args = append(args, "--pprof-addr", paddr)
	}
	lf, err := os.Create(s.Log)
	if err != nil {
		res.Err = err
		return res
	}
	defer lf.Close()
	cmd := exec.Command(s.Bin, args...)
	cmd.Env = s.Env
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		res.Err = err
		return res
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	profDone := make(chan struct{})
	if paddr != "" {
		go func() {
			defer close(profDone)
			res.Profile, res.ProfErr = takeProfile(ctx, paddr, s.Profile, start)
		}()
	} else {
		close(profDone)
	}

	timeout := time.NewTimer(s.Timeout)
	defer timeout.Stop()
	tick := time.NewTicker(s.SampleEvery)
	defer tick.Stop()
	hc := &http.Client{Timeout: 2 * time.Second}
	var waitErr error
	done := false
loop:
	for {
		select {
		case waitErr = <-exited:
			break loop
		case <-timeout.C:
			_ = cmd.Process.Kill()
			waitErr = <-exited
			res.Err = fmt.Errorf("worker did not finish within %s (killed; see %s)", s.Timeout, s.Log)
			break loop
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			waitErr = <-exited
			res.Err = ctx.Err()
			break loop
		case <-tick.C:
			if hwm, err := vmHWM(cmd.Process.Pid); err == nil && hwm > res.PeakRSS {
				res.PeakRSS = hwm
			}
			m, err := Scrape(hc, "http://"+maddr+"/metrics")
			if err != nil {
				continue // not listening yet, or already stopping
			}
			sm := Sample{At: time.Since(start), Values: m}
			res.Samples = append(res.Samples, sm)
			res.Final = m
			if s.OnSample != nil {
				s.OnSample(sm)
			}
			if !done && int(m.Sum("logtide_messages_deleted_total")) >= s.ExpectDeleted {
				done = true
				res.Complete = sm.At
				if c, err := sysinfo.ProcCPU(cmd.Process.Pid); err == nil {
					res.CPUAtComplete = c
				}
				if s.OnComplete != nil {
					s.OnComplete()
				}
			}
		}
	}
	res.Lifetime = time.Since(start)
	<-profDone
	if ps := cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			res.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			res.RusageMaxRSS = ru.Maxrss * 1024 // KiB on Linux
		}
	}
	if res.Err == nil {
		switch {
		case waitErr != nil:
			res.Err = fmt.Errorf("worker exited: %v (see %s)", waitErr, s.Log)
		case !done:
			res.Err = fmt.Errorf("worker exited after deleting %.0f of %d messages (see %s)", res.Final.Sum("logtide_messages_deleted_total"), s.ExpectDeleted, s.Log)
		}
	}
	return res
}

func takeProfile(ctx context.Context, addr string, p Profile, start time.Time) (string, error) {
	select {
	case <-time.After(time.Until(start.Add(p.After))):
	case <-ctx.Done():
		return "", ctx.Err()
	}
	hc := &http.Client{Timeout: time.Duration(p.Seconds+15) * time.Second}
	resp, err := hc.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, p.Seconds))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return "", fmt.Errorf("profile: %s: %s", resp.Status, b)
	}
	f, err := os.Create(p.Out)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		return "", err
	}
	return p.Out, nil
}

// Metrics is one scrape: value by series ("name" or `name{labels}` as
// exposed).
type Metrics map[string]float64

// vmHWM is a live process's peak resident set size, in bytes.
func vmHWM(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024, err
			}
		}
	}
	return 0, errors.New("no VmHWM")
}

// Scrape reads a Prometheus text exposition.
func Scrape(hc *http.Client, url string) (Metrics, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	// Uncompressed: compressing every scrape would cost the worker CPU
	// that this benchmark would then charge to it.
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New(resp.Status)
	}
	m := Metrics{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		m[line[:i]] = v
	}
	return m, sc.Err()
}

// Sum adds every series of a metric name.
func (m Metrics) Sum(name string) float64 { return m.Get(name) }

// Get returns the series of name whose labels contain every given
// `label="value"` pair, summed.
func (m Metrics) Get(name string, labels ...string) float64 {
	t := 0.0
	for k, v := range m {
		if !isSeries(k, name) {
			continue
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(k, l) {
				ok = false
				break
			}
		}
		if ok {
			t += v
		}
	}
	return t
}

// Has says whether the worker exports a metric.
func (m Metrics) Has(name string) bool {
	for k := range m {
		if isSeries(k, name) {
			return true
		}
	}
	return false
}

// isSeries says whether the series key k (name{labels}) belongs to name.
func isSeries(k, name string) bool { return k == name || strings.HasPrefix(k, name+"{") }
