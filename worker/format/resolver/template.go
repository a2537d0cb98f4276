package resolver

import (
	_ "embed"
	"strings"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/ecs"
)

//go:embed template.json
var templateJSON string

// IndexTemplate returns the composable index template of the format's
// indices: the record's ids and enums as keyword, query_timestamp as a
// date, srcaddr as an ip and srcport as a long (both ignoring a malformed
// value rather than refusing the query), answers as objects of keywords,
// the ECS dns.* fields the format adds (not in the ECS component template,
// which holds the fields every format shares), and the ECS fields from
// their component template. The mapping is the same for every engine.
func (r *Resolver) IndexTemplate(format.Engine) (name, body string) {
	return r.prefix, strings.NewReplacer("{{PATTERN}}", r.IndexPattern(), "{{ECS}}", ecs.TemplateName).Replace(templateJSON)
}
