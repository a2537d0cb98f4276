package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Backfill is the configuration of `worker backfill`.
type Backfill struct {
	// Bucket and Prefix are where the objects are, from s3://BUCKET/PREFIX.
	Bucket, Prefix string
	// Since and Until bound the objects' dates; Until is exclusive (a date
	// alone on the command line names its whole day).
	Since, Until time.Time
	// Format reads every object as this format instead of routing its key.
	Format string
	// Enqueue is the queue to send notifications to; empty: process here.
	Enqueue string
	// StateFile keeps the progress; empty: one per backfill in the user's
	// cache folder. Restart ignores it.
	StateFile string
	Restart   bool
	// ProgressInterval is how often a progress line is written when the
	// output is not a terminal.
	ProgressInterval time.Duration
	// MaxAttempts is how many times an object is tried before it counts as
	// failed (process mode).
	MaxAttempts int

	Index
}

// BackfillFlags registers every option of `worker backfill`.
func BackfillFlags(c *Backfill) *Flags {
	f := NewFlags("backfill", "LOGTIDE_", "Load the objects already in a bucket: list them in key order, keep those a format reads, and either\n"+
		"send one S3 event notification per object to the fleet's queue (--enqueue) or index them here and exit when\n"+
		"every object is done. Interrupted and started again with the same arguments, it goes on after the last\n"+
		"object it completed; loading an object twice changes nothing in the index.\n"+
		"AWS region, credentials and endpoint come from the SDK's standard chain (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, ...).")
	f.Synopsis = "s3://BUCKET[/PREFIX] [options]"
	*c = Backfill{ProgressInterval: 10 * time.Second, MaxAttempts: 3}
	IndexFlags(f, &c.Index)
	// One line per object would bury the progress: warnings and errors only.
	c.LogLevel = "warn"
	f.Lookup("log-level").DefValue = c.LogLevel
	f.Var(dateFlag{&c.Since, false}, "since", "load only objects of this date or later: YYYY-MM-DD or an RFC 3339 time; the date in the key (AWSLogs date folders, Hive partitions, S3 access log names), else the last-modified time")
	f.Var(dateFlag{&c.Until, true}, "until", "load only objects of dates before this time, or up to this date included (YYYY-MM-DD)")
	f.StringVar(&c.Format, "format", "", "read every object as this format (default: chosen from each key, as for notifications)")
	f.StringVar(&c.Enqueue, "enqueue", "", "URL of the fleet's SQS queue: send one notification per object there instead of indexing here")
	f.StringVar(&c.StateFile, "state-file", "", "file keeping what is done, to resume (default: one per backfill in the user's cache folder)")
	f.BoolVar(&c.Restart, "restart", false, "start over, ignoring what the state file says is done")
	f.DurationVar(&c.ProgressInterval, "progress-interval", c.ProgressInterval, "how often a progress line is written when the output is not a terminal")
	f.IntVar(&c.MaxAttempts, "max-attempts", c.MaxAttempts, "times an object is tried before it counts as failed (when indexing here)")
	return f
}

// ParseS3URL reads s3://BUCKET[/PREFIX].
func ParseS3URL(s string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q: want s3://BUCKET[/PREFIX]", s)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%q: no bucket", s)
	}
	return bucket, prefix, nil
}

// Validate checks the options together.
func (c *Backfill) Validate() error {
	var errs []error
	if c.Bucket == "" {
		errs = append(errs, errors.New("the bucket to load is required: worker backfill s3://BUCKET[/PREFIX]"))
	}
	if !c.Since.IsZero() && !c.Until.IsZero() && !c.Since.Before(c.Until) {
		errs = append(errs, errors.New("--since must come before --until"))
	}
	if c.ProgressInterval <= 0 {
		errs = append(errs, errors.New("--progress-interval must be positive"))
	}
	if c.MaxAttempts < 1 {
		errs = append(errs, errors.New("--max-attempts must be at least 1"))
	}
	if c.Enqueue != "" && c.Pipeline.Concurrency > 100 {
		errs = append(errs, fmt.Errorf("--concurrency %d: at most 100 requests at once to the queue", c.Pipeline.Concurrency))
	}
	errs = append(errs, c.Index.Validate())
	return errors.Join(errs...)
}

// dateFlag reads a date (YYYY-MM-DD, UTC) or an RFC 3339 time. As an upper
// bound, a date names its whole day.
type dateFlag struct {
	p     *time.Time
	until bool
}

func (d dateFlag) Set(v string) error {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		*d.p = t
		return nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return fmt.Errorf("%q: want YYYY-MM-DD or an RFC 3339 time", v)
	}
	if d.until {
		t = t.AddDate(0, 0, 1)
	}
	*d.p = t
	return nil
}

func (d dateFlag) String() string {
	if d.p == nil || d.p.IsZero() {
		return ""
	}
	return d.p.Format(time.RFC3339)
}
