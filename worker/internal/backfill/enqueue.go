package backfill

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"golang.org/x/sync/errgroup"

	"github.com/logtide/logtide/worker/internal/backoff"
)

// Sender is the part of the SQS client that enqueues notifications.
type Sender interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// sendAttempts bounds the sends of one notification the queue refuses.
const sendAttempts = 5

// pending is an object waiting for its notification to be sent.
type pending struct {
	seq int64
	obj Object
}

// send sends one notification per object received on in, ten to a
// SendMessageBatch request, with concurrency requests at once, until in is
// closed. Each object is resolved once the queue has its message, or after
// sendAttempts refusals.
func send(ctx context.Context, s Sender, queueURL, region, bucket string, in <-chan pending, concurrency int, resolve func(int64, error)) error {
	g, ctx := errgroup.WithContext(ctx)
	for range concurrency {
		g.Go(func() error {
			for {
				batch, ok := nextBatch(in)
				if !ok {
					return nil
				}
				if err := sendBatch(ctx, s, queueURL, region, bucket, batch, resolve); err != nil {
					return err
				}
			}
		})
	}
	return g.Wait()
}

// nextBatch takes up to ten objects: it waits for the first, then takes
// those already waiting.
func nextBatch(in <-chan pending) ([]pending, bool) {
	first, ok := <-in
	if !ok {
		return nil, false
	}
	batch := []pending{first}
	for len(batch) < 10 {
		select {
		case p, ok := <-in:
			if !ok {
				return batch, true
			}
			batch = append(batch, p)
		default:
			return batch, true
		}
	}
	return batch, true
}

// sendBatch sends the batch's notifications, again for the entries the
// queue refuses. It returns an error when ctx ends or the queue refuses
// every request.
func sendBatch(ctx context.Context, s Sender, queueURL, region, bucket string, batch []pending, resolve func(int64, error)) error {
	now := time.Now()
	for attempt := 1; len(batch) > 0; attempt++ {
		entries := make([]types.SendMessageBatchRequestEntry, len(batch))
		for i, p := range batch {
			entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(Notification(region, bucket, p.obj, now)))}
		}
		out, err := s.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var again []pending
		if err != nil {
			again = batch
		} else {
			sent := make([]bool, len(batch))
			for _, ok := range out.Successful {
				if i, err := strconv.Atoi(aws.ToString(ok.Id)); err == nil && i >= 0 && i < len(batch) {
					sent[i] = true
					resolve(batch[i].seq, nil)
				}
			}
			for _, f := range out.Failed {
				i, cerr := strconv.Atoi(aws.ToString(f.Id))
				if cerr != nil || i < 0 || i >= len(batch) || sent[i] {
					continue
				}
				sent[i] = true
				ferr := fmt.Errorf("the queue refused the notification: %s: %s", aws.ToString(f.Code), aws.ToString(f.Message))
				if f.SenderFault || attempt == sendAttempts {
					resolve(batch[i].seq, ferr)
					continue
				}
				again = append(again, batch[i])
			}
			for i, ok := range sent {
				if !ok {
					again = append(again, batch[i]) // no answer for it
				}
			}
		}
		if len(again) > 0 && attempt == sendAttempts {
			if err != nil {
				// The queue refuses every request (a wrong URL, no
				// permission): stop rather than fail every object.
				return fmt.Errorf("sending notifications to %s: %w", queueURL, err)
			}
			for _, p := range again {
				resolve(p.seq, fmt.Errorf("the queue did not answer for the notification %d times", attempt))
			}
			return nil
		}
		batch = again
		if len(batch) > 0 && !backoff.Sleep(ctx, backoff.Delay(200*time.Millisecond, 10*time.Second, attempt)) {
			return ctx.Err()
		}
	}
	return nil
}
