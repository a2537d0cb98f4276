//go:build integration

package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logtide/logtide/testenv/awslocal"
	"github.com/logtide/logtide/testenv/faultproxy"
	"github.com/logtide/logtide/testenv/search"
	"github.com/logtide/logtide/worker/format/guardduty"
)

// TestRefusalDoesNotBurnTheQueue: the cluster answers 403 to every bulk
// request (a rotated password, a role mapping being edited) for much longer
// than the queue's visibility timeout × maxReceiveCount. Nothing goes to the
// dead-letter queue: the worker keeps its messages, extending their
// visibility, and writes everything once the cluster takes it again.
func TestRefusalDoesNotBurnTheQueue(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const visibility, maxReceives, refusal = 2 * time.Second, 2, 15 * time.Second // refusal ≫ 2 s × 2
	c, st, name, esURL := newStack(t, ctx, "refusal", awslocal.Options{VisibilityTimeout: visibility, MaxReceiveCount: maxReceives})
	proxy, err := faultproxy.Start(esURL)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()

	corpus, err := guardduty.NewCorpus(guardduty.CorpusOptions{Seed: 41, Objects: 8, FindingsPerObject: 20, ReexportPercent: 30})
	if err != nil {
		t.Fatal(err)
	}
	putObjects(t, ctx, c, st.Bucket, corpus, allObjects(corpus))

	proxy.Refuse(403)
	go func() {
		time.Sleep(refusal)
		proxy.Refuse(0)
	}()
	logs := runWorker(t, ctx, "--queue-url", st.QueueURL, "--es-url", proxy.URL, "--index-prefix", name,
		"--exit-when-idle", "2s", "--wait-time", "1s", "--metrics-addr", "")
	if proxy.Refused() < 5 {
		t.Fatalf("only %d bulk requests refused: the refusal was not exercised", proxy.Refused())
	}
	checkIndexed(t, ctx, search.New(esURL), name, corpus)
	checkQueueEmpty(t, ctx, c, st.QueueURL)
	checkQueueEmpty(t, ctx, c, st.DLQURL)
	if !strings.Contains(logs, "status 403") {
		t.Errorf("the logs do not say why nothing was written:\n%.3000s", logs)
	}
	for _, l := range logLines(t, logs) {
		if l["msg"] == "message returned to the queue" || strings.HasPrefix(l["msg"].(string), "message not deleted") {
			t.Errorf("a message was given up while the cluster refused: %v", l)
		}
	}
}

// TestRequestsFitTheCluster: with the cluster's http.max_content_length
// below the worker's bulk size, requests are split until they fit, the size
// that fits is kept, and a finding that alone is larger than the limit is
// dead-lettered with the reason; every other finding is indexed and every
// message deleted.
func TestRequestsFitTheCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, st, name, esURL := newStack(t, ctx, "fit", awslocal.Options{VisibilityTimeout: 10 * time.Second})
	proxy, err := faultproxy.Start(esURL)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	const limit = 200 << 10
	proxy.LimitBody(limit)

	corpus, err := guardduty.NewCorpus(guardduty.CorpusOptions{Seed: 43, Objects: 6, FindingsPerObject: 120, ReexportPercent: 20})
	if err != nil {
		t.Fatal(err)
	}
	putObjects(t, ctx, c, st.Bucket, corpus, allObjects(corpus))
	// One finding larger than the limit on its own.
	huge := `{"arn":"arn:aws:guardduty:us-east-1:123456789012:detector/d/finding/huge","createdAt":"2026-01-05T00:00:00Z",` +
		`"updatedAt":"2026-01-05T00:00:00Z","description":"` + strings.Repeat("x", 300<<10) + `"}` + "\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(huge))
	_ = zw.Close()
	hugeKey := "AWSLogs/123456789012/GuardDuty/us-east-1/2026/01/05/huge.jsonl.gz"
	if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(st.Bucket), Key: aws.String(hugeKey), Body: bytes.NewReader(gz.Bytes())}); err != nil {
		t.Fatal(err)
	}

	dl := "dl-" + name
	runWorker(t, ctx, "--queue-url", st.QueueURL, "--es-url", proxy.URL, "--index-prefix", name, "--dead-letter-index", dl,
		"--exit-when-idle", "2s", "--metrics-addr", "", "--bulk-max-bytes", "5242880")
	if proxy.TooLarge() == 0 {
		t.Fatal("no request was refused as too large: the limit was not exercised")
	}
	es := search.New(esURL)
	checkIndexed(t, ctx, es, name, corpus)
	checkQueueEmpty(t, ctx, c, st.QueueURL)
	checkQueueEmpty(t, ctx, c, st.DLQURL)
	if err := es.Refresh(ctx, dl); err != nil {
		t.Fatal(err)
	}
	hits, err := es.All(ctx, dl)
	if err != nil || len(hits) != 1 {
		t.Fatalf("%d dead-letter documents (err %v), want the huge finding's", len(hits), err)
	}
	var d struct {
		Key, Reason, Stage string
		Status             int
		Line               int
		TargetID           string `json:"target_id"`
	}
	if err := json.Unmarshal(hits[0].Source, &d); err != nil {
		t.Fatal(err)
	}
	if d.Key != hugeKey || d.Line != 1 || d.Stage != "index" || d.Status != 413 || !strings.Contains(d.Reason, "larger than the cluster accepts") ||
		d.TargetID != "arn:aws:guardduty:us-east-1:123456789012:detector/d/finding/huge" {
		t.Errorf("dead-letter document %+v", d)
	}
	t.Logf("%d requests refused as too large", proxy.TooLarge())
}
