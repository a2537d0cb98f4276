package vpcflow

import (
	_ "embed"
	"strings"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/ecs"
)

//go:embed template.json
var templateJSON string

// IndexTemplate returns the composable index template of the format's
// indices: addresses as ip, counts, ports and protocol numbers as long,
// start and end as dates in epoch seconds, ids and enums as keyword, the ECS
// fields from their component template. Fields a header names that the
// format does not know are strings, mapped as keyword.
func (v *VPCFlow) IndexTemplate(format.Engine) (name, body string) {
	return v.prefix, strings.NewReplacer("{{PATTERN}}", v.IndexPattern(), "{{ECS}}", ecs.TemplateName).Replace(templateJSON)
}
