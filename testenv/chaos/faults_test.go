//go:build chaos && linux

package chaos

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logtide/logtide/testenv/awslocal"
	"github.com/logtide/logtide/testenv/faultproxy"
	"github.com/logtide/logtide/testenv/search"
	"github.com/logtide/logtide/testenv/services"
	"github.com/logtide/logtide/worker/format/guardduty"
)

// A queue that gives up on a message fast: after faultReceives receives of
// faultVisibility each, a message the workers kept returning would be in the
// dead-letter queue within faultVisibility × faultReceives (15 s). Both
// faults below last many times that.
const (
	faultVisibility = 5 * time.Second
	faultReceives   = 3
	refusalFor      = time.Minute
	outageFor       = 150 * time.Second
	faultDrainFor   = 2 * time.Minute
)

// TestClusterFaults runs a fleet of workers through two long faults of the
// cluster and checks that neither touched a message: a minute of 403 on
// every bulk request (a rotated password, a role mapping being edited), then
// several minutes of a stopped cluster. Both end with every finding indexed
// at its newest version and nothing in the dead-letter queue.
func TestClusterFaults(t *testing.T) {
	esURL := services.Env(t, "OPENSEARCH_URL")
	services.Env(t, "AWS_ENDPOINT_URL")
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	root := repoRoot(t)
	work, err := os.MkdirTemp("", "logtide-faults-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			os.RemoveAll(work)
		}
	})
	bin := filepath.Join(work, "worker")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./worker/cmd/worker")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	awsc, err := awslocal.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("faults-%d", time.Now().UnixNano())
	st, err := awsc.Provision(ctx, awslocal.Options{Bucket: name, Queue: name, VisibilityTimeout: faultVisibility, MaxReceiveCount: faultReceives})
	if err != nil {
		t.Fatal(err)
	}
	prefix := name + "-findings"
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("indices kept for inspection: %s-*", prefix)
			return
		}
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := search.New(esURL).Drop(cctx, name+"*"); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	proxy, err := faultproxy.Start(esURL)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()

	fl := &fleet{t: t, bin: bin, dir: work, args: []string{"run",
		"--queue-url", st.QueueURL, "--es-url", proxy.URL, "--index-prefix", prefix, "--dead-letter-index", name + "-deadletter",
		"--metrics-addr", "", "--concurrency", "4", "--wait-time", "1s", "--shutdown-grace", "5s", "--bulk-max-docs", "50"}}
	t.Cleanup(fl.killAll)
	t.Cleanup(func() {
		if t.Failed() {
			fl.report()
		}
	})
	var osStopped atomic.Bool
	t.Cleanup(func() {
		if osStopped.Load() {
			if out, err := servicesSh(context.Background(), root, "start", "opensearch"); err != nil {
				t.Errorf("restarting OpenSearch after the test: %v\n%s", err, out)
			}
		}
	})
	for i := range 2 {
		if err := fl.start(i); err != nil {
			t.Fatal(err)
		}
	}

	want := map[string]guardduty.Finding{}
	put := func(seed uint64) {
		t.Helper()
		corpus, err := guardduty.NewCorpus(guardduty.CorpusOptions{Seed: seed, Objects: 60, FindingsPerObject: 20, ReexportPercent: 30, OutOfOrder: true})
		if err != nil {
			t.Fatal(err)
		}
		ups := make([]upload, 0, len(corpus.Objects()))
		for i, o := range corpus.Objects() {
			var buf bytes.Buffer
			if err := corpus.WriteObject(&buf, i); err != nil {
				t.Fatal(err)
			}
			ups = append(ups, upload{key: o.Key, body: buf.Bytes()})
		}
		if err := putAll(ctx, awsc, st.Bucket, ups); err != nil {
			t.Fatal(err)
		}
		for _, f := range corpus.Findings() {
			want[f.ARN] = f
		}
	}
	drain := func(phase string) {
		t.Helper()
		start := time.Now()
		var quiet time.Time
		for {
			vis, inflight, delayed, err := awsc.Depth(ctx, st.QueueURL)
			switch {
			case err == nil && vis+inflight+delayed == 0 && quiet.IsZero():
				quiet = time.Now()
			case err != nil || vis+inflight+delayed != 0:
				quiet = time.Time{}
			}
			if !quiet.IsZero() && time.Since(quiet) >= 3*time.Second {
				t.Logf("%s: queue drained %s after the fault", phase, since(start))
				return
			}
			if time.Since(start) > faultDrainFor || !sleep(ctx, time.Second) {
				t.Fatalf("%s: queue not drained within %s (%d visible, %d in flight, %d delayed, %v)", phase, faultDrainFor, vis, inflight, delayed, err)
			}
		}
	}
	checkDLQ := func(phase string) {
		t.Helper()
		vis, inflight, delayed, err := awsc.Depth(ctx, st.DLQURL)
		if err != nil || vis+inflight+delayed != 0 {
			t.Errorf("%s: %d messages in the dead-letter queue (%d in flight, %d delayed, err %v)", phase, vis, inflight, delayed, err)
		}
	}

	// A minute of 403 on every bulk request, from the moment the findings
	// arrive.
	proxy.Refuse(403)
	put(20261201)
	t.Logf("refusal: every bulk request answered 403 for %s (the queue gives up on a message after %s)", refusalFor, faultVisibility*faultReceives)
	sleep(ctx, refusalFor)
	proxy.Refuse(0)
	t.Logf("refusal over: %d bulk requests refused", proxy.Refused())
	if proxy.Refused() < 10 {
		t.Errorf("only %d bulk requests refused: the workers did not meet the refusal", proxy.Refused())
	}
	drain("refusal")
	checkDLQ("refusal")

	// Several minutes of a stopped cluster, met by work in flight: the
	// workers now talk to the cluster directly (connections refused), and
	// the findings arrive while it is down.
	for i := range 2 {
		if err := fl.terminate(i, 15*time.Second); err != nil {
			t.Error(err)
		}
	}
	fl.args[slices.Index(fl.args, proxy.URL)] = esURL
	for i := range 2 {
		if err := fl.start(i); err != nil {
			t.Fatal(err)
		}
	}
	// Stopped before they are receiving, the workers would wait for the
	// cluster before taking any message: the outage would meet no work.
	for i := range 2 {
		if err := fl.waitStarted(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	osStopped.Store(true)
	if out, err := servicesSh(context.WithoutCancel(ctx), root, "stop", "opensearch"); err != nil {
		t.Fatalf("stopping OpenSearch: %v\n%s", err, out)
	}
	put(20261202)
	t.Logf("outage: OpenSearch stopped for %s", outageFor)
	sleep(ctx, outageFor)
	if vis, inflight, _, err := awsc.Depth(ctx, st.QueueURL); err != nil || inflight == 0 {
		t.Errorf("no message in work at the end of the outage (%d visible, %d in flight, %v): the outage met no work", vis, inflight, err)
	}
	if out, err := servicesSh(context.WithoutCancel(ctx), root, "start", "opensearch"); err != nil {
		t.Fatalf("starting OpenSearch again: %v\n%s", err, out)
	}
	osStopped.Store(false)
	drain("outage")
	checkDLQ("outage")

	for i := range 2 {
		if err := fl.terminate(i, 15*time.Second); err != nil {
			t.Error(err)
		}
	}
	fig := checkFindings(t, ctx, search.New(esURL), prefix, want)
	summary := fmt.Sprintf("cluster faults: findings=%d lost=%d duplicated=%d regressed=%d mismatched=%d unexpected=%d refused_requests=%d",
		len(want), fig.lost, fig.duplicated, fig.regressed, fig.mismatched, fig.unexpected, proxy.Refused())
	t.Log(summary)
	fmt.Println(summary)
	if fig.lost+fig.duplicated+fig.regressed+fig.mismatched+fig.unexpected != 0 {
		t.Errorf("findings: %d lost, %d duplicated, %d regressed, %d mismatched, %d unexpected", fig.lost, fig.duplicated, fig.regressed, fig.mismatched, fig.unexpected)
	}
	logs := fl.logSummary()
	t.Logf("worker log events: %s", logs)
	for _, given := range []string{"message returned to the queue", "message not deleted"} {
		if strings.Contains(logs, given) {
			t.Errorf("a worker gave up a message during the faults: %s", logs)
		}
	}
}
