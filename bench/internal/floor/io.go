package floor

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/logtide/logtide/bench/internal/backend"
)

// IO is one I/O floor measurement.
type IO struct {
	Concurrency int
	Objects     int
	Bytes       int64 // as stored (compressed)
	Wall        time.Duration
	Err         error
	// CPU time spent while the level ran, filled in by the caller when it
	// can measure it: this process (the loop's clients and, for the
	// in-process S3, the S3 server), the SQS server, and the whole machine.
	HarnessCPU, ServerCPU, Busy time.Duration
	CPUKnown                    bool
}

// ObjectsPerSecond is the rate of completed receive+get+delete cycles.
func (r IO) ObjectsPerSecond() float64 { return float64(r.Objects) / r.Wall.Seconds() }

// Reader consumes one object's body in the loop and returns the bytes it
// read from it.
type Reader func(body io.Reader) (int64, error)

// Discard reads a body to the end and throws it away.
func Discard() Reader {
	return func(body io.Reader) (int64, error) { return io.Copy(io.Discard, body) }
}

// RunIO moves n enqueued notifications through a plain loop: concurrency
// goroutines each receive up to ten messages, read every named object to the
// end and discard it, and delete the batch. It stops when n objects are done
// or at the deadline (then Err says how many were left).
func RunIO(ctx context.Context, a *backend.AWS, queueURL string, n, concurrency int, deadline time.Duration) IO {
	return RunIOReading(ctx, a, queueURL, n, concurrency, deadline, Discard)
}

// RunIOReading is RunIO with each goroutine reading the objects through a
// Reader of its own from newReader.
func RunIOReading(ctx context.Context, a *backend.AWS, queueURL string, n, concurrency int, deadline time.Duration, newReader func() Reader) IO {
	r := IO{Concurrency: concurrency}
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	var done, bytes atomic.Int64
	var endNanos atomic.Int64
	var firstErr error
	var errOnce sync.Once
	start := time.Now()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			read := newReader()
			for done.Load() < int64(n) && ctx.Err() == nil {
				out, err := a.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
					QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
				})
				if err != nil {
					if ctx.Err() == nil {
						errOnce.Do(func() { firstErr = err })
						cancel()
					}
					return
				}
				var entries []sqstypes.DeleteMessageBatchRequestEntry
				for i, m := range out.Messages {
					bucket, key, err := backend.ParseNotification(aws.ToString(m.Body))
					if err == nil {
						var nb int64
						nb, err = get(ctx, a.S3, bucket, key, read)
						bytes.Add(nb)
					}
					if err != nil {
						errOnce.Do(func() { firstErr = err })
						cancel()
						return
					}
					entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
				}
				if len(entries) == 0 {
					continue
				}
				if _, err := a.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries}); err != nil {
					errOnce.Do(func() { firstErr = err })
					cancel()
					return
				}
				if done.Add(int64(len(entries))) >= int64(n) {
					endNanos.CompareAndSwap(0, int64(time.Since(start)))
				}
			}
		}()
	}
	wg.Wait()
	r.Objects, r.Bytes = int(done.Load()), bytes.Load()
	r.Wall = time.Duration(endNanos.Load())
	if r.Wall == 0 {
		r.Wall = time.Since(start)
	}
	switch {
	case firstErr != nil:
		r.Err = firstErr
	case r.Objects < n:
		r.Err = fmt.Errorf("%d of %d objects done within %s", r.Objects, n, deadline)
	}
	return r
}

func get(ctx context.Context, c *s3.Client, bucket, key string, read Reader) (int64, error) {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return 0, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	n, err := read(out.Body)
	if err != nil {
		return n, fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
	}
	return n, nil
}
