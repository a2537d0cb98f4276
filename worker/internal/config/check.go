package config

import (
	"errors"
	"time"
)

// Check is the configuration of `worker check`.
type Check struct {
	QueueURL string
	// Bucket and Prefix are where the logs are, from s3://BUCKET[/PREFIX].
	Bucket, Prefix string
	Probe          bool
	ProbeTimeout   time.Duration

	Index
}

// CheckFlags registers every option of `worker check`: those of `worker
// run` it uses read the same environment variables, so a task's
// environment checks as it is.
func CheckFlags(c *Check) *Flags {
	f := NewFlags("check", "LOGTIDE_", "Walk the chain the worker depends on with the credentials it would use, and print a checklist with a hint\n"+
		"for every failure: the queue (exists, redrive policy, visibility timeout, receive/delete/visibility allowed),\n"+
		"the bucket (the newest object under the prefix can be read, KMS included, and a format reads it), the search\n"+
		"cluster (reachable, signed in, version, template install, a bulk write to the dead-letter index, removed) and,\n"+
		"with --probe, the notification (a probe object is put and its message awaited). Exit status 0 only if all pass.")
	f.Synopsis = "[s3://BUCKET[/PREFIX]] [options]"
	*c = Check{ProbeTimeout: 30 * time.Second}
	IndexFlags(f, &c.Index)
	f.StringVar(&c.QueueURL, "queue-url", "", "URL of the SQS queue receiving the bucket's notifications")
	f.BoolVar(&c.Probe, "probe", false, "put a probe object under the prefix and wait for its notification on the queue (needs s3:PutObject and s3:DeleteObject there; workers skip the probe)")
	f.DurationVar(&c.ProbeTimeout, "probe-timeout", c.ProbeTimeout, "longest wait for the probe's notification")
	return f
}

// Validate checks the options together.
func (c *Check) Validate() error {
	var errs []error
	if c.ProbeTimeout <= 0 {
		errs = append(errs, errors.New("--probe-timeout must be positive"))
	}
	errs = append(errs, c.Index.Validate())
	return errors.Join(errs...)
}
