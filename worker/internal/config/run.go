package config

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/internal/pipeline"
	"github.com/logtide/logtide/worker/internal/route"
	"github.com/logtide/logtide/worker/internal/searchhttp"
	"github.com/logtide/logtide/worker/internal/setup"
	"github.com/logtide/logtide/worker/internal/sink"
	"github.com/logtide/logtide/worker/internal/source"
)

// Run is the configuration of `worker run`, each part in the options type of
// the package it configures.
type Run struct {
	QueueURL string
	// WaitTime is the long-poll wait of one receive.
	WaitTime time.Duration

	Index

	MetricsAddr string
	PprofAddr   string
}

// Index is what every command that indexes objects shares (`worker run` and
// `worker backfill`): how objects are read, routed and written, and the
// search cluster's connection.
type Index struct {
	// ObjectReadTimeout bounds each wait for S3 while reading an object.
	ObjectReadTimeout time.Duration

	Pipeline pipeline.Options // bulk requests included
	Sink     sink.Options
	Search   searchhttp.Options
	// IndexPrefixes are the formats' index prefixes set on the command line,
	// by format name; the others keep their format's default.
	IndexPrefixes map[string]string
	// Location is the time zone choosing the date in index names.
	Location *time.Location
	Routes   []route.Rule

	InstallTemplate bool
	LogLevel        string

	// Retention is how long each format's indices are kept, where the
	// engine has a lifecycle API (`worker setup` installs the policies;
	// on Elasticsearch the templates name them).
	Retention setup.Retention

	// FindingsHistory keeps every version of every finding in history
	// indices besides the current state.
	FindingsHistory bool

	// AssumeRoleARN is a role the objects are read with (a bucket of
	// another account); ExternalID goes with it when the role asks for one.
	AssumeRoleARN, ExternalID string
}

// PasswordEnv and APIKeyEnv are the environment variables holding the
// search cluster's password and API key. They have no flag: command lines
// are visible to every local user.
const (
	PasswordEnv = "LOGTIDE_ES_PASSWORD"
	APIKeyEnv   = "LOGTIDE_ES_API_KEY"
)

// RunFlags registers every option of `worker run` on a new flag set, with
// the defaults of the packages they configure.
func RunFlags(c *Run) *Flags {
	f := NewFlags("run", "LOGTIDE_", "Long-poll the SQS queue for S3 notifications and index every record of every object they name.\n"+
		"AWS region, credentials and endpoint come from the SDK's standard chain (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, ...).\n"+
		"The search cluster's basic-auth password comes from $"+PasswordEnv+" or --es-password-file, never from a flag.")
	*c = Run{WaitTime: 20 * time.Second, MetricsAddr: ":9108"}
	IndexFlags(f, &c.Index)
	p := &c.Pipeline
	f.StringVar(&c.QueueURL, "queue-url", "", "URL of the SQS queue receiving the bucket's notifications (required)")
	f.DurationVar(&p.StallTimeout, "stall-timeout", p.StallTimeout, "with messages in work and no progress (and not waiting for the cluster) for this long, /healthz answers 503 so the task is replaced; 0 disables")
	f.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, "address serving /metrics and /healthz; empty disables")
	f.StringVar(&c.PprofAddr, "pprof-addr", "", "address serving Go's /debug/pprof/ profiles, apart from /metrics; empty (the default) disables")
	f.DurationVar(&p.ExitWhenIdle, "exit-when-idle", p.ExitWhenIdle, "exit 0 once the queue has stayed empty this long (0: run until stopped)")
	f.DurationVar(&c.WaitTime, "wait-time", c.WaitTime, "long-poll wait of one receive (at most 20s)")
	return f
}

// IndexFlags sets c to its defaults and registers its options on f: how
// objects are read, routed and written, and the search cluster's
// connection.
func IndexFlags(f *Flags, c *Index) {
	*c = Index{
		ObjectReadTimeout: source.DefaultIdleTimeout,
		Pipeline:          pipeline.DefaultOptions(),
		Sink:              sink.Options{URLs: []string{"http://127.0.0.1:9200"}},
		Search:            searchhttp.Options{SigV4Service: searchhttp.ServiceES, Password: searchhttp.Secret(os.Getenv(PasswordEnv)), APIKey: searchhttp.Secret(os.Getenv(APIKeyEnv))},
		IndexPrefixes:     map[string]string{},
		Location:          time.UTC,
		InstallTemplate:   true,
		LogLevel:          "info",
	}
	p, b, s := &c.Pipeline, &c.Pipeline.Bulk, &c.Search

	f.Var(NewList(&c.Sink.URLs), "es-url", "Elasticsearch/OpenSearch endpoint; repeat or comma-separate for several")
	f.IntVar(&p.Concurrency, "concurrency", p.Concurrency, "most messages processed at once (backfill: objects)")
	f.IntVar(&p.MinConcurrency, "min-concurrency", p.MinConcurrency, "fewest messages processed at once while the cluster throttles")
	f.IntVar(&b.Concurrency, "bulk-concurrency", b.Concurrency, "most bulk requests in flight; documents of all objects in work share them")
	f.DurationVar(&b.FlushInterval, "bulk-flush-interval", b.FlushInterval, "longest a document waits for its bulk request to fill")
	f.DurationVar(&b.SlowRequest, "bulk-slow", b.SlowRequest, "a bulk request slower than this counts as cluster overload and shrinks intake")
	f.DurationVar(&b.RequestTimeout, "bulk-timeout", b.RequestTimeout, "longest one bulk request may take; a request that times out is sent again")
	f.DurationVar(&c.ObjectReadTimeout, "object-read-timeout", c.ObjectReadTimeout, "longest wait for S3 while reading an object (the request, then each read of its body); the object is then tried again later")
	f.Var(prefixes(c.IndexPrefixes), "index-prefix", "FORMAT=PREFIX: a format's documents go to <PREFIX>-YYYY-MM-DD (each format's default is its name); repeatable, comma-separated; a PREFIX alone is GuardDuty's")
	f.StringVar(&p.DeadLetterIndex, "dead-letter-index", p.DeadLetterIndex, "index keeping every record that cannot be indexed, with its object, line and reason")
	f.Var(NewLocation(&c.Location), "index-time-zone", "IANA time zone choosing the date in index names")
	f.Var(newRoutes(&c.Routes), "route", "PATTERN=FORMAT: read objects whose key matches PATTERN (* any characters, ? one) as FORMAT, or skip them with PATTERN=skip; repeatable, comma-separated, tried before the standard AWSLogs/ layouts")
	f.BoolVar(&c.InstallTemplate, "install-template", c.InstallTemplate, "install the index templates at start-up")
	f.IntVar(&p.MaxLineBytes, "max-line-bytes", p.MaxLineBytes, "longest accepted record, in bytes")
	f.IntVar(&b.MaxDocs, "bulk-max-docs", b.MaxDocs, "documents per bulk request at most")
	f.IntVar(&b.MaxBytes, "bulk-max-bytes", b.MaxBytes, "bytes per bulk request at most")
	f.DurationVar(&p.ShutdownGrace, "shutdown-grace", p.ShutdownGrace, "on SIGTERM, time in-flight messages get to finish before they are returned to the queue (0: none, they are returned at once)")
	f.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	f.StringVar(&s.Username, "es-username", "", "basic-auth user of the search cluster; the password comes from $"+PasswordEnv+" or --es-password-file")
	f.StringVar(&s.PasswordFile, "es-password-file", "", "file holding the basic-auth password (a mounted secret); trailing line breaks are ignored")
	f.StringVar(&s.APIKeyFile, "es-api-key-file", "", "file holding an Elasticsearch API key (its encoded value, or id:key; a mounted secret), instead of $"+APIKeyEnv+"; excludes basic auth and SigV4")
	f.StringVar(&s.CAFile, "es-ca-file", "", "PEM bundle of CA certificates trusted for the search cluster, in addition to the system roots")
	f.BoolVar(&s.InsecureSkipVerify, "es-insecure-skip-verify", false, "do not verify the search cluster's TLS certificate (test clusters only)")
	f.BoolVar(&s.SigV4, "es-sigv4", false, "sign requests to the search cluster with AWS SigV4 and the SDK's credentials (Amazon OpenSearch Service)")
	f.StringVar(&s.SigV4Service, "es-sigv4-service", s.SigV4Service, "SigV4 service: es (an OpenSearch Service domain); aoss (OpenSearch Serverless) is refused: its collections assign their own document ids")
	f.StringVar(&s.Region, "es-region", "", "SigV4 region of the search cluster; empty: the SDK's region")
	f.Var(retentionFlag{&c.Retention}, "retention-days", "DAYS, or FORMAT=DAYS items: delete each format's indices this many days after their creation (ISM on OpenSearch, ILM on Elasticsearch; installed by worker setup); DAYS alone spares GuardDuty's current state, whose indices keep live findings (name guardduty=DAYS to include it; guardduty-history=DAYS for the history); 0 or empty: keep everything")
	f.BoolVar(&c.FindingsHistory, "findings-history", false, "also keep every version of every GuardDuty finding in history-<prefix>-YYYY-MM-DD (day of its updatedAt, _id arn@updatedAt), besides the current state")
	f.StringVar(&c.AssumeRoleARN, "assume-role-arn", "", "read the objects (S3 only) as this role, e.g. of the log archive account owning the bucket; its credentials are renewed before they expire")
	f.StringVar(&c.ExternalID, "external-id", "", "external id the role's trust policy asks for, with --assume-role-arn")
}

// Validate checks the options together. Each rule lives in the package the
// option configures; this adds the ones that are the command's own.
func (c *Run) Validate() error {
	var errs []error
	if c.QueueURL == "" {
		errs = append(errs, errors.New("--queue-url is required"))
	}
	if c.WaitTime < 0 || c.WaitTime > 20*time.Second {
		errs = append(errs, fmt.Errorf("--wait-time %s: want 0..20s", c.WaitTime))
	}
	errs = append(errs, c.Index.Validate())
	return errors.Join(errs...)
}

// Validate checks the shared options together.
func (c *Index) Validate() error {
	var errs []error
	if c.ExternalID != "" && c.AssumeRoleARN == "" {
		errs = append(errs, errors.New("--external-id goes with --assume-role-arn"))
	}
	if c.AssumeRoleARN != "" && !strings.HasPrefix(c.AssumeRoleARN, "arn:") {
		errs = append(errs, fmt.Errorf("--assume-role-arn %q: want a role ARN, arn:aws:iam::ACCOUNT:role/NAME", c.AssumeRoleARN))
	}
	if c.ObjectReadTimeout <= 0 {
		errs = append(errs, errors.New("--object-read-timeout must be positive"))
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	errs = append(errs, c.Pipeline.Validate(), c.Sink.Validate(), c.Search.Validate())
	return errors.Join(errs...)
}

// CheckIndexNames refuses index names that overlap: a dead-letter index
// that one of the formats would also write to (or install its template on),
// and two formats (or their history indices) whose index patterns cover
// each other's indices.
func CheckIndexNames(deadLetterIndex string, formats []format.Format) error {
	type named struct{ what, pattern string }
	var all []named
	for _, f := range formats {
		all = append(all, named{"the " + f.Name() + " indices", f.IndexPattern()})
		if h, ok := f.(format.History); ok && h.HistoryPattern() != "" {
			all = append(all, named{"the " + f.Name() + " history indices", h.HistoryPattern()})
		}
	}
	var errs []error
	for i, f := range all {
		if deadLetterIndex == strings.TrimSuffix(f.pattern, "-*") || matchesPattern(deadLetterIndex, f.pattern) {
			errs = append(errs, fmt.Errorf("--dead-letter-index %q: must lie outside %s (%s)", deadLetterIndex, f.what, f.pattern))
		}
		for _, g := range all[i+1:] {
			a, b := strings.TrimSuffix(f.pattern, "*"), strings.TrimSuffix(g.pattern, "*")
			if strings.HasPrefix(a, b) || strings.HasPrefix(b, a) {
				errs = append(errs, fmt.Errorf("--index-prefix: %s (%s) and %s (%s) overlap", f.what, f.pattern, g.what, g.pattern))
			}
		}
	}
	return errors.Join(errs...)
}

// matchesPattern reports whether index matches an index pattern whose only
// wildcard is a trailing *.
func matchesPattern(index, pattern string) bool {
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(index, p)
	}
	return index == pattern
}

// retentionFlag is the --retention-days flag.
type retentionFlag struct{ p *setup.Retention }

func (r retentionFlag) Set(v string) error {
	parsed, err := setup.ParseRetention(v)
	if err != nil {
		return err
	}
	*r.p = parsed
	return nil
}

func (r retentionFlag) String() string {
	if r.p == nil || r.p.Off() {
		return ""
	}
	var s []string
	if r.p.Default > 0 {
		s = append(s, fmt.Sprint(r.p.Default))
	}
	for name, d := range r.p.Days {
		s = append(s, fmt.Sprintf("%s=%d", name, d))
	}
	sort.Strings(s)
	return strings.Join(s, ",")
}

// prefixes is the --index-prefix flag.
type prefixes map[string]string

func (p prefixes) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		name, prefix, ok := strings.Cut(s, "=")
		if !ok {
			name, prefix = "guardduty", s
		}
		if name == "" || prefix == "" {
			return fmt.Errorf("%q: want FORMAT=PREFIX", s)
		}
		p[name] = prefix
	}
	return nil
}

func (p prefixes) String() string {
	var s []string
	for name, prefix := range p {
		s = append(s, name+"="+prefix)
	}
	sort.Strings(s)
	return strings.Join(s, ",")
}

// routes is the --route flag.
type routes struct{ p *[]route.Rule }

func newRoutes(p *[]route.Rule) routes { return routes{p: p} }

func (r routes) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		ru, err := route.ParseRule(s)
		if err != nil {
			return err
		}
		*r.p = append(*r.p, ru)
	}
	return nil
}

func (r routes) String() string {
	if r.p == nil {
		return ""
	}
	s := make([]string, len(*r.p))
	for i, ru := range *r.p {
		s[i] = ru.String()
	}
	return strings.Join(s, ",")
}
