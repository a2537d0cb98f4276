package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"golang.org/x/sync/errgroup"

	sdkhttp "github.com/logtide/logtide/shared/awshttp"
	"github.com/logtide/logtide/worker/internal/config"
	"github.com/logtide/logtide/worker/internal/deadletter"
	"github.com/logtide/logtide/worker/internal/metrics"
	"github.com/logtide/logtide/worker/internal/pipeline"
	"github.com/logtide/logtide/worker/internal/queue"
	"github.com/logtide/logtide/worker/internal/searchhttp"
	"github.com/logtide/logtide/worker/internal/sink"
	"github.com/logtide/logtide/worker/internal/source"
	"github.com/logtide/logtide/worker/internal/transform"
)

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config.Run
	f := config.RunFlags(&c)
	if err := parseFlags(f, args, stdout); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return usageError{err}
	}
	log := newLogger(stderr, c.LogLevel)
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return usageError{fmt.Errorf("--index-time-zone: %w", err)}
	}
	gd, err := transform.NewGuardDuty(transform.GuardDutyOptions{IndexPrefix: c.IndexPrefix, Location: loc})
	if err != nil {
		return usageError{fmt.Errorf("--index-prefix: %w", err)}
	}

	awsCfg, err := awsConfig(ctx)
	if err != nil {
		return err
	}
	// Every handler holds an S3 connection, and as many SQS calls can run at
	// once (visibility extensions) besides the receive, delete and depth
	// calls: keep that many idle connections per host, so bursts do not close
	// and reopen connections (the SDK keeps 10).
	awsCfg.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = max(t.MaxIdleConnsPerHost, c.Concurrency+4)
	})
	m := metrics.New(version)
	sqsClient := sqs.NewFromConfig(awsCfg, func(o *sqs.Options) { o.HTTPClient = sdkhttp.RequestBodyFix(o.HTTPClient) },
		queue.CountRequests(func(op, outcome string) { m.SQSRequests.WithLabelValues(op, outcome).Inc() }))
	s3Client := newS3(awsCfg)

	wait := c.WaitTime
	if c.ExitWhenIdle > 0 && c.ExitWhenIdle < wait {
		wait = c.ExitWhenIdle // an idle exit must not wait on a long poll
	}
	q := queue.New(sqsClient, c.QueueURL, wait)

	esOpts := searchhttp.Options{
		CAFile:             c.ESCAFile,
		InsecureSkipVerify: c.ESInsecureSkipVerify,
		Username:           c.ESUsername,
		Password:           string(c.ESPassword),
		PasswordFile:       c.ESPasswordFile,
		SigV4:              c.ESSigV4,
		SigV4Service:       c.ESSigV4Service,
		Region:             c.ESRegion,
		AWS:                awsCfg,
	}
	if esOpts.Region == "" {
		esOpts.Region = awsCfg.Region
	}
	if esOpts.SigV4 && esOpts.Region == "" {
		return usageError{fmt.Errorf("--es-sigv4 needs a region: set --es-region or AWS_REGION")}
	}
	httpClient, err := searchhttp.New(ctx, esOpts)
	if err != nil {
		return fmt.Errorf("search cluster connection: %w", err)
	}
	logSearchConnection(log, c, esOpts)
	snk, err := sink.New(sink.Options{URLs: c.ESURLs, HTTPClient: httpClient})
	if err != nil {
		return err
	}
	if c.InstallTemplate {
		name, body := gd.IndexTemplate()
		if err := installTemplate(ctx, log, snk, name, body); err != nil {
			return err
		}
		name, body = deadletter.IndexTemplate(c.DeadLetterIndex)
		if err := installTemplate(ctx, log, snk, name, body); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		// Stopped while waiting for the cluster: nothing was received, so
		// this is a clean stop.
		log.Info("worker stopped before receiving anything")
		return nil
	}

	po := pipeline.DefaultOptions()
	po.Concurrency, po.MinConcurrency = c.Concurrency, c.MinConcurrency
	po.MaxLineBytes, po.ExitWhenIdle, po.ShutdownGrace = c.MaxLineBytes, c.ExitWhenIdle, c.ShutdownGrace
	po.DeadLetterIndex, po.Logger, po.Metrics = c.DeadLetterIndex, log, m
	po.Bulk.SlowRequest, po.Bulk.Concurrency, po.Bulk.FlushInterval = c.SlowBulk, c.BulkConcurrency, c.BulkFlush
	po.Bulk.MaxDocs, po.Bulk.MaxBytes = c.BulkMaxDocs, c.BulkMaxBytes
	p := pipeline.New(q, source.New(s3Client), snk, gd, po)
	log.Info("worker starting", "version", version, "queue_url", c.QueueURL, "es_urls", redactURLs(c.ESURLs),
		"concurrency", c.Concurrency, "index_prefix", c.IndexPrefix, "dead_letter_index", c.DeadLetterIndex, "index_time_zone", c.TimeZone)

	// The metrics server lives exactly as long as the pipeline.
	srvCtx, stopServer := context.WithCancel(context.WithoutCancel(ctx))
	var g errgroup.Group
	if c.MetricsAddr != "" {
		g.Go(func() error {
			return serveHTTP(srvCtx, c.MetricsAddr, m.Handler(), func(a net.Addr) { log.Info("serving /metrics and /healthz", "addr", a.String()) })
		})
	}
	if c.PprofAddr != "" {
		g.Go(func() error {
			return serveHTTP(srvCtx, c.PprofAddr, pprofHandler(), func(a net.Addr) { log.Info("serving /debug/pprof/", "addr", a.String()) })
		})
	}
	runErr := p.Run(ctx)
	stopServer()
	if err := g.Wait(); err != nil && runErr == nil {
		runErr = fmt.Errorf("metrics server: %w", err)
	}
	if runErr == nil {
		log.Info("worker stopped")
	}
	return runErr
}

// logSearchConnection says how the worker authenticates to the cluster,
// without any secret, and warns about settings that weaken the connection.
func logSearchConnection(log *slog.Logger, c config.Run, o searchhttp.Options) {
	attrs := []any{"auth", o.AuthMode(), "tls_verify", !o.InsecureSkipVerify}
	switch o.AuthMode() {
	case "basic":
		attrs = append(attrs, "username", o.Username)
		if o.PasswordFile != "" {
			attrs = append(attrs, "password_from", o.PasswordFile)
		} else {
			attrs = append(attrs, "password_from", "$"+config.PasswordEnv)
		}
	case "sigv4":
		attrs = append(attrs, "sigv4_service", o.SigV4Service, "region", o.Region)
	}
	if o.CAFile != "" {
		attrs = append(attrs, "ca_file", o.CAFile)
	}
	log.Info("search cluster connection", attrs...)
	if o.InsecureSkipVerify {
		log.Warn("TLS CERTIFICATE VERIFICATION OF THE SEARCH CLUSTER IS DISABLED (--es-insecure-skip-verify): anyone on the path can read and alter what is indexed; use --es-ca-file instead")
	}
	if o.AuthMode() == "basic" {
		for _, u := range c.ESURLs {
			if strings.HasPrefix(strings.ToLower(u), "http://") {
				log.Warn("basic-auth password sent over plain http", "es_url", redactURLs([]string{u})[0])
			}
		}
	}
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(strings.ToUpper(level)))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

func awsConfig(ctx context.Context) (aws.Config, error) {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cfg, err := awsconfig.LoadDefaultConfig(cctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	return cfg, nil
}

// newS3 builds the S3 client. A custom endpoint (AWS_ENDPOINT_URL, for
// S3-compatible servers) gets path-style addressing. Response checksums are
// validated only when the service requires it, so servers that send none do
// not log a warning per object.
func newS3(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if o.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.HTTPClient = sdkhttp.RequestBodyFix(o.HTTPClient)
	})
}

// installTemplate retries while the cluster is unreachable, so a worker can
// start before the cluster does. A stop (ctx done) while waiting is not an
// error: the caller sees ctx and exits cleanly.
func installTemplate(ctx context.Context, log *slog.Logger, snk *sink.Sink, name, body string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := snk.PutIndexTemplate(cctx, name, body)
		cancel()
		if err == nil {
			log.Info("index template installed", "name", name)
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		log.Warn("index template not installed yet; retrying", "attempt", attempt, "err", err)
		select {
		case <-time.After(3 * time.Second):
		case <-ctx.Done():
			return nil
		}
	}
}

// redactURLs drops anything but scheme and host from endpoint URLs for logs.
func redactURLs(urls []string) []string {
	out := make([]string, len(urls))
	for i, u := range urls {
		if j := strings.Index(u, "://"); j >= 0 {
			rest := u[j+3:]
			if k := strings.IndexAny(rest, "/?#"); k >= 0 {
				rest = rest[:k]
			}
			if k := strings.LastIndex(rest, "@"); k >= 0 {
				rest = rest[k+1:]
			}
			out[i] = u[:j+3] + rest
		} else {
			out[i] = "(invalid)"
		}
	}
	return out
}
