// Package backfill loads the objects that already exist in a bucket, those
// written before its notification existed: it lists them in key order,
// keeps those a format reads (of the dates asked for), and either sends one
// S3 event notification per object to the fleet's queue, or hands them to
// the worker's own pipeline through an in-memory queue and waits until each
// is indexed. What is done is saved in a state file as it goes, so a
// backfill interrupted and started again with the same arguments goes on
// after the last object it completed; anything loaded twice changes nothing
// in the index.
//
// The path of one object: list.go (listing and filters), state.go (the
// watermark of what is done), enqueue.go or queue.go (to the fleet's queue,
// or to the pipeline in this process), progress.go (what the operator sees).
package backfill

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"
)

// Options of a backfill.
type Options struct {
	Bucket, Prefix string
	Filter         Filter
	// Run names the backfill (bucket, prefix, filters, destination): the
	// state file of another run is refused.
	Run string
	// StatePath is the state file (none when empty); Restart ignores what
	// it holds.
	StatePath string
	Restart   bool
	// Objects, when set, are loaded instead of a listing of the bucket;
	// each may name its own bucket and version.
	Objects []Object
	// OnResolved, when set, is told each object's fate: done, or failed
	// with err.
	OnResolved func(o Object, err error)
	// Concurrency is the SendMessageBatch requests at once (enqueue mode).
	Concurrency int
	// Window bounds the objects handed out beyond the first unfinished one.
	Window int
	// Region is written in the notifications.
	Region string
	// Visibility and MaxReceives are the in-memory queue's (process mode):
	// an object the pipeline gives up on MaxReceives times has failed.
	Visibility  time.Duration
	MaxReceives int

	// Progress receives the progress: a bar when Terminal, else a line
	// every ProgressInterval.
	Progress         io.Writer
	Terminal         bool
	ProgressInterval time.Duration
}

// DefaultStatePath is the state file of the backfill named run, in the
// user's cache folder (the temporary folder where there is none).
func DefaultStatePath(run string) string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	sum := sha256.Sum256([]byte(run))
	return filepath.Join(dir, "logtide", "backfill-"+hex.EncodeToString(sum[:8])+".json")
}

// Summary is the outcome of one start of a backfill.
type Summary struct {
	// Objects and Bytes done in this start.
	Objects, Bytes int64
	// Failed are the objects that failed, now and in earlier starts not
	// retried yet.
	Failed []string
	// Skipped says how many objects listed were not loaded, and why.
	Skipped  string
	Duration time.Duration
	// Interrupted is set when the backfill stopped before the end.
	Interrupted bool
	State       State
}

// Backfill is one start of a backfill.
type Backfill struct {
	o        Options
	state    State
	progress *progress
	enqueued bool // Enqueue, not Process
}

// New reads the state file and prepares the start.
func New(o Options) (*Backfill, error) {
	if o.Window <= 0 {
		o.Window = 10000
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Visibility <= 0 {
		o.Visibility = 10 * time.Second
	}
	if o.MaxReceives <= 0 {
		o.MaxReceives = 3
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = 10 * time.Second
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	s := State{Run: o.Run}
	if !o.Restart && o.StatePath != "" {
		var err error
		if s, err = loadState(o.StatePath, o.Run); err != nil {
			return nil, err
		}
	}
	return &Backfill{o: o, state: s, progress: newProgress(o.Progress, o.Terminal, o.ProgressInterval)}, nil
}

// State is what the state file held at the start.
func (b *Backfill) State() State { return b.state }

// LogWriter is where log lines go while the backfill runs: above its
// progress bar.
func (b *Backfill) LogWriter() io.Writer { return b.progress }

// Enqueue sends a notification for every object to the queue at queueURL,
// for the fleet to process.
func (b *Backfill) Enqueue(ctx context.Context, l Lister, s Sender, queueURL string) (Summary, error) {
	b.enqueued = true
	return b.drive(ctx, l, func(t *tracker) consumer {
		in := make(chan pending, 10*b.o.Concurrency)
		return consumer{
			handOut: func(ctx context.Context, seq int64, o Object) error {
				select {
				case in <- pending{seq: seq, obj: o}:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			},
			listed: func() { close(in) },
			run: func(ctx context.Context) error {
				return send(ctx, s, queueURL, b.o.Region, b.o.Bucket, in, b.o.Concurrency, t.resolve)
			},
		}
	})
}

// Process hands every object to run, the worker's pipeline reading from
// the in-memory queue it is given, and stops it once every object is done
// or has failed.
func (b *Backfill) Process(ctx context.Context, l Lister, run func(ctx context.Context, q *Queue) error) (Summary, error) {
	return b.drive(ctx, l, func(t *tracker) consumer {
		q := newQueue(b.o.Bucket, b.o.Region, b.o.Visibility, b.o.MaxReceives, t.resolve)
		return consumer{
			handOut: func(_ context.Context, seq int64, o Object) error { q.add(seq, o); return nil },
			listed:  func() {},
			run: func(ctx context.Context) error {
				ctx, stop := context.WithCancel(ctx)
				defer stop()
				go func() {
					select {
					case <-t.finished:
						stop()
					case <-ctx.Done():
					}
				}()
				return run(ctx, q)
			},
		}
	})
}

// consumer takes the objects of a backfill: handOut gives it one, listed
// says there are no more, run works on them until its context ends.
type consumer struct {
	handOut func(context.Context, int64, Object) error
	listed  func()
	run     func(context.Context) error
}

// drive lists the objects and hands each to the consumer, while the
// consumer works on them, saving the state as it goes.
func (b *Backfill) drive(ctx context.Context, l Lister, newConsumer func(*tracker) consumer) (Summary, error) {
	start := time.Now()
	t := newTracker(b.state, b.o.Window, b.progress, b.o.OnResolved)
	c := newConsumer(t)
	showCtx, stopShow := context.WithCancel(context.WithoutCancel(ctx))
	var shows errgroup.Group
	shows.Go(func() error { b.progress.run(showCtx); return nil })
	shows.Go(func() error { return b.saveEvery(showCtx, t, 2*time.Second) })

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer c.listed()
		hand := func(o Object) error {
			seq, err := t.add(gctx, o)
			if err != nil {
				return err
			}
			return c.handOut(gctx, seq, o)
		}
		if b.o.Objects != nil {
			for _, o := range b.o.Objects {
				if err := hand(o); err != nil {
					return err
				}
			}
			t.listingDone("")
			return nil
		}
		// Objects that failed before go first.
		for _, key := range b.state.Failed {
			o, err := head(gctx, l, b.o.Bucket, key)
			if err != nil && gctx.Err() != nil {
				return gctx.Err()
			}
			if err != nil {
				seq, aerr := t.add(gctx, Object{Key: key})
				if aerr != nil {
					return aerr
				}
				t.resolve(seq, fmt.Errorf("reading it again: %w", err))
				continue
			}
			if err := hand(o); err != nil {
				return err
			}
		}
		last, err := list(gctx, l, b.o.Bucket, b.o.Prefix, b.state.DoneThrough, b.o.Filter, hand, b.progress.skip)
		if err != nil {
			return err
		}
		t.listingDone(last)
		return nil
	})
	g.Go(func() error { return c.run(gctx) })
	err := g.Wait()
	stopShow()
	saveErr := shows.Wait()
	b.progress.finish()

	s := t.snapshot()
	if b.o.StatePath != "" {
		if serr := s.save(b.o.StatePath); serr != nil && saveErr == nil {
			saveErr = serr
		}
	}
	sum := Summary{
		Objects: s.Objects - b.state.Objects, Bytes: s.Bytes - b.state.Bytes, Failed: s.Failed,
		Skipped: b.progress.skippedSummary(), Duration: time.Since(start), State: s,
	}
	select {
	case <-t.finished:
	default:
		sum.Interrupted = true
	}
	if err == nil && sum.Interrupted && ctx.Err() != nil {
		err = ctx.Err()
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		err = errors.New("interrupted")
	}
	return sum, errors.Join(err, saveErr)
}

// Report writes the summary of a start for the operator; records, when
// not empty, says what became of the records read.
func (b *Backfill) Report(w io.Writer, s Summary, records string) {
	verb, status := "indexed", "done"
	if b.enqueued {
		verb = "enqueued"
	}
	if s.Interrupted {
		status = "stopped before the end"
	}
	fmt.Fprintf(w, "backfill of s3://%s/%s %s: %d objects (%s) %s in %s, %d failed\n",
		b.o.Bucket, b.o.Prefix, status, s.Objects, formatBytes(s.Bytes), verb, s.Duration.Round(100*time.Millisecond), len(s.Failed))
	if records != "" {
		fmt.Fprintf(w, "  records: %s\n", records)
	}
	if s.Skipped != "" {
		fmt.Fprintf(w, "  not loaded: %s\n", s.Skipped)
	}
	for i, k := range s.Failed {
		if i == 20 {
			fmt.Fprintf(w, "  ... and %d more failed objects (all in the state file)\n", len(s.Failed)-i)
			break
		}
		fmt.Fprintf(w, "  failed: %s\n", k)
	}
	if b.o.StatePath != "" {
		fmt.Fprintf(w, "  state file: %s (%d objects done in all, through %q)\n", b.o.StatePath, s.State.Objects, s.State.DoneThrough)
	}
}

// saveEvery saves the state every interval until ctx ends.
func (b *Backfill) saveEvery(ctx context.Context, t *tracker, interval time.Duration) error {
	if b.o.StatePath == "" {
		return nil
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if err := t.snapshot().save(b.o.StatePath); err != nil {
				return err
			}
		}
	}
}
