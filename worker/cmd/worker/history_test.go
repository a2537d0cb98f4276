//go:build integration

package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/logtide/logtide/testenv/awslocal"
	"github.com/logtide/logtide/testenv/search"
	"github.com/logtide/logtide/worker/format/guardduty"
)

// TestFindingsHistory: with --findings-history every version of every
// finding (each distinct arn and updatedAt of the exports) lands once in
// history-<prefix>-*, typed like the current state, while the current-state
// indices keep only the newest; a replay adds nothing.
func TestFindingsHistory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, st, name, esURL := newStack(t, ctx, "history", awslocal.Options{})
	es := search.New(esURL)
	t.Cleanup(func() { _ = es.Drop(context.Background(), "history-"+name+"*") })
	corpus, err := guardduty.NewCorpus(guardduty.CorpusOptions{Seed: 21, Objects: 8, FindingsPerObject: 10, ReexportPercent: 40, OutOfOrder: true})
	if err != nil {
		t.Fatal(err)
	}
	// Every version the exports hold.
	versions := map[string]string{} // arn@updatedAt → updatedAt
	for i := range corpus.Objects() {
		var buf bytes.Buffer
		if err := corpus.WriteObject(&buf, i); err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var f struct{ ARN, UpdatedAt string }
			if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
				t.Fatal(err)
			}
			u, err := time.Parse(time.RFC3339Nano, f.UpdatedAt)
			if err != nil {
				t.Fatal(err)
			}
			versions[f.ARN+"@"+u.UTC().Format("2006-01-02T15:04:05.000Z")] = f.UpdatedAt
		}
	}
	if len(versions) <= len(corpus.Findings()) {
		t.Fatalf("%d versions of %d findings: the corpus has no updated finding", len(versions), len(corpus.Findings()))
	}
	all := allObjects(corpus)
	putObjects(t, ctx, c, st.Bucket, corpus, all)
	args := []string{"--queue-url", st.QueueURL, "--es-url", esURL, "--index-prefix", name, "--dead-letter-index", "dl-" + name,
		"--exit-when-idle", "2s", "--metrics-addr", "", "--wait-time", "1s", "--findings-history"}
	logs := runWorker(t, ctx, args...)
	if !strings.Contains(logs, `"history_written":`) {
		t.Errorf("no history counts in the object lines:\n%.2000s", logs)
	}

	check := func() {
		t.Helper()
		checkIndexed(t, ctx, es, name, corpus)
		if err := es.Refresh(ctx, "history-"+name+"-*"); err != nil {
			t.Fatal(err)
		}
		hits, err := es.All(ctx, "history-"+name+"-*")
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, h := range hits {
			var d struct {
				ARN, UpdatedAt string
			}
			if err := json.Unmarshal(h.Source, &d); err != nil {
				t.Fatal(err)
			}
			u, _ := time.Parse(time.RFC3339Nano, d.UpdatedAt)
			if _, ok := versions[h.ID]; !ok || seen[h.ID] || h.ID != d.ARN+"@"+u.UTC().Format("2006-01-02T15:04:05.000Z") ||
				h.Index != "history-"+name+"-"+u.UTC().Format("2006-01-02") {
				t.Errorf("history document %s in %s (arn %s, updatedAt %s)", h.ID, h.Index, d.ARN, d.UpdatedAt)
			}
			seen[h.ID] = true
		}
		if len(seen) != len(versions) {
			t.Errorf("%d history documents for %d versions", len(seen), len(versions))
		}
	}
	check()
	checkMapping(t, ctx, es, "history-"+name)

	putObjects(t, ctx, c, st.Bucket, corpus, all)
	logs = runWorker(t, ctx, args...)
	if !strings.Contains(logs, `"history_written":0`) || !strings.Contains(logs, `"history_duplicate":`) {
		t.Errorf("the replay wrote history again:\n%.2000s", logs)
	}
	check()
}
