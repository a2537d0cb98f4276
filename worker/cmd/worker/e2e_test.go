//go:build integration

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logtide/logtide/testenv/awslocal"
	"github.com/logtide/logtide/testenv/search"
	"github.com/logtide/logtide/testenv/services"
	"github.com/logtide/logtide/testenv/syncbuf"
	"github.com/logtide/logtide/worker/format/guardduty"
)

// newStack provisions a fresh bucket, queue and dead-letter queue on the
// local services; name is unique and also serves as an index prefix.
func newStack(t *testing.T, ctx context.Context, kind string, o awslocal.Options) (c *awslocal.Clients, st awslocal.Stack, name, esURL string) {
	t.Helper()
	esURL = services.Env(t, "OPENSEARCH_URL")
	services.Env(t, "AWS_ENDPOINT_URL")
	c, err := awslocal.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	name = fmt.Sprintf("%s-%d", kind, time.Now().UnixNano())
	o.Bucket, o.Queue = name, name
	st, err = c.Provision(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Indices and templates named after the run (its index prefix, and
		// a dead-letter index dl-<name> where a test sets one).
		if err := search.New(esURL).Drop(context.Background(), name+"*", "dl-"+name+"*"); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	return c, st, name, esURL
}

// runWorker runs `worker run` in-process until the queue is idle.
func runWorker(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	var stdout, stderr syncbuf.Buffer
	code := run(ctx, append([]string{"run"}, args...), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("worker exited %d\n%s", code, stderr.String())
	}
	return stderr.String()
}

func putObjects(t *testing.T, ctx context.Context, c *awslocal.Clients, bucket string, corpus *guardduty.Corpus, which []int) {
	t.Helper()
	for _, i := range which {
		var buf bytes.Buffer
		if err := corpus.WriteObject(&buf, i); err != nil {
			t.Fatal(err)
		}
		_, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(corpus.Objects()[i].Key), Body: bytes.NewReader(buf.Bytes())})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// allObjects lists every object of a corpus, in order.
func allObjects(c *guardduty.Corpus) []int {
	all := make([]int, len(c.Objects()))
	for i := range all {
		all[i] = i
	}
	return all
}

type doc struct {
	ARN       string `json:"arn"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
	TS        string `json:"@timestamp"`
	Service   struct {
		Count int `json:"count"`
	} `json:"service"`
	Remote *struct {
		Location []guardduty.LatLon `json:"location"`
	} `json:"remote"`
}

// TestEndToEnd: a bucket with a notification → real SQS → worker → real
// OpenSearch, including re-exports, a replay of old objects and a key prefix
// with a space.
func TestEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	c, st, name, esURL := newStack(t, ctx, "e2e", awslocal.Options{VisibilityTimeout: 30 * time.Second})
	prefix := name
	es := search.New(esURL)

	corpus, err := guardduty.NewCorpus(guardduty.CorpusOptions{Seed: 7, Objects: 12, FindingsPerObject: 25, ReexportPercent: 30, OutOfOrder: true, Prefix: "security exports/"})
	if err != nil {
		t.Fatal(err)
	}
	all := allObjects(corpus)
	putObjects(t, ctx, c, st.Bucket, corpus, all)
	// moto delivers notifications synchronously: one per object, plus the
	// s3:TestEvent sent when the notification was configured.
	if vis, _, _, err := c.Depth(ctx, st.QueueURL); err != nil || vis != len(all)+1 {
		t.Fatalf("queue holds %d messages (err %v), want %d", vis, err, len(all)+1)
	}

	args := []string{"--queue-url", st.QueueURL, "--es-url", esURL, "--index-prefix", prefix,
		"--exit-when-idle", "2s", "--metrics-addr", "127.0.0.1:0", "--concurrency", "4", "--bulk-max-docs", "40"}
	logs := runWorker(t, ctx, args...)

	checkIndexed(t, ctx, es, prefix, corpus)
	checkQueueEmpty(t, ctx, c, st.QueueURL)
	checkMapping(t, ctx, es, prefix)
	if !strings.Contains(logs, `"msg":"object done"`) {
		t.Errorf("no object accounting in the logs:\n%.2000s", logs)
	}

	// Replaying every object (oldest copies included) changes nothing: no
	// duplicate, no regression to an older version.
	putObjects(t, ctx, c, st.Bucket, corpus, all)
	runWorker(t, ctx, args...)
	checkIndexed(t, ctx, es, prefix, corpus)
	checkQueueEmpty(t, ctx, c, st.QueueURL)
}

func checkQueueEmpty(t *testing.T, ctx context.Context, c *awslocal.Clients, url string) {
	t.Helper()
	vis, inflight, delayed, err := c.Depth(ctx, url)
	if err != nil || vis+inflight+delayed != 0 {
		t.Errorf("queue not empty: visible %d, in flight %d, delayed %d (err %v)", vis, inflight, delayed, err)
	}
}

func checkIndexed(t *testing.T, ctx context.Context, es *search.Client, prefix string, corpus *guardduty.Corpus) {
	t.Helper()
	want := corpus.Findings()
	byARN := map[string]guardduty.Finding{}
	reexported := 0
	for _, f := range want {
		byARN[f.ARN] = f
		if f.Exports > 1 {
			reexported++
		}
	}
	if reexported == 0 {
		t.Fatal("corpus has no re-exported finding; the test would prove nothing about updates")
	}
	checkCount(t, ctx, es, prefix, corpus)
	hits, err := es.All(ctx, prefix+"-*")
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != len(want) || corpus.Records() <= len(want) {
		t.Fatalf("%d documents for %d distinct findings in %d lines", len(hits), len(want), corpus.Records())
	}
	geoChecked := 0
	for _, h := range hits {
		f, ok := byARN[h.ID]
		if !ok {
			t.Errorf("unexpected _id %s", h.ID)
			continue
		}
		var d doc
		if err := json.Unmarshal(h.Source, &d); err != nil {
			t.Fatal(err)
		}
		if d.ARN != h.ID || h.Index != prefix+"-"+f.CreatedAt.UTC().Format("2006-01-02") {
			t.Errorf("%s in %s: arn %s", h.ID, h.Index, d.ARN)
		}
		if ts := f.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000Z"); d.TS != ts {
			t.Errorf("%s: @timestamp %s, want %s (newest updatedAt)", h.ID, d.TS, ts)
		}
		if d.Service.Count != f.Count || h.Version != f.UpdatedAt.UnixMilli() {
			t.Errorf("%s: count %d version %d, want count %d version %d (newest)", h.ID, d.Service.Count, h.Version, f.Count, f.UpdatedAt.UnixMilli())
		}
		var wantGeo []guardduty.LatLon
		for _, g := range f.Geo {
			if g.Lat != 0 || g.Lon != 0 {
				wantGeo = append(wantGeo, g)
			}
		}
		var got []guardduty.LatLon
		if d.Remote != nil {
			got = d.Remote.Location
		}
		if !sameGeo(got, wantGeo) {
			t.Errorf("%s (%s): remote.location %v, want %v", h.ID, f.ActionType, got, wantGeo)
		}
		geoChecked += len(got)
	}
	if geoChecked == 0 {
		t.Error("no geo point checked")
	}
	// The geo field is a real geo_point: a bounding box over the whole world
	// finds every finding that has a location.
	var res struct {
		Hits struct {
			Total struct{ Value int } `json:"total"`
		} `json:"hits"`
	}
	q := map[string]any{"size": 0, "track_total_hits": true, "query": map[string]any{"geo_bounding_box": map[string]any{
		"remote.location": map[string]any{"top_left": map[string]float64{"lat": 90, "lon": -180}, "bottom_right": map[string]float64{"lat": -90, "lon": 180}}}}}
	if err := es.Do(ctx, "POST", "/"+prefix+"-*/_search", q, &res); err != nil {
		t.Fatal(err)
	}
	if res.Hits.Total.Value == 0 {
		t.Error("geo_bounding_box query on remote.location found nothing")
	}
}

func sameGeo(a, b []guardduty.LatLon) bool {
	seen := func(l []guardduty.LatLon) map[[2]float64]bool {
		m := map[[2]float64]bool{}
		for _, p := range l {
			m[[2]float64{math.Round(p.Lat * 1e4), math.Round(p.Lon * 1e4)}] = true
		}
		return m
	}
	return fmt.Sprint(seen(a)) == fmt.Sprint(seen(b))
}

// checkMapping proves the index template applied to the indices the worker
// created.
func checkMapping(t *testing.T, ctx context.Context, es *search.Client, prefix string) {
	t.Helper()
	engine, err := es.Engine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ff struct{ Type string }
	if err := json.Unmarshal([]byte(engine.FreeForm()), &ff); err != nil {
		t.Fatal(err)
	}
	freeForm := ff.Type
	var res map[string]struct {
		Mappings map[string]json.RawMessage `json:"mappings"`
	}
	if err := es.Do(ctx, "GET", "/"+prefix+"-*/_mapping", nil, &res); err != nil {
		t.Fatal(err)
	}
	if len(res) == 0 {
		t.Fatal("no index")
	}
	for index, m := range res {
		var props struct {
			Properties struct {
				Type     struct{ Type string } `json:"type"`
				ARN      struct{ Type string } `json:"arn"`
				Updated  struct{ Type string } `json:"updatedAt"`
				TS       struct{ Type string } `json:"@timestamp"`
				Severity struct{ Type string } `json:"severity"`
				Remote   struct {
					Properties struct {
						Location struct{ Type string } `json:"location"`
						IP       struct{ Type string } `json:"ip"`
					} `json:"properties"`
				} `json:"remote"`
				Service struct {
					Properties struct {
						AdditionalInfo struct {
							Type string `json:"type"`
						} `json:"additionalInfo"`
					} `json:"properties"`
				} `json:"service"`
			} `json:"properties"`
		}
		raw, _ := json.Marshal(m.Mappings)
		if err := json.Unmarshal(raw, &props); err != nil {
			t.Fatal(err)
		}
		p := props.Properties
		got := []string{p.Type.Type, p.ARN.Type, p.Updated.Type, p.TS.Type, p.Severity.Type, p.Remote.Properties.Location.Type, p.Remote.Properties.IP.Type}
		want := []string{"keyword", "keyword", "date", "date", "float", "geo_point", "ip"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: mapping types %v, want %v", index, got, want)
		}
		// One free-form field whose types drift freely: flat_object on
		// OpenSearch 2.7+, flattened on Elasticsearch with X-Pack, an object
		// kept in _source only elsewhere.
		if ai := p.Service.Properties.AdditionalInfo.Type; ai != freeForm {
			t.Errorf("%s: service.additionalInfo mapped as %q, want %s: its types drift and would explode the mapping", index, ai, freeForm)
		}
	}
}
