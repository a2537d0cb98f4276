// Package config declares the worker's options: every flag has an environment
// variable equivalent and a default, and both show in --help. It holds no
// behaviour beyond parsing and validation.
package config

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Flags is a flag set whose every option can also come from the environment.
// A flag on the command line wins over the environment, which wins over the
// default.
type Flags struct {
	fs      *flag.FlagSet
	name    string
	summary string
	envErrs []error
	rows    [][3]string // flag, env, usage+default
}

// NewFlags starts a flag set for a subcommand.
func NewFlags(name, summary string) *Flags {
	f := &Flags{fs: flag.NewFlagSet(name, flag.ContinueOnError), name: name, summary: summary}
	// Errors and help are reported by the caller, once.
	f.fs.SetOutput(io.Discard)
	f.fs.Usage = func() {}
	return f
}

// PrintUsage writes the subcommand's help.
func (f *Flags) PrintUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: worker %s [options]\n\n%s\n\nOptions (each also read from its environment variable):\n", f.name, f.summary)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, r := range f.rows {
		fmt.Fprintf(tw, "  --%s\t%s\t%s\n", r[0], r[1], r[2])
	}
	_ = tw.Flush()
}

func (f *Flags) add(name, env, usage, def string, v flag.Value) {
	if s, ok := os.LookupEnv(env); ok {
		if err := v.Set(s); err != nil {
			f.envErrs = append(f.envErrs, fmt.Errorf("%s=%q: %v", env, s, err))
		}
	}
	if def == "" {
		def = `""`
	}
	f.rows = append(f.rows, [3]string{name, "$" + env, usage + " (default " + def + ")"})
	f.fs.Var(v, name, usage+" [$"+env+"]")
}

// String registers a string option.
func (f *Flags) String(p *string, name, env, def, usage string) {
	*p = def
	f.add(name, env, usage, def, (*stringValue)(p))
}

// Strings registers a list option: comma-separated, and repeatable on the
// command line.
func (f *Flags) Strings(p *[]string, name, env string, def []string, usage string) {
	*p = def
	l := &listValue{p: p}
	f.add(name, env, usage, strings.Join(def, ","), l)
	// A value from the environment is a default too: the first value on
	// the command line replaces it.
	l.set = false
}

// Int registers an integer option.
func (f *Flags) Int(p *int, name, env string, def int, usage string) {
	*p = def
	f.add(name, env, usage, strconv.Itoa(def), (*intValue)(p))
}

// Bool registers a boolean option.
func (f *Flags) Bool(p *bool, name, env string, def bool, usage string) {
	*p = def
	f.add(name, env, usage, strconv.FormatBool(def), (*boolValue)(p))
}

// Duration registers a duration option ("20s", "5m").
func (f *Flags) Duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	*p = def
	f.add(name, env, usage, def.String(), (*durationValue)(p))
}

// Parse reads the command line after the environment. It returns
// flag.ErrHelp when help was asked for.
func (f *Flags) Parse(args []string) error {
	if len(f.envErrs) > 0 {
		return f.envErrs[0]
	}
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	if f.fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", f.fs.Arg(0))
	}
	return nil
}

type stringValue string

func (s *stringValue) Set(v string) error { *s = stringValue(v); return nil }
func (s *stringValue) String() string     { return string(*s) }

type listValue struct {
	p   *[]string
	set bool
}

func (l *listValue) Set(v string) error {
	if !l.set { // the first value replaces the default; later ones append
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

func (l *listValue) String() string {
	if l.p == nil {
		return ""
	}
	return strings.Join(*l.p, ",")
}

type intValue int

func (i *intValue) Set(v string) error {
	n, err := strconv.Atoi(v)
	*i = intValue(n)
	return err
}
func (i *intValue) String() string { return strconv.Itoa(int(*i)) }

type boolValue bool

func (b *boolValue) Set(v string) error {
	x, err := strconv.ParseBool(v)
	*b = boolValue(x)
	return err
}
func (b *boolValue) String() string   { return strconv.FormatBool(bool(*b)) }
func (b *boolValue) IsBoolFlag() bool { return true }

type durationValue time.Duration

func (d *durationValue) Set(v string) error {
	x, err := time.ParseDuration(v)
	*d = durationValue(x)
	return err
}
func (d *durationValue) String() string { return time.Duration(*d).String() }
