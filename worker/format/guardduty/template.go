package guardduty

import (
	_ "embed"
	"strings"
)

//go:embed template.json
var templateJSON string

// IndexTemplate returns the composable index template for this transform's
// indices: ids, types and enums as keyword, times as date, remote.location as
// geo_point, and service.additionalInfo stored but not indexed because its
// field types drift between finding types.
func (g *GuardDuty) IndexTemplate() (name, body string) {
	return g.prefix, strings.ReplaceAll(templateJSON, "{{PATTERN}}", g.IndexPattern())
}
