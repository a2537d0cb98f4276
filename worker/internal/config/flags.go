// Package config reads the worker's options: flags of the standard flag
// package, each of which an environment variable can also set, filled
// straight into the options of the packages that use them.
//
// The standard flag package with a short environment overlay, rather than a
// configuration library: the overlay is the only thing missing, and it is
// the function Parse below.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// Flags is a subcommand's flag set. Every flag can also be set by the
// environment variable named after it (EnvPrefix + the flag's name in upper
// case, '-' as '_'); the command line wins over the environment, which wins
// over the default.
type Flags struct {
	*flag.FlagSet
	// Synopsis is what the help shows after the command's name.
	Synopsis  string
	envPrefix string
	summary   string
}

// NewFlags starts the flag set of a subcommand.
func NewFlags(name, envPrefix, summary string) *Flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// Errors and help are reported by the caller, once.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &Flags{FlagSet: fs, Synopsis: "[options]", envPrefix: envPrefix, summary: summary}
}

// Env is the environment variable of the flag named name.
func (f *Flags) Env(name string) string {
	return f.envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Parse reads the command line, then the environment variables of the
// flags the command line did not set. It returns flag.ErrHelp when help was
// asked for.
func (f *Flags) Parse(args []string) error {
	_, err := f.ParseArgs(args, 0)
	return err
}

// ParseArgs is Parse for a command that also takes up to max arguments
// besides its options, before or after them; it returns them.
func (f *Flags) ParseArgs(args []string, max int) ([]string, error) {
	var rest []string
	for {
		if err := f.FlagSet.Parse(args); err != nil {
			return nil, err
		}
		if args = f.Args(); len(args) == 0 {
			break
		}
		if len(rest) == max {
			return nil, fmt.Errorf("unexpected argument %q", args[0])
		}
		rest, args = append(rest, args[0]), args[1:]
	}
	return rest, f.overlayEnv()
}

// overlayEnv sets the flags the command line did not set from their
// environment variables.
func (f *Flags) overlayEnv() error {
	onCommandLine := map[string]bool{}
	f.Visit(func(fl *flag.Flag) { onCommandLine[fl.Name] = true })
	var errs []error
	f.VisitAll(func(fl *flag.Flag) {
		env := f.Env(fl.Name)
		v, ok := os.LookupEnv(env)
		if !ok || onCommandLine[fl.Name] {
			return
		}
		if err := fl.Value.Set(v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %v", env, v, err))
		}
	})
	return errors.Join(errs...)
}

// PrintUsage writes the subcommand's help: every flag with its environment
// variable and default.
func (f *Flags) PrintUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: worker %s %s\n\n%s\n\nOptions (each also read from its environment variable):\n", f.Name(), f.Synopsis, f.summary)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	f.VisitAll(func(fl *flag.Flag) {
		def := fl.DefValue
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(tw, "  --%s\t$%s\t%s (default %s)\n", fl.Name, f.Env(fl.Name), fl.Usage, def)
	})
	_ = tw.Flush()
}

// List is a flag whose value is a list: comma-separated, and repeatable on
// the command line. The first value given replaces the default.
type List struct {
	p   *[]string
	set bool
}

// NewList binds a list flag to p, whose current value is the default.
func NewList(p *[]string) *List { return &List{p: p} }

// Set adds the comma-separated values of v.
func (l *List) Set(v string) error {
	if !l.set {
		*l.p = nil
		l.set = true
	}
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l.p = append(*l.p, s)
		}
	}
	return nil
}

func (l *List) String() string {
	if l == nil || l.p == nil {
		return ""
	}
	return strings.Join(*l.p, ",")
}

// Location is a flag naming an IANA time zone.
type Location struct{ p **time.Location }

// NewLocation binds a time zone flag to p, whose current value is the
// default.
func NewLocation(p **time.Location) Location { return Location{p: p} }

// Set loads the zone named v.
func (l Location) Set(v string) error {
	loc, err := time.LoadLocation(v)
	if err != nil {
		return err
	}
	*l.p = loc
	return nil
}

func (l Location) String() string {
	if l.p == nil || *l.p == nil {
		return ""
	}
	return (*l.p).String()
}
