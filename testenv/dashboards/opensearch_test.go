package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/ecs"
	"github.com/logtide/logtide/worker/formats"
)

// The dashboards of the log types: one per format, named <format>-<what>.json,
// on the OpenSearch plugin. Each has one datasource variable for the format's
// indices and one, deadLetterVar, for the dead-letter index.

const deadLetterVar = "deadletters"

// formatDashboard is the dashboard of one log type.
type formatDashboard struct {
	File string
	Spec format.Spec
	D    dashboard
	// DataVar is the datasource variable of the format's indices.
	DataVar string
}

// formatDashboards lists the dashboards of the log types: every dashboard
// file but the fleet's, each named after its format.
func formatDashboards(t *testing.T) []formatDashboard {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "dashboards", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []formatDashboard
	for _, f := range files {
		name := filepath.Base(f)
		if name == fleetFile {
			continue
		}
		fmtName, _, _ := strings.Cut(name, "-")
		spec, ok := formats.Find(fmtName)
		if !ok {
			t.Errorf("dashboards/%s: not named <format>-<what>.json after one of the formats %v", name, formats.Names())
			continue
		}
		fd := formatDashboard{File: name, Spec: spec, D: loadDashboard(t, name)}
		for v, typ := range datasourceVars(fd.D) {
			if v == deadLetterVar || typ != opensearchPlugin {
				continue
			}
			if fd.DataVar != "" {
				t.Errorf("%s: datasource variables %s and %s: want one for the %s indices (and %s)", name, fd.DataVar, v, fmtName, deadLetterVar)
			}
			fd.DataVar = v
		}
		if fd.DataVar == "" {
			t.Errorf("%s: no datasource variable for the %s indices", name, fmtName)
		}
		out = append(out, fd)
	}
	if len(out) == 0 {
		t.Fatal("no dashboard of a log type in dashboards/")
	}
	return out
}

// newFormat builds spec's format with the worker's defaults (index prefix =
// the format's name).
func newFormat(t *testing.T, spec format.Spec) format.Format {
	t.Helper()
	f, err := spec.New(format.Options{})
	if err != nil {
		t.Fatalf("%s: %v", spec.Name, err)
	}
	return f
}

// engine is the cluster of the compose stack and of the tests.
var engine = format.Engine{Distribution: "opensearch", Major: 2, Minor: 19}

// mappedTypes flattens the properties of an index or component template
// body into field → type, multi-fields included ("a.keyword").
func mappedTypes(t *testing.T, what, body string) map[string]string {
	t.Helper()
	var tpl struct {
		Template struct {
			Mappings struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal([]byte(body), &tpl); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	out := map[string]string{}
	var walk func(prefix string, props map[string]json.RawMessage)
	walk = func(prefix string, props map[string]json.RawMessage) {
		for name, raw := range props {
			var m struct {
				Type       string                     `json:"type"`
				Properties map[string]json.RawMessage `json:"properties"`
				Fields     map[string]json.RawMessage `json:"fields"`
			}
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatalf("%s: %s%s: %v", what, prefix, name, err)
			}
			switch {
			case m.Type != "":
				out[prefix+name] = m.Type
				walk(prefix+name+".", m.Fields)
			case m.Properties != nil:
				out[prefix+name] = "object"
				walk(prefix+name+".", m.Properties)
			}
		}
	}
	walk("", tpl.Template.Mappings.Properties)
	return out
}

// formatTypes is what the index template of spec's indices declares,
// the ECS component template it is composed of included.
func formatTypes(t *testing.T, spec format.Spec) map[string]string {
	t.Helper()
	name, body := newFormat(t, spec).IndexTemplate(engine)
	types := mappedTypes(t, "index template "+name, body)
	for f, typ := range mappedTypes(t, "component template "+ecs.TemplateName, ecs.ComponentTemplate()) {
		if prev, ok := types[f]; ok && prev != typ {
			t.Errorf("%s: %s is %s in the index template and %s in %s", spec.Name, f, prev, typ, ecs.TemplateName)
		}
		types[f] = typ
	}
	return types
}

// deadLetterTypes is what the dead-letter index template declares (in a
// package internal to worker/, so read from its file).
func deadLetterTypes(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "worker", "internal", "deadletter", "template.json"))
	if err != nil {
		t.Fatal(err)
	}
	return mappedTypes(t, "dead-letter template", string(b))
}

// Mapping types by what a dashboard can do with them.
var (
	numericTypes   = []string{"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "unsigned_long"}
	aggregateTypes = append([]string{"keyword", "ip", "date", "boolean"}, numericTypes...)
)

// fieldUse is one field a target or panel reads, and what for.
type fieldUse struct {
	Field string
	// Agg is the aggregation or metric on it (terms, date_histogram, sum,
	// cardinality...), "query" for a field a Lucene query names, "column"
	// for a document field a table shows, "time" for the time field.
	Agg string
}

// freeForm reports whether field is a path inside a field of a free-form
// type (flat_object, flattened): declared as a whole, its leaves can be
// searched and shown by their paths, but have no mapping of their own and
// cannot be aggregated.
func freeForm(field string, types func(string) (string, bool)) bool {
	for i := strings.LastIndexByte(field, '.'); i > 0; i = strings.LastIndexByte(field[:i], '.') {
		if typ, ok := types(field[:i]); ok {
			return typ == "flat_object" || typ == "flattened"
		}
	}
	return false
}

// wantTypes are the mapping types a use of a field needs (nil: any).
func (u fieldUse) wantTypes() []string {
	switch u.Agg {
	case "time", "date_histogram":
		return []string{"date"}
	case "geohash_grid":
		return []string{"geo_point"}
	case "terms", "cardinality":
		return aggregateTypes
	case "sum", "avg", "min", "max", "percentiles", "extended_stats":
		return numericTypes
	}
	return nil
}

var luceneFieldRE = regexp.MustCompile(`([A-Za-z_@][A-Za-z0-9_.@]*):`)

// luceneFields lists the fields a Lucene query names.
func luceneFields(q string) []string {
	var out []string
	for _, m := range luceneFieldRE.FindAllStringSubmatch(q, -1) {
		out = append(out, m[1])
	}
	return out
}

// targetUses lists the fields a target reads and how.
func targetUses(tg target) []fieldUse {
	out := []fieldUse{{tg.TimeField, "time"}}
	queries := []string{tg.Query}
	for _, b := range tg.BucketAggs {
		if b.Field != "" {
			out = append(out, fieldUse{b.Field, b.Type})
		}
		for _, q := range filterQueries(b) {
			queries = append(queries, q)
		}
	}
	for _, m := range tg.Metrics {
		if m.Field != "" {
			out = append(out, fieldUse{m.Field, m.Type})
		}
	}
	for _, q := range queries {
		for _, f := range luceneFields(q) {
			out = append(out, fieldUse{f, "query"})
		}
	}
	return out
}

// panelFields lists the document fields a panel shows by name: columns kept
// by filterFieldsByName, geomap locations.
func panelFields(p panel) []string {
	var out []string
	for _, tr := range p.Transformations {
		if tr.ID == "filterFieldsByName" {
			var o struct {
				Include struct {
					Names []string `json:"names"`
				} `json:"include"`
			}
			_ = json.Unmarshal(tr.Options, &o)
			out = append(out, o.Include.Names...)
		}
	}
	if p.Type == "geomap" {
		var o struct {
			Layers []struct {
				Location struct {
					Geohash   string `json:"geohash"`
					Latitude  string `json:"latitude"`
					Longitude string `json:"longitude"`
				} `json:"location"`
			} `json:"layers"`
		}
		_ = json.Unmarshal(p.Options, &o)
		for _, l := range o.Layers {
			for _, f := range []string{l.Location.Geohash, l.Location.Latitude, l.Location.Longitude} {
				if f != "" {
					out = append(out, f)
				}
			}
		}
	}
	return out
}

// panelUses lists the fields a panel reads through its targets (with the
// datasource variable of each) and shows as columns.
func panelUses(p panel) map[string][]fieldUse {
	out := map[string][]fieldUse{}
	v := ""
	for _, tg := range p.Targets {
		v = dsVar(tg.Datasource)
		out[v] = append(out[v], targetUses(tg)...)
	}
	if p.Datasource != nil {
		v = dsVar(p.Datasource)
	}
	for _, f := range panelFields(p) {
		out[v] = append(out[v], fieldUse{f, "column"})
	}
	return out
}

// dsVar is the name of the datasource variable a reference selects.
func dsVar(r *dsRef) string {
	if r == nil {
		return ""
	}
	return strings.Trim(r.UID, "${}")
}

// metricTypes are the metrics of the plugin's Lucene editor the dashboards
// may use (and the tests know how to run); rawTypes return documents.
var (
	metricTypes = []string{"count", "sum", "avg", "min", "max", "percentiles", "extended_stats", "cardinality"}
	rawTypes    = []string{"raw_data", "raw_document"}
	bucketTypes = []string{"terms", "filters", "date_histogram", "geohash_grid"}
)

// checkTargets: every target is a Lucene query on @timestamp the plugin
// can run: a raw-document query, or metrics in at least one bucket
// aggregation (the plugin refuses metrics without one), ids unique, terms
// ordered by count, term or one of the target's metrics.
func checkTargets(t *testing.T, name string, d dashboard) {
	t.Helper()
	for _, p := range allPanels(d.Panels) {
		for _, tg := range p.Targets {
			where := fmt.Sprintf("%s: panel %q target %s", name, p.Title, tg.RefID)
			if tg.QueryType != "lucene" || tg.TimeField != "@timestamp" || len(tg.Metrics) == 0 {
				t.Errorf("%s: queryType %q, timeField %q, %d metrics", where, tg.QueryType, tg.TimeField, len(tg.Metrics))
				continue
			}
			ids := map[string]bool{}
			raw := false
			for _, m := range tg.Metrics {
				switch {
				case slices.Contains(rawTypes, m.Type):
					raw = true
					if len(tg.Metrics) != 1 || len(tg.BucketAggs) != 0 {
						t.Errorf("%s: %s with other metrics or buckets", where, m.Type)
					}
				case !slices.Contains(metricTypes, m.Type):
					t.Errorf("%s: metric %s: want one of %v", where, m.Type, metricTypes)
				case m.Type != "count" && m.Field == "":
					t.Errorf("%s: %s of no field", where, m.Type)
				}
				if m.ID == "" || ids[m.ID] {
					t.Errorf("%s: empty or duplicate id %q", where, m.ID)
				}
				ids[m.ID] = true
			}
			if !raw && len(tg.BucketAggs) == 0 {
				t.Errorf("%s: metrics without a bucket aggregation, which the plugin refuses", where)
			}
			for _, b := range tg.BucketAggs {
				if !slices.Contains(bucketTypes, b.Type) {
					t.Errorf("%s: bucket aggregation %s: want one of %v", where, b.Type, bucketTypes)
				}
				if b.ID == "" || ids[b.ID] {
					t.Errorf("%s: empty or duplicate id %q", where, b.ID)
				}
				ids[b.ID] = true
				if b.Type == "terms" {
					by, _ := b.Settings["orderBy"].(string)
					if by != "_count" && by != "_term" && !slices.ContainsFunc(tg.Metrics, func(m osMetric) bool { return m.ID == by && m.Type != "count" }) {
						t.Errorf("%s: terms on %s ordered by %q: want _count, _term or a metric of the target", where, b.Field, by)
					}
					if n, err := strconv.Atoi(fmt.Sprint(b.Settings["size"])); err != nil || n < 1 || n > 100 {
						t.Errorf("%s: terms on %s of size %v", where, b.Field, b.Settings["size"])
					}
				}
				if b.Type == "filters" && len(filterQueries(b)) == 0 {
					t.Errorf("%s: filters without a filter", where)
				}
			}
			if !raw && tg.BucketAggs[len(tg.BucketAggs)-1].Type != "date_histogram" && p.Type == "timeseries" {
				t.Errorf("%s: a time series whose innermost bucket aggregation is not a date_histogram", where)
			}
		}
	}
}

// TestFormatDashboardsStructure: every log type has its dashboard, laid out
// and wired like the others; its queries are ones the plugin runs.
func TestFormatDashboardsStructure(t *testing.T) {
	byFormat := map[string][]string{}
	for _, fd := range formatDashboards(t) {
		byFormat[fd.Spec.Name] = append(byFormat[fd.Spec.Name], fd.File)
		checkLayout(t, fd.File, fd.D)
		checkDatasourceRefs(t, fd.File, fd.D, opensearchPlugin)
		checkTargets(t, fd.File, fd.D)
		n, queries := 0, 0
		for _, p := range allPanels(fd.D.Panels) {
			if p.Type != "row" {
				n++
			}
			for _, tg := range p.Targets {
				if v := dsVar(tg.Datasource); v != fd.DataVar && v != deadLetterVar {
					t.Errorf("%s: panel %q target %s reads datasource variable %q", fd.File, p.Title, tg.RefID, v)
				}
				if dsVar(tg.Datasource) == fd.DataVar {
					queries++
				}
			}
		}
		if n < 6 || queries < 6 {
			t.Errorf("%s: %d panels, %d queries of the %s indices: too few to be a dashboard of the log type", fd.File, n, queries, fd.Spec.Name)
		}
	}
	for _, spec := range formats.All {
		if len(byFormat[spec.Name]) != 1 {
			t.Errorf("format %s has dashboards %v, want one", spec.Name, byFormat[spec.Name])
		}
	}
}

// TestFormatDashboardsFields: every field a dashboard reads is declared by
// the index template of its format (ECS component template included) or
// the dead-letter template, with a type its use needs: no terms on text, no
// sum of a keyword, no panel that relies on dynamic mapping. The live test
// checks the same against the indices the worker wrote.
func TestFormatDashboardsFields(t *testing.T) {
	dl := deadLetterTypes(t)
	for _, fd := range formatDashboards(t) {
		types := map[string]map[string]string{fd.DataVar: formatTypes(t, fd.Spec), deadLetterVar: dl}
		for _, p := range allPanels(fd.D.Panels) {
			for v, uses := range panelUses(p) {
				declared, ok := types[v]
				if !ok {
					t.Errorf("%s: panel %q reads datasource variable %q", fd.File, p.Title, v)
					continue
				}
				for _, u := range uses {
					typ, ok := declared[u.Field]
					want := u.wantTypes()
					switch {
					case !ok && (u.Agg == "query" || u.Agg == "column") && freeForm(u.Field, func(f string) (string, bool) { typ, ok := declared[f]; return typ, ok }):
						// searched or shown inside a free-form field
					case !ok:
						t.Errorf("%s: panel %q: %s (%s) is not declared in the %s template", fd.File, p.Title, u.Field, u.Agg, v)
					case typ == "object":
						t.Errorf("%s: panel %q: %s (%s) is an object, not a field", fd.File, p.Title, u.Field, u.Agg)
					case want != nil && !slices.Contains(want, typ):
						t.Errorf("%s: panel %q: %s on %s, which is %s: want one of %v", fd.File, p.Title, u.Agg, u.Field, typ, want)
					}
				}
			}
		}
	}
}

func TestMappedTypes(t *testing.T) {
	got := mappedTypes(t, "test", `{"template":{"mappings":{"properties":{
		"a":{"type":"keyword"},
		"b":{"properties":{"c":{"type":"long"},"d":{"type":"text","fields":{"keyword":{"type":"keyword"}}}}},
		"e":{"type":"flat_object"}}}}}`)
	want := map[string]string{"a": "keyword", "b": "object", "b.c": "long", "b.d": "text", "b.d.keyword": "keyword", "e": "flat_object"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestLuceneFields(t *testing.T) {
	for q, want := range map[string][]string{
		"":             nil,
		"severity:>=7": {"severity"},
		"eventName:ConsoleLogin AND event.outcome:failure": {"eventName", "event.outcome"},
		"NOT requester:*":                        {"requester"},
		"http.response.status_code:[500 TO 599]": {"http.response.status_code"},
		"firewall_rule_action:(BLOCK OR ALERT)":  {"firewall_rule_action"},
	} {
		if got := luceneFields(q); !slices.Equal(got, want) {
			t.Errorf("luceneFields(%q) = %v, want %v", q, got, want)
		}
	}
}
