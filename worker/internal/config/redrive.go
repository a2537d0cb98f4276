package config

import (
	"errors"
	"fmt"
)

// Redrive is the configuration of `worker redrive`.
type Redrive struct {
	// DLQURL moves the dead-letter queue's messages back to QueueURL (or
	// the DLQ's only source queue).
	DLQURL, QueueURL string
	Max              int
	Method           string
	// FromIndex replays the objects with records in the dead-letter index,
	// those under s3://Bucket/Prefix when given.
	FromIndex      bool
	Bucket, Prefix string
	DryRun         bool

	Index
}

// RedriveFlags registers every option of `worker redrive`.
func RedriveFlags(c *Redrive) *Flags {
	f := NewFlags("redrive", "LOGTIDE_", "Send back through the worker what it set aside, once the cause is fixed:\n"+
		"  --dlq-url URL        move the dead-letter queue's messages back to their source queue (SQS's message-move\n"+
		"                       task where the endpoint has it, else a receive-send-delete loop);\n"+
		"  --from-index         process again every object with records in the dead-letter index (or those under\n"+
		"                       s3://BUCKET[/PREFIX]) after a mapping fix: records indexed now leave the dead-letter\n"+
		"                       index, those failing again stay with their new reason; nothing is duplicated.\n"+
		"--dry-run says what would move.")
	f.Synopsis = "(--dlq-url URL | --from-index [s3://BUCKET[/PREFIX]]) [options]"
	*c = Redrive{Method: "auto"}
	IndexFlags(f, &c.Index)
	f.StringVar(&c.DLQURL, "dlq-url", "", "dead-letter queue whose messages go back to the source queue")
	f.StringVar(&c.QueueURL, "queue-url", "", "source queue to move them to (default: the queue whose redrive policy names the DLQ)")
	f.IntVar(&c.Max, "max", 0, "move at most this many messages (0: those in the DLQ at the start)")
	f.StringVar(&c.Method, "method", c.Method, "auto, move-task (SQS's StartMessageMoveTask) or loop (receive, send, delete)")
	f.BoolVar(&c.FromIndex, "from-index", false, "replay the objects whose records are in the dead-letter index (--dead-letter-index)")
	f.BoolVar(&c.DryRun, "dry-run", false, "say what would be moved or replayed, and change nothing")
	return f
}

// Validate checks the options together.
func (c *Redrive) Validate() error {
	var errs []error
	switch {
	case c.DLQURL == "" && !c.FromIndex:
		errs = append(errs, errors.New("say what to redrive: --dlq-url URL (messages) or --from-index (records)"))
	case c.DLQURL != "" && c.FromIndex:
		errs = append(errs, errors.New("--dlq-url and --from-index: one at a time"))
	}
	if c.Bucket != "" && !c.FromIndex {
		errs = append(errs, errors.New("s3://BUCKET[/PREFIX] chooses records of the dead-letter index: it goes with --from-index"))
	}
	switch c.Method {
	case "auto", "loop":
	case "move-task":
		if c.Max > 0 {
			errs = append(errs, errors.New("--max needs --method loop or auto: SQS's message-move task moves every message"))
		}
	default:
		errs = append(errs, fmt.Errorf("--method %q: want auto, move-task or loop", c.Method))
	}
	if c.Max < 0 {
		errs = append(errs, errors.New("--max must not be negative"))
	}
	errs = append(errs, c.Index.Validate())
	return errors.Join(errs...)
}
