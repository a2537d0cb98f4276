// Command demo runs the worker end to end on the local stack: it provisions
// a bucket whose notifications go to a queue (with a dead-letter queue),
// uploads generated objects of every log type with `worker generate`, each
// under its service's own key layout, runs `worker run` until the queue is
// idle, then prints what landed per log type and where to look.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/logtide/logtide/testenv/awslocal"
	"github.com/logtide/logtide/testenv/search"
	"github.com/logtide/logtide/worker/formats"
)

func main() {
	worker := flag.String("worker", "bin/worker", "worker binary")
	bucket := flag.String("bucket", "logtide-demo", "bucket to create")
	queueName := flag.String("queue", "logtide-demo", "queue to create")
	objects := flag.Int("objects", 12, "objects to generate of each log type")
	perObject := flag.Int("records-per-object", 100, "records per object")
	metricsAddr := flag.String("metrics-addr", "127.0.0.1:9108", "worker metrics address")
	flag.Parse()
	if err := run(*worker, *bucket, *queueName, *objects, *perObject, *metricsAddr); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(worker, bucket, queueName string, objects, perObject int, metricsAddr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	esURL := os.Getenv("OPENSEARCH_URL")
	if esURL == "" {
		return fmt.Errorf("OPENSEARCH_URL is not set (source testenv/env.sh)")
	}
	c, err := awslocal.Connect(ctx)
	if err != nil {
		return err
	}
	st, err := c.Provision(ctx, awslocal.Options{Bucket: bucket, Queue: queueName})
	if err != nil {
		return err
	}
	fmt.Printf("== bucket s3://%s notifies %s\n   (redrive to %s after 5 receives)\n", st.Bucket, st.QueueURL, st.DLQURL)

	fmt.Println("== uploading generated objects of every log type")
	gen := exec.CommandContext(ctx, worker, "generate", "--format", "all", "--bucket", st.Bucket, "--seed", "42",
		"--objects", fmt.Sprint(objects), "--records-per-object", fmt.Sprint(perObject),
		"--regions", "us-east-1,eu-west-1", "--accounts", "123456789012,210987654321")
	gen.Stdout, gen.Stderr = os.Stdout, os.Stderr
	if err := gen.Run(); err != nil {
		return fmt.Errorf("worker generate: %w", err)
	}
	vis, _, _, err := c.Depth(ctx, st.QueueURL)
	if err != nil {
		return err
	}
	fmt.Printf("   %d notifications waiting in the queue\n", vis)

	fmt.Println("== running the worker until the queue is idle (logs: .cache/logs/demo-worker.log)")
	if err := os.MkdirAll(".cache/logs", 0o755); err != nil {
		return err
	}
	logf, err := os.Create(".cache/logs/demo-worker.log")
	if err != nil {
		return err
	}
	defer logf.Close()
	start := time.Now()
	w := exec.CommandContext(ctx, worker, "run", "--queue-url", st.QueueURL, "--es-url", esURL,
		"--exit-when-idle", "3s", "--metrics-addr", metricsAddr)
	w.Stdout, w.Stderr = logf, logf
	if err := w.Start(); err != nil {
		return err
	}
	var last string
	var mu sync.Mutex
	scrapeDone := make(chan struct{})
	go func() { // keep the last metrics page the worker served
		defer close(scrapeDone)
		for {
			if body, err := get("http://" + metricsAddr + "/metrics"); err == nil {
				mu.Lock()
				last = body
				mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(300 * time.Millisecond):
			}
			if w.ProcessState != nil {
				return
			}
		}
	}()
	if err := w.Wait(); err != nil {
		return fmt.Errorf("worker run: %w (see .cache/logs/demo-worker.log)", err)
	}
	elapsed := time.Since(start)

	es := search.New(esURL)
	fmt.Printf("== indexed (the worker ran %s)\n", elapsed.Round(100*time.Millisecond))
	for _, spec := range formats.All {
		pattern := spec.Name + "-*"
		if err := es.Refresh(ctx, pattern); err != nil {
			return err
		}
		counts, err := es.CountByIndex(ctx, pattern)
		if err != nil {
			return err
		}
		total := 0
		for _, v := range counts {
			total += v
		}
		fmt.Printf("   %-12s %7d documents in %d daily indices (%s)\n", spec.Name, total, len(counts), pattern)
	}

	mu.Lock()
	page := last
	mu.Unlock()
	fmt.Println("== worker metrics (last scrape)")
	printMetrics(page)

	query := `{"size":0,"query":{"range":{"severity":{"gte":7}}},"aggs":{"types":{"terms":{"field":"type","size":5}}}}`
	var res struct {
		Hits struct {
			Total struct{ Value int } `json:"total"`
		} `json:"hits"`
		Aggregations struct {
			Types struct {
				Buckets []struct {
					Key   string `json:"key"`
					Count int    `json:"doc_count"`
				} `json:"buckets"`
			} `json:"types"`
		} `json:"aggregations"`
	}
	if err := es.Do(ctx, "POST", "/guardduty-*/_search", rawJSON(query), &res); err != nil {
		return err
	}
	fmt.Println("== sample query: high-severity findings by type")
	fmt.Printf("   curl -s -H 'Content-Type: application/json' '%s/guardduty-*/_search?pretty' -d '%s'\n", esURL, query)
	fmt.Printf("   %d findings with severity >= 7; top types:\n", res.Hits.Total.Value)
	for _, b := range res.Aggregations.Types.Buckets {
		fmt.Printf("   %5d  %s\n", b.Count, b.Key)
	}
	fmt.Println("== one query for an address (or a network) across every log type: related.ip")
	fmt.Printf("   curl -s -H 'Content-Type: application/json' '%s/*/_search?pretty' -d '{\"size\":0,\"query\":{\"term\":{\"related.ip\":\"10.0.0.0/8\"}},\"aggs\":{\"by\":{\"terms\":{\"field\":\"event.dataset\"}}}}'\n", esURL)
	fmt.Println("== where to look")
	fmt.Printf("   OpenSearch:      %s/_cat/indices?v&s=index\n", esURL)
	fmt.Printf("   one finding:     %s/guardduty-*/_search?size=1&pretty\n", esURL)
	fmt.Printf("   one event:       %s/cloudtrail-*/_search?size=1&pretty (likewise vpcflow-*, elb-*, waf-*, s3access-*, resolver-*)\n", esURL)
	fmt.Printf("   worker metrics:  http://%s/metrics (while a worker runs: make demo runs one until idle)\n", metricsAddr)
	fmt.Println("   worker logs:     .cache/logs/demo-worker.log")
	fmt.Println("   stop services:   make services-down")
	<-scrapeDone
	return nil
}

type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

func get(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func printMetrics(page string) {
	if page == "" {
		fmt.Println("   (no scrape succeeded)")
		return
	}
	sc := bufio.NewScanner(strings.NewReader(page))
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "logtide_") && !strings.Contains(l, "_bucket{") && !strings.HasPrefix(l, "logtide_build_info") {
			fmt.Println("  ", l)
		}
	}
}
