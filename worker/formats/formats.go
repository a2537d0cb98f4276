// Package formats lists every log type the worker reads. Adding a format is
// a folder under worker/format and one line here.
package formats

import (
	"fmt"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/cloudtrail"
	"github.com/logtide/logtide/worker/format/elb"
	"github.com/logtide/logtide/worker/format/guardduty"
	"github.com/logtide/logtide/worker/format/resolver"
	"github.com/logtide/logtide/worker/format/s3access"
	"github.com/logtide/logtide/worker/format/vpcflow"
	"github.com/logtide/logtide/worker/format/waf"
)

// All are the formats, in the order their claims on a key are asked.
var All = []format.Spec{
	guardduty.Spec,
	cloudtrail.Spec,
	vpcflow.Spec,
	elb.Spec,
	waf.Spec,
	s3access.Spec,
	resolver.Spec,
}

// Find returns the format named name.
func Find(name string) (format.Spec, bool) {
	for _, s := range All {
		if s.Name == name {
			return s, true
		}
	}
	return format.Spec{}, false
}

// Names lists the formats' names.
func Names() []string {
	out := make([]string, len(All))
	for i, s := range All {
		out[i] = s.Name
	}
	return out
}

// New builds every format with the options options gives it (by name): the
// index prefix, time zone and history of each.
func New(options func(name string) format.Options) ([]format.Format, error) {
	out := make([]format.Format, 0, len(All))
	for _, s := range All {
		f, err := s.New(options(s.Name))
		if err != nil {
			return nil, fmt.Errorf("format %s: %w", s.Name, err)
		}
		out = append(out, f)
	}
	return out, nil
}
