package backfill

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/internal/queue"
	"github.com/logtide/logtide/worker/internal/s3event"
)

func TestKeyDate(t *testing.T) {
	for key, want := range map[string]string{
		"AWSLogs/123456789012/CloudTrail/us-east-1/2026/01/31/123456789012_CloudTrail_us-east-1_x.json.gz":               "2026-01-31",
		"p/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2025/month=02/day=03/x": "2025-02-03",
		"logs/2024-12-30-23-59-01-0123456789ABCDEF":                                                                      "2024-12-30",
		"logs/123456789012/us-east-1/bucket/2024/11/05/2024-11-05-01-02-03-0123456789ABCDEF":                             "2024-11-05",
		"AWSLogs/123456789012/GuardDuty/us-east-1/2026/02/30/x.jsonl.gz":                                                 "", // no such day
		"README.txt": "",
		"AWSLogs/123456789012/CloudTrail/us-east-1/2026/01/31": "2026-01-31",
	} {
		d, ok := KeyDate(key)
		got := ""
		if ok {
			got = d.Format(time.DateOnly)
		}
		if got != want {
			t.Errorf("KeyDate(%q) = %q, want %q", key, got, want)
		}
	}
}

// routeAll claims keys under AWSLogs/, skips those with Digest in them.
type routeAll struct{}

func (routeAll) Route(key string) (format.Format, format.Claim) {
	switch {
	case strings.Contains(key, "Digest"):
		return nil, format.Skip
	case strings.Contains(key, "AWSLogs/"):
		return nil, format.Read
	}
	return nil, format.NotMine
}

func TestFilterDates(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	f := Filter{Router: routeAll{}, Since: day("2026-01-10"), Until: day("2026-01-12")} // the 10th and 11th
	for _, c := range []struct {
		key      string
		modified string
		want     string
	}{
		{"AWSLogs/1/GuardDuty/r/2026/01/09/a", "2026-01-20", skipDates},
		{"AWSLogs/1/GuardDuty/r/2026/01/10/a", "2026-01-20", ""},
		{"AWSLogs/1/GuardDuty/r/2026/01/11/a", "2026-01-01", ""},
		{"AWSLogs/1/GuardDuty/r/2026/01/12/a", "2026-01-11", skipDates},
		{"AWSLogs/nodate/a", "2026-01-11", ""},
		{"AWSLogs/nodate/b", "2026-01-12", skipDates},
		{"AWSLogs/1/CloudTrail-Digest/r/2026/01/10/a", "2026-01-10", skipByFormat},
		{"other/2026/01/10/a", "2026-01-10", skipNotLog},
		{"AWSLogs/1/GuardDuty/", "2026-01-10", skipFolder},
	} {
		if got := f.skip(Object{Key: c.key, LastModified: day(c.modified)}); got != c.want {
			t.Errorf("%s (modified %s): skip %q, want %q", c.key, c.modified, got, c.want)
		}
	}
}

func TestNotificationParses(t *testing.T) {
	for _, key := range []string{"AWSLogs/123456789012/GuardDuty/us-east-1/2026/01/02/a b+c.jsonl.gz", "p/aws-account-id=1/é%x?.gz"} {
		mod := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		body := Notification("eu-west-1", "my-bucket", Object{Key: key, Size: 1234, ETag: "abc", LastModified: mod}, mod)
		n, err := s3event.Parse(body)
		if err != nil {
			t.Fatalf("%s: %v\n%s", key, err, body)
		}
		if len(n.Objects) != 1 {
			t.Fatalf("%s: %d objects", key, len(n.Objects))
		}
		o := n.Objects[0]
		if o.Bucket != "my-bucket" || o.Key != key || o.Size != 1234 || o.ETag != "abc" || o.EventName != "ObjectCreated:Put" || !o.EventTime.Equal(mod) {
			t.Errorf("%s: parsed %+v", key, o)
		}
		if strings.Contains(string(body), "%2F") {
			t.Errorf("slashes encoded: %s", body)
		}
	}
}

func TestTrackerWatermark(t *testing.T) {
	p := newProgress(&bytes.Buffer{}, false, time.Hour)
	tr := newTracker(State{Run: "r", Failed: []string{"a-old"}}, 3, p, nil)
	ctx := context.Background()
	seq := map[string]int64{}
	for _, k := range []string{"a-old", "k1", "k2"} {
		s, err := tr.add(ctx, Object{Key: k, Size: 10})
		if err != nil {
			t.Fatal(err)
		}
		seq[k] = s
	}
	// The window is full: a fourth object waits.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	if _, err := tr.add(short, Object{Key: "k3"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("add beyond the window: %v", err)
	}
	cancel()
	tr.resolve(seq["k2"], nil)
	if s := tr.snapshot(); s.DoneThrough != "" || s.Objects != 1 {
		t.Fatalf("k2 done before a-old and k1: %+v", s)
	}
	tr.resolve(seq["a-old"], nil)
	if s := tr.snapshot(); s.DoneThrough != "a-old" || len(s.Failed) != 0 {
		t.Fatalf("after a-old: %+v", s)
	}
	tr.resolve(seq["k1"], errors.New("boom"))
	s := tr.snapshot()
	if s.DoneThrough != "k2" || fmt.Sprint(s.Failed) != "[k1]" || s.Objects != 2 || s.Bytes != 20 {
		t.Fatalf("after k1 failed: %+v", s)
	}
	// The window has room again.
	k3, err := tr.add(ctx, Object{Key: "k3"})
	if err != nil {
		t.Fatal(err)
	}
	tr.listingDone("k9")
	select {
	case <-tr.finished:
		t.Fatal("finished with k3 undecided")
	default:
	}
	tr.resolve(k3, nil)
	<-tr.finished
	if s := tr.snapshot(); s.DoneThrough != "k9" || s.Complete || fmt.Sprint(s.Failed) != "[k1]" {
		t.Fatalf("at the end: %+v", s)
	}
}

func TestStateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "state.json")
	s, err := loadState(path, "run A")
	if err != nil || s.Run != "run A" || s.DoneThrough != "" {
		t.Fatalf("missing file: %+v %v", s, err)
	}
	s.DoneThrough, s.Objects = "k", 3
	if err := s.save(path); err != nil {
		t.Fatal(err)
	}
	if got, err := loadState(path, "run A"); err != nil || got.DoneThrough != "k" || got.Objects != 3 {
		t.Fatalf("read back: %+v %v", got, err)
	}
	if _, err := loadState(path, "run B"); err == nil || !strings.Contains(err.Error(), "belongs to another backfill") {
		t.Fatalf("another run's file: %v", err)
	}
}

func TestQueueSemantics(t *testing.T) {
	var mu sync.Mutex
	fates := map[int64]error{}
	q := newQueue("b", "r", 100*time.Millisecond, 2, func(seq int64, err error) {
		mu.Lock()
		defer mu.Unlock()
		if _, dup := fates[seq]; dup {
			t.Errorf("object %d resolved twice", seq)
		}
		fates[seq] = err
	})
	q.poll = 50 * time.Millisecond
	ctx := context.Background()
	q.add(0, Object{Key: "AWSLogs/a"})
	q.add(1, Object{Key: "AWSLogs/b"})
	msgs, err := q.Receive(ctx, 10)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("receive: %d messages, %v", len(msgs), err)
	}
	if n, err := s3event.Parse(msgs[0].Body); err != nil || n.Objects[0].Key != "AWSLogs/a" || n.Objects[0].Bucket != "b" {
		t.Fatalf("body: %+v %v", n, err)
	}
	// Hidden while in work: nothing to receive.
	if again, _ := q.Receive(ctx, 10); len(again) != 0 {
		t.Fatalf("received hidden messages: %v", again)
	}
	if errs, err := q.DeleteBatch(ctx, msgs[:1]); err != nil || errs[0] != nil {
		t.Fatalf("delete: %v %v", errs, err)
	}
	// The second is given up: it shows again after its timeout, once more,
	// then counts as failed.
	var second []queue.Message
	deadline := time.Now().Add(2 * time.Second)
	for len(second) == 0 && time.Now().Before(deadline) {
		second, _ = q.Receive(ctx, 10)
	}
	if len(second) != 1 || second[0].ReceiveCount != 2 {
		t.Fatalf("redelivery: %+v", second)
	}
	// An old receipt no longer works.
	if err := q.SetVisibility(ctx, msgs[1], 0); err == nil {
		t.Error("old receipt handle accepted")
	}
	for time.Now().Before(deadline) {
		mu.Lock()
		_, decided := fates[1]
		mu.Unlock()
		if decided {
			break
		}
		if m, _ := q.Receive(ctx, 10); len(m) != 0 {
			t.Fatalf("received after the last attempt: %+v", m)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if fates[0] != nil || fates[1] == nil || !strings.Contains(fates[1].Error(), "not done after 2 attempts") {
		t.Fatalf("fates: %v", fates)
	}
}

// fakeSQS accepts every entry but those whose body holds refuse, which it
// refuses once (or always, for sender faults).
type fakeSQS struct {
	mu       sync.Mutex
	bodies   []string
	refused  map[string]int
	failCall error
}

func (f *fakeSQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failCall != nil {
		return nil, f.failCall
	}
	if len(in.Entries) > 10 {
		return nil, fmt.Errorf("%d entries", len(in.Entries))
	}
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		body := aws.ToString(e.MessageBody)
		switch {
		case strings.Contains(body, "sender-fault"):
			out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InvalidParameterValue"), Message: aws.String("no"), SenderFault: true})
		case strings.Contains(body, "refuse") && f.refused[body] == 0:
			f.refused[body]++
			out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError"), Message: aws.String("try again")})
		default:
			f.bodies = append(f.bodies, body)
			out.Successful = append(out.Successful, sqstypes.SendMessageBatchResultEntry{Id: e.Id})
		}
	}
	return out, nil
}

// fakeS3 lists keys two to a page.
type fakeS3 struct{ keys []string }

func (f *fakeS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	after := aws.ToString(in.StartAfter)
	if in.ContinuationToken != nil {
		after = *in.ContinuationToken
	}
	out := &s3.ListObjectsV2Output{}
	for _, k := range f.keys {
		if k > after && strings.HasPrefix(k, aws.ToString(in.Prefix)) {
			if len(out.Contents) == 2 {
				out.IsTruncated, out.NextContinuationToken = aws.Bool(true), out.Contents[1].Key
				break
			}
			out.Contents = append(out.Contents, s3types.Object{Key: aws.String(k), Size: aws.Int64(100), LastModified: aws.Time(time.Now())})
		}
	}
	return out, nil
}

func (f *fakeS3) HeadObject(_ context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	for _, k := range f.keys {
		if k == aws.ToString(in.Key) {
			return &s3.HeadObjectOutput{ContentLength: aws.Int64(100), LastModified: aws.Time(time.Now())}, nil
		}
	}
	return nil, errors.New("NotFound")
}

func TestEnqueueResumes(t *testing.T) {
	s3c := &fakeS3{keys: []string{"AWSLogs/a", "AWSLogs/b-refuse", "AWSLogs/c-sender-fault", "AWSLogs/d", "AWSLogs/e", "README"}}
	sq := &fakeSQS{refused: map[string]int{}}
	var progressOut bytes.Buffer
	o := Options{Bucket: "b", Filter: Filter{Router: routeAll{}}, Run: "r", StatePath: filepath.Join(t.TempDir(), "s.json"), Concurrency: 2, Progress: &progressOut}
	bf, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := bf.Enqueue(context.Background(), s3c, sq, "q")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Objects != 4 || fmt.Sprint(sum.Failed) != "[AWSLogs/c-sender-fault]" || sum.Skipped != "1 not a log the worker reads" || sum.Interrupted {
		t.Fatalf("summary %+v", sum)
	}
	if sum.State.DoneThrough != "README" || sum.State.Complete {
		t.Fatalf("state %+v", sum.State)
	}
	keys := sentKeys(t, sq)
	if fmt.Sprint(keys) != "[AWSLogs/a AWSLogs/b-refuse AWSLogs/d AWSLogs/e]" {
		t.Fatalf("sent %v", keys)
	}
	if !strings.Contains(progressOut.String(), "failed: AWSLogs/c-sender-fault: the queue refused the notification: InvalidParameterValue") ||
		!strings.Contains(progressOut.String(), "backfill: 4/5 objects") {
		t.Errorf("progress output:\n%s", progressOut.String())
	}

	// Started again, it retries the failed object only, and new keys.
	s3c.keys = append(s3c.keys, "ZZ/AWSLogs/f")
	sq.bodies = nil
	bf, err = New(o)
	if err != nil {
		t.Fatal(err)
	}
	sum, _ = bf.Enqueue(context.Background(), s3c, sq, "q")
	if keys := sentKeys(t, sq); fmt.Sprint(keys) != "[ZZ/AWSLogs/f]" || fmt.Sprint(sum.Failed) != "[AWSLogs/c-sender-fault]" || sum.State.Objects != 5 {
		t.Fatalf("second start sent %v, summary %+v", keys, sum)
	}

	// A queue that refuses every request stops the backfill.
	sq.failCall = errors.New("AccessDenied")
	o.Restart = true
	bf, _ = New(o)
	if _, err := bf.Enqueue(context.Background(), s3c, sq, "q"); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("refusing queue: %v", err)
	}
}

func sentKeys(t *testing.T, sq *fakeSQS) []string {
	t.Helper()
	var keys []string
	for _, b := range sq.bodies {
		n, err := s3event.Parse([]byte(b))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, n.Objects[0].Key)
	}
	sort.Strings(keys)
	return keys
}

func TestProgressLine(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, false, time.Hour)
	start := p.start
	p.now = func() time.Time { return start.Add(10 * time.Second) }
	for range 4 {
		p.listed(1e6)
	}
	p.done(1e6)
	p.show()
	p.listingDone()
	p.done(1e6)
	p.show()
	want := "backfill: 1/4+ (listing) objects, 1.0 MB/4.0 MB, 0.1 objects/s, 0.1 MB/s, ETA after listing, 0 failed\n" +
		"backfill: 2/4 objects, 2.0 MB/4.0 MB, 0.2 objects/s, 0.2 MB/s, ETA 10s, 0 failed\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	out.Reset()
	p.terminal = true
	p.show()
	fmt.Fprint(p, "a log line\n")
	if got := out.String(); !strings.HasPrefix(got, "\r\033[K[============            ] 2/4 objects") || !strings.HasSuffix(got, "\r\033[Ka log line\n") {
		t.Errorf("terminal output %q", got)
	}
}
