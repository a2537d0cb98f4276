package pipeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/guardduty"
	"github.com/logtide/logtide/worker/internal/bulk"
	"github.com/logtide/logtide/worker/internal/deadletter"
	"github.com/logtide/logtide/worker/internal/queue"
	"github.com/logtide/logtide/worker/internal/route"
	"github.com/logtide/logtide/worker/internal/sink"
	"github.com/logtide/logtide/worker/internal/source"
)

// fakeQueue hands out its messages once and records every delete and
// visibility change.
type fakeQueue struct {
	mu         sync.Mutex
	pending    []queue.Message
	deleted    []string
	batches    []int    // size of each delete request
	visibility []string // "id=duration"
}

func (q *fakeQueue) Receive(ctx context.Context, max int) ([]queue.Message, error) {
	q.mu.Lock()
	if len(q.pending) > 0 {
		n := min(max, len(q.pending))
		out := q.pending[:n]
		q.pending = q.pending[n:]
		q.mu.Unlock()
		return out, nil
	}
	q.mu.Unlock()
	select { // an empty long poll
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(20 * time.Millisecond):
		return nil, nil
	}
}

func (q *fakeQueue) DeleteBatch(_ context.Context, msgs []queue.Message) ([]error, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.batches = append(q.batches, len(msgs))
	for _, m := range msgs {
		q.deleted = append(q.deleted, m.ID)
	}
	return make([]error, len(msgs)), nil
}

func (q *fakeQueue) SetVisibility(_ context.Context, m queue.Message, d time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.visibility = append(q.visibility, fmt.Sprintf("%s=%s", m.ID, d))
	return nil
}

func (q *fakeQueue) Attributes(context.Context) (time.Duration, queue.Depth, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return 30 * time.Second, queue.Depth{Visible: len(q.pending)}, nil
}

type fakeSource map[string]any // key → []byte content or error

func (s fakeSource) Open(_ context.Context, bucket, key, _ string) (io.ReadCloser, error) {
	switch v := s[key].(type) {
	case []byte:
		return io.NopCloser(bytes.NewReader(v)), nil
	case error:
		return nil, v
	}
	return nil, &source.Error{Bucket: bucket, Key: key, Permanent: true, Err: errors.New("NoSuchKey")}
}

// fakeSink stores documents by id; answer decides each item's outcome.
type fakeSink struct {
	mu     sync.Mutex
	docs   map[string]sink.Item
	calls  [][]string
	answer func(call int, it sink.Item) sink.Outcome
	block  chan struct{}
	delay  time.Duration // per request, like a real cluster's latency
}

func (s *fakeSink) Bulk(ctx context.Context, items []sink.Item) ([]sink.Result, error) {
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
	if s.block != nil {
		select {
		case <-s.block:
		case <-ctx.Done():
			return nil, &sink.RequestError{Err: ctx.Err()}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.docs == nil {
		s.docs = map[string]sink.Item{}
	}
	var ids []string
	res := make([]sink.Result, len(items))
	for i, it := range items {
		ids = append(ids, it.ID)
		o := sink.Written
		if s.answer != nil {
			o = s.answer(len(s.calls), it)
		}
		res[i] = sink.Result{Outcome: o, Status: map[sink.Outcome]int{sink.Written: 201, sink.Retry: 429, sink.Rejected: 400}[o], Reason: o.String()}
		if o == sink.Written {
			s.docs[it.ID] = it
		}
	}
	s.calls = append(s.calls, ids)
	return res, nil
}

func finding(id string, updated int) string {
	return fmt.Sprintf(`{"arn":"arn:aws:guardduty:us-east-1:1:detector/d/finding/%s","createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:%02dZ"}`, id, updated)
}

func gzLines(lines ...string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = io.WriteString(w, strings.Join(lines, "\n")+"\n")
	_ = w.Close()
	return b.Bytes()
}

func note(keys ...string) []byte {
	var recs []string
	for _, k := range keys {
		recs = append(recs, fmt.Sprintf(`{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":%q,"size":1}}}`, k))
	}
	return []byte(`{"Records":[` + strings.Join(recs, ",") + `]}`)
}

// newTestPipeline builds a pipeline on the defaults, with fast retries and an
// idle exit; set changes options beyond that.
func newTestPipeline(t *testing.T, q *fakeQueue, src fakeSource, w bulk.Writer, set func(*Options)) *Pipeline {
	t.Helper()
	return newGuardDutyPipeline(t, q, src, w, format.Options{}, set)
}

// newGuardDutyPipeline is newTestPipeline with the GuardDuty format's
// options.
func newGuardDutyPipeline(t *testing.T, q *fakeQueue, src fakeSource, w bulk.Writer, fo format.Options, set func(*Options)) *Pipeline {
	t.Helper()
	gd, err := guardduty.New(fo)
	if err != nil {
		t.Fatal(err)
	}
	o := DefaultOptions()
	o.ExitWhenIdle = 100 * time.Millisecond
	o.RetryBase, o.RetryMax = time.Millisecond, 5*time.Millisecond
	o.Bulk.RetryBase, o.Bulk.RetryMax = time.Millisecond, 5*time.Millisecond
	if set != nil {
		set(&o)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	// The tests' keys are short names, not AWSLogs layouts.
	r, err := route.New([]format.Format{gd}, []route.Rule{{Pattern: "*", Format: guardduty.Name}})
	if err != nil {
		t.Fatal(err)
	}
	return New(q, src, w, r, o)
}

func runUntilIdle(t *testing.T, p *Pipeline) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("pipeline did not stop when idle")
	}
}

func TestFates(t *testing.T) {
	src := fakeSource{
		"a.jsonl.gz":   gzLines(finding("1", 1), finding("2", 1)),
		"b.jsonl.gz":   gzLines("", finding("3", 1)),
		"bad.jsonl.gz": gzLines(finding("4", 1), "{not json"),
		"gone":         &source.Error{Bucket: "b", Key: "gone", Permanent: true, Err: errors.New("NoSuchKey")},
		"flaky":        &source.Error{Bucket: "b", Key: "flaky", Err: errors.New("connection reset")},
	}
	q := &fakeQueue{pending: []queue.Message{
		{ID: "two-objects", Body: note("a.jsonl.gz", "b.jsonl.gz"), ReceiveCount: 1},
		{ID: "test-event", Body: []byte(`{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}`)},
		{ID: "garbage", Body: []byte(`hello`)},
		{ID: "bad-record", Body: note("bad.jsonl.gz")},
		{ID: "missing", Body: note("gone")},
		{ID: "flaky", Body: note("flaky"), ReceiveCount: 1},
		{ID: "one-missing-of-two", Body: note("a.jsonl.gz", "gone")},
	}}
	snk := &fakeSink{}
	p := newTestPipeline(t, q, src, snk, func(o *Options) { o.Concurrency = 3 })
	runUntilIdle(t, p)

	m := p.metrics
	for name, got := range map[string]float64{
		"received 7":         testutil.ToFloat64(m.MessagesReceived) - 7,
		"deleted done 2":     testutil.ToFloat64(m.MessagesDeleted.WithLabelValues("done")) - 2,
		"deleted test 1":     testutil.ToFloat64(m.MessagesDeleted.WithLabelValues("test_event")) - 1,
		"returned 1":         testutil.ToFloat64(m.MessagesReturned.WithLabelValues("retryable")) - 1,
		"left unparsable 1":  testutil.ToFloat64(m.MessagesKeptForRedrive.WithLabelValues("unparsable_body")) - 1,
		"left unavailable 2": testutil.ToFloat64(m.MessagesKeptForRedrive.WithLabelValues("object_unavailable")) - 2,
		"records read 7":     testutil.ToFloat64(m.Records.WithLabelValues("read")) - 7, // a 2 + b 1 + bad 2 + a again 2
		"records indexed 6":  testutil.ToFloat64(m.Records.WithLabelValues("indexed")) - 6,
		"records dead 1":     testutil.ToFloat64(m.Records.WithLabelValues("dead_lettered")) - 1,
		"objects done 4":     testutil.ToFloat64(m.Objects.WithLabelValues("done")) - 4,
		"objects failed 3":   testutil.ToFloat64(m.Objects.WithLabelValues("failed")) - 3,
		"in flight 0":        testutil.ToFloat64(m.MessagesInFlight),
	} {
		if got != 0 {
			t.Errorf("metric %s: off by %v", name, got)
		}
	}

	deleted := strings.Join(slices.Sorted(slices.Values(q.deleted)), ",")
	if deleted != "bad-record,test-event,two-objects" {
		t.Errorf("deleted %s", deleted)
	}
	// Only the retryable failure is returned, and not hot.
	if len(q.visibility) != 1 || !strings.HasPrefix(q.visibility[0], "flaky=") || q.visibility[0] == "flaky=0s" {
		t.Errorf("visibility changes %v", q.visibility)
	}
	var findings, dead []string
	for _, it := range snk.docs {
		if it.Index == "logtide-deadletter" {
			dead = append(dead, string(it.Body))
		} else {
			findings = append(findings, it.ID)
		}
	}
	if len(findings) != 4 || len(dead) != 1 {
		t.Errorf("indexed %v, dead-lettered %v", findings, dead)
	}
	if len(dead) == 1 {
		for _, want := range []string{`"key":"bad.jsonl.gz"`, `"line":2`, `"stage":"transform"`, `"raw":"{not json"`, `"message_id":"bad-record"`} {
			if !strings.Contains(dead[0], want) {
				t.Errorf("dead-letter document %s lacks %s", dead[0], want)
			}
		}
	}
}

func TestRetriesOnlyFailedItems(t *testing.T) {
	q := &fakeQueue{pending: []queue.Message{{ID: "m", Body: note("k")}}}
	src := fakeSource{"k": gzLines(finding("1", 1), finding("2", 1), finding("3", 1))}
	snk := &fakeSink{answer: func(call int, it sink.Item) sink.Outcome {
		if call < 2 && strings.HasSuffix(it.ID, "/2") {
			return sink.Retry
		}
		return sink.Written
	}}
	runUntilIdle(t, newTestPipeline(t, q, src, snk, nil))
	if fmt.Sprint(q.deleted) != "[m]" {
		t.Fatalf("deleted %v", q.deleted)
	}
	if len(snk.calls) != 3 || len(snk.calls[1]) != 1 || len(snk.calls[2]) != 1 {
		t.Errorf("bulk calls %v: want all, then only the throttled item twice", snk.calls)
	}
}

func TestRejectedItemIsDeadLettered(t *testing.T) {
	q := &fakeQueue{pending: []queue.Message{{ID: "m", Body: note("k")}}}
	src := fakeSource{"k": gzLines(finding("1", 1), finding("2", 1))}
	snk := &fakeSink{answer: func(_ int, it sink.Item) sink.Outcome {
		if it.Index != "logtide-deadletter" && strings.HasSuffix(it.ID, "/1") {
			return sink.Rejected
		}
		return sink.Written
	}}
	p := newTestPipeline(t, q, src, snk, nil)
	runUntilIdle(t, p)
	if fmt.Sprint(q.deleted) != "[m]" {
		t.Fatalf("deleted %v: a record kept in the dead-letter index is accounted for", q.deleted)
	}
	var dead sink.Item
	for _, it := range snk.docs {
		if it.Index == "logtide-deadletter" {
			dead = it
		}
	}
	for _, want := range []string{`"line":1`, `"stage":"index"`, `"status":400`, `"target_id":"arn:aws:guardduty:us-east-1:1:detector/d/finding/1"`, `\"arn\":`} {
		if !strings.Contains(string(dead.Body), want) {
			t.Errorf("dead-letter document %s lacks %s", dead.Body, want)
		}
	}
	// Versioned by the time it was written: a later failure of the same
	// record replaces it, a replay tells old documents from new.
	if v := dead.Version; v < time.Now().Add(-time.Minute).UnixMicro() || v > time.Now().UnixMicro() {
		t.Errorf("dead-letter document version %d: want its writing time in microseconds", v)
	}
	if !strings.Contains(string(dead.Body), `"target_version":`) {
		t.Errorf("dead-letter document %s lacks the refused document's version", dead.Body)
	}
	if n := testutil.ToFloat64(p.metrics.Records.WithLabelValues("dead_lettered")); n != 1 {
		t.Errorf("dead_lettered %v", n)
	}
	if n := testutil.ToFloat64(p.metrics.BulkItemFailures.WithLabelValues("status_400")); n != 1 {
		t.Errorf("bulk_item_failures_total{reason=status_400} %v", n)
	}
}

// TestDeadLetterRefusedIsWaitedOut: the dead-letter index refusing a
// document is a problem of the cluster's settings, not of the message: the
// message stays in work (no return, no redrive) until the document is taken.
func TestDeadLetterRefusedIsWaitedOut(t *testing.T) {
	q := &fakeQueue{pending: []queue.Message{{ID: "m", Body: note("k")}}}
	src := fakeSource{"k": gzLines(finding("1", 1), "{not json")}
	snk := &fakeSink{answer: func(call int, it sink.Item) sink.Outcome {
		if it.Index == "logtide-deadletter" && call < 5 {
			return sink.Rejected
		}
		return sink.Written
	}}
	runUntilIdle(t, newTestPipeline(t, q, src, snk, nil))
	if fmt.Sprint(q.deleted) != "[m]" || len(q.visibility) != 0 {
		t.Errorf("deleted %v, visibility %v: want the message deleted once the dead-letter document is written", q.deleted, q.visibility)
	}
}

func TestLongLineIsDeadLettered(t *testing.T) {
	q := &fakeQueue{pending: []queue.Message{{ID: "m", Body: note("k")}}}
	src := fakeSource{"k": gzLines(finding("1", 1), `{"x":"`+strings.Repeat("a", 5000)+`"}`, finding("2", 1))}
	snk := &fakeSink{}
	runUntilIdle(t, newTestPipeline(t, q, src, snk, func(o *Options) { o.MaxLineBytes = 2048 }))
	if fmt.Sprint(q.deleted) != "[m]" || len(snk.docs) != 3 {
		t.Fatalf("deleted %v, %d documents", q.deleted, len(snk.docs))
	}
	for _, it := range snk.docs {
		if it.Index == "logtide-deadletter" && !strings.Contains(string(it.Body), `"stage":"decode"`) {
			t.Errorf("dead-letter document %s", it.Body)
		}
	}
}

// TestClusterRefusalNeverReturnsTheMessage: the cluster refusing every
// bulk request for a long while (403, a rotated password) neither returns
// the message nor leaves it for the redrive: it is written when the cluster
// takes it again.
func TestClusterRefusalNeverReturnsTheMessage(t *testing.T) {
	q := &fakeQueue{pending: []queue.Message{{ID: "m", Body: note("k"), ReceiveCount: 2}}}
	src := fakeSource{"k": gzLines(finding("1", 1))}
	snk := &refusingSink{refusals: 40, status: 403}
	p := newTestPipeline(t, q, src, snk, nil)
	runUntilIdle(t, p)
	if fmt.Sprint(q.deleted) != "[m]" || len(q.visibility) != 0 {
		t.Errorf("deleted %v, visibility %v", q.deleted, q.visibility)
	}
	if n := testutil.ToFloat64(p.metrics.BulkRequestFailures.WithLabelValues("status_403")); n != 40 {
		t.Errorf("bulk_request_failures_total{reason=status_403} %v, want 40", n)
	}
}

// refusingSink refuses its first requests with an HTTP status.
type refusingSink struct {
	fakeSink
	mu       sync.Mutex
	refusals int
	status   int
}

func (s *refusingSink) Bulk(ctx context.Context, items []sink.Item) ([]sink.Result, error) {
	s.mu.Lock()
	refuse := s.refusals > 0
	s.refusals--
	s.mu.Unlock()
	if refuse {
		return nil, &sink.RequestError{Status: s.status, Err: errors.New("refused")}
	}
	return s.fakeSink.Bulk(ctx, items)
}

func TestShutdownReturnsUnfinished(t *testing.T) {
	q := &fakeQueue{pending: []queue.Message{{ID: "m", Body: note("k")}}}
	src := fakeSource{"k": gzLines(finding("1", 1))}
	snk := &fakeSink{block: make(chan struct{})}
	p := newTestPipeline(t, q, src, snk, func(o *Options) { o.ShutdownGrace = 50 * time.Millisecond; o.ExitWhenIdle = 0 })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	time.Sleep(100 * time.Millisecond) // the message is in the blocked bulk call
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the grace period")
	}
	if len(q.deleted) != 0 || fmt.Sprint(q.visibility) != "[m=0s]" {
		t.Errorf("deleted %v, visibility %v: an unfinished message must be made visible at once", q.deleted, q.visibility)
	}
}

func TestShutdownLetsInFlightFinish(t *testing.T) {
	q := &fakeQueue{pending: []queue.Message{{ID: "m", Body: note("k")}}}
	src := fakeSource{"k": gzLines(finding("1", 1))}
	snk := &fakeSink{block: make(chan struct{})}
	p := newTestPipeline(t, q, src, snk, func(o *Options) { o.ShutdownGrace = 5 * time.Second; o.ExitWhenIdle = 0 })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	time.Sleep(50 * time.Millisecond)
	close(snk.block) // the write completes within the grace period
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(q.deleted) != "[m]" {
		t.Errorf("deleted %v: finished work must be deleted during shutdown", q.deleted)
	}
}

func TestHeartbeatExtendsVisibility(t *testing.T) {
	q := &fakeQueue{pending: []queue.Message{{ID: "m", Body: note("k")}}}
	src := fakeSource{"k": gzLines(finding("1", 1))}
	snk := &fakeSink{block: make(chan struct{})}
	p := newTestPipeline(t, q, src, snk, func(o *Options) { o.VisibilityTimeout = 2 * time.Second })
	go func() { time.Sleep(2500 * time.Millisecond); close(snk.block) }()
	runUntilIdle(t, p)
	if fmt.Sprint(q.deleted) != "[m]" {
		t.Fatalf("deleted %v", q.deleted)
	}
	ext := 0
	for _, v := range q.visibility {
		if v == "m=2s" {
			ext++
		}
	}
	if ext < 2 {
		t.Errorf("visibility changes %v: want an extension every second", q.visibility)
	}
}

func TestDeletesAreBatched(t *testing.T) {
	q := &fakeQueue{}
	src := fakeSource{}
	for i := range 40 {
		k := fmt.Sprintf("k%d", i)
		src[k] = gzLines(finding(k, 1))
		q.pending = append(q.pending, queue.Message{ID: k, Body: note(k)})
	}
	runUntilIdle(t, newTestPipeline(t, q, src, &fakeSink{}, func(o *Options) { o.Concurrency = 10 }))
	if len(q.deleted) != 40 {
		t.Fatalf("deleted %d messages", len(q.deleted))
	}
	if len(q.batches) >= 40 || slices.Max(q.batches) > 10 {
		t.Errorf("delete batches %v: want fewer requests than messages, each of at most 10", q.batches)
	}
}

func TestObjectsShareBulkRequests(t *testing.T) {
	q := &fakeQueue{}
	src := fakeSource{}
	for i := range 60 {
		k := fmt.Sprintf("k%d", i)
		src[k] = gzLines(finding(k, 1))
		q.pending = append(q.pending, queue.Message{ID: k, Body: note(k)})
	}
	// While both senders wait for the cluster, the documents of the objects
	// finishing meanwhile gather into the next request.
	snk := &fakeSink{delay: 20 * time.Millisecond}
	runUntilIdle(t, newTestPipeline(t, q, src, snk, func(o *Options) {
		o.Concurrency = 20
		o.Bulk.Concurrency = 2
		o.Bulk.FlushInterval = 30 * time.Millisecond
	}))
	if len(q.deleted) != 60 || len(snk.docs) != 60 {
		t.Fatalf("deleted %d messages, %d documents", len(q.deleted), len(snk.docs))
	}
	most := 0
	for _, c := range snk.calls {
		most = max(most, len(c))
	}
	if len(snk.calls) >= 30 || most < 5 {
		t.Errorf("%d bulk requests for 60 one-record objects, the largest with %d documents: want documents of several objects per request", len(snk.calls), most)
	}
}

// TestObjectSpansManyBulkRequests: one message's documents ride in many bulk
// requests, some throttled; the message is deleted only after the last one.
func TestObjectSpansManyBulkRequests(t *testing.T) {
	var lines []string
	for i := range 50 {
		lines = append(lines, finding(fmt.Sprint(i), 1))
	}
	q := &fakeQueue{pending: []queue.Message{{ID: "m", Body: note("k")}}}
	src := fakeSource{"k": gzLines(lines...)}
	var deletedEarly, throttled bool
	snk := &fakeSink{}
	snk.answer = func(_ int, it sink.Item) sink.Outcome {
		q.mu.Lock()
		deletedEarly = deletedEarly || len(q.deleted) > 0
		q.mu.Unlock()
		if !throttled && strings.HasSuffix(it.ID, "/21") {
			throttled = true
			return sink.Retry
		}
		return sink.Written
	}
	runUntilIdle(t, newTestPipeline(t, q, src, snk, func(o *Options) { o.Bulk.MaxDocs = 10; o.Bulk.Concurrency = 3 }))
	if fmt.Sprint(q.deleted) != "[m]" || len(snk.docs) != 50 || deletedEarly {
		t.Errorf("deleted %v (early: %v), %d documents", q.deleted, deletedEarly, len(snk.docs))
	}
	if len(snk.calls) != 6 {
		t.Errorf("%d bulk requests, want 5 of 10 documents and one retry", len(snk.calls))
	}
}

// blockingVisibility is a queue whose visibility changes wait for their
// context, counting the calls.
type blockingVisibility struct {
	fakeQueue
	calls, cancelled atomic.Int32
}

func (q *blockingVisibility) SetVisibility(ctx context.Context, _ queue.Message, _ time.Duration) error {
	q.calls.Add(1)
	<-ctx.Done()
	q.cancelled.Add(1)
	return ctx.Err()
}

func TestHeartbeatStopCancelsExtensionInFlight(t *testing.T) {
	q := &blockingVisibility{}
	p := newTestPipeline(t, &q.fakeQueue, fakeSource{}, &fakeSink{}, nil)
	p.queue = q
	// A beat after 200 ms; an extension may take up to 200 ms.
	hb := p.startHeartbeat(context.Background(), p.log, queue.Message{ID: "m"}, 400*time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for q.calls.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if q.calls.Load() != 1 {
		t.Fatalf("%d extensions started, want 1", q.calls.Load())
	}
	start := time.Now()
	hb.stop()
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("stop took %v: it should cancel the extension in flight, not wait out its 200 ms timeout", d)
	}
	if q.cancelled.Load() != 1 {
		t.Errorf("extension in flight not finished when stop returned")
	}
	time.Sleep(300 * time.Millisecond)
	if n := q.calls.Load(); n != 1 {
		t.Errorf("%d extensions after stop, want none", n-1)
	}
}

func TestHeartbeatStopsBeforeFirstBeat(t *testing.T) {
	q := &blockingVisibility{}
	p := newTestPipeline(t, &q.fakeQueue, fakeSource{}, &fakeSink{}, nil)
	p.queue = q
	hb := p.startHeartbeat(context.Background(), p.log, queue.Message{ID: "m"}, 400*time.Millisecond)
	hb.stop()
	time.Sleep(300 * time.Millisecond)
	if n := q.calls.Load(); n != 0 {
		t.Errorf("%d extensions after an early stop, want none", n)
	}
}

// prefixRouter reads every key as its format, except keys under skip/ (an
// object of the format without records), under ignored/ (skipped by a
// --route rule) and under unknown/ (no format).
type prefixRouter struct{ f format.Format }

func (r prefixRouter) Route(key string) (format.Format, format.Claim) {
	switch {
	case strings.HasPrefix(key, "skip/"):
		return r.f, format.Skip
	case strings.HasPrefix(key, "ignored/"):
		return nil, format.Skip
	case strings.HasPrefix(key, "unknown/"):
		return nil, format.NotMine
	}
	return r.f, format.Read
}

func TestRouting(t *testing.T) {
	src := fakeSource{"k": gzLines(finding("1", 1))}
	q := &fakeQueue{pending: []queue.Message{
		{ID: "skipped", Body: note("skip/digest.json.gz", "ignored/config.json.gz")},
		{ID: "unrouted", Body: note("k", "unknown/x.log")},
	}}
	snk := &fakeSink{}
	p := newTestPipeline(t, q, src, snk, nil)
	gd, err := guardduty.New(format.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.router = prefixRouter{gd}
	runUntilIdle(t, p)
	if fmt.Sprint(q.deleted) != "[skipped]" || len(q.visibility) != 0 {
		t.Errorf("deleted %v, visibility %v: a skipped object is done; an object no format reads keeps its message for the redrive", q.deleted, q.visibility)
	}
	m := p.metrics
	for name, got := range map[string]float64{
		"objects skipped 2": testutil.ToFloat64(m.Objects.WithLabelValues("skipped")) - 2,
		"objects failed 1":  testutil.ToFloat64(m.Objects.WithLabelValues("failed")) - 1,
		"objects done 1":    testutil.ToFloat64(m.Objects.WithLabelValues("done")) - 1,
		"left unrouted 1":   testutil.ToFloat64(m.MessagesKeptForRedrive.WithLabelValues("unrouted")) - 1,
		"records indexed 1": testutil.ToFloat64(m.Records.WithLabelValues("indexed")) - 1,
	} {
		if got != 0 {
			t.Errorf("metric %s: off by %v", name, got)
		}
	}
}

// TestEveryObjectOfAMessageIsProcessed: a message naming several objects
// processes all of them even when one fails, and its fate follows the
// worst: an object that will never read keeps the message for the redrive,
// even after one that might read later.
func TestEveryObjectOfAMessageIsProcessed(t *testing.T) {
	src := fakeSource{
		"a":     gzLines(finding("a", 1)),
		"flaky": &source.Error{Bucket: "b", Key: "flaky", Err: errors.New("connection reset")},
		"gone":  &source.Error{Bucket: "b", Key: "gone", Permanent: true, Err: errors.New("NoSuchKey")},
		"c":     gzLines(finding("c", 1)),
	}
	q := &fakeQueue{pending: []queue.Message{
		{ID: "retryable-first", Body: note("flaky", "a"), ReceiveCount: 1},
		{ID: "permanent-last", Body: note("flaky", "gone", "c"), ReceiveCount: 1},
	}}
	snk := &fakeSink{}
	p := newTestPipeline(t, q, src, snk, nil)
	runUntilIdle(t, p)
	if _, ok := snk.docs["arn:aws:guardduty:us-east-1:1:detector/d/finding/a"]; !ok {
		t.Error("the object after a failed one was not processed")
	}
	if _, ok := snk.docs["arn:aws:guardduty:us-east-1:1:detector/d/finding/c"]; !ok {
		t.Error("the object after a missing one was not processed")
	}
	if len(q.deleted) != 0 || len(q.visibility) != 1 || !strings.HasPrefix(q.visibility[0], "retryable-first=") || q.visibility[0] == "retryable-first=0s" {
		t.Errorf("deleted %v, visibility %v: want the first returned, the second kept for the redrive", q.deleted, q.visibility)
	}
	if n := testutil.ToFloat64(p.metrics.MessagesKeptForRedrive.WithLabelValues("object_unavailable")); n != 1 {
		t.Errorf("kept for redrive (object_unavailable): %v, want 1", n)
	}
}

// TestNoShutdownGrace: --shutdown-grace 0 means none: on SIGTERM the
// messages in work are made visible again at once.
func TestNoShutdownGrace(t *testing.T) {
	q := &fakeQueue{pending: []queue.Message{{ID: "m", Body: note("k")}}}
	src := fakeSource{"k": gzLines(finding("1", 1))}
	snk := &fakeSink{block: make(chan struct{})}
	defer close(snk.block)
	p := newTestPipeline(t, q, src, snk, func(o *Options) { o.ShutdownGrace = 0; o.ExitWhenIdle = 0 })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	time.Sleep(100 * time.Millisecond) // the message is in the blocked bulk call
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	if took := time.Since(start); took > time.Second || fmt.Sprint(q.visibility) != "[m=0s]" {
		t.Errorf("returned after %s, visibility %v: want the message made visible at once", took, q.visibility)
	}
}

// flakyVisibility fails its first visibility changes.
type flakyVisibility struct {
	fakeQueue
	fails atomic.Int32
}

func (q *flakyVisibility) SetVisibility(ctx context.Context, m queue.Message, d time.Duration) error {
	if q.fails.Add(-1) >= 0 {
		return errors.New("throttled")
	}
	return q.fakeQueue.SetVisibility(ctx, m, d)
}

// TestFailedExtensionIsRetriedAtOnce: a visibility extension that fails is
// tried again within a fraction of the timeout, not half a timeout later
// when the message may already be visible to other workers.
func TestFailedExtensionIsRetriedAtOnce(t *testing.T) {
	q := &flakyVisibility{}
	q.fails.Store(2)
	p := newTestPipeline(t, &q.fakeQueue, fakeSource{}, &fakeSink{}, nil)
	p.queue = q
	const vis = 4 * time.Second
	hb := p.startHeartbeat(context.Background(), p.log, queue.Message{ID: "m"}, vis)
	time.Sleep(vis/2 + vis/4) // the first beat at vis/2, then its retries
	hb.stop()
	q.mu.Lock()
	defer q.mu.Unlock()
	if fmt.Sprint(q.visibility) != "[m=4s]" {
		t.Errorf("extensions %v after two failures: want one that succeeded before 3/4 of the timeout", q.visibility)
	}
}

// TestHealth: a worker holding messages without progress reports itself
// unhealthy; one merely waiting for the cluster does not.
func TestHealth(t *testing.T) {
	q := &fakeQueue{}
	p := newTestPipeline(t, q, fakeSource{}, &fakeSink{}, func(o *Options) { o.StallTimeout = 50 * time.Millisecond })
	if err := p.Health(); err != nil {
		t.Fatalf("idle: %v", err)
	}
	p.working.Store(1) // a message in work, and nothing moves
	if err := p.Health(); err != nil {
		t.Fatalf("at once: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	err := p.Health()
	if err == nil || !strings.Contains(err.Error(), "no progress") {
		t.Fatalf("stuck: %v", err)
	}
	p.progress.Add(1)
	if err := p.Health(); err != nil {
		t.Errorf("after progress: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	p.intake.Pause() // waiting for the cluster
	if err := p.Health(); err != nil {
		t.Errorf("waiting for the cluster: %v", err)
	}
	p.intake.Resume()
}

// arrayFormat reads {"Records":[...]} objects whose elements are
// {"id":...}; an element {"header":true} holds no record.
type arrayFormat struct{}

func (arrayFormat) Name() string                                 { return "array" }
func (arrayFormat) Claim(format.Key) format.Claim                { return format.Read }
func (arrayFormat) Framing() format.Framing                      { return format.RecordsArray }
func (arrayFormat) Decoder(format.Object) format.Decoder         { return arrayFormat{} }
func (arrayFormat) IndexTemplate(format.Engine) (string, string) { return "", "" }
func (arrayFormat) IndexPattern() string                         { return "array-*" }
func (arrayFormat) Decode(rec []byte, n int) (format.Document, error) {
	var r struct {
		ID     string
		Header bool
	}
	if err := json.Unmarshal(rec, &r); err != nil {
		return format.Document{}, format.Errorf("invalid JSON: %v", err)
	}
	if r.Header {
		return format.Document{}, format.ErrNotARecord
	}
	return format.Document{Index: "array-1", ID: fmt.Sprintf("%s@%d", r.ID, n), Body: bytes.Clone(rec)}, nil
}

// TestRecordsArrayAndSkippedRecords: an object framed as one document with
// a Records array is read element by element; an element that holds no
// record is skipped and still balances the object.
func TestRecordsArrayAndSkippedRecords(t *testing.T) {
	var doc bytes.Buffer
	zw := gzip.NewWriter(&doc)
	_, _ = io.WriteString(zw, `{"version":1,"Records":[{"header":true},{"id":"a"},{"id":"b"},{"id":`+"\n"+`"c"},{"id":}]}`)
	_ = zw.Close()
	q := &fakeQueue{pending: []queue.Message{{ID: "m", Body: note("k")}}}
	snk := &fakeSink{}
	p := newTestPipeline(t, q, fakeSource{"k": doc.Bytes()}, snk, nil)
	p.router = prefixRouter{arrayFormat{}}
	runUntilIdle(t, p)
	if fmt.Sprint(q.deleted) != "[m]" {
		t.Fatalf("deleted %v", q.deleted)
	}
	var ids []string
	for id, it := range snk.docs {
		if it.Index == "array-1" {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if fmt.Sprint(ids) != "[a@2 b@3 c@4]" {
		t.Errorf("documents %v", ids)
	}
	m := p.metrics
	for name, got := range map[string]float64{
		"read 5":          testutil.ToFloat64(m.Records.WithLabelValues("read")) - 5,
		"skipped 1":       testutil.ToFloat64(m.Records.WithLabelValues("skipped")) - 1,
		"indexed 3":       testutil.ToFloat64(m.Records.WithLabelValues("indexed")) - 3,
		"dead-lettered 1": testutil.ToFloat64(m.Records.WithLabelValues("dead_lettered")) - 1,
	} {
		if got != 0 {
			t.Errorf("records %s: off by %v", name, got)
		}
	}
}

// TestFindingsHistory: with history on, every version of a finding is also
// written once to its history index; those copies are waited for but are
// not records, and one the cluster refuses is dead-lettered apart from the
// record's own document.
func TestFindingsHistory(t *testing.T) {
	q := &fakeQueue{pending: []queue.Message{{ID: "m", Body: note("k")}}}
	src := fakeSource{"k": gzLines(finding("1", 1), finding("1", 2), finding("2", 1))}
	snk := &fakeSink{answer: func(_ int, it sink.Item) sink.Outcome {
		if strings.HasPrefix(it.Index, "history-") && strings.Contains(it.ID, "/2@") {
			return sink.Rejected
		}
		return sink.Written
	}}
	p := newGuardDutyPipeline(t, q, src, snk, format.Options{History: true}, nil)
	runUntilIdle(t, p)
	if fmt.Sprint(q.deleted) != "[m]" {
		t.Fatalf("deleted %v", q.deleted)
	}
	byIndex := map[string][]string{}
	for id, it := range snk.docs {
		byIndex[it.Index] = append(byIndex[it.Index], id)
	}
	for _, ids := range byIndex {
		sort.Strings(ids)
	}
	arn := "arn:aws:guardduty:us-east-1:1:detector/d/finding/"
	if got, want := fmt.Sprint(byIndex["history-guardduty-2026-01-01"]), fmt.Sprint([]string{arn + "1@2026-01-01T00:00:01.000Z", arn + "1@2026-01-01T00:00:02.000Z"}); got != want {
		t.Errorf("history documents %s, want %s", got, want)
	}
	if got := fmt.Sprint(byIndex["guardduty-2026-01-01"]); got != fmt.Sprint([]string{arn + "1", arn + "2"}) {
		t.Errorf("current-state documents %s", got)
	}
	dead := byIndex["logtide-deadletter"]
	if len(dead) != 1 || !strings.Contains(string(snk.docs[dead[0]].Body), `"copy":"history"`) || !strings.Contains(string(snk.docs[dead[0]].Body), `"target_index":"history-guardduty-2026-01-01"`) {
		t.Fatalf("dead-letter documents %v", dead)
	}
	if dead[0] == (deadletter.Record{Bucket: "b", Key: "k", Line: 3}).ID() {
		t.Error("the history copy's dead-letter document took the record's own id")
	}
	for outcome, want := range map[string]float64{"written": 2, "duplicate": 0, "dead_lettered": 1} {
		if n := testutil.ToFloat64(p.metrics.HistoryDocuments.WithLabelValues(outcome)); n != want {
			t.Errorf("history_documents_total{outcome=%s} %v, want %v", outcome, n, want)
		}
	}
	for outcome, want := range map[string]float64{"read": 3, "indexed": 3, "dead_lettered": 0} {
		if n := testutil.ToFloat64(p.metrics.Records.WithLabelValues(outcome)); n != want {
			t.Errorf("records_total{outcome=%s} %v, want %v", outcome, n, want)
		}
	}
}
