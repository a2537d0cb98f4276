package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/logtide/logtide/worker/internal/indexname"
)

// Run is the configuration of `worker run`.
type Run struct {
	QueueURL        string
	ESURLs          []string
	Concurrency     int
	MinConcurrency  int
	SlowBulk        time.Duration
	BulkConcurrency int
	BulkFlush       time.Duration
	MetricsAddr     string
	PprofAddr       string
	ExitWhenIdle    time.Duration
	IndexPrefix     string
	DeadLetterIndex string
	TimeZone        string
	InstallTemplate bool
	WaitTime        time.Duration
	MaxLineBytes    int
	BulkMaxDocs     int
	BulkMaxBytes    int
	ShutdownGrace   time.Duration
	LogLevel        string

	// Connection to the search cluster.
	ESUsername           string
	ESPassword           Secret // only from $LOGTIDE_ES_PASSWORD: a flag would show in ps
	ESPasswordFile       string
	ESCAFile             string
	ESInsecureSkipVerify bool
	ESSigV4              bool
	ESSigV4Service       string
	ESRegion             string
}

// Secret is a string that prints as [redacted], so logging or printing a Run
// never shows the password.
type Secret string

func (Secret) String() string { return "[redacted]" }

// PasswordEnv is the environment variable holding the search cluster's
// password. It has no flag: command lines are visible to every local user.
const PasswordEnv = "LOGTIDE_ES_PASSWORD"

// RunFlags registers every option of `worker run` on a new flag set.
func RunFlags(c *Run) *Flags {
	f := NewFlags("run", "Long-poll the SQS queue for S3 notifications of GuardDuty exports and index every finding.\n"+
		"AWS region, credentials and endpoint come from the SDK's standard chain (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, ...).\n"+
		"The search cluster's basic-auth password comes from $"+PasswordEnv+" or --es-password-file, never from a flag.")
	f.String(&c.QueueURL, "queue-url", "LOGTIDE_QUEUE_URL", "", "URL of the SQS queue receiving the bucket's notifications (required)")
	f.Strings(&c.ESURLs, "es-url", "LOGTIDE_ES_URL", []string{"http://127.0.0.1:9200"}, "Elasticsearch/OpenSearch endpoint; repeat or comma-separate for several")
	f.Int(&c.Concurrency, "concurrency", "LOGTIDE_CONCURRENCY", 8, "most messages processed at once")
	f.Int(&c.MinConcurrency, "min-concurrency", "LOGTIDE_MIN_CONCURRENCY", 1, "fewest messages processed at once while the cluster throttles")
	f.Int(&c.BulkConcurrency, "bulk-concurrency", "LOGTIDE_BULK_CONCURRENCY", 4, "most bulk requests in flight; documents of all objects in work share them")
	f.Duration(&c.BulkFlush, "bulk-flush-interval", "LOGTIDE_BULK_FLUSH_INTERVAL", 50*time.Millisecond, "longest a document waits for its bulk request to fill")
	f.Duration(&c.SlowBulk, "bulk-slow", "LOGTIDE_BULK_SLOW", 10*time.Second, "a bulk request slower than this counts as cluster overload and shrinks intake")
	f.String(&c.MetricsAddr, "metrics-addr", "LOGTIDE_METRICS_ADDR", ":9108", "address serving /metrics and /healthz; empty disables")
	f.String(&c.PprofAddr, "pprof-addr", "LOGTIDE_PPROF_ADDR", "", "address serving Go's /debug/pprof/ profiles, apart from /metrics; empty (the default) disables")
	f.Duration(&c.ExitWhenIdle, "exit-when-idle", "LOGTIDE_EXIT_WHEN_IDLE", 0, "exit 0 once the queue has stayed empty this long (0: run until stopped)")
	f.String(&c.IndexPrefix, "index-prefix", "LOGTIDE_INDEX_PREFIX", "guardduty", "index name prefix; findings go to <prefix>-YYYY-MM-DD of their createdAt")
	f.String(&c.DeadLetterIndex, "dead-letter-index", "LOGTIDE_DEAD_LETTER_INDEX", "logtide-deadletter", "index keeping every record that cannot be indexed, with its object, line and reason")
	f.String(&c.TimeZone, "index-time-zone", "LOGTIDE_INDEX_TIME_ZONE", "UTC", "IANA time zone choosing the date in the index name")
	f.Bool(&c.InstallTemplate, "install-template", "LOGTIDE_INSTALL_TEMPLATE", true, "install the index template at start-up")
	f.Duration(&c.WaitTime, "wait-time", "LOGTIDE_WAIT_TIME", 20*time.Second, "long-poll wait of one receive (at most 20s)")
	f.Int(&c.MaxLineBytes, "max-line-bytes", "LOGTIDE_MAX_LINE_BYTES", 4<<20, "longest accepted record, in bytes")
	f.Int(&c.BulkMaxDocs, "bulk-max-docs", "LOGTIDE_BULK_MAX_DOCS", 1000, "documents per bulk request at most")
	f.Int(&c.BulkMaxBytes, "bulk-max-bytes", "LOGTIDE_BULK_MAX_BYTES", 5<<20, "bytes per bulk request at most")
	f.Duration(&c.ShutdownGrace, "shutdown-grace", "LOGTIDE_SHUTDOWN_GRACE", 20*time.Second, "on SIGTERM, time in-flight messages get to finish before they are returned to the queue")
	f.String(&c.LogLevel, "log-level", "LOGTIDE_LOG_LEVEL", "info", "debug, info, warn or error")
	f.String(&c.ESUsername, "es-username", "LOGTIDE_ES_USERNAME", "", "basic-auth user of the search cluster; the password comes from $"+PasswordEnv+" or --es-password-file")
	f.String(&c.ESPasswordFile, "es-password-file", "LOGTIDE_ES_PASSWORD_FILE", "", "file holding the basic-auth password (a mounted secret); trailing line breaks are ignored")
	f.String(&c.ESCAFile, "es-ca-file", "LOGTIDE_ES_CA_FILE", "", "PEM bundle of CA certificates trusted for the search cluster, in addition to the system roots")
	f.Bool(&c.ESInsecureSkipVerify, "es-insecure-skip-verify", "LOGTIDE_ES_INSECURE_SKIP_VERIFY", false, "do not verify the search cluster's TLS certificate (test clusters only)")
	f.Bool(&c.ESSigV4, "es-sigv4", "LOGTIDE_ES_SIGV4", false, "sign requests to the search cluster with AWS SigV4 and the SDK's credentials (Amazon OpenSearch Service)")
	f.String(&c.ESSigV4Service, "es-sigv4-service", "LOGTIDE_ES_SIGV4_SERVICE", "es", "SigV4 service: es (OpenSearch Service domain) or aoss (OpenSearch Serverless)")
	f.String(&c.ESRegion, "es-region", "LOGTIDE_ES_REGION", "", "SigV4 region of the search cluster; empty: the SDK's region")
	c.ESPassword = Secret(os.Getenv(PasswordEnv))
	return f
}

// Validate checks the options together.
func (c *Run) Validate() error {
	var errs []error
	if c.QueueURL == "" {
		errs = append(errs, errors.New("--queue-url is required"))
	}
	if len(c.ESURLs) == 0 {
		errs = append(errs, errors.New("--es-url: at least one endpoint is required"))
	}
	for _, u := range c.ESURLs {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("--es-url %q: want http(s)://host[:port]", u))
		}
		if err == nil && p.User != nil {
			errs = append(errs, fmt.Errorf("--es-url: credentials in the URL are not accepted"))
		}
	}
	if err := indexname.Check(c.IndexPrefix); err != nil {
		errs = append(errs, fmt.Errorf("--index-prefix %q: %w", c.IndexPrefix, err))
	}
	if err := indexname.Check(c.DeadLetterIndex); err != nil {
		errs = append(errs, fmt.Errorf("--dead-letter-index %q: %w", c.DeadLetterIndex, err))
	} else if strings.HasPrefix(c.DeadLetterIndex, c.IndexPrefix+"-") {
		errs = append(errs, fmt.Errorf("--dead-letter-index %q: must lie outside the findings' %s-* indices", c.DeadLetterIndex, c.IndexPrefix))
	}
	if c.Concurrency < 1 || c.Concurrency > 1000 {
		errs = append(errs, fmt.Errorf("--concurrency %d: want 1..1000", c.Concurrency))
	}
	if c.MinConcurrency < 1 || c.MinConcurrency > c.Concurrency {
		errs = append(errs, fmt.Errorf("--min-concurrency %d: want 1..--concurrency", c.MinConcurrency))
	}
	if c.BulkConcurrency < 1 || c.BulkConcurrency > 256 {
		errs = append(errs, fmt.Errorf("--bulk-concurrency %d: want 1..256", c.BulkConcurrency))
	}
	if c.BulkFlush <= 0 {
		errs = append(errs, fmt.Errorf("--bulk-flush-interval must be positive"))
	}
	if c.SlowBulk <= 0 {
		errs = append(errs, fmt.Errorf("--bulk-slow must be positive"))
	}
	if c.WaitTime < 0 || c.WaitTime > 20*time.Second {
		errs = append(errs, fmt.Errorf("--wait-time %s: want 0..20s", c.WaitTime))
	}
	if c.ExitWhenIdle < 0 {
		errs = append(errs, errors.New("--exit-when-idle must not be negative"))
	}
	if c.MaxLineBytes < 1024 {
		errs = append(errs, fmt.Errorf("--max-line-bytes %d: want at least 1024", c.MaxLineBytes))
	}
	if c.BulkMaxDocs < 1 || c.BulkMaxBytes < 1024 {
		errs = append(errs, errors.New("--bulk-max-docs must be ≥ 1 and --bulk-max-bytes ≥ 1024"))
	}
	if c.ShutdownGrace < 0 {
		errs = append(errs, errors.New("--shutdown-grace must not be negative"))
	}
	if c.ESSigV4 && (c.ESUsername != "" || c.ESPassword != "" || c.ESPasswordFile != "") {
		errs = append(errs, errors.New("--es-sigv4 and basic authentication (--es-username, $"+PasswordEnv+", --es-password-file) are mutually exclusive"))
	}
	if c.ESSigV4Service != "es" && c.ESSigV4Service != "aoss" {
		errs = append(errs, fmt.Errorf("--es-sigv4-service %q: want es or aoss", c.ESSigV4Service))
	}
	if !c.ESSigV4 {
		switch {
		case c.ESPassword != "" && c.ESPasswordFile != "":
			errs = append(errs, errors.New("$"+PasswordEnv+" and --es-password-file are both set; choose one"))
		case c.ESUsername == "" && (c.ESPassword != "" || c.ESPasswordFile != ""):
			errs = append(errs, errors.New("a search password is set without --es-username"))
		case c.ESUsername != "" && c.ESPassword == "" && c.ESPasswordFile == "":
			errs = append(errs, errors.New("--es-username needs $"+PasswordEnv+" or --es-password-file"))
		}
	}
	if c.ESInsecureSkipVerify && c.ESCAFile != "" {
		errs = append(errs, errors.New("--es-ca-file and --es-insecure-skip-verify contradict each other"))
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	return errors.Join(errs...)
}
