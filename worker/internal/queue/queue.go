// Package queue receives S3 event notifications from an SQS queue, deletes
// them, makes them visible again or extends the time they stay hidden.
package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Message is one received SQS message.
type Message struct {
	ID     string
	Handle string
	Body   []byte
	// ReceiveCount is how many times SQS has handed this message out, this time
	// included.
	ReceiveCount int
	SentAt       time.Time
}

// SQS is a queue client bound to one queue URL.
type SQS struct {
	client *sqs.Client
	url    string
	wait   int32
}

// New binds client to the queue at url. wait is the long-poll duration of one
// receive (at most 20 s, SQS's limit).
func New(client *sqs.Client, url string, wait time.Duration) *SQS {
	w := int32(wait / time.Second)
	if w > 20 {
		w = 20
	}
	if w < 0 {
		w = 0
	}
	return &SQS{client: client, url: url, wait: w}
}

// Receive long-polls for up to max messages (1..10).
func (q *SQS) Receive(ctx context.Context, max int) ([]Message, error) {
	if max > 10 {
		max = 10
	}
	if max < 1 {
		max = 1
	}
	out, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(q.url),
		MaxNumberOfMessages:         int32(max),
		WaitTimeSeconds:             q.wait,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount, types.MessageSystemAttributeNameSentTimestamp},
	})
	if err != nil {
		return nil, fmt.Errorf("receive from %s: %w", q.url, err)
	}
	msgs := make([]Message, 0, len(out.Messages))
	for _, m := range out.Messages {
		msg := Message{ID: aws.ToString(m.MessageId), Handle: aws.ToString(m.ReceiptHandle), Body: []byte(aws.ToString(m.Body))}
		if v, err := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)]); err == nil {
			msg.ReceiveCount = v
		}
		if v, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
			msg.SentAt = time.UnixMilli(v)
		}
		msgs = append(msgs, msg)
	}
	return msgs, nil
}

// DeleteBatch removes up to 10 messages in one request and returns one error
// (nil on success) per message, in order. An error of its own means no
// message was deleted.
func (q *SQS) DeleteBatch(ctx context.Context, msgs []Message) ([]error, error) {
	entries := make([]types.DeleteMessageBatchRequestEntry, len(msgs))
	for i, m := range msgs {
		entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(m.Handle)}
	}
	out, err := q.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(q.url), Entries: entries})
	if err != nil {
		return nil, fmt.Errorf("delete %d messages: %w", len(msgs), err)
	}
	errs := make([]error, len(msgs))
	answered := make([]bool, len(msgs))
	for _, ok := range out.Successful {
		if i, err := strconv.Atoi(aws.ToString(ok.Id)); err == nil && i >= 0 && i < len(msgs) {
			answered[i] = true
		}
	}
	for _, f := range out.Failed {
		if i, err := strconv.Atoi(aws.ToString(f.Id)); err == nil && i >= 0 && i < len(msgs) {
			answered[i] = true
			errs[i] = fmt.Errorf("delete message %s: %s: %s", msgs[i].ID, aws.ToString(f.Code), aws.ToString(f.Message))
		}
	}
	for i, ok := range answered {
		if !ok {
			errs[i] = fmt.Errorf("delete message %s: no result in the batch answer", msgs[i].ID)
		}
	}
	return errs, nil
}

// SetVisibility hides a message for d from now; zero makes it visible again at
// once.
func (q *SQS) SetVisibility(ctx context.Context, m Message, d time.Duration) error {
	_, err := q.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl:          aws.String(q.url),
		ReceiptHandle:     aws.String(m.Handle),
		VisibilityTimeout: int32(d / time.Second),
	})
	if err != nil {
		return fmt.Errorf("change visibility of message %s: %w", m.ID, err)
	}
	return nil
}

// Depth is the queue's approximate message counts.
type Depth struct {
	Visible, InFlight, Delayed int
}

// Total is every message the queue still holds.
func (d Depth) Total() int { return d.Visible + d.InFlight + d.Delayed }

// Attributes returns the queue's visibility timeout and current depth.
func (q *SQS) Attributes(ctx context.Context) (time.Duration, Depth, error) {
	out, err := q.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(q.url),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameVisibilityTimeout,
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		return 0, Depth{}, fmt.Errorf("queue attributes of %s: %w", q.url, err)
	}
	num := func(name types.QueueAttributeName) (int, error) {
		v, ok := out.Attributes[string(name)]
		if !ok {
			return 0, nil
		}
		return strconv.Atoi(v)
	}
	vis, err1 := num(types.QueueAttributeNameVisibilityTimeout)
	var d Depth
	var err2, err3, err4 error
	d.Visible, err2 = num(types.QueueAttributeNameApproximateNumberOfMessages)
	d.InFlight, err3 = num(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)
	d.Delayed, err4 = num(types.QueueAttributeNameApproximateNumberOfMessagesDelayed)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return 0, Depth{}, fmt.Errorf("queue attributes of %s: %w", q.url, err)
	}
	return time.Duration(vis) * time.Second, d, nil
}
