package queue

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// TestCountRequests runs real SDK calls against a server speaking SQS's JSON
// protocol and checks that every request is reported once, retries included,
// with its outcome.
func TestCountRequests(t *testing.T) {
	body := "an S3 notification"
	sum := md5.Sum([]byte(body))
	var mu sync.Mutex
	receives := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
		req, _ := io.ReadAll(r.Body)
		if strings.Contains(string(req), "/missing") {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"no such queue"}`)
			return
		}
		switch op {
		case "ReceiveMessage":
			mu.Lock()
			receives++
			n := receives
			mu.Unlock()
			switch n {
			case 1: // a server error: the SDK retries
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprint(w, `{"__type":"InternalError","message":"try again"}`)
			case 2:
				fmt.Fprint(w, `{"Messages":[]}`)
			default:
				fmt.Fprintf(w, `{"Messages":[{"MessageId":"m1","ReceiptHandle":"h1","Body":%q,"MD5OfBody":%q}]}`, body, hex.EncodeToString(sum[:]))
			}
		case "DeleteMessageBatch":
			fmt.Fprint(w, `{"Successful":[{"Id":"0"}],"Failed":[]}`)
		default:
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"__type":"InvalidAction","message":"unexpected %s"}`, op)
		}
	}))
	defer srv.Close()

	counts := map[string]int{}
	client := sqs.New(sqs.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("k", "s", ""),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		}),
	}, CountRequests(func(op, outcome string) {
		mu.Lock()
		counts[op+" "+outcome]++
		mu.Unlock()
	}))
	ctx := context.Background()
	q := New(client, srv.URL+"/1/q", 0)
	if msgs, err := q.Receive(ctx, 10); err != nil || len(msgs) != 0 {
		t.Fatalf("first receive: %v, %v", msgs, err)
	}
	msgs, err := q.Receive(ctx, 10)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("second receive: %v, %v", msgs, err)
	}
	if errs, err := q.DeleteBatch(ctx, msgs); err != nil || errs[0] != nil {
		t.Fatalf("delete: %v, %v", errs, err)
	}
	if _, err := New(client, srv.URL+"/1/missing", 0).Receive(ctx, 1); err == nil {
		t.Fatal("receive from a missing queue: no error")
	}

	want := map[string]int{
		"ReceiveMessage error":  2, // the 500 (retried) and the missing queue
		"ReceiveMessage empty":  1,
		"ReceiveMessage ok":     1,
		"DeleteMessageBatch ok": 1,
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("counted %v, want %v", counts, want)
	}
}
