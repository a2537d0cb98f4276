package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	sdkhttp "github.com/logtide/logtide/shared/awshttp"
	"github.com/logtide/logtide/worker/internal/backfill"
	"github.com/logtide/logtide/worker/internal/config"
	"github.com/logtide/logtide/worker/internal/deadletter"
	"github.com/logtide/logtide/worker/internal/redrive"
	"github.com/logtide/logtide/worker/internal/route"
)

func cmdRedrive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config.Redrive
	f := config.RedriveFlags(&c)
	awsCfg, fs, err := startWithSource(ctx, f, args, stdout, &c.Bucket, &c.Prefix, &c.Index, c.Validate)
	if err != nil {
		return err
	}
	if c.DLQURL != "" {
		q := sqs.NewFromConfig(awsCfg, func(o *sqs.Options) { o.HTTPClient = sdkhttp.RequestBodyFix(o.HTTPClient) })
		res, err := redrive.MoveMessages(ctx, q, redrive.QueueOptions{DLQURL: c.DLQURL, SourceURL: c.QueueURL, Max: c.Max, DryRun: c.DryRun, Method: c.Method, Log: stderr})
		if c.DryRun && err == nil {
			fmt.Fprintf(stdout, "dry run: %d messages in %s would move to %s\n", res.Waiting, c.DLQURL, res.SourceURL)
			for _, o := range res.Objects {
				fmt.Fprintf(stdout, "  %s\n", o)
			}
			return nil
		}
		fmt.Fprintf(stdout, "moved %d of %d messages from %s to %s (%s)\n", res.Moved, res.Waiting, c.DLQURL, res.SourceURL, res.Method)
		return err
	}

	log := newLogger(stderr, c.LogLevel)
	router, err := route.New(fs, c.Routes)
	if err != nil {
		return usageError{fmt.Errorf("--route: %w", err)}
	}
	cluster, err := connect(ctx, log, c.Index)
	if err != nil {
		return err
	}
	s3Client := newS3(objectsConfig(awsCfg, c.Index))
	records := ""
	var sum backfill.Summary
	res, err := redrive.ReplayDeadLetters(ctx, cluster, redrive.IndexOptions{
		Index: c.Pipeline.DeadLetterIndex, Filter: deadletter.Filter{Bucket: c.Bucket, KeyPrefix: c.Prefix}, DryRun: c.DryRun,
	}, func(ctx context.Context, objs []backfill.Object, onResolved func(backfill.Object, error)) error {
		bf, err := backfill.New(backfill.Options{
			Objects: objs, OnResolved: onResolved, Region: awsCfg.Region, MaxReceives: 3,
			Progress: stderr, Terminal: isTerminal(stderr), ProgressInterval: 10 * time.Second,
		})
		if err != nil {
			return err
		}
		sum, records, err = indexHere(ctx, log, c.Index, cluster, fs, router, s3Client, bf)
		return err
	})
	var total int64
	for _, o := range res.Objects {
		total += o.Records
	}
	if c.DryRun {
		fmt.Fprintf(stdout, "dry run: %d records of %d objects in %s would be replayed\n", total, len(res.Objects), c.Pipeline.DeadLetterIndex)
		for i, o := range res.Objects {
			if i == 20 {
				fmt.Fprintf(stdout, "  ... and %d more objects\n", len(res.Objects)-i)
				break
			}
			fmt.Fprintf(stdout, "  s3://%s/%s: %d records\n", o.Bucket, o.Key, o.Records)
		}
		return err
	}
	fmt.Fprintf(stdout, "replayed %d objects with %d records in %s: %d records indexed now (removed from it), %d failed again (kept, with the new reason), %d objects could not be read\n",
		len(res.Objects)-len(res.Failed), total, c.Pipeline.DeadLetterIndex, res.Resolved, res.Remaining, len(res.Failed))
	if records != "" {
		fmt.Fprintf(stdout, "  records of those objects: %s (%s)\n", records, sum.Duration.Round(100*time.Millisecond))
	}
	for _, o := range res.Failed {
		fmt.Fprintf(stdout, "  could not read s3://%s/%s (its records stay in %s)\n", o.Bucket, o.Key, c.Pipeline.DeadLetterIndex)
	}
	if err == nil && len(res.Failed) > 0 {
		err = errors.New("some objects could not be processed again")
	}
	return err
}
