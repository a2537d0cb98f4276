package redrive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// fakeSQS holds two queues' bodies; the move task, when it has one,
// completes at once.
type fakeSQS struct {
	dlq, src  []string
	sources   []string
	moveTask  bool
	hidden    map[string]bool
	receipts  int
	refuseAll bool
	// refuse: bodies the source queue refuses one by one.
	refuse map[string]bool
}

func (f *fakeSQS) GetQueueAttributes(_ context.Context, in *sqs.GetQueueAttributesInput, _ ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	n := len(f.src)
	if aws.ToString(in.QueueUrl) == "dlq" {
		n = len(f.dlq)
	}
	return &sqs.GetQueueAttributesOutput{Attributes: map[string]string{"QueueArn": "arn:" + aws.ToString(in.QueueUrl), "ApproximateNumberOfMessages": strconv.Itoa(n)}}, nil
}

func (f *fakeSQS) ListDeadLetterSourceQueues(context.Context, *sqs.ListDeadLetterSourceQueuesInput, ...func(*sqs.Options)) (*sqs.ListDeadLetterSourceQueuesOutput, error) {
	return &sqs.ListDeadLetterSourceQueuesOutput{QueueUrls: f.sources}, nil
}

func (f *fakeSQS) ReceiveMessage(_ context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	out := &sqs.ReceiveMessageOutput{}
	for i, b := range f.dlq {
		if len(out.Messages) == int(in.MaxNumberOfMessages) {
			break
		}
		if f.hidden[b] {
			continue
		}
		f.hidden[b] = true
		out.Messages = append(out.Messages, types.Message{Body: aws.String(b), ReceiptHandle: aws.String(strconv.Itoa(i) + "|" + b)})
	}
	return out, nil
}

func (f *fakeSQS) ChangeMessageVisibility(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	_, b, _ := strings.Cut(aws.ToString(in.ReceiptHandle), "|")
	if in.VisibilityTimeout == 0 {
		delete(f.hidden, b)
	}
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

func (f *fakeSQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	if f.refuseAll {
		return nil, errors.New("AccessDenied")
	}
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		if f.refuse[aws.ToString(e.MessageBody)] {
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InvalidParameterValue"), Message: aws.String("refused"), SenderFault: true})
			continue
		}
		f.src = append(f.src, aws.ToString(e.MessageBody))
		out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

func (f *fakeSQS) DeleteMessageBatch(_ context.Context, in *sqs.DeleteMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	for _, e := range in.Entries {
		_, b, _ := strings.Cut(aws.ToString(e.ReceiptHandle), "|")
		for i, d := range f.dlq {
			if d == b {
				f.dlq = append(f.dlq[:i], f.dlq[i+1:]...)
				break
			}
		}
	}
	return &sqs.DeleteMessageBatchOutput{}, nil
}

func (f *fakeSQS) StartMessageMoveTask(context.Context, *sqs.StartMessageMoveTaskInput, ...func(*sqs.Options)) (*sqs.StartMessageMoveTaskOutput, error) {
	if !f.moveTask {
		return nil, errors.New("https response error StatusCode: 500")
	}
	f.src = append(f.src, f.dlq...)
	f.receipts = len(f.dlq)
	f.dlq = nil
	return &sqs.StartMessageMoveTaskOutput{}, nil
}

func (f *fakeSQS) ListMessageMoveTasks(context.Context, *sqs.ListMessageMoveTasksInput, ...func(*sqs.Options)) (*sqs.ListMessageMoveTasksOutput, error) {
	return &sqs.ListMessageMoveTasksOutput{Results: []types.ListMessageMoveTasksResultEntry{{Status: aws.String("COMPLETED"), ApproximateNumberOfMessagesMoved: int64(f.receipts)}}}, nil
}

func bodies(n int) []string {
	var b []string
	for i := range n {
		b = append(b, fmt.Sprintf(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k%02d"}}}]}`, i))
	}
	return b
}

func TestMoveMessages(t *testing.T) {
	ctx := context.Background()
	// SQS's task where the endpoint has it.
	f := &fakeSQS{dlq: bodies(3), sources: []string{"src"}, moveTask: true, hidden: map[string]bool{}}
	res, err := MoveMessages(ctx, f, QueueOptions{DLQURL: "dlq", Method: MethodAuto})
	if err != nil || res.Moved != 3 || res.Method != MethodMoveTask || res.SourceURL != "src" || len(f.src) != 3 {
		t.Fatalf("move task: %+v %v, source %d", res, err, len(f.src))
	}
	// The loop where it has not, and --max.
	f = &fakeSQS{dlq: bodies(25), sources: []string{"src"}, hidden: map[string]bool{}}
	var log bytes.Buffer
	res, err = MoveMessages(ctx, f, QueueOptions{DLQURL: "dlq", Method: MethodAuto, Log: &log})
	if err != nil || res.Moved != 25 || res.Method != MethodLoop || len(f.src) != 25 || len(f.dlq) != 0 || !strings.Contains(log.String(), "no message-move task") {
		t.Fatalf("loop: %+v %v, source %d, dlq %d\n%s", res, err, len(f.src), len(f.dlq), log.String())
	}
	f = &fakeSQS{dlq: bodies(25), sources: []string{"src"}, hidden: map[string]bool{}}
	res, err = MoveMessages(ctx, f, QueueOptions{DLQURL: "dlq", Method: MethodLoop, Max: 12})
	if err != nil || res.Moved != 12 || len(f.dlq) != 13 {
		t.Fatalf("--max 12: %+v %v, dlq %d", res, err, len(f.dlq))
	}
	// Dry run: the objects, nothing moved, nothing left hidden.
	f = &fakeSQS{dlq: bodies(3), sources: []string{"src"}, hidden: map[string]bool{}}
	res, err = MoveMessages(ctx, f, QueueOptions{DLQURL: "dlq", DryRun: true})
	if err != nil || fmt.Sprint(res.Objects) != "[s3://b/k00 s3://b/k01 s3://b/k02]" || len(f.dlq) != 3 || len(f.src) != 0 || len(f.hidden) != 0 {
		t.Fatalf("dry run: %+v %v hidden %v", res, err, f.hidden)
	}
	// A source queue that refuses: nothing deleted from the DLQ.
	f = &fakeSQS{dlq: bodies(3), sources: []string{"src"}, hidden: map[string]bool{}, refuseAll: true}
	if _, err = MoveMessages(ctx, f, QueueOptions{DLQURL: "dlq", Method: MethodLoop}); err == nil || len(f.dlq) != 3 {
		t.Fatalf("refusing source: %v, dlq %d", err, len(f.dlq))
	}
	// The source must be known.
	for _, srcs := range [][]string{nil, {"a", "b"}} {
		f = &fakeSQS{dlq: bodies(1), sources: srcs, hidden: map[string]bool{}}
		if _, err := MoveMessages(ctx, f, QueueOptions{DLQURL: "dlq"}); err == nil || !strings.Contains(err.Error(), "--queue-url") {
			t.Errorf("sources %v: %v", srcs, err)
		}
	}
}

// A batch the source queue takes only in part: the messages it took leave
// the DLQ before the refusal stops the move, so that they are in one queue
// only and a second run moves just the refused one.
func TestLoopPartialRefusal(t *testing.T) {
	ctx := context.Background()
	msgs := bodies(5)
	f := &fakeSQS{dlq: append([]string(nil), msgs...), sources: []string{"src"}, hidden: map[string]bool{}, refuse: map[string]bool{msgs[2]: true}}
	res, err := MoveMessages(ctx, f, QueueOptions{DLQURL: "dlq", Method: MethodLoop})
	if err == nil || !strings.Contains(err.Error(), "refused 1 messages (they stay in dlq)") {
		t.Fatalf("error %v", err)
	}
	if res.Moved != 4 || len(f.src) != 4 || len(f.dlq) != 1 || f.dlq[0] != msgs[2] {
		t.Fatalf("moved %d; source %d, DLQ %v", res.Moved, len(f.src), f.dlq)
	}
	for _, b := range f.src {
		if b == msgs[2] {
			t.Fatal("the refused message reached the source")
		}
	}
	// The source takes it now: the second run moves it alone.
	f.refuse, f.hidden = nil, map[string]bool{}
	res, err = MoveMessages(ctx, f, QueueOptions{DLQURL: "dlq", Method: MethodLoop})
	if err != nil || res.Moved != 1 || len(f.src) != 5 || len(f.dlq) != 0 {
		t.Fatalf("second run: moved %d, %v; source %d, DLQ %d", res.Moved, err, len(f.src), len(f.dlq))
	}
}
