package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	sdkhttp "github.com/logtide/logtide/shared/awshttp"
	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/formats"
	"github.com/logtide/logtide/worker/internal/backfill"
	"github.com/logtide/logtide/worker/internal/config"
	"github.com/logtide/logtide/worker/internal/metrics"
	"github.com/logtide/logtide/worker/internal/pipeline"
	"github.com/logtide/logtide/worker/internal/route"
	"github.com/logtide/logtide/worker/internal/sink"
	"github.com/logtide/logtide/worker/internal/source"
)

func cmdBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config.Backfill
	f := config.BackfillFlags(&c)
	awsCfg, fs, err := startWithSource(ctx, f, args, stdout, &c.Bucket, &c.Prefix, &c.Index, c.Validate)
	if err != nil {
		return err
	}
	routes := c.Routes
	if c.Format != "" {
		if _, ok := formats.Find(c.Format); !ok {
			return usageError{fmt.Errorf("--format %q: want one of %s", c.Format, strings.Join(formats.Names(), ", "))}
		}
		routes = append([]route.Rule{{Pattern: c.Prefix + "*", Format: c.Format}}, routes...)
	}
	router, err := route.New(fs, routes)
	if err != nil {
		return usageError{fmt.Errorf("--route: %w", err)}
	}

	target := "index " + strings.Join(redactURLs(c.Sink.URLs), ",") + " prefixes " + fmt.Sprint(indexPatterns(fs))
	if c.Enqueue != "" {
		target = "queue " + c.Enqueue
	}
	run := fmt.Sprintf("s3://%s/%s since=%s until=%s format=%s routes=%v to %s", c.Bucket, c.Prefix, stamp(c.Since), stamp(c.Until), c.Format, c.Routes, target)
	statePath := c.StateFile
	if statePath == "" {
		statePath = backfill.DefaultStatePath(run)
	}
	bf, err := backfill.New(backfill.Options{
		Bucket: c.Bucket, Prefix: c.Prefix,
		Filter: backfill.Filter{Router: router, Since: c.Since, Until: c.Until},
		Run:    run, StatePath: statePath, Restart: c.Restart,
		Concurrency: c.Pipeline.Concurrency, Region: awsCfg.Region, MaxReceives: c.MaxAttempts,
		Progress: stderr, Terminal: isTerminal(stderr), ProgressInterval: c.ProgressInterval,
	})
	if err != nil {
		return err
	}
	log := newLogger(bf.LogWriter(), c.LogLevel)
	st := bf.State()
	fmt.Fprintf(stderr, "backfill of s3://%s/%s to %s\nstate file: %s\n", c.Bucket, c.Prefix, target, statePath)
	if st.DoneThrough != "" || len(st.Failed) > 0 {
		fmt.Fprintf(stderr, "resuming: %d objects done before, through %q; %d failed objects to retry\n", st.Objects, st.DoneThrough, len(st.Failed))
	}

	s3Client := newS3(objectsConfig(awsCfg, c.Index))
	var sum backfill.Summary
	records := ""
	if c.Enqueue != "" {
		sqsClient := sqs.NewFromConfig(awsCfg, func(o *sqs.Options) { o.HTTPClient = sdkhttp.RequestBodyFix(o.HTTPClient) })
		sum, err = bf.Enqueue(ctx, s3Client, sqsClient, c.Enqueue)
	} else {
		cluster, cerr := connect(ctx, log, c.Index)
		if cerr != nil {
			return cerr
		}
		sum, records, err = indexHere(ctx, log, c.Index, cluster, fs, router, s3Client, bf)
	}
	bf.Report(stdout, sum, records)
	if err != nil {
		if sum.Interrupted {
			return fmt.Errorf("%w: run the same command again to go on", err)
		}
		return err
	}
	if n := len(sum.Failed); n > 0 {
		return fmt.Errorf("%d objects failed; run the same command again to retry them", n)
	}
	return nil
}

// indexHere runs the backfill's objects through the worker's pipeline into
// the cluster, the templates installed first; it also says what became of
// the records read.
func indexHere(ctx context.Context, log *slog.Logger, c config.Index, cluster *sink.Sink, fs []format.Format, router *route.Router, s3Client *s3.Client, bf *backfill.Backfill) (backfill.Summary, string, error) {
	if c.InstallTemplate {
		installTemplates(ctx, log, cluster, fs, c.Pipeline.DeadLetterIndex, c.Retention)
	}
	m := metrics.New(version)
	po := c.Pipeline
	po.Logger, po.Metrics = log, m
	po.QueuePollInterval, po.ExitWhenIdle, po.StallTimeout = -1, 0, 0
	sum, err := bf.Process(ctx, s3Client, func(ctx context.Context, q *backfill.Queue) error {
		vis, _, _ := q.Attributes(ctx)
		po.VisibilityTimeout = vis
		return pipeline.New(q, source.New(s3Client, c.ObjectReadTimeout), cluster, router, po).Run(ctx)
	})
	return sum, recordCounts(m), err
}

// recordCounts says what became of the records read, from the pipeline's
// counters.
func recordCounts(m *metrics.Metrics) string {
	v := func(outcome string) int64 {
		var d dto.Metric
		c, err := m.Records.GetMetricWithLabelValues(outcome)
		if err != nil {
			return 0
		}
		if err := c.(prometheus.Metric).Write(&d); err != nil {
			return 0
		}
		return int64(d.GetCounter().GetValue())
	}
	return fmt.Sprintf("%d read, %d indexed, %d already indexed (same or newer version), %d skipped, %d dead-lettered",
		v("read"), v("indexed"), v("stale"), v("skipped"), v("dead_lettered"))
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
