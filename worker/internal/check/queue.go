package check

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQS is the part of the SQS client the check uses.
type SQS interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// madeUpHandle is a receipt handle no queue ever gave: deleting it or
// changing its visibility tests the permission and touches no message.
const madeUpHandle = "logtide-check-made-up-receipt-handle"

// queueState is what the queue steps learned, for the probe.
type queueState struct {
	ok      bool
	waiting int
}

// checkQueue checks the queue at url: it exists, has a redrive policy, a
// visibility timeout the heartbeat can keep, and the worker may receive,
// delete and change visibility.
func checkQueue(ctx context.Context, r *Report, q SQS, url string) queueState {
	const part = "queue"
	if url == "" {
		r.add(part, "queue", Fail, "no queue given", "set --queue-url (or $LOGTIDE_QUEUE_URL) to the queue receiving the bucket's notifications")
		return queueState{}
	}
	out, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		var missing *types.QueueDoesNotExist
		switch {
		case errors.As(err, &missing) || strings.Contains(awsCode(err), "NonExistentQueue"):
			r.add(part, "queue exists", Fail, url+": no such queue", "check --queue-url: its region and account must be the queue's (the SDK's region is used to sign)")
		case denied(err):
			r.add(part, "queue exists", Fail, awsMessage(err), "grant sqs:GetQueueAttributes on the queue to the worker's role (the worker reads its visibility timeout and depth)")
		default:
			r.add(part, "queue exists", Fail, awsMessage(err), "check the SQS endpoint and network path (AWS_ENDPOINT_URL, VPC endpoint, proxy)")
		}
		return queueState{}
	}
	a := out.Attributes
	waiting, _ := strconv.Atoi(a[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	inFlight, _ := strconv.Atoi(a[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	r.add(part, "queue exists", Pass, fmt.Sprintf("%s: %d messages waiting, %d in work", a[string(types.QueueAttributeNameQueueArn)], waiting, inFlight), "")

	if rp := a[string(types.QueueAttributeNameRedrivePolicy)]; rp == "" {
		r.add(part, "redrive policy", Fail, "none: a message whose objects cannot be read comes back forever",
			`set a redrive policy to a dead-letter queue, e.g. {"deadLetterTargetArn":"arn:aws:sqs:REGION:ACCOUNT:NAME-dlq","maxReceiveCount":5}`)
	} else {
		var p struct {
			Target string `json:"deadLetterTargetArn"`
			Max    any    `json:"maxReceiveCount"`
		}
		_ = json.Unmarshal([]byte(rp), &p)
		max, _ := strconv.Atoi(fmt.Sprint(p.Max))
		if max > 0 && max < 3 {
			r.add(part, "redrive policy", Fail, fmt.Sprintf("to %s after %d receives", p.Target, max),
				"raise maxReceiveCount to 5: a worker replaced mid-object (a deploy, a scale-in) costs a receive, and two of those would send a good message to the dead-letter queue")
		} else {
			r.add(part, "redrive policy", Pass, fmt.Sprintf("to %s after %v receives", p.Target, p.Max), "")
		}
	}

	vis, _ := strconv.Atoi(a[string(types.QueueAttributeNameVisibilityTimeout)])
	d := time.Duration(vis) * time.Second
	if d < 10*time.Second {
		r.add(part, "visibility timeout", Fail, fmt.Sprintf("%s: the worker would extend it every %s", d, d/2),
			"set the queue's VisibilityTimeout to 30 seconds or more (the worker extends it every half timeout while it works, so it needs no more than that)")
	} else {
		r.add(part, "visibility timeout", Pass, fmt.Sprintf("%s; the worker extends it every %s while an object is in work", d, d/2), "")
	}

	// A receive counts against a message's maxReceiveCount: only an empty
	// queue is asked.
	if waiting > 0 {
		r.add(part, "receive allowed", Skip, fmt.Sprintf("not tried: a receive would count against one of the %d waiting messages' maxReceiveCount (a worker logs \"receive failed\" if it may not)", waiting), "")
	} else {
		// A visibility timeout of 0 is not sent by the SDK (its zero value):
		// a message that arrives meanwhile is hidden briefly, then shown
		// again at once.
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 1, WaitTimeSeconds: 0, VisibilityTimeout: 5})
		if err == nil {
			for _, m := range out.Messages {
				_, _ = q.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0})
			}
		}
		switch {
		case err != nil && denied(err):
			r.add(part, "receive allowed", Fail, awsMessage(err), "grant sqs:ReceiveMessage on the queue to the worker's role")
		case err != nil:
			r.add(part, "receive allowed", Fail, awsMessage(err), "")
		default:
			detail := "the queue answered a receive"
			if len(out.Messages) > 0 {
				detail += " (a message that just arrived was received and shown again at once)"
			}
			r.add(part, "receive allowed", Pass, detail, "")
		}
	}
	permission(r, part, "delete allowed", "sqs:DeleteMessage", func() error {
		_, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String(madeUpHandle)})
		return err
	})
	permission(r, part, "change visibility allowed", "sqs:ChangeMessageVisibility", func() error {
		_, err := q.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String(madeUpHandle), VisibilityTimeout: 30})
		return err
	})
	return queueState{ok: true, waiting: waiting}
}

// permission tests a permission with a call on a made-up receipt handle: a
// refusal of the handle means the permission is there.
func permission(r *Report, part, step, action string, call func() error) {
	err := call()
	switch {
	case err == nil || (!denied(err) && handleRefused(err)):
		r.add(part, step, Pass, "the queue refused a made-up receipt handle, not the permission", "")
	case denied(err):
		r.add(part, step, Fail, awsMessage(err), "grant "+action+" on the queue to the worker's role")
	default:
		r.add(part, step, Fail, awsMessage(err), "")
	}
}

// handleRefused reports an error about the receipt handle itself.
func handleRefused(err error) bool {
	var invalid *types.ReceiptHandleIsInvalid
	if errors.As(err, &invalid) {
		return true
	}
	c := awsCode(err)
	return strings.Contains(c, "ReceiptHandle") || c == "InvalidParameterValue" || c == "MessageNotInflight"
}
