package redrive

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/logtide/logtide/worker/internal/backfill"
	"github.com/logtide/logtide/worker/internal/deadletter"
)

// IndexOptions say which records of the dead-letter index to replay.
type IndexOptions struct {
	Index  string
	Filter deadletter.Filter
	DryRun bool
}

// IndexResult is what a replay did.
type IndexResult struct {
	// Objects are those with records in the index (that the filter keeps).
	Objects []deadletter.Object
	// Failed are the objects that could not be processed again; their
	// records stay.
	Failed []deadletter.Object
	// Resolved records are indexed now (their dead-letter documents are
	// removed); Remaining ones failed again and stay, with the new reason.
	Resolved, Remaining int64
}

// Process runs objects through the worker's pipeline again and tells each
// one's fate (backfill.Backfill.Process with Objects set).
type Process func(ctx context.Context, objs []backfill.Object, onResolved func(backfill.Object, error)) error

// ReplayDeadLetters processes again every object with records in the
// dead-letter index, once the cause (a mapping, a template) is fixed. The
// whole object is read again: its records already indexed are no-ops (same
// ids and versions), those that failed are indexed now or dead-lettered
// again. A dead-letter document the object's new pass did not write again
// is a record that no longer fails: it is removed. Nothing is removed for an
// object that could not be processed, so a record leaves the dead-letter
// index only once it is in its own.
func ReplayDeadLetters(ctx context.Context, r deadletter.Requester, o IndexOptions, process Process) (IndexResult, error) {
	var res IndexResult
	objs, err := deadletter.Objects(ctx, r, o.Index, o.Filter)
	if err != nil {
		return res, err
	}
	res.Objects = objs
	if o.DryRun || len(objs) == 0 {
		return res, nil
	}
	// Dead-letter documents written from now on are records that failed
	// again. Millisecond precision, like the documents' time.
	since := time.Now().Truncate(time.Millisecond)
	in := make([]backfill.Object, len(objs))
	byRef := map[backfill.Object]deadletter.Object{}
	for i, d := range objs {
		in[i] = backfill.Object{Bucket: d.Bucket, Key: d.Key, VersionID: d.VersionID}
		byRef[in[i]] = d
	}
	var mu sync.Mutex
	var done []deadletter.Object
	err = process(ctx, in, func(b backfill.Object, err error) {
		d := byRef[backfill.Object{Bucket: b.Bucket, Key: b.Key, VersionID: b.VersionID}]
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			res.Failed = append(res.Failed, d)
			return
		}
		done = append(done, d)
	})
	if len(done) == 0 {
		return res, err
	}
	if rerr := deadletter.Refresh(ctx, r, o.Index); rerr != nil {
		return res, fmt.Errorf("refreshing %s: %w", o.Index, rerr)
	}
	for _, d := range done {
		n, serr := deadletter.Sweep(ctx, r, o.Index, d, since)
		res.Resolved += n
		if serr != nil {
			return res, serr
		}
		left, cerr := deadletter.Count(ctx, r, o.Index, d)
		if cerr != nil {
			return res, cerr
		}
		res.Remaining += left
	}
	return res, err
}
