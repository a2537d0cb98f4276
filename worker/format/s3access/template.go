package s3access

import (
	_ "embed"
	"strings"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/ecs"
)

//go:embed template.json
var templateJSON string

// IndexTemplate returns the composable index template of the format's
// indices: the remote address as ip, the time as date, sizes, times and the
// status as long, ids and enums as keyword, and the key, request line and
// referrer as keywords long enough for what S3 allows; the ECS fields come
// from their component template. Access logs have no free-form objects.
func (f *S3Access) IndexTemplate(e format.Engine) (name, body string) {
	return f.prefix, strings.NewReplacer("{{PATTERN}}", f.IndexPattern(), "{{FREEFORM}}", e.FreeForm(), "{{ECS}}", ecs.TemplateName).Replace(templateJSON)
}
