//go:build integration

package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logtide/logtide/testenv/awslocal"
	"github.com/logtide/logtide/testenv/refdata"
	"github.com/logtide/logtide/testenv/search"
	"github.com/logtide/logtide/worker/format/guardduty"
)

// TestRealSampleExports indexes the reference GuardDuty export objects (real
// sample findings, a synthetic re-export and an empty object) through the
// whole path.
func TestRealSampleExports(t *testing.T) {
	root := filepath.Join(refdata.Dir(t, "derived/guardduty"), "derived", "guardduty")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, st, name, esURL := newStack(t, ctx, "samples", awslocal.Options{})

	// Upload in an order where the re-export (0a9b…) comes first: the older
	// copy arriving later must not win.
	var keys []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			keys = append(keys, p)
		}
		return err
	})
	if err != nil || len(keys) != 3 {
		t.Fatalf("want 3 sample objects, found %v (err %v)", keys, err)
	}
	newest := map[string]struct {
		updated string
		count   float64
	}{}
	lines := 0
	for _, p := range keys {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		key, _ := filepath.Rel(root, p)
		key = "exports with space/" + filepath.ToSlash(key)
		if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(st.Bucket), Key: aws.String(key), Body: bytes.NewReader(b)}); err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 {
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			lines++
			var f struct {
				ARN       string `json:"arn"`
				UpdatedAt string `json:"updatedAt"`
				Service   struct {
					Count float64 `json:"count"`
				} `json:"service"`
			}
			if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
				t.Fatal(err)
			}
			if cur, ok := newest[f.ARN]; !ok || f.UpdatedAt > cur.updated {
				newest[f.ARN] = struct {
					updated string
					count   float64
				}{f.UpdatedAt, f.Service.Count}
			}
		}
	}
	if lines != 12 || len(newest) >= lines {
		t.Fatalf("samples changed: %d lines, %d distinct findings", lines, len(newest))
	}

	runWorker(t, ctx, "--queue-url", st.QueueURL, "--es-url", esURL, "--index-prefix", name,
		"--exit-when-idle", "2s", "--metrics-addr", "")
	checkQueueEmpty(t, ctx, c, st.QueueURL)

	es := search.New(esURL)
	if err := es.Refresh(ctx, name+"-*"); err != nil {
		t.Fatal(err)
	}
	hits, err := es.All(ctx, name+"-*")
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != len(newest) {
		t.Fatalf("%d documents, want %d distinct findings", len(hits), len(newest))
	}
	reexport := "arn:aws:guardduty:us-east-1:123456789012:detector/123456789012/finding/30bf285e52a1e405084ff6ec28e06e17"
	seen := false
	for _, h := range hits {
		var d doc
		if err := json.Unmarshal(h.Source, &d); err != nil {
			t.Fatal(err)
		}
		w, ok := newest[h.ID]
		// Times not in RFC 3339 are indexed as the instant they were read as.
		was, err1 := guardduty.ParseTime(json.RawMessage(strconv.Quote(w.updated)))
		is, err2 := guardduty.ParseTime(json.RawMessage(strconv.Quote(d.UpdatedAt)))
		if !ok || err1 != nil || err2 != nil || !was.Equal(is) || float64(d.Service.Count) != w.count {
			t.Errorf("%s: updatedAt %s count %d, want the newest copy %+v", h.ID, d.UpdatedAt, d.Service.Count, w)
		}
		if h.ID == reexport {
			seen = true
			if d.Service.Count != 3 || h.Index != name+"-2022-01-13" {
				t.Errorf("re-exported finding: count %d in %s", d.Service.Count, h.Index)
			}
		}
	}
	if !seen {
		t.Error("re-exported sample finding missing")
	}
}
