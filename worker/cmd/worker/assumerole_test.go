//go:build integration

package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/logtide/logtide/testenv/awslocal"
	"github.com/logtide/logtide/testenv/faultproxy"
	"github.com/logtide/logtide/testenv/search"
	"github.com/logtide/logtide/testenv/services"
	"github.com/logtide/logtide/worker/format/guardduty"
)

var credentialScope = regexp.MustCompile(`Credential=([^/]+)/\d+/[^/]+/([^/]+)/aws4_request`)

// TestAssumeRole: with --assume-role-arn the objects are read with the
// role's credentials from STS (the external id sent), while the queue is
// still used with the worker's own.
func TestAssumeRole(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, st, name, esURL := newStack(t, ctx, "assume", awslocal.Options{})
	corpus, err := guardduty.NewCorpus(guardduty.CorpusOptions{Seed: 9, Objects: 3, FindingsPerObject: 4, ReexportPercent: 30})
	if err != nil {
		t.Fatal(err)
	}
	putObjects(t, ctx, c, st.Bucket, corpus, allObjects(corpus))

	// Every request to the emulator goes through a proxy that notes which
	// access key signed it, for which service.
	p, err := faultproxy.Start(services.Env(t, "MOTO_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var mu sync.Mutex
	keys := map[string]map[string]bool{} // service → access key ids
	var assume string
	p.Answer(&faultproxy.Rule{Match: func(r *http.Request) bool {
		m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization"))
		if m == nil {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		if keys[m[2]] == nil {
			keys[m[2]] = map[string]bool{}
		}
		keys[m[2]][m[1]] = true
		if m[2] == "sts" {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(b))
			assume = string(b)
		}
		return false
	}})
	t.Setenv("AWS_ENDPOINT_URL", p.URL)

	role := "arn:aws:iam::111122223333:role/log-archive-reader"
	runWorker(t, ctx, "--queue-url", st.QueueURL, "--es-url", esURL, "--index-prefix", name, "--dead-letter-index", "dl-"+name,
		"--exit-when-idle", "2s", "--metrics-addr", "", "--wait-time", "1s", "--assume-role-arn", role, "--external-id", "logtide-7")
	checkIndexed(t, ctx, search.New(esURL), name, corpus)

	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"Action=AssumeRole", "RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Flog-archive-reader", "ExternalId=logtide-7", "RoleSessionName=logtide-worker"} {
		if !bytes.Contains([]byte(assume), []byte(want)) {
			t.Errorf("AssumeRole request %q lacks %s", assume, want)
		}
	}
	if len(keys["s3"]) != 1 || keys["s3"]["test"] || !keys["sqs"]["test"] || len(keys["sqs"]) != 1 || !keys["sts"]["test"] {
		t.Errorf("access keys by service: %v; want S3 with the role's key only, SQS and STS with the worker's (test)", keys)
	}
}
