package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/logtide/logtide/bench/internal/report"
	"github.com/logtide/logtide/testenv/search"
)

// openSearchRow indexes the typical corpus into the local node (the one of
// `make services-up`, shared with other tests: the run's indices and
// templates have run-unique names and are removed afterwards).
func (b *bench) openSearchRow(ctx context.Context) {
	name := "OpenSearch, typical"
	skip := func(why string) {
		b.main.Add("worker → "+name, b.label(b.typical), "", "", "", "", "", "", "", "", "", "skipped: "+why)
		b.targets = append(b.targets, "- **SKIP** worker CPU ≤ 20 % of OpenSearch CPU: "+why)
		logf("OpenSearch row skipped: %s", why)
	}
	if b.c.osURL == "" {
		skip("no -opensearch-url")
		return
	}
	hc := &http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get(b.c.osURL + "/")
	if err != nil {
		skip(fmt.Sprintf("OpenSearch not answering at %s (make services-up)", b.c.osURL))
		return
	}
	resp.Body.Close()
	cl := search.New(b.c.osURL)
	// A node started moments ago spends much of its CPU compiling its own
	// code, which would flatter the worker's share: a third of the corpus
	// goes into throwaway indices first.
	warm, warmDL := "benchwarm"+b.runID, "benchwarmdl"+b.runID
	ww := b.runWorker(ctx, workerOpts{name: name + " (warm-up)", key: "opensearch-warmup", set: b.typical.Subset("typical", max(1, len(b.typical.Objects)/3)),
		esURL: b.c.osURL, installTemplate: true, indexPrefix: warm, deadLetter: warmDL, timeout: 5 * time.Minute})
	b.openSearchCleanup(cl, warm, warmDL)
	if ww.err != nil {
		logf("OpenSearch warm-up run failed: %v", ww.err)
	}
	prefix, dl := "bench"+b.runID, "benchdl"+b.runID
	defer b.openSearchCleanup(cl, prefix, dl)
	ops0, _ := indexingOps(ctx, cl)
	w := b.runWorker(ctx, workerOpts{name: name, key: "opensearch", set: b.typical, esURL: b.c.osURL, installTemplate: true,
		indexPrefix: prefix, deadLetter: dl, timeout: 5 * time.Minute})
	ops1, _ := indexingOps(ctx, cl)
	b.addCPURow(w)
	if w.err != nil {
		b.addMain(w, b.label(b.typical), "")
		b.targets = append(b.targets, "- **FAIL** worker CPU ≤ 20 % of OpenSearch CPU: the run failed: "+w.err.Error())
		return
	}
	docs := -1
	if err := cl.Refresh(ctx, prefix+"-*"); err == nil {
		if m, err := cl.CountByIndex(ctx, prefix+"-*"); err == nil {
			docs = 0
			for _, n := range m {
				docs += n
			}
		}
	}
	if docs != b.typical.Findings {
		b.notes = append(b.notes, fmt.Sprintf("OpenSearch row: %d documents in %s-*, expected %d distinct findings.", docs, prefix, b.typical.Findings))
	}
	if ops0 >= 0 && ops1 >= 0 {
		// Every line is one index operation (a stale copy is a failed one);
		// more than that means other tests wrote to the node meanwhile.
		if extra := ops1 - ops0 - int64(b.typical.Lines); extra > int64(b.typical.Lines)/20+100 {
			b.notes = append(b.notes, fmt.Sprintf("OpenSearch row: the node ran %d index operations besides this run's %d (other tests were writing to it), so its CPU figure includes their work.", extra, b.typical.Lines))
		}
	}
	cpuRatio := w.cpuPerGB() / b.decodeCPUPerGB("typical")
	if !w.osKnown || w.osCPU <= 0 {
		b.addMain(w, b.label(b.typical), fmt.Sprintf("CPU/GB %s decode floor; OpenSearch CPU unknown (no pid in .cache/run/opensearch.pid)", report.Ratio(cpuRatio)))
		b.targets = append(b.targets, "- **SKIP** worker CPU ≤ 20 % of OpenSearch CPU: OpenSearch's pid is unknown")
		return
	}
	share := w.res.CPU.Seconds() / w.osCPU.Seconds()
	b.addMain(w, b.label(b.typical), fmt.Sprintf("worker CPU %s of OpenSearch's (%ss vs %ss); CPU/GB %s decode floor",
		report.Pct(share), report.Num(w.res.CPU.Seconds()), report.Num(w.osCPU.Seconds()), report.Ratio(cpuRatio)))
	b.target(share <= 0.2, "worker CPU ≤ 20 % of OpenSearch CPU (typical exports into the local node)",
		fmt.Sprintf("%s (worker %ss, OpenSearch %ss, %d documents)", report.Pct(share), report.Num(w.res.CPU.Seconds()), report.Num(w.osCPU.Seconds()), docs))
}

// indexingOps is the node's count of index operations so far (successful and
// failed), or -1.
func indexingOps(ctx context.Context, cl *search.Client) (int64, error) {
	var out struct {
		Nodes map[string]struct {
			Indices struct {
				Indexing struct {
					IndexTotal  int64 `json:"index_total"`
					IndexFailed int64 `json:"index_failed"`
				} `json:"indexing"`
			} `json:"indices"`
		} `json:"nodes"`
	}
	if err := cl.Do(ctx, http.MethodGet, "/_nodes/_local/stats/indices/indexing", nil, &out); err != nil {
		return -1, err
	}
	var n int64
	for _, nd := range out.Nodes {
		n += nd.Indices.Indexing.IndexTotal + nd.Indices.Indexing.IndexFailed
	}
	return n, nil
}

func (b *bench) openSearchCleanup(cl *search.Client, prefix, dl string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_ = cl.Do(ctx, http.MethodDelete, "/"+prefix+"-*", nil, nil)
	_ = cl.Do(ctx, http.MethodDelete, "/"+dl+"?ignore_unavailable=true", nil, nil)
	var t struct {
		IndexTemplates []struct {
			Name string `json:"name"`
		} `json:"index_templates"`
	}
	if err := cl.Do(ctx, http.MethodGet, "/_index_template", nil, &t); err == nil {
		for _, it := range t.IndexTemplates {
			if strings.Contains(it.Name, prefix) || strings.Contains(it.Name, dl) {
				_ = cl.Do(ctx, http.MethodDelete, "/_index_template/"+it.Name, nil, nil)
			}
		}
	}
}
