package guardduty

import (
	_ "embed"
	"strings"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/ecs"
)

//go:embed template.json
var templateJSON string

// IndexTemplate returns the composable index template of the format's
// indices: ids, types and enums as keyword, times as date, remote.location as
// geo_point, the ECS fields from their component template, and
// service.additionalInfo, whose field types drift between finding types, as
// one free-form field (searchable where the engine allows).
func (g *GuardDuty) IndexTemplate(e format.Engine) (name, body string) {
	return g.prefix, g.template(g.IndexPattern(), e)
}

// HistoryTemplate is the same template for the history indices.
func (g *GuardDuty) HistoryTemplate(e format.Engine) (name, body string) {
	if !g.history {
		return "", ""
	}
	return "history-" + g.prefix, g.template(g.HistoryPattern(), e)
}

func (g *GuardDuty) template(pattern string, e format.Engine) string {
	return strings.NewReplacer("{{PATTERN}}", pattern, "{{FREEFORM}}", e.FreeForm(), "{{ECS}}", ecs.TemplateName).Replace(templateJSON)
}
