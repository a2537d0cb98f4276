// Command worker moves AWS security logs from S3 into Elasticsearch or
// OpenSearch: it long-polls an SQS queue for S3 event notifications, streams
// each object, indexes its records in bulk and deletes a message only once
// every record it names is written.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	_ "time/tzdata"

	"github.com/logtide/logtide/worker/internal/config" // --index-time-zone works in minimal container images too
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "run" {
		tuneGC()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Garbage collector defaults of the service, used unless GOGC or GOMEMLIMIT
// are set. The worker's live heap is small and bounded (line buffers, bulk
// requests in flight), so Go's default (collect whenever the heap doubles)
// runs a collection every few megabytes of garbage; and every collection
// shrinks the stacks of goroutines waiting on a bulk write, which grow back
// through the AWS SDK's deep call chains for the next object. Five times the
// live heap, with a soft ceiling, cuts the worker's CPU per small object by
// about a quarter (make bench); the heap then grows toward the ceiling when
// bulk requests wait on a slow cluster.
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 192 << 20
)

func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"run", "index the logs announced on an SQS queue (the service)", cmdRun},
	{"backfill", "load the objects already in a bucket: index them here, or enqueue them for the fleet", cmdBackfill},
	{"check", "walk the queue, bucket, cluster and notification with the worker's credentials; a hint for every failure", cmdCheck},
	{"setup", "install the templates, dead-letter index, retention policies and Dashboards saved objects", cmdSetup},
	{"redrive", "move the DLQ's messages back to the queue, or replay the records of the dead-letter index", cmdRedrive},
	{"generate", "write realistic sample logs of every type to a folder or a bucket", cmdGenerate},
	{"healthcheck", "exit 0 if the worker's /healthz answers 200 (container health check)", cmdHealthcheck},
	{"version", "print the version", func(_ context.Context, _ []string, stdout, _ io.Writer) error {
		_, err := fmt.Fprintln(stdout, version)
		return err
	}},
}

func usage(w io.Writer) {
	fmt.Fprint(w, "Usage: worker <command> [options]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'worker <command> --help' for the options of a command.\n")
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		default:
			fmt.Fprintf(stderr, "worker %s: %v\n", c.name, err)
			var ue usageError
			if errors.As(err, &ue) {
				return 2
			}
			return 1
		}
	}
	fmt.Fprintf(stderr, "worker: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// usageError marks bad options: exit status 2.
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

// parseFlags parses a subcommand's options; --help prints its usage to stdout.
func parseFlags(f *config.Flags, args []string, stdout io.Writer) error {
	return helpOrUsage(f, f.Parse(args), stdout)
}

// helpOrUsage prints the usage when err asks for help, and marks other
// errors of parsing as bad usage.
func helpOrUsage(f *config.Flags, err error, stdout io.Writer) error {
	if errors.Is(err, flag.ErrHelp) {
		f.PrintUsage(stdout)
		return err
	}
	if err != nil {
		return usageError{err}
	}
	return nil
}
