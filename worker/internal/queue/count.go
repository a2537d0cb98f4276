package queue

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"
)

// Outcomes of one SQS request, as CountRequests reports them.
const (
	OutcomeOK    = "ok"
	OutcomeEmpty = "empty" // a ReceiveMessage that returned no message
	OutcomeError = "error"
)

// CountRequests is an SQS client option that reports every request the
// client sends, each retry included (SQS bills them all): the operation's
// name (ReceiveMessage, DeleteMessageBatch, …) and its outcome.
func CountRequests(count func(operation, outcome string)) func(*sqs.Options) {
	mw := middleware.FinalizeMiddlewareFunc("logtide.CountRequests", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		out, md, err := next.HandleFinalize(ctx, in)
		outcome := OutcomeOK
		if err != nil {
			outcome = OutcomeError
		} else if r, ok := out.Result.(*sqs.ReceiveMessageOutput); ok && len(r.Messages) == 0 {
			outcome = OutcomeEmpty
		}
		count(middleware.GetOperationName(ctx), outcome)
		return out, md, err
	})
	return func(o *sqs.Options) {
		// Last in the finalize step, so inside the retry loop: one count
		// per attempt.
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Finalize.Add(mw, middleware.After)
		})
	}
}
