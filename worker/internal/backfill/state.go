package backfill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// State is what a backfill has completed, saved in its state file while it
// runs: started again with the same arguments, it retries the objects that
// failed, then lists the bucket after DoneThrough.
type State struct {
	// Run names the backfill: the bucket, prefix, filters and destination.
	// A state file of another run is refused.
	Run string `json:"run"`
	// DoneThrough is a key such that every object to load up to it (in key
	// order) is done.
	DoneThrough string `json:"done_through,omitempty"`
	// Failed are objects that failed (retried on the next start).
	Failed []string `json:"failed,omitempty"`
	// Complete is set once the whole listing was done and nothing failed.
	Complete bool `json:"complete"`
	// Objects and Bytes done, over every start of the run.
	Objects int64     `json:"objects"`
	Bytes   int64     `json:"bytes"`
	Updated time.Time `json:"updated"`
}

// loadState reads the state file at path; a missing file is a fresh start.
func loadState(path, run string) (State, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return State{Run: run}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("state file: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return State{}, fmt.Errorf("state file %s: %w (remove it, or start over with --restart)", path, err)
	}
	if s.Run != run {
		return State{}, fmt.Errorf("state file %s belongs to another backfill (%s); give this one its own --state-file, or start over with --restart", path, s.Run)
	}
	return s, nil
}

// save writes s to path atomically: a crash leaves the old state or the new
// one, never half of either.
func (s State) save(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	return nil
}

// tracker follows the objects of one start of a backfill, in the order they
// were listed, and keeps the state: how far in key order everything is done,
// which objects failed. Objects finish out of order, so it holds the ones
// done beyond the first unfinished one; at most window objects are between
// the first unfinished and the last handed out, which bounds its memory
// however many keys the bucket has.
type tracker struct {
	slots chan struct{} // one per object handed out and not yet behind the watermark

	mu         sync.Mutex
	state      State
	objects    []tracked // from seq base on
	base       int64     // seq of objects[0]
	retrying   map[string]bool
	failed     []string // failures of this start
	listed     bool     // every object was handed out
	lastListed string   // the last key listed
	finished   chan struct{}
	closed     bool
	progress   *progress
	// onResolved, when set, is told each object's fate.
	onResolved func(Object, error)
}

type tracked struct {
	Object
	resolved bool
}

func newTracker(s State, window int, p *progress, onResolved func(Object, error)) *tracker {
	t := &tracker{
		slots:      make(chan struct{}, window),
		state:      s,
		retrying:   map[string]bool{},
		finished:   make(chan struct{}),
		progress:   p,
		onResolved: onResolved,
	}
	for _, k := range s.Failed {
		t.retrying[k] = true
	}
	return t
}

// add hands out the next object: it returns its sequence number once the
// window has room for it.
func (t *tracker) add(ctx context.Context, o Object) (int64, error) {
	select {
	case t.slots <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.objects = append(t.objects, tracked{Object: o})
	t.progress.listed(o.Size)
	return t.base + int64(len(t.objects)) - 1, nil
}

// resolve records the fate of object seq: done, or failed with err.
func (t *tracker) resolve(seq int64, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := seq - t.base
	if i < 0 || i >= int64(len(t.objects)) || t.objects[i].resolved {
		return // already decided
	}
	o := &t.objects[i]
	o.resolved = true
	if err != nil {
		t.failed = append(t.failed, o.Key)
		t.progress.failedOne(o.Key, err)
	} else {
		t.state.Objects++
		t.state.Bytes += o.Size
		t.progress.done(o.Size)
	}
	delete(t.retrying, o.Key)
	if t.onResolved != nil {
		t.onResolved(o.Object, err)
	}
	// Move the watermark over every object decided.
	n := 0
	for n < len(t.objects) && t.objects[n].resolved {
		if k := t.objects[n].Key; k > t.state.DoneThrough {
			t.state.DoneThrough = k
		}
		n++
	}
	if n > 0 {
		// Reslice rather than shift: the window holds up to 10,000
		// objects, and the first one finishes about as often as any.
		// append reallocates (copying only the live ones) once the
		// capacity is used up.
		clear(t.objects[:n])
		t.objects = t.objects[n:]
		t.base += int64(n)
		for range n {
			<-t.slots
		}
	}
	t.maybeFinish()
}

// listingDone says every object was handed out; last is the last key the
// listing saw (loaded or not), the watermark once everything is decided.
func (t *tracker) listingDone(last string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.listed, t.lastListed = true, last
	t.progress.listingDone()
	t.maybeFinish()
}

func (t *tracker) maybeFinish() {
	if t.listed && len(t.objects) == 0 && !t.closed {
		if t.lastListed > t.state.DoneThrough {
			t.state.DoneThrough = t.lastListed
		}
		t.closed = true
		close(t.finished)
	}
}

// snapshot is the state to save now.
func (t *tracker) snapshot() State {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.state
	s.Failed = slices.Clone(t.failed)
	for k := range t.retrying {
		if !slices.Contains(s.Failed, k) {
			s.Failed = append(s.Failed, k)
		}
	}
	slices.Sort(s.Failed)
	s.Complete = t.closed && len(s.Failed) == 0
	s.Updated = time.Now().UTC()
	return s
}
