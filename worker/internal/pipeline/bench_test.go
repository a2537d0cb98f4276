package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/guardduty"
	"github.com/logtide/logtide/worker/internal/queue"
	"github.com/logtide/logtide/worker/internal/route"
	"github.com/logtide/logtide/worker/internal/sink"
)

// discardSink answers every item with success and keeps nothing.
type discardSink struct{}

func (discardSink) Bulk(_ context.Context, items []sink.Item) ([]sink.Result, error) {
	res := make([]sink.Result, len(items))
	for i := range res {
		res[i] = sink.Result{Outcome: sink.Written, Status: 201}
	}
	return res, nil
}

// BenchmarkTinyMessages measures the worker's own cost per message when every
// message names one object of one finding (GuardDuty exports are often that
// small): notification parsing, gunzip, transform, batching, acknowledgements,
// deletes, logs and metrics, without the network and the AWS SDK (make bench
// measures those). One op is one message.
func BenchmarkTinyMessages(b *testing.B) {
	const objects = 512
	c, err := guardduty.NewCorpus(guardduty.CorpusOptions{Seed: 11, Objects: objects, FindingsPerObject: 1, ReexportPercent: -1})
	if err != nil {
		b.Fatal(err)
	}
	src := fakeSource{}
	bodies := make([][]byte, objects)
	for i := range objects {
		var gz bytes.Buffer
		if err := c.WriteObject(&gz, i); err != nil {
			b.Fatal(err)
		}
		key := fmt.Sprintf("AWSLogs/123456789012/GuardDuty/us-east-1/2026/01/05/%04d.jsonl.gz", i)
		src[key] = gz.Bytes()
		bodies[i] = note(key)
	}
	gd, err := guardduty.New(format.Options{})
	if err != nil {
		b.Fatal(err)
	}
	q := &fakeQueue{}
	q.pending = make([]queue.Message, 0, b.N)
	for i := range b.N {
		q.pending = append(q.pending, queue.Message{ID: fmt.Sprint(i), Handle: fmt.Sprint(i), Body: bodies[i%objects], ReceiveCount: 1, SentAt: time.Now()})
	}
	o := DefaultOptions()
	o.Concurrency, o.ExitWhenIdle = 64, 50*time.Millisecond // as make bench runs the tiny objects
	// What worker run logs, formatted as it does, but not kept.
	o.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	r, err := route.New([]format.Format{gd}, nil)
	if err != nil {
		b.Fatal(err)
	}
	p := New(q, src, discardSink{}, r, o)
	b.ReportAllocs()
	cpu0 := processCPU(b)
	b.ResetTimer()
	if err := p.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	// The messages are worked on concurrently: CPU per message is the figure
	// that compares with make bench's (it includes the idle wait before Run
	// returns, a few milliseconds in all).
	b.ReportMetric(float64((processCPU(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	if len(q.deleted) != b.N {
		b.Fatalf("%d of %d messages deleted", len(q.deleted), b.N)
	}
}

// processCPU is this process's user and system CPU time so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
