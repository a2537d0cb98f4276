// Package check walks the chain a worker depends on (the queue, the bucket,
// the search cluster and, on request, the bucket's notification) with the
// credentials the worker would use, and says of each step whether it works
// and, when it does not, what to change. Nothing it does can cost a message
// a receive or leave a trace the worker would index.
//
// The steps, file by file: queue.go, bucket.go, cluster.go, probe.go.
package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/smithy-go"
)

// Options say what to check.
type Options struct {
	QueueURL       string
	Bucket, Prefix string
	// Probe puts an object in the bucket and waits up to ProbeTimeout for
	// its notification.
	Probe        bool
	ProbeTimeout time.Duration

	// URLs and Auth describe the cluster's connection, for the report.
	URLs []string
	Auth string
	// InstallTemplate: the worker installs its templates (check that it
	// may).
	InstallTemplate bool
	DeadLetterIndex string
	// IndexPatterns are the formats' indices, for the hints.
	IndexPatterns []string
}

// partTimeout bounds each part of the check but the probe.
const partTimeout = 30 * time.Second

// Run checks the queue, the bucket, the cluster and, with Probe, the
// notification, in that order.
func Run(ctx context.Context, o Options, q SQS, s S3, router Router, c Cluster) Report {
	var r Report
	part := func(f func(context.Context)) {
		ctx, cancel := context.WithTimeout(ctx, partTimeout)
		defer cancel()
		f(ctx)
	}
	var qs queueState
	part(func(ctx context.Context) { qs = checkQueue(ctx, &r, q, o.QueueURL) })
	part(func(ctx context.Context) { checkBucket(ctx, &r, s, router, o.Bucket, o.Prefix) })
	part(func(ctx context.Context) { checkCluster(ctx, &r, c, o) })
	if o.Probe {
		if !qs.ok {
			r.add("notification", "probe object announced", Skip, "the queue is not usable", "")
		} else {
			probe(ctx, &r, s, q, o.Bucket, o.Prefix, o.QueueURL, o.ProbeTimeout)
		}
	}
	return r
}

// Status is the outcome of one step.
type Status int

// Outcomes.
const (
	Pass Status = iota
	Fail
	// Skip: the step could not be tried (an earlier step failed, or it
	// would disturb the messages waiting); it is not a failure.
	Skip
)

func (s Status) String() string {
	switch s {
	case Pass:
		return "PASS"
	case Fail:
		return "FAIL"
	}
	return "SKIP"
}

// Result is one step of the check.
type Result struct {
	Part   string // queue, bucket, cluster, notification
	Step   string
	Status Status
	// Detail is what was seen.
	Detail string
	// Hint says what to change, for a failure.
	Hint string
}

// Report is every step, in order.
type Report []Result

// OK reports whether no step failed.
func (r Report) OK() bool {
	for _, s := range r {
		if s.Status == Fail {
			return false
		}
	}
	return true
}

// Write prints the checklist, a hint under each failure, and the counts.
func (r Report) Write(w io.Writer) {
	part := ""
	var n [3]int
	for _, s := range r {
		if s.Part != part {
			part = s.Part
			fmt.Fprintf(w, "%s\n", part)
		}
		n[s.Status]++
		fmt.Fprintf(w, "  %s  %-28s %s\n", s.Status, s.Step, s.Detail)
		if s.Status == Fail && s.Hint != "" {
			fmt.Fprintf(w, "        hint: %s\n", s.Hint)
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", n[Pass], n[Fail], n[Skip])
}

// add appends a step.
func (r *Report) add(part, step string, st Status, detail, hint string) {
	*r = append(*r, Result{Part: part, Step: step, Status: st, Detail: detail, Hint: hint})
}

// awsCode is the error code of an AWS API error ("AccessDenied",
// "NoSuchBucket", ...), or "".
func awsCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// awsMessage is the message of an AWS API error, or the error itself.
func awsMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if m := ae.ErrorMessage(); m != "" {
			return ae.ErrorCode() + ": " + m
		}
		return ae.ErrorCode()
	}
	return err.Error()
}

// denied reports an AWS error refusing a permission.
func denied(err error) bool {
	switch awsCode(err) {
	case "AccessDenied", "AccessDeniedException", "Forbidden", "403", "AuthorizationError", "InvalidClientTokenId", "UnauthorizedOperation":
		return true
	}
	return strings.Contains(err.Error(), "StatusCode: 403")
}
