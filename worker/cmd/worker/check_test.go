//go:build integration

package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/logtide/logtide/testenv/awslocal"
	"github.com/logtide/logtide/testenv/faultproxy"
	"github.com/logtide/logtide/testenv/search"
	"github.com/logtide/logtide/testenv/services"
	"github.com/logtide/logtide/testenv/syncbuf"
	"github.com/logtide/logtide/worker/format/guardduty"
)

func runCheck(t *testing.T, ctx context.Context, args ...string) (int, string) {
	t.Helper()
	var out, errOut syncbuf.Buffer
	code := run(ctx, append([]string{"check"}, args...), &out, &errOut)
	return code, out.String() + errOut.String()
}

// wantStep asserts that the checklist has the step with the status, and
// that its line and hint hold each of the words.
func wantStep(t *testing.T, out, status, step string, words ...string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(strings.TrimSpace(l), status+"  "+step) {
			continue
		}
		text := l
		if i+1 < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i+1]), "hint:") {
			text += "\n" + lines[i+1]
		}
		for _, w := range words {
			if !strings.Contains(text, w) {
				t.Errorf("%s %s: %q not in\n%s", status, step, w, text)
			}
		}
		return
	}
	t.Errorf("no %s %q in the checklist:\n%s", status, step, out)
}

// TestCheck runs the checklist against a correct set-up (every step passes,
// the probe's notification arrives) and against each broken one the local
// stack can produce: each names its cause.
func TestCheck(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, st, name, esURL := newStack(t, ctx, "check", awslocal.Options{VisibilityTimeout: 30 * time.Second})
	corpus, err := guardduty.NewCorpus(guardduty.CorpusOptions{Seed: 3, Objects: 2, FindingsPerObject: 3, Prefix: "gd/"})
	if err != nil {
		t.Fatal(err)
	}
	putObjects(t, ctx, c, st.Bucket, corpus, allObjects(corpus))
	if _, err := c.SQS.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(st.QueueURL)}); err != nil {
		t.Fatal(err)
	}
	base := []string{"--queue-url", st.QueueURL, "--es-url", esURL, "--index-prefix", name, "--dead-letter-index", "dl-" + name}

	t.Run("correct", func(t *testing.T) {
		code, out := runCheck(t, ctx, append([]string{"s3://" + st.Bucket + "/gd/", "--probe", "--probe-timeout", "20s"}, base...)...)
		if code != 0 || strings.Contains(out, "FAIL") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		wantStep(t, out, "PASS", "queue exists", "0 messages waiting")
		wantStep(t, out, "PASS", "redrive policy", "-dlq after 5 receives")
		wantStep(t, out, "PASS", "receive allowed")
		wantStep(t, out, "PASS", "delete allowed")
		wantStep(t, out, "PASS", "find the newest object", "gd/AWSLogs/")
		wantStep(t, out, "PASS", "read an object", "not encrypted with KMS")
		wantStep(t, out, "PASS", "a format reads it", "read as guardduty")
		wantStep(t, out, "PASS", "reachable and signed in")
		engine, err := search.New(esURL).Engine(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wantStep(t, out, "PASS", "version", fmt.Sprintf("%s %d.%d", engine.Distribution, engine.Major, engine.Minor))
		wantStep(t, out, "PASS", "install templates", "dl-"+name)
		wantStep(t, out, "PASS", "bulk write", "written to dl-"+name+" and removed")
		wantStep(t, out, "PASS", "probe object announced", "arrived on the queue")
		// The probe document and object are gone; the probe's message too.
		es := search.New(esURL)
		if err := es.Refresh(ctx, "dl-"+name); err != nil {
			t.Fatal(err)
		}
		if n, err := es.CountByIndex(ctx, "dl-"+name); err != nil || n["dl-"+name] != 0 {
			t.Errorf("dead-letter index holds %v documents (err %v) after the check", n, err)
		}
		list, err := c.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(st.Bucket), Prefix: aws.String("gd/logtide-check-probe-")})
		if err != nil || len(list.Contents) != 0 {
			t.Errorf("probe objects left: %d (err %v)", len(list.Contents), err)
		}
	})

	t.Run("broken", func(t *testing.T) {
		bad := strings.TrimSuffix(st.QueueURL, name) + "no-such-queue-" + name
		code, out := runCheck(t, ctx, "s3://no-such-bucket-"+name+"/", "--queue-url", bad, "--es-url", "http://127.0.0.1:1", "--dead-letter-index", "dl-"+name)
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		wantStep(t, out, "FAIL", "queue exists", "no such queue", "hint: check --queue-url")
		wantStep(t, out, "FAIL", "bucket exists", "no such bucket")
		wantStep(t, out, "FAIL", "reachable and signed in", "hint: nothing answered at --es-url")
		if !strings.Contains(out, "failed (hints above)") {
			t.Errorf("no closing line:\n%s", out)
		}
	})

	t.Run("no object, no format, no redrive", func(t *testing.T) {
		plain, err := c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-plain"), Attributes: map[string]string{"VisibilityTimeout": "5"}})
		if err != nil {
			t.Fatal(err)
		}
		_, out := runCheck(t, ctx, "s3://"+st.Bucket+"/nothing-here/", "--queue-url", aws.ToString(plain.QueueUrl), "--es-url", esURL, "--dead-letter-index", "dl-"+name)
		wantStep(t, out, "FAIL", "redrive policy", "comes back forever", "hint: set a redrive policy")
		wantStep(t, out, "FAIL", "visibility timeout", "5s", "hint: set the queue's VisibilityTimeout")
		wantStep(t, out, "FAIL", "find the newest object", "no object under s3://"+st.Bucket+"/nothing-here/", "hint: check the prefix")

		if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(st.Bucket), Key: aws.String("misc/notes.txt"), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
		_, out = runCheck(t, ctx, append([]string{"s3://" + st.Bucket + "/misc/"}, base...)...)
		wantStep(t, out, "FAIL", "a format reads it", "no format reads this key", "hint: add --route")
	})

	t.Run("auth refused", func(t *testing.T) {
		p, err := faultproxy.Start(esURL)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		p.Answer(&faultproxy.Rule{Match: func(*http.Request) bool { return true }, Status: http.StatusUnauthorized, ContentType: "text/plain", Body: "Unauthorized"})
		t.Setenv("LOGTIDE_ES_PASSWORD", "wrong")
		code, out := runCheck(t, ctx, "--queue-url", st.QueueURL, "--es-url", p.URL, "--es-username", "logtide", "--dead-letter-index", "dl-"+name)
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		wantStep(t, out, "FAIL", "reachable and signed in", "401", "hint: authentication refused: check --es-username")
		wantStep(t, out, "SKIP", "bucket", "no s3://BUCKET")

		// Signed in, but refused the template and the write.
		p.Answer(&faultproxy.Rule{Match: func(r *http.Request) bool { return r.Method != http.MethodGet }, Status: http.StatusForbidden, ContentType: "application/json",
			Body: `{"error":{"type":"security_exception","reason":"no permissions for [indices:admin/index_template/put] and User [name=logtide]"},"status":403}`})
		_, out = runCheck(t, ctx, "--queue-url", st.QueueURL, "--es-url", p.URL, "--es-username", "logtide", "--dead-letter-index", "dl-"+name)
		wantStep(t, out, "PASS", "reachable and signed in")
		wantStep(t, out, "FAIL", "install templates", "403", "hint: give the worker's role the cluster permission indices:admin/index_template/put")
		wantStep(t, out, "FAIL", "bulk write", "403", "hint: give the worker's role indices:data/write/bulk*")
	})

	t.Run("object permission and kms", func(t *testing.T) {
		key := "kms/AWSLogs/123456789012/GuardDuty/us-east-1/2026/01/02/encrypted.jsonl.gz"
		var buf bytes.Buffer
		if err := corpus.WriteObject(&buf, 0); err != nil {
			t.Fatal(err)
		}
		kmsKey := "arn:aws:kms:us-east-1:123456789012:key/0b3c2f4e-1111-2222-3333-444455556666"
		if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(st.Bucket), Key: aws.String(key), Body: bytes.NewReader(buf.Bytes()),
			ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(kmsKey)}); err != nil {
			t.Fatal(err)
		}
		p, err := faultproxy.Start(services.Env(t, "MOTO_URL"))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		t.Setenv("AWS_ENDPOINT_URL", p.URL)
		getObject := func(r *http.Request) bool {
			return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/GuardDuty/")
		}
		p.Answer(&faultproxy.Rule{Match: getObject, Status: http.StatusForbidden, ContentType: "application/xml",
			Body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>User: arn:aws:sts::111122223333:assumed-role/logtide-task/x is not authorized to perform: kms:Decrypt on the resource associated with this ciphertext because no identity-based policy allows the kms:Decrypt action</Message></Error>`})
		_, out := runCheck(t, ctx, append([]string{"s3://" + st.Bucket + "/kms/"}, base...)...)
		wantStep(t, out, "FAIL", "read an object", "kms:Decrypt", "hint: grant kms:Decrypt on the key "+kmsKey)

		// Without KMS, a refused GetObject names s3:GetObject.
		p.Answer(&faultproxy.Rule{Match: getObject, Status: http.StatusForbidden, ContentType: "application/xml",
			Body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`})
		_, out = runCheck(t, ctx, append([]string{"s3://" + st.Bucket + "/gd/"}, base...)...)
		wantStep(t, out, "FAIL", "read an object", "AccessDenied", "hint: grant s3:GetObject on arn:aws:s3:::"+st.Bucket+"/gd/*")

		// Without s3:ListBucket (the worker needs none), the key given is read.
		p.Answer(&faultproxy.Rule{Match: func(r *http.Request) bool { return r.URL.Query().Get("list-type") == "2" }, Status: http.StatusForbidden, ContentType: "application/xml",
			Body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`})
		code, out := runCheck(t, ctx, append([]string{"s3://" + st.Bucket + "/" + corpus.Objects()[1].Key}, base...)...)
		wantStep(t, out, "SKIP", "find the newest object", "listing refused")
		wantStep(t, out, "PASS", "read an object")
		if code != 0 {
			t.Errorf("exit %d without s3:ListBucket:\n%s", code, out)
		}
	})
}
