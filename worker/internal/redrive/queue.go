// Package redrive sends what the worker set aside back through it once the
// cause is fixed: the messages of the dead-letter queue back to the source
// queue (queue.go), and the objects whose records are in the dead-letter
// index back through the pipeline (index.go).
package redrive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/logtide/logtide/worker/internal/s3event"
)

// SQS is the part of the SQS client moving messages uses.
type SQS interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ListDeadLetterSourceQueues(ctx context.Context, in *sqs.ListDeadLetterSourceQueuesInput, opts ...func(*sqs.Options)) (*sqs.ListDeadLetterSourceQueuesOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	StartMessageMoveTask(ctx context.Context, in *sqs.StartMessageMoveTaskInput, opts ...func(*sqs.Options)) (*sqs.StartMessageMoveTaskOutput, error)
	ListMessageMoveTasks(ctx context.Context, in *sqs.ListMessageMoveTasksInput, opts ...func(*sqs.Options)) (*sqs.ListMessageMoveTasksOutput, error)
}

// Methods of moving messages.
const (
	// MethodAuto uses SQS's message-move task where the endpoint has it,
	// else the loop.
	MethodAuto = "auto"
	// MethodMoveTask asks SQS to move the messages (StartMessageMoveTask).
	MethodMoveTask = "move-task"
	// MethodLoop receives, sends and deletes the messages itself.
	MethodLoop = "loop"
)

// QueueOptions say which messages to move.
type QueueOptions struct {
	DLQURL string
	// SourceURL is the queue to move them to; empty: the DLQ's only source
	// queue.
	SourceURL string
	// Max bounds the messages moved (0: those in the DLQ at the start).
	Max    int
	DryRun bool
	Method string
	// Log receives progress lines.
	Log io.Writer
}

// QueueResult is what a move did.
type QueueResult struct {
	SourceURL string
	// Waiting is the DLQ's depth at the start.
	Waiting int
	Moved   int
	Method  string
	// Objects are some of the objects the messages name (dry run).
	Objects []string
}

// MoveMessages moves the DLQ's messages back to their source queue.
func MoveMessages(ctx context.Context, q SQS, o QueueOptions) (QueueResult, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	res := QueueResult{Method: o.Method}
	dlqARN, waiting, err := arnAndDepth(ctx, q, o.DLQURL)
	if err != nil {
		return res, fmt.Errorf("dead-letter queue %s: %w", o.DLQURL, err)
	}
	res.Waiting = waiting
	res.SourceURL = o.SourceURL
	if res.SourceURL == "" {
		if res.SourceURL, err = sourceOf(ctx, q, o.DLQURL); err != nil {
			return res, err
		}
	}
	if o.DryRun {
		res.Objects, err = peek(ctx, q, o.DLQURL)
		return res, err
	}
	limit := o.Max
	if limit <= 0 {
		limit = waiting
	}
	if limit == 0 {
		return res, nil
	}
	if o.Method != MethodLoop && o.Max <= 0 {
		srcARN, _, err := arnAndDepth(ctx, q, res.SourceURL)
		if err != nil {
			return res, fmt.Errorf("source queue %s: %w", res.SourceURL, err)
		}
		moved, started, err := moveTask(ctx, q, dlqARN, srcARN, o.Log)
		switch {
		case err == nil:
			res.Moved, res.Method = moved, MethodMoveTask
			return res, nil
		case started || o.Method == MethodMoveTask || ctx.Err() != nil:
			return res, err
		}
		// The task did not start (an endpoint without it, no
		// sqs:StartMessageMoveTask permission): the loop moves them.
		fmt.Fprintf(o.Log, "no message-move task (%v); moving the messages one batch at a time\n", err)
	}
	res.Method = MethodLoop
	res.Moved, err = loop(ctx, q, o.DLQURL, res.SourceURL, limit, o.Log)
	return res, err
}

func arnAndDepth(ctx context.Context, q SQS, url string) (string, int, error) {
	out, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn, types.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		return "", 0, err
	}
	n, _ := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	return out.Attributes[string(types.QueueAttributeNameQueueArn)], n, nil
}

// sourceOf finds the queue whose redrive policy names the DLQ.
func sourceOf(ctx context.Context, q SQS, dlqURL string) (string, error) {
	out, err := q.ListDeadLetterSourceQueues(ctx, &sqs.ListDeadLetterSourceQueuesInput{QueueUrl: aws.String(dlqURL)})
	if err != nil {
		return "", fmt.Errorf("finding the source queue of %s (or give --queue-url): %w", dlqURL, err)
	}
	switch len(out.QueueUrls) {
	case 1:
		return out.QueueUrls[0], nil
	case 0:
		return "", fmt.Errorf("no queue sends its dead letters to %s: give the source with --queue-url", dlqURL)
	}
	return "", fmt.Errorf("%d queues send their dead letters to %s (%s): choose one with --queue-url", len(out.QueueUrls), dlqURL, strings.Join(out.QueueUrls, ", "))
}

// peek lists the objects named by up to ten of the DLQ's messages, shown
// again at once.
func peek(ctx context.Context, q SQS, dlqURL string) ([]string, error) {
	// A visibility timeout of 0 is not sent by the SDK (it is its zero
	// value): hide them briefly, and show them again right after.
	out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlqURL), MaxNumberOfMessages: 10, VisibilityTimeout: 5, WaitTimeSeconds: 1})
	if err != nil {
		return nil, err
	}
	var objs []string
	for _, m := range out.Messages {
		_, _ = q.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(dlqURL), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0})
		n, err := s3event.Parse([]byte(aws.ToString(m.Body)))
		if err != nil {
			objs = append(objs, "(not a notification: "+err.Error()+")")
			continue
		}
		for _, o := range n.Objects {
			objs = append(objs, "s3://"+o.Bucket+"/"+o.Key)
		}
	}
	return objs, nil
}

// moveTask runs SQS's message-move task from the DLQ back to the source
// and waits for it to end; started says whether the task began.
func moveTask(ctx context.Context, q SQS, dlqARN, srcARN string, log io.Writer) (moved int, started bool, err error) {
	if _, err := q.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(dlqARN), DestinationArn: aws.String(srcARN)}); err != nil {
		return 0, false, err
	}
	for {
		out, err := q.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(dlqARN), MaxResults: aws.Int32(1)})
		if err != nil {
			return moved, true, err
		}
		if len(out.Results) == 0 {
			return moved, true, errors.New("the message-move task is not listed")
		}
		t := out.Results[0]
		moved = int(t.ApproximateNumberOfMessagesMoved)
		switch aws.ToString(t.Status) {
		case "COMPLETED":
			return moved, true, nil
		case "FAILED", "CANCELLED", "CANCELLING":
			return moved, true, fmt.Errorf("message-move task %s: %s", strings.ToLower(aws.ToString(t.Status)), aws.ToString(t.FailureReason))
		}
		fmt.Fprintf(log, "moving: %d of %d messages\n", moved, aws.ToInt64(t.ApproximateNumberOfMessagesToMove))
		select {
		case <-ctx.Done():
			return moved, true, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// loop moves up to limit messages: receive ten, send them to the source,
// delete those sent. A message is deleted only once the source has its
// copy; a crash between the two leaves it in both queues, which the
// worker's idempotent writes absorb.
func loop(ctx context.Context, q SQS, dlqURL, srcURL string, limit int, log io.Writer) (int, error) {
	moved, empty := 0, 0
	for moved < limit && empty < 2 {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlqURL), MaxNumberOfMessages: int32(min(10, limit-moved)),
			VisibilityTimeout: 60, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
		if err != nil {
			return moved, fmt.Errorf("receiving from %s: %w", dlqURL, err)
		}
		if len(out.Messages) == 0 {
			empty++
			continue
		}
		empty = 0
		entries := make([]types.SendMessageBatchRequestEntry, len(out.Messages))
		for i, m := range out.Messages {
			entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: m.Body, MessageAttributes: m.MessageAttributes}
		}
		sent, err := q.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(srcURL), Entries: entries})
		if err != nil {
			return moved, fmt.Errorf("sending to %s: %w", srcURL, err)
		}
		var del []types.DeleteMessageBatchRequestEntry
		for _, s := range sent.Successful {
			i, _ := strconv.Atoi(aws.ToString(s.Id))
			del = append(del, types.DeleteMessageBatchRequestEntry{Id: s.Id, ReceiptHandle: out.Messages[i].ReceiptHandle})
		}
		// Those the source took leave the DLQ before a refusal of the
		// others stops the move: a second run then moves only the refused.
		if len(del) > 0 {
			d, err := q.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(dlqURL), Entries: del})
			if err != nil {
				return moved, fmt.Errorf("deleting %d moved messages from %s (they are now in both queues): %w", len(del), dlqURL, err)
			}
			if len(d.Failed) > 0 {
				return moved + len(del) - len(d.Failed), fmt.Errorf("deleting %d moved messages from %s failed (they are now in both queues): %s", len(d.Failed), dlqURL, aws.ToString(d.Failed[0].Message))
			}
			moved += len(del)
		}
		if len(sent.Failed) > 0 {
			f := sent.Failed[0]
			return moved, fmt.Errorf("the source queue refused %d messages (they stay in %s): %s: %s", len(sent.Failed), dlqURL, aws.ToString(f.Code), aws.ToString(f.Message))
		}
		fmt.Fprintf(log, "moved %d of %d messages\n", moved, limit)
	}
	return moved, nil
}
