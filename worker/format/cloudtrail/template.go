package cloudtrail

import (
	_ "embed"
	"strings"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/ecs"
)

//go:embed template.json
var templateJSON string

// IndexTemplate returns the composable index template of the format's
// indices (Insights events' included): the stable fields typed (ids, names
// and enums as keyword, times as date, the flags as boolean, errorMessage
// as text too), the ECS fields from their component template, and the
// blocks whose members depend on the service and the API
// (requestParameters, responseElements, additionalEventData,
// serviceEventDetails, insightDetails, webIdFederationData.attributes) as
// one free-form field each: a member that is a string for one API and an
// object for another cannot clash, and thousands of APIs cannot exhaust
// the field limit.
func (c *CloudTrail) IndexTemplate(e format.Engine) (name, body string) {
	return c.prefix, strings.NewReplacer("{{PATTERN}}", c.IndexPattern(), "{{FREEFORM}}", e.FreeForm(), "{{ECS}}", ecs.TemplateName).Replace(templateJSON)
}
