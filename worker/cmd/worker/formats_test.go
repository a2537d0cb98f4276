//go:build integration

package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logtide/logtide/testenv/awslocal"
	"github.com/logtide/logtide/testenv/search"
	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
	"github.com/logtide/logtide/worker/formats"
)

// TestEveryFormatEndToEnd puts sample objects of every format in one
// bucket, under each service's own key layout, and runs one worker over
// them: each format's documents land in its own indices, exactly the ones
// its decoder makes of the objects (no record lost, none twice), nothing is
// dead-lettered, and one query on related.ip finds an address in every log
// type. Replaying every object changes nothing.
func TestEveryFormatEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c, st, name, esURL := newStack(t, ctx, "formats", awslocal.Options{VisibilityTimeout: 30 * time.Second})
	es := search.New(esURL)

	type upload struct {
		key, contentType string
		body             []byte
	}
	var uploads []upload
	want := map[string]map[string]bool{} // format → _ids
	var prefixes []string
	for _, spec := range formats.All {
		f, err := spec.New(format.Options{})
		if err != nil {
			t.Fatal(err)
		}
		corpus, err := spec.Generate(format.GenerateOptions{Seed: 17, Objects: 3, RecordsPerObject: 40, Regions: []string{"us-east-1", "eu-west-1"}})
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for i, o := range corpus.Objects() {
			var b bytes.Buffer
			if err := corpus.WriteObject(&b, i); err != nil {
				t.Fatal(err)
			}
			res := formattest.Read(t, f, format.Object{Bucket: st.Bucket, Key: o.Key}, b.Bytes())
			if len(res.Dead) > 0 {
				t.Fatalf("%s: its own sample %s has records the worker would dead-letter: %+v", spec.Name, o.Key, res.Dead)
			}
			for _, d := range res.Docs {
				ids[d.ID] = true
			}
			uploads = append(uploads, upload{o.Key, o.ContentType, b.Bytes()})
		}
		want[spec.Name] = ids
		prefixes = append(prefixes, spec.Name+"="+name+"-"+spec.Name)
	}
	// Records with what the cluster would refuse in a free-form block (a
	// block that is not an object, a leaf longer than a term) or in a typed
	// field (a remote address that is not one): indexed all the same.
	long := strings.Repeat("L", format.TermLimit+10)
	awkward := []struct{ format, key, body string }{
		{"cloudtrail", "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/04/111122223333_CloudTrail_us-east-1_20260304T1200Z_Awkward0000000000.json",
			`{"Records":[{"eventVersion":"1.10","eventTime":"2026-03-04T12:00:00Z","eventID":"awkward-1","eventName":"GetObject","requestParameters":"bucket=b","responseElements":null},` +
				`{"eventVersion":"1.10","eventTime":"2026-03-04T12:00:01Z","eventID":"awkward-2","eventName":"PutObject","requestParameters":{"key":"` + long + `"},"additionalEventData":[1,2]}]}`},
		{"guardduty", "AWSLogs/111122223333/GuardDuty/us-east-1/2026/03/04/awkward.jsonl",
			`{"arn":"arn:aws:guardduty:us-east-1:111122223333:detector/d/finding/awkward-1","type":"UnauthorizedAccess:IAMUser/TorIPCaller","createdAt":"2026-03-04T12:00:00Z","updatedAt":"2026-03-04T12:00:00Z","resource":{"accessKeyDetails":{"userName":"alice"}},"service":{"additionalInfo":"text","action":{"awsApiCallAction":{"remoteIpDetails":{"ipAddressV4":"999.0.0.1"}}}}}` + "\n" +
				`{"arn":"arn:aws:guardduty:us-east-1:111122223333:detector/d/finding/awkward-2","type":"Recon:EC2/PortProbeUnprotectedPort","createdAt":"2026-03-04T12:00:00Z","updatedAt":"2026-03-04T12:00:00Z","service":{"additionalInfo":{"value":"` + long + `"}}}` + "\n"},
	}
	for _, a := range awkward {
		spec, _ := formats.Find(a.format)
		f, err := spec.New(format.Options{})
		if err != nil {
			t.Fatal(err)
		}
		res := formattest.Read(t, f, format.Object{Bucket: st.Bucket, Key: a.key}, []byte(a.body))
		if len(res.Dead) > 0 || len(res.Docs) != 2 {
			t.Fatalf("%s: %d documents, dead letters %+v", a.key, len(res.Docs), res.Dead)
		}
		for _, d := range res.Docs {
			want[a.format][d.ID] = true
		}
		uploads = append(uploads, upload{key: a.key, body: []byte(a.body)})
	}
	put := func() {
		for _, u := range uploads {
			in := &s3.PutObjectInput{Bucket: aws.String(st.Bucket), Key: aws.String(u.key), Body: bytes.NewReader(u.body)}
			if u.contentType != "" {
				in.ContentType = aws.String(u.contentType)
			}
			if _, err := c.S3.PutObject(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
	}
	dl := "dl-" + name
	args := []string{"--queue-url", st.QueueURL, "--es-url", esURL, "--index-prefix", strings.Join(prefixes, ","),
		"--dead-letter-index", dl, "--exit-when-idle", "2s", "--metrics-addr", "", "--concurrency", "4"}
	check := func(round string) {
		t.Helper()
		checkQueueEmpty(t, ctx, c, st.QueueURL)
		checkQueueEmpty(t, ctx, c, st.DLQURL)
		for _, spec := range formats.All {
			pattern := name + "-" + spec.Name + "-*"
			if err := es.Refresh(ctx, pattern); err != nil {
				t.Fatal(err)
			}
			hits, err := es.All(ctx, pattern)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, h := range hits {
				got[h.ID]++
			}
			missing, extra := 0, 0
			for id := range want[spec.Name] {
				if got[id] != 1 {
					missing++
				}
			}
			for id, n := range got {
				if !want[spec.Name][id] || n > 1 {
					extra++
				}
			}
			if missing+extra > 0 || len(hits) != len(want[spec.Name]) {
				t.Errorf("%s (%s): %d documents for %d records; %d missing or doubled, %d unexpected", round, spec.Name, len(hits), len(want[spec.Name]), missing, extra)
			}
		}
		if err := es.Refresh(ctx, dl); err == nil {
			if hits, err := es.All(ctx, dl); err == nil && len(hits) > 0 {
				t.Errorf("%s: %d records dead-lettered from the formats' own samples", round, len(hits))
			}
		}
	}

	put()
	logs := runWorker(t, ctx, args...)
	check("first delivery")
	if strings.Contains(logs, `"balanced":false`) {
		t.Error("an object did not balance")
	}

	// One query for an address finds it in every log type.
	for _, spec := range formats.All {
		hits, err := es.All(ctx, name+"-"+spec.Name+"-*")
		if err != nil || len(hits) == 0 {
			t.Fatalf("%s: %d documents (%v)", spec.Name, len(hits), err)
		}
		var ip string
		for _, h := range hits {
			if i := bytes.Index(h.Source, []byte(`"related":{"ip":["`)); i >= 0 {
				rest := h.Source[i+len(`"related":{"ip":["`):]
				ip = string(rest[:bytes.IndexByte(rest, '"')])
				break
			}
		}
		if ip == "" {
			t.Errorf("%s: no document has related.ip", spec.Name)
			continue
		}
		var res struct {
			Aggregations struct {
				Indices struct {
					Buckets []struct{ Key string } `json:"buckets"`
				} `json:"indices"`
			} `json:"aggregations"`
		}
		q := map[string]any{"size": 0, "query": map[string]any{"term": map[string]any{"related.ip": ip}},
			"aggs": map[string]any{"indices": map[string]any{"terms": map[string]any{"field": "_index", "size": 100}}}}
		if err := es.Do(ctx, "POST", "/"+name+"-*/_search", q, &res); err != nil {
			t.Fatal(err)
		}
		found := slices.ContainsFunc(res.Aggregations.Indices.Buckets, func(b struct{ Key string }) bool {
			return strings.HasPrefix(b.Key, name+"-"+spec.Name+"-")
		})
		if !found {
			t.Errorf("%s: related.ip:%s finds nothing in its indices (found %v)", spec.Name, ip, res.Aggregations.Indices.Buckets)
		}
	}

	// A replay of every object changes nothing.
	put()
	runWorker(t, ctx, args...)
	check("replay")
	t.Logf("%d formats, %d objects", len(formats.All), len(uploads))
}
