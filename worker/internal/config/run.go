package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Run is the configuration of `worker run`.
type Run struct {
	QueueURL        string
	ESURLs          []string
	Concurrency     int
	MetricsAddr     string
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
}

// RunFlags registers every option of `worker run` on a new flag set.
func RunFlags(c *Run) *Flags {
	f := NewFlags("run", "Long-poll the SQS queue for S3 notifications of GuardDuty exports and index every finding.\n"+
		"AWS region, credentials and endpoint come from the SDK's standard chain (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, ...).")
	f.String(&c.QueueURL, "queue-url", "LOGTIDE_QUEUE_URL", "", "URL of the SQS queue receiving the bucket's notifications (required)")
	f.Strings(&c.ESURLs, "es-url", "LOGTIDE_ES_URL", []string{"http://127.0.0.1:9200"}, "Elasticsearch/OpenSearch endpoint; repeat or comma-separate for several")
	f.Int(&c.Concurrency, "concurrency", "LOGTIDE_CONCURRENCY", 8, "messages processed at once")
	f.String(&c.MetricsAddr, "metrics-addr", "LOGTIDE_METRICS_ADDR", ":9108", "address serving /metrics and /healthz; empty disables")
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
	if c.DeadLetterIndex == "" || strings.HasPrefix(c.DeadLetterIndex, c.IndexPrefix+"-") || c.DeadLetterIndex != strings.ToLower(c.DeadLetterIndex) || strings.ContainsAny(c.DeadLetterIndex, ` ,"*\/<>|?#:`) {
		errs = append(errs, fmt.Errorf("--dead-letter-index %q: want a lower-case index name outside the findings' %s-* indices", c.DeadLetterIndex, c.IndexPrefix))
	}
	if c.Concurrency < 1 || c.Concurrency > 1000 {
		errs = append(errs, fmt.Errorf("--concurrency %d: want 1..1000", c.Concurrency))
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
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	return errors.Join(errs...)
}
