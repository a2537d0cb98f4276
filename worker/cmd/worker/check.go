package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	sdkhttp "github.com/logtide/logtide/shared/awshttp"
	"github.com/logtide/logtide/worker/internal/check"
	"github.com/logtide/logtide/worker/internal/config"
	"github.com/logtide/logtide/worker/internal/route"
)

func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config.Check
	f := config.CheckFlags(&c)
	awsCfg, fs, err := startWithSource(ctx, f, args, stdout, &c.Bucket, &c.Prefix, &c.Index, c.Validate)
	if err != nil {
		return err
	}
	router, err := route.New(fs, c.Routes)
	if err != nil {
		return usageError{fmt.Errorf("--route: %w", err)}
	}
	cluster, err := connect(ctx, slog.New(slog.DiscardHandler), c.Index)
	if err != nil {
		return err
	}
	sqsClient := sqs.NewFromConfig(awsCfg, func(o *sqs.Options) { o.HTTPClient = sdkhttp.RequestBodyFix(o.HTTPClient) })
	auth := c.Search.AuthMode()
	if auth == "basic" {
		auth += " (user " + c.Search.Username + ")"
	}
	report := check.Run(ctx, check.Options{
		QueueURL: c.QueueURL, Bucket: c.Bucket, Prefix: c.Prefix, Probe: c.Probe, ProbeTimeout: c.ProbeTimeout,
		URLs: redactURLs(c.Sink.URLs), Auth: auth, InstallTemplate: c.InstallTemplate,
		DeadLetterIndex: c.Pipeline.DeadLetterIndex, IndexPatterns: indexPatterns(fs),
	}, sqsClient, newS3(objectsConfig(awsCfg, c.Index)), router, cluster)
	report.Write(stdout)
	if !report.OK() {
		return errors.New("some checks failed (hints above)")
	}
	return nil
}
