package waf

import (
	_ "embed"
	"strings"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/ecs"
)

//go:embed template.json
var templateJSON string

// IndexTemplate returns the composable index template of the format's
// indices: ids and enums as keyword, timestamp as a date in epoch
// milliseconds, the client address as ip, headers and labels as arrays of
// plain objects, every number and string of the rule structures as keyword
// (their types drift between records: evaluationWindowSec is 300 in one and
// "120" in another), and the ECS fields from their component template. WAF
// records have no free-form objects: their member names are fixed, and
// header names are values, not names.
func (w *WAF) IndexTemplate(format.Engine) (name, body string) {
	return w.prefix, strings.NewReplacer("{{PATTERN}}", w.IndexPattern(), "{{ECS}}", ecs.TemplateName).Replace(templateJSON)
}
