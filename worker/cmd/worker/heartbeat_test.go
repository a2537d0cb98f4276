//go:build integration

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logtide/logtide/testenv/awslocal"
	"github.com/logtide/logtide/testenv/search"
	"github.com/logtide/logtide/testenv/syncbuf"
	"github.com/logtide/logtide/worker/format/guardduty"
)

// TestHeartbeat: an object that takes several visibility timeouts to index
// is processed exactly once. The worker keeps extending the message's
// visibility while it works, so SQS never hands it out a second time, and the
// message is deleted when the object is done.
func TestHeartbeat(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	const visibility = 2 * time.Second
	c, st, name, esURL := newStack(t, ctx, "heartbeat", awslocal.Options{VisibilityTimeout: visibility})

	// One export object of tens of MB uncompressed, indexed in small bulk
	// requests: it takes well over two visibility timeouts.
	corpus, err := guardduty.NewCorpus(guardduty.CorpusOptions{Seed: 23, Objects: 1, FindingsPerObject: 30000})
	if err != nil {
		t.Fatal(err)
	}
	putObjects(t, ctx, c, st.Bucket, corpus, []int{0})
	key := corpus.Objects()[0].Key

	// The s3:TestEvent sent when the notification was configured, and the
	// object's notification.
	const messages = 2
	metricsAddr := freeAddr(t)
	var m counters
	scrapeCtx, stopScrape := context.WithCancel(ctx)
	scraped := make(chan struct{})
	go func() {
		defer close(scraped)
		m.scrape(scrapeCtx, "http://"+metricsAddr+"/metrics")
	}()
	logs, redelivered := runUntilRedelivery(t, ctx, &m, messages, "--queue-url", st.QueueURL, "--es-url", esURL, "--index-prefix", name,
		"--exit-when-idle", "2s", "--wait-time", "1s", "--bulk-max-docs", "200", "--log-level", "debug", "--shutdown-grace", "1s",
		"--metrics-addr", metricsAddr)
	stopScrape()
	<-scraped
	if redelivered {
		t.Errorf("%d messages received for %d sent: a message was redelivered; the worker was stopped", m.received.Load(), messages)
	}

	// Every line about a message must come from its first receive.
	var objectDone []map[string]any
	for _, l := range logLines(t, logs) {
		if rc, ok := l["receive_count"]; ok && rc != float64(1) {
			t.Errorf("message redelivered (receive_count %v): %v", rc, l)
		}
		switch l["msg"] {
		case "object done":
			if l["key"] == key {
				objectDone = append(objectDone, l)
			}
		case "visibility extension failed", "message returned to the queue":
			t.Errorf("%v", l)
		}
		if l["level"] == "ERROR" {
			t.Errorf("error logged: %v", l)
		}
	}
	if redelivered {
		t.FailNow()
	}
	if len(objectDone) != 1 {
		t.Fatalf("object indexed %d times, want once:\n%.3000s", len(objectDone), logs)
	}
	// The test proves nothing unless the object outlasted the visibility
	// timeout several times over.
	ns, ok := objectDone[0]["duration"].(float64)
	if !ok {
		t.Fatalf("object done line has no duration in nanoseconds: %v", objectDone[0])
	}
	took := time.Duration(ns)
	extensions := m.extensions.Load()
	t.Logf("%s (%d findings) indexed in %s; visibility timeout %s; %d visibility extensions", key, corpus.Records(), took.Round(time.Millisecond), visibility, extensions)
	if took <= 2*visibility {
		t.Fatalf("object took %s, not more than twice the visibility timeout %s: make it larger", took, visibility)
	}
	// The heartbeat runs every half timeout.
	if want := int64(took / visibility); extensions < want {
		t.Errorf("%d visibility extensions in %s, want at least %d", extensions, took, want)
	}
	if n := m.received.Load(); n != messages {
		t.Errorf("%d messages received, want %d", n, messages)
	}

	checkQueueEmpty(t, ctx, c, st.QueueURL)
	if vis, _, _, err := c.Depth(ctx, st.DLQURL); err != nil || vis != 0 {
		t.Errorf("dead-letter queue holds %d messages (err %v)", vis, err)
	}
	checkCount(t, ctx, search.New(esURL), name, corpus)
}

// runUntilRedelivery runs `worker run` in-process until the queue is idle,
// or stops it as soon as it has received more than the messages sent (or
// logged a second receive): a redelivered message would otherwise go round
// until the redrive policy takes it.
func runUntilRedelivery(t *testing.T, ctx context.Context, m *counters, sent int64, args ...string) (logs string, redelivered bool) {
	t.Helper()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var stdout, stderr syncbuf.Buffer
	done := make(chan int, 1)
	go func() { done <- run(runCtx, append([]string{"run"}, args...), &stdout, &stderr) }()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case code := <-done:
			if code != 0 && !redelivered {
				t.Fatalf("worker exited %d\n%s", code, stderr.String())
			}
			return stderr.String(), redelivered
		case <-tick.C:
			if !redelivered && (m.received.Load() > sent || strings.Contains(stderr.String(), `"receive_count":2`)) {
				redelivered = true
				stop()
			}
		}
	}
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// counters are the worker's metrics this test follows.
type counters struct {
	received, extensions atomic.Int64
}

// scrape polls the worker's metrics until ctx is done and keeps the last
// values; the server goes away with the worker, so the last scrape before
// that is what counts.
func (c *counters) scrape(ctx context.Context, url string) {
	names := map[string]*atomic.Int64{
		"logtide_messages_received_total ":     &c.received,
		"logtide_visibility_extensions_total ": &c.extensions,
	}
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for line := range strings.Lines(string(b)) {
			for name, n := range names {
				if v, ok := strings.CutPrefix(line, name); ok {
					if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && int64(f) > n.Load() {
						n.Store(int64(f))
					}
				}
			}
		}
	}
}

// logLines decodes the worker's JSON log lines.
func logLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, sc.Text())
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkCount proves the indices hold each distinct finding exactly once, in
// the index of its createdAt (the _id is the ARN, so a count per index that
// matches means no finding is missing or duplicated).
func checkCount(t *testing.T, ctx context.Context, es *search.Client, prefix string, corpus *guardduty.Corpus) {
	t.Helper()
	if err := es.Refresh(ctx, prefix+"-*"); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	arns := map[string]bool{}
	for _, f := range corpus.Findings() {
		want[prefix+"-"+f.CreatedAt.UTC().Format("2006-01-02")]++
		arns[f.ARN] = true
	}
	if len(arns) != len(corpus.Findings()) {
		t.Fatalf("corpus has %d findings but %d distinct ARNs", len(corpus.Findings()), len(arns))
	}
	got, err := es.CountByIndex(ctx, prefix+"-*")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range got {
		total += n
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || total != len(arns) {
		t.Errorf("documents per index: got %v (%d), want %v (%d)", got, total, want, len(arns))
	}
}
