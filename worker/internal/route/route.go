// Package route chooses the format of each object from its key: the user's
// rules first (a key pattern and the format it names), then the formats'
// own claims on the layouts AWS services write (AWSLogs/<account>/<service>/).
package route

import (
	"fmt"
	"strings"

	"github.com/logtide/logtide/worker/format"
)

// Rule reads the objects whose key matches Pattern as Format. In Pattern, *
// stands for any run of characters, '/' included, and ? for any one
// character; everything else matches itself. The format SkipRule skips the
// objects instead: they are counted and their messages deleted, for a
// bucket that also holds logs the worker is not meant to index.
type Rule struct {
	Pattern, Format string
}

// ParseRule reads a rule written PATTERN=FORMAT.
func ParseRule(s string) (Rule, error) {
	i := strings.LastIndexByte(s, '=')
	if i <= 0 || i == len(s)-1 {
		return Rule{}, fmt.Errorf("route %q: want PATTERN=FORMAT", s)
	}
	return Rule{Pattern: s[:i], Format: s[i+1:]}, nil
}

func (r Rule) String() string { return r.Pattern + "=" + r.Format }

// SkipRule is the format a rule names to skip the objects it matches.
const SkipRule = "skip"

// Router routes keys.
type Router struct {
	rules   []rule
	formats []format.Format
}

type rule struct {
	pattern string
	format  format.Format // nil: skip
}

// New routes with the given formats and rules; every rule must name one of
// the formats.
func New(formats []format.Format, rules []Rule) (*Router, error) {
	r := &Router{formats: formats}
	for _, ru := range rules {
		var f format.Format
		if ru.Format == SkipRule {
			if ru.Pattern == "" {
				return nil, fmt.Errorf("route %s: empty pattern", ru)
			}
			r.rules = append(r.rules, rule{pattern: ru.Pattern})
			continue
		}
		for _, c := range formats {
			if c.Name() == ru.Format {
				f = c
			}
		}
		if f == nil {
			return nil, fmt.Errorf("route %s: no format %q (or %q)", ru, ru.Format, SkipRule)
		}
		if ru.Pattern == "" {
			return nil, fmt.Errorf("route %s: empty pattern", ru)
		}
		r.rules = append(r.rules, rule{pattern: ru.Pattern, format: f})
	}
	return r, nil
}

// Route returns the format of the object with this key and what to do with
// it (Read or Skip); nil and NotMine when no rule and no format claims it,
// nil and Skip when a skip rule matches it or it is the probe of `worker
// check --probe`.
func (r *Router) Route(key string) (format.Format, format.Claim) {
	if IsProbe(key) {
		return nil, format.Skip
	}
	k := format.ParseKey(key)
	for _, ru := range r.rules {
		if match(ru.pattern, key) {
			if ru.format == nil {
				return nil, format.Skip
			}
			// The user's rule names the format; the format may still know
			// the object as one without records (a digest).
			if ru.format.Claim(k) == format.Skip {
				return ru.format, format.Skip
			}
			return ru.format, format.Read
		}
	}
	for _, f := range r.formats {
		if c := f.Claim(k); c != format.NotMine {
			return f, c
		}
	}
	return nil, format.NotMine
}

// ProbePrefix starts the name of the object `worker check --probe` puts in
// the bucket to see its notification arrive. Workers skip it.
const ProbePrefix = "logtide-check-probe-"

// IsProbe reports whether key names a probe object.
func IsProbe(key string) bool {
	return strings.HasPrefix(key[strings.LastIndexByte(key, '/')+1:], ProbePrefix)
}

// match reports whether s matches the glob pattern p (* any run, ? one
// byte of a character).
func match(p, s string) bool {
	// The classic iterative glob match: on a mismatch, go back to the last
	// star and let it take one more character.
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
