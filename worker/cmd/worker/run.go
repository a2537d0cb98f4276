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
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/sync/errgroup"

	sdkhttp "github.com/logtide/logtide/shared/awshttp"
	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/formats"
	"github.com/logtide/logtide/worker/internal/backoff"
	"github.com/logtide/logtide/worker/internal/config"
	"github.com/logtide/logtide/worker/internal/metrics"
	"github.com/logtide/logtide/worker/internal/pipeline"
	"github.com/logtide/logtide/worker/internal/queue"
	"github.com/logtide/logtide/worker/internal/route"
	"github.com/logtide/logtide/worker/internal/searchhttp"
	"github.com/logtide/logtide/worker/internal/setup"
	"github.com/logtide/logtide/worker/internal/sink"
	"github.com/logtide/logtide/worker/internal/source"
)

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config.Run
	f := config.RunFlags(&c)
	if err := parseFlags(f, args, stdout); err != nil {
		return err
	}
	awsCfg, fs, err := prepare(ctx, &c.Index)
	if err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return usageError{err}
	}
	log := newLogger(stderr, c.LogLevel)
	router, err := route.New(fs, c.Routes)
	if err != nil {
		return usageError{fmt.Errorf("--route: %w", err)}
	}

	// Every handler holds an S3 connection, and as many SQS calls can run at
	// once (visibility extensions) besides the receive, delete and depth
	// calls: keep that many idle connections per host, so bursts do not close
	// and reopen connections (the SDK keeps 10).
	awsCfg.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = max(t.MaxIdleConnsPerHost, c.Pipeline.Concurrency+4)
	})
	m := metrics.New(version)
	sqsClient := sqs.NewFromConfig(awsCfg, func(o *sqs.Options) { o.HTTPClient = sdkhttp.RequestBodyFix(o.HTTPClient) },
		queue.CountRequests(func(op, outcome string) { m.SQSRequests.WithLabelValues(op, outcome).Inc() }))
	s3Client := newS3(objectsConfig(awsCfg, c.Index))
	wait := c.WaitTime
	if c.Pipeline.ExitWhenIdle > 0 && c.Pipeline.ExitWhenIdle < wait {
		wait = c.Pipeline.ExitWhenIdle // an idle exit must not wait on a long poll
	}
	q := queue.New(sqsClient, c.QueueURL, wait)
	cluster, err := connect(ctx, log, c.Index)
	if err != nil {
		return err
	}
	c.Pipeline.Logger, c.Pipeline.Metrics = log, m
	p := pipeline.New(q, source.New(s3Client, c.ObjectReadTimeout), cluster, router, c.Pipeline)

	// The metrics server comes first and lives as long as the pipeline:
	// /healthz answers while the templates wait for the cluster.
	srvCtx, stopServer := context.WithCancel(context.WithoutCancel(ctx))
	var g errgroup.Group
	if c.MetricsAddr != "" {
		g.Go(func() error {
			return serveHTTP(srvCtx, c.MetricsAddr, m.Handler(p.Health), 30*time.Second, func(a net.Addr) { log.Info("serving /metrics and /healthz", "addr", a.String()) })
		})
	}
	if c.PprofAddr != "" {
		g.Go(func() error {
			return serveHTTP(srvCtx, c.PprofAddr, pprofHandler(), 0, func(a net.Addr) { log.Info("serving /debug/pprof/", "addr", a.String()) })
		})
	}
	var runErr error
	if c.InstallTemplate {
		installTemplates(ctx, log, cluster, fs, c.Pipeline.DeadLetterIndex, c.Retention)
	}
	if ctx.Err() != nil {
		// Stopped while waiting for the cluster: nothing was received, so
		// this is a clean stop.
		log.Info("worker stopped before receiving anything")
	} else {
		log.Info("worker starting", "version", version, "queue_url", c.QueueURL, "es_urls", redactURLs(c.Sink.URLs),
			"concurrency", c.Pipeline.Concurrency, "formats", indexPatterns(fs), "routes", fmt.Sprint(c.Routes),
			"dead_letter_index", c.Pipeline.DeadLetterIndex, "index_time_zone", c.Location.String())
		runErr = p.Run(ctx)
		if runErr == nil {
			log.Info("worker stopped")
		}
	}
	stopServer()
	if err := g.Wait(); err != nil && runErr == nil {
		runErr = fmt.Errorf("metrics server: %w", err)
	}
	return runErr
}

// startWithSource starts a subcommand that indexes objects and takes an
// s3://BUCKET[/PREFIX] argument (before or after its options): it parses
// them, prepares the AWS configuration and the formats, then validates.
func startWithSource(ctx context.Context, f *config.Flags, args []string, stdout io.Writer, bucket, prefix *string, c *config.Index, validate func() error) (aws.Config, []format.Format, error) {
	rest, err := f.ParseArgs(args, 1)
	if err := helpOrUsage(f, err, stdout); err != nil {
		return aws.Config{}, nil, err
	}
	if len(rest) == 1 {
		if *bucket, *prefix, err = config.ParseS3URL(rest[0]); err != nil {
			return aws.Config{}, nil, usageError{err}
		}
	}
	awsCfg, fs, err := prepare(ctx, c)
	if err != nil {
		return aws.Config{}, nil, err
	}
	if err := validate(); err != nil {
		return aws.Config{}, nil, usageError{err}
	}
	return awsCfg, fs, nil
}

// prepare loads the AWS configuration (the search cluster's SigV4 uses
// it) and builds the formats, for a command that indexes objects.
func prepare(ctx context.Context, c *config.Index) (aws.Config, []format.Format, error) {
	awsCfg, err := awsConfig(ctx)
	if err != nil {
		return aws.Config{}, nil, err
	}
	c.Search.AWS = awsCfg
	if c.Search.Region == "" {
		c.Search.Region = awsCfg.Region
	}
	fs, err := newFormats(c.IndexPrefixes, c.Location, c.FindingsHistory)
	if err != nil {
		return aws.Config{}, nil, usageError{err}
	}
	if err := config.CheckIndexNames(c.Pipeline.DeadLetterIndex, fs); err != nil {
		return aws.Config{}, nil, usageError{err}
	}
	if _, err := c.Retention.Policies(fs); err != nil {
		return aws.Config{}, nil, usageError{err}
	}
	return awsCfg, fs, nil
}

// connect builds the search cluster's client and says how it connects.
func connect(ctx context.Context, log *slog.Logger, c config.Index) (*sink.Sink, error) {
	httpClient, err := searchhttp.New(ctx, c.Search)
	if err != nil {
		return nil, fmt.Errorf("search cluster connection: %w", err)
	}
	logSearchConnection(log, c)
	c.Sink.HTTPClient = httpClient
	return sink.New(c.Sink)
}

// newFormats builds every format the worker knows, with the index prefixes
// given (by format name) and the index time zone.
func newFormats(prefixes map[string]string, loc *time.Location, history bool) ([]format.Format, error) {
	for name := range prefixes {
		if _, ok := formats.Find(name); !ok {
			return nil, fmt.Errorf("--index-prefix %s=%s: no format %q (formats: %s)", name, prefixes[name], name, strings.Join(formats.Names(), ", "))
		}
	}
	return formats.New(func(name string) format.Options {
		return format.Options{IndexPrefix: prefixes[name], Location: loc, History: history}
	})
}

// indexPatterns names each format with its indices, for the start-up log.
func indexPatterns(fs []format.Format) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name() + ":" + f.IndexPattern()
	}
	return out
}

// logSearchConnection says how the worker authenticates to the cluster,
// without any secret, and warns about settings that weaken the connection.
func logSearchConnection(log *slog.Logger, c config.Index) {
	o := c.Search
	attrs := []any{"auth", o.AuthMode(), "tls_verify", !o.InsecureSkipVerify}
	switch o.AuthMode() {
	case "basic":
		attrs = append(attrs, "username", o.Username)
		if o.PasswordFile != "" {
			attrs = append(attrs, "password_from", o.PasswordFile)
		} else {
			attrs = append(attrs, "password_from", "$"+config.PasswordEnv)
		}
	case "apikey":
		if o.APIKeyFile != "" {
			attrs = append(attrs, "api_key_from", o.APIKeyFile)
		} else {
			attrs = append(attrs, "api_key_from", "$"+config.APIKeyEnv)
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
	if m := o.AuthMode(); m == "basic" || m == "apikey" {
		for _, u := range c.Sink.URLs {
			if strings.HasPrefix(strings.ToLower(u), "http://") {
				log.Warn("credentials sent over plain http", "auth", m, "es_url", redactURLs([]string{u})[0])
			}
		}
	}
}

// newLogger writes JSON lines at level and above; the configuration has
// already refused a level slog does not know, and info stands in for one
// all the same.
func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		l = slog.LevelInfo
	}
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

// objectsConfig is the AWS configuration objects are read with: with
// --assume-role-arn, that role's credentials (from STS with the SDK's own,
// cached and renewed five minutes before they expire); otherwise cfg.
func objectsConfig(cfg aws.Config, c config.Index) aws.Config {
	if c.AssumeRoleARN == "" {
		return cfg
	}
	cfg = cfg.Copy()
	cfg.Credentials = assumeRole(sts.NewFromConfig(cfg), c.AssumeRoleARN, c.ExternalID)
	return cfg
}

// assumeRole is the role's credentials from STS, cached and renewed five
// minutes before they expire.
func assumeRole(client stscreds.AssumeRoleAPIClient, roleARN, externalID string) aws.CredentialsProvider {
	p := stscreds.NewAssumeRoleProvider(client, roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "logtide-worker"
		if externalID != "" {
			o.ExternalID = aws.String(externalID)
		}
	})
	return aws.NewCredentialsCache(p, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = 5 * time.Minute })
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

// installTemplates installs the templates of every format (with the ECS
// component they are composed of), of the findings history and of the
// dead-letter index, for the engine the cluster runs, waiting for the
// cluster as long as it takes: a worker can start before its cluster does,
// or while it refuses it, and it takes no message until the templates are
// in place. It returns early only when ctx ends.
func installTemplates(ctx context.Context, log *slog.Logger, cluster *sink.Sink, fs []format.Format, deadLetterIndex string, retention setup.Retention) {
	var engine format.Engine
	retry(ctx, log, "cluster information", func(ctx context.Context) error {
		info, err := cluster.Cluster(ctx)
		if err == nil {
			engine = setup.EngineOf(info)
			log.Info("search cluster", "distribution", info.Distribution, "version", info.Version, "free_form_mapping", engine.FreeForm())
		}
		return err
	})
	policies, _ := retention.Policies(fs) // checked by prepare
	templates, err := setup.Templates(engine, fs, deadLetterIndex, setup.ILMNames(engine, policies))
	if err != nil {
		log.Error("templates", "err", err)
		return
	}
	for _, t := range templates {
		ok := retry(ctx, log, t.What, func(ctx context.Context) error {
			if t.Component {
				return cluster.PutComponentTemplate(ctx, t.Name, t.Body)
			}
			return cluster.PutIndexTemplate(ctx, t.Name, t.Body)
		})
		if !ok {
			return
		}
	}
}

// retry does a step of the start until it succeeds, waiting longer after
// each failure; false when ctx ended first.
func retry(ctx context.Context, log *slog.Logger, what string, do func(context.Context) error) bool {
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := do(cctx)
		cancel()
		if err == nil {
			log.Info("installed", "what", what)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		d := backoff.Delay(time.Second, 30*time.Second, attempt)
		log.Warn("waiting for the search cluster before taking any message",
			"step", what, "attempt", attempt, "retry_in", d.Round(time.Millisecond), "err", err)
		if !backoff.Sleep(ctx, d) {
			return false
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
