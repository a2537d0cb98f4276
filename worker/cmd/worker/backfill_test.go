//go:build integration

package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logtide/logtide/testenv/awslocal"
	"github.com/logtide/logtide/testenv/search"
	"github.com/logtide/logtide/testenv/syncbuf"
	"github.com/logtide/logtide/worker/format/guardduty"
	"github.com/logtide/logtide/worker/internal/backfill"
)

// backfillBucket fills a bucket that has no notification (its objects
// predate it) with a GuardDuty corpus of n objects, and objects the worker
// does not read.
func backfillBucket(t *testing.T, ctx context.Context, kind string, n int) (*awslocal.Clients, awslocal.Stack, string, string, *guardduty.Corpus) {
	t.Helper()
	c, st, name, esURL := newStack(t, ctx, kind, awslocal.Options{VisibilityTimeout: 30 * time.Second, NoNotification: true})
	corpus, err := guardduty.NewCorpus(guardduty.CorpusOptions{Seed: 11, Objects: n, FindingsPerObject: 4, ReexportPercent: 30, OutOfOrder: true, Prefix: "exports/"})
	if err != nil {
		t.Fatal(err)
	}
	putObjects(t, ctx, c, st.Bucket, corpus, allObjects(corpus))
	for _, key := range []string{"exports/README.txt", "exports/AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/01/02/digest.json.gz"} {
		if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(st.Bucket), Key: aws.String(key), Body: strings.NewReader("not findings")}); err != nil {
			t.Fatal(err)
		}
	}
	if vis, _, _, err := c.Depth(ctx, st.QueueURL); err != nil || vis != 0 {
		t.Fatalf("queue holds %d messages (err %v): the bucket must have no notification", vis, err)
	}
	return c, st, name, esURL, corpus
}

var progressLine = regexp.MustCompile(`(?m)^backfill: (\d+)/(\d+)\+? (?:\(listing\) )?objects, .*, [\d.]+ objects/s, [\d.]+ MB/s, ETA [^,]+, (\d+) failed$`)

// runBackfill runs `worker backfill` in-process; stop, when set, cancels it
// once the progress lines say that many objects are done.
func runBackfill(t *testing.T, ctx context.Context, stop int, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var out, errOut syncbuf.Buffer
	if stop > 0 {
		go func() {
			for ctx.Err() == nil {
				for _, m := range progressLine.FindAllStringSubmatch(errOut.String(), -1) {
					if n, _ := strconv.Atoi(m[1]); n >= stop {
						cancel()
						return
					}
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	code = run(ctx, append([]string{"backfill"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func readState(t *testing.T, path string) backfill.State {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s backfill.State
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBackfill loads a bucket's existing objects into the cluster,
// interrupted once and started again: every finding indexed once at its
// newest version, and the progress and summary say so.
func TestBackfill(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const objects = 300
	_, st, name, esURL, corpus := backfillBucket(t, ctx, "backfill", objects)
	state := filepath.Join(t.TempDir(), "state.json")
	args := []string{"s3://" + st.Bucket + "/exports/", "--es-url", esURL, "--index-prefix", name, "--dead-letter-index", "dl-" + name,
		"--concurrency", "2", "--state-file", state, "--progress-interval", "100ms"}

	code, out, errOut := runBackfill(t, ctx, 60, args...)
	if code != 1 || !strings.Contains(out, "stopped before the end") || !strings.Contains(errOut, "interrupted: run the same command again to go on") {
		t.Fatalf("interrupted backfill: exit %d\nstdout:\n%s\nstderr:\n%.3000s", code, out, errOut)
	}
	// The digest and the README sort before the findings: the first start
	// lists them.
	if !strings.Contains(out, "not loaded: 1 not a log the worker reads, 1 skipped by its format") {
		t.Errorf("objects not loaded, in the first start's summary:\n%s", out)
	}
	first := readState(t, state)
	if first.Objects < 60 || first.Objects >= objects || first.Complete || first.DoneThrough == "" {
		t.Fatalf("state after the interruption: %+v", first)
	}
	lines := progressLine.FindAllStringSubmatch(errOut, -1)
	if len(lines) < 2 {
		t.Fatalf("%d progress lines:\n%.3000s", len(lines), errOut)
	}

	code, out, errOut = runBackfill(t, ctx, 0, args...)
	if code != 0 {
		t.Fatalf("resumed backfill: exit %d\nstdout:\n%s\nstderr:\n%.3000s", code, out, errOut)
	}
	if !strings.Contains(errOut, "resuming: ") || !strings.Contains(out, "done: ") || !strings.Contains(out, " 0 failed") {
		t.Errorf("resumed backfill output:\nstdout:\n%s\nstderr:\n%.3000s", out, errOut)
	}
	second := readState(t, state)
	if !second.Complete || second.Objects < objects || second.Objects > objects+int64(first.Objects) {
		t.Errorf("state after the resumed run: %+v (first run: %d objects)", second, first.Objects)
	}
	// The resumed run went on after the watermark: it did not start over.
	if resumed := second.Objects - first.Objects; resumed >= objects {
		t.Errorf("the resumed run loaded %d objects of %d: it started over", resumed, objects)
	}
	last := progressLine.FindAllStringSubmatch(errOut, -1)
	if m := last[len(last)-1]; m[1] != m[2] || m[3] != "0" {
		t.Errorf("last progress line %q: want every object done, none failed", m[0])
	}
	checkIndexed(t, ctx, search.New(esURL), name, corpus)

	// A third start finds nothing new to load.
	code, out, _ = runBackfill(t, ctx, 0, args...)
	if code != 0 || !strings.Contains(out, "done: 0 objects") {
		t.Errorf("third start: exit %d\n%s", code, out)
	}
}

// TestBackfillEnqueue sends a notification per existing object to the
// fleet's queue, interrupted once and started again; a worker then drains
// the queue into the cluster.
func TestBackfillEnqueue(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const objects = 400
	c, st, name, esURL, corpus := backfillBucket(t, ctx, "backfill-enq", objects)
	state := filepath.Join(t.TempDir(), "state.json")
	args := []string{"s3://" + st.Bucket + "/exports/", "--enqueue", st.QueueURL, "--concurrency", "1", "--state-file", state, "--progress-interval", "50ms"}

	code, out, errOut := runBackfill(t, ctx, 50, args...)
	if code != 1 || !strings.Contains(out, "stopped before the end") {
		t.Fatalf("interrupted backfill: exit %d\nstdout:\n%s\nstderr:\n%.3000s", code, out, errOut)
	}
	first := readState(t, state)
	if first.Objects < 50 || first.Objects >= objects {
		t.Fatalf("state after the interruption: %+v", first)
	}
	code, out, errOut = runBackfill(t, ctx, 0, args...)
	if code != 0 || !strings.Contains(out, "enqueued") || !strings.Contains(errOut, "resuming: ") {
		t.Fatalf("resumed backfill: exit %d\nstdout:\n%s\nstderr:\n%.3000s", code, out, errOut)
	}
	second := readState(t, state)
	if !second.Complete || second.Objects < objects {
		t.Errorf("state after the resumed run: %+v", second)
	}
	vis, _, _, err := c.Depth(ctx, st.QueueURL)
	if err != nil || vis < objects || vis > objects+int(first.Objects) {
		t.Errorf("queue holds %d messages (err %v), want %d to %d", vis, err, objects, objects+int(first.Objects))
	}

	runWorker(t, ctx, "--queue-url", st.QueueURL, "--es-url", esURL, "--index-prefix", name, "--dead-letter-index", "dl-"+name,
		"--exit-when-idle", "2s", "--metrics-addr", "127.0.0.1:0", "--concurrency", "4")
	checkIndexed(t, ctx, search.New(esURL), name, corpus)
	checkQueueEmpty(t, ctx, c, st.QueueURL)
}
