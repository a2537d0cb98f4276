package elb

import (
	_ "embed"
	"strings"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/ecs"
)

//go:embed template.json
var templateJSON string

// IndexTemplate returns the composable index template of the format's
// indices: addresses as ip, ports, status codes and byte counts as long,
// processing and connection times as scaled_float (to the microsecond or
// better), times as date, identifiers, ARNs, ciphers and protocols as
// keyword, the request URL as keyword with a text subfield, and the ECS
// fields (the user agent among them) from their component template. The
// lines have no free-form parts; unknown strings and numbers map as
// keyword, so that a type that drifts cannot clash.
func (f *ELB) IndexTemplate(e format.Engine) (name, body string) {
	return f.prefix, strings.NewReplacer("{{PATTERN}}", f.IndexPattern(), "{{FREEFORM}}", e.FreeForm(), "{{ECS}}", ecs.TemplateName).Replace(templateJSON)
}
