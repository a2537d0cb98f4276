// Package dashboards tests the Grafana dashboards in dashboards/ and the
// docker-compose stack that provisions them. Without build tags it checks
// their structure, and the fields the dashboards of the log types read
// against their formats' index templates; with -tags integration
// (dashboards_test.go) it runs every fleet-dashboard query against a real
// Prometheus scraping a real worker, and every query of the dashboard of
// each log type against the real OpenSearch indices the worker wrote.
package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const (
	fleetFile    = "logtide-fleet.json"
	findingsFile = "guardduty-findings.json"
	// opensearchPlugin is the Grafana OpenSearch datasource plugin the
	// dashboards of the log types use throughout.
	opensearchPlugin = "grafana-opensearch-datasource"
)

// repoRoot is the module root; go test runs in the package directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", root, err)
	}
	return root
}

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type dashboard struct {
	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Templating    struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Definition string          `json:"definition"`
	Regex      string          `json:"regex"`
	Datasource *dsRef          `json:"datasource"`
	IncludeAll bool            `json:"includeAll"`
	AllValue   string          `json:"allValue"`
	Current    struct {
		Text  any `json:"text"`
		Value any `json:"value"`
	} `json:"current"`
}

// queryString is the variable's query, whether Grafana stored it as a string
// (datasource variables: the plugin id) or as an object with a query field.
func (v variable) queryString() string {
	var s string
	if json.Unmarshal(v.Query, &s) == nil {
		return s
	}
	var o struct {
		Query string `json:"query"`
	}
	_ = json.Unmarshal(v.Query, &o)
	return o.Query
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *dsRef `json:"datasource"`
	GridPos    struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets         []target         `json:"targets"`
	Panels          []panel          `json:"panels"`
	Transformations []transformation `json:"transformations"`
	Options         json.RawMessage  `json:"options"`
}

type transformation struct {
	ID      string          `json:"id"`
	Options json.RawMessage `json:"options"`
}

type target struct {
	RefID      string      `json:"refId"`
	Datasource *dsRef      `json:"datasource"`
	Hide       bool        `json:"hide"`
	Expr       string      `json:"expr"`       // Prometheus
	Query      string      `json:"query"`      // OpenSearch (Lucene)
	QueryType  string      `json:"queryType"`  // OpenSearch: lucene or PPL
	TimeField  string      `json:"timeField"`  // OpenSearch
	Metrics    []osMetric  `json:"metrics"`    // OpenSearch
	BucketAggs []bucketAgg `json:"bucketAggs"` // OpenSearch
}

type osMetric struct {
	ID       string         `json:"id"`
	Type     string         `json:"type"`
	Field    string         `json:"field"`
	Settings map[string]any `json:"settings"`
}

type bucketAgg struct {
	ID       string         `json:"id"`
	Type     string         `json:"type"`
	Field    string         `json:"field"`
	Settings map[string]any `json:"settings"`
}

func loadDashboard(t *testing.T, name string) dashboard {
	t.Helper()
	return loadDashboardFile(t, filepath.Join(repoRoot(t), "dashboards", name))
}

func loadDashboardFile(t *testing.T, path string) dashboard {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return d
}

// allPanels flattens rows (collapsed rows keep their panels inside).
func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

// promQuery is one PromQL expression of a dashboard and where it is.
type promQuery struct {
	where string
	expr  string
}

// promQueries lists every PromQL expression of d: panel targets, and the
// metric selectors of label_values() variable queries.
func promQueries(d dashboard) []promQuery {
	var out []promQuery
	for _, p := range allPanels(d.Panels) {
		for _, tg := range p.Targets {
			if tg.Expr != "" && !tg.Hide {
				out = append(out, promQuery{where: fmt.Sprintf("panel %q target %s", p.Title, tg.RefID), expr: tg.Expr})
			}
		}
	}
	return out
}

var labelValuesRE = regexp.MustCompile(`^label_values\(\s*(.+?)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$`)

// labelValuesQuery splits a Grafana label_values(selector, label) variable query.
func labelValuesQuery(q string) (selector, label string, ok bool) {
	m := labelValuesRE.FindStringSubmatch(strings.TrimSpace(q))
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

var grafanaVarRE = regexp.MustCompile(`\$(?:\{([A-Za-z0-9_]+)(?::[A-Za-z0-9_]+)?\}|([A-Za-z0-9_]+))`)

// expandVars replaces Grafana variables ($name, ${name}, ${name:format}) with
// vals; a variable without a value is an error, so that a new variable in a
// dashboard cannot slip through a test unexpanded.
func expandVars(s string, vals map[string]string) (string, error) {
	var missing []string
	out := grafanaVarRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := grafanaVarRE.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		v, ok := vals[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return v
	})
	if len(missing) > 0 {
		return out, fmt.Errorf("no value for Grafana variable(s) %v in %q", missing, s)
	}
	return out, nil
}

// promKeywords are PromQL words that are neither functions nor metrics.
var promKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true,
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"inf": true, "nan": true, "Inf": true, "NaN": true,
}

// promAggregations are PromQL's aggregation operators: they may be followed
// by a by/without clause instead of their parenthesised argument.
var promAggregations = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true, "limitk": true, "limit_ratio": true,
}

// promLabelLists are keywords followed by a parenthesised list of label names.
var promLabelLists = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

// metricNames returns the metric names a PromQL expression selects: bare
// identifiers that are not functions, aggregations, keywords or label names,
// and __name__ matchers. Strings, label matchers and range/subquery brackets
// are skipped. It is a lexer, not a parser: Prometheus itself decides whether
// the expression is valid.
func metricNames(expr string) []string {
	var names []string
	add := func(n string) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	isStart := func(c byte) bool { return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	isPart := func(c byte) bool { return isStart(c) || c >= '0' && c <= '9' }
	nameMatcher := regexp.MustCompile(`__name__\s*=\s*"([^"]+)"`)
	skipLabelList := false
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(expr) && expr[j] != c {
				if expr[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			i = j + 1
		case c == '{' || c == '[':
			closer := byte('}')
			if c == '[' {
				closer = ']'
			}
			j := strings.IndexByte(expr[i:], closer)
			if j < 0 {
				j = len(expr) - i - 1
			}
			if c == '{' {
				for _, m := range nameMatcher.FindAllStringSubmatch(expr[i:i+j+1], -1) {
					add(m[1])
				}
			}
			i += j + 1
		case c == '(' && skipLabelList:
			j := strings.IndexByte(expr[i:], ')')
			if j < 0 {
				j = len(expr) - i - 1
			}
			i += j + 1
			skipLabelList = false
		case c >= '0' && c <= '9' || c == '.':
			j := i + 1
			for j < len(expr) && (isPart(expr[j]) || expr[j] == '.') {
				j++
			}
			i = j
		case isStart(c):
			j := i + 1
			for j < len(expr) && isPart(expr[j]) {
				j++
			}
			word := expr[i:j]
			k := j
			for k < len(expr) && (expr[k] == ' ' || expr[k] == '\t' || expr[k] == '\n') {
				k++
			}
			switch {
			case promLabelLists[word]:
				skipLabelList = k < len(expr) && expr[k] == '('
			case promKeywords[word], promAggregations[word]:
			case k < len(expr) && expr[k] == '(':
				// a function or an aggregation operator
			default:
				add(word)
			}
			i = j
		default:
			i++
		}
	}
	return names
}

// datasourceVars maps the names of d's datasource variables to their plugin
// type.
func datasourceVars(d dashboard) map[string]string {
	out := map[string]string{}
	for _, v := range d.Templating.List {
		if v.Type == "datasource" {
			out[v.Name] = v.queryString()
		}
	}
	return out
}

// checkDatasourceRefs: every query panel and every target reaches its
// datasource through one of the dashboard's datasource variables of the
// expected plugin type, so provisioning (or an import) only has to supply
// datasources of that type.
func checkDatasourceRefs(t *testing.T, name string, d dashboard, pluginType string) {
	t.Helper()
	vars := datasourceVars(d)
	ref := func(where string, r *dsRef) {
		if r == nil {
			t.Errorf("%s: %s has no datasource", name, where)
			return
		}
		m := regexp.MustCompile(`^\$\{?([A-Za-z0-9_]+)\}?$`).FindStringSubmatch(r.UID)
		if m == nil {
			t.Errorf("%s: %s: datasource uid %q is not a variable", name, where, r.UID)
			return
		}
		if typ, ok := vars[m[1]]; !ok || typ != pluginType || r.Type != pluginType {
			t.Errorf("%s: %s: datasource %+v: want a %s datasource variable (have %v)", name, where, *r, pluginType, vars)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			ref("variable "+v.Name, v.Datasource)
		}
	}
	for _, p := range allPanels(d.Panels) {
		if p.Type == "row" || p.Type == "text" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: panel %q has no query", name, p.Title)
		}
		ref(fmt.Sprintf("panel %q", p.Title), p.Datasource)
		for _, tg := range p.Targets {
			ref(fmt.Sprintf("panel %q target %s", p.Title, tg.RefID), tg.Datasource)
		}
	}
}

func checkLayout(t *testing.T, name string, d dashboard) {
	t.Helper()
	if d.UID == "" || d.Title == "" {
		t.Errorf("%s: uid %q, title %q: both are needed for stable links and provisioning", name, d.UID, d.Title)
	}
	// 39 is what Grafana 10.4–11 write; older schemas are migrated on load,
	// which provisioned (read-only) dashboards then show as modified.
	if d.SchemaVersion < 39 {
		t.Errorf("%s: schemaVersion %d, want >= 39", name, d.SchemaVersion)
	}
	ids := map[int]string{}
	for _, p := range allPanels(d.Panels) {
		if prev, dup := ids[p.ID]; dup || p.ID == 0 {
			t.Errorf("%s: panel %q has id %d (also %q)", name, p.Title, p.ID, prev)
		}
		ids[p.ID] = p.Title
		if g := p.GridPos; g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("%s: panel %q gridPos %+v outside the 24-column grid", name, p.Title, g)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if tg.RefID == "" || refs[tg.RefID] {
				t.Errorf("%s: panel %q: empty or duplicate refId %q", name, p.Title, tg.RefID)
			}
			refs[tg.RefID] = true
		}
	}
	// Panels of the same level (rows and what they do not hide) do not
	// overlap: Grafana would move one and show the file as modified.
	for i, a := range d.Panels {
		for _, b := range d.Panels[i+1:] {
			ga, gb := a.GridPos, b.GridPos
			if ga.X < gb.X+gb.W && gb.X < ga.X+ga.W && ga.Y < gb.Y+gb.H && gb.Y < ga.Y+ga.H {
				t.Errorf("%s: panels %q %+v and %q %+v overlap", name, a.Title, ga, b.Title, gb)
			}
		}
	}
}

// workersOnly keeps series of process_/go_ metrics to the targets that are
// workers: Prometheus and other exporters have the same names.
const workersOnly = " and on (instance, job) logtide_build_info"

var selectorRE = regexp.MustCompile(`\b((?:logtide|process|go)_[a-z_]+)(\{[^}]*\})?`)

func TestFleetDashboardStructure(t *testing.T) {
	d := loadDashboard(t, fleetFile)
	checkLayout(t, fleetFile, d)
	checkDatasourceRefs(t, fleetFile, d, "prometheus")
	qs := promQueries(d)
	if len(qs) < 30 {
		t.Errorf("only %d PromQL expressions", len(qs))
	}
	vals := testVarValues()
	for _, q := range qs {
		if _, err := expandVars(q.expr, vals); err != nil {
			t.Errorf("%s: %v", q.where, err)
		}
		// Every worker metric is filtered by the dashboard's worker selector;
		// the process and Go metrics are also kept to workers by a join on
		// logtide_build_info, which itself needs no filter.
		body := strings.ReplaceAll(q.expr, workersOnly, "")
		for _, sel := range selectorRE.FindAllStringSubmatch(body, -1) {
			if !strings.Contains(sel[2], `instance=~"$instance"`) {
				t.Errorf("%s: %s is not filtered by instance=~\"$instance\": %s", q.where, sel[1], q.expr)
			}
		}
		for _, n := range metricNames(body) {
			if (strings.HasPrefix(n, "process_") || strings.HasPrefix(n, "go_")) && !strings.Contains(q.expr, workersOnly) {
				t.Errorf("%s: %s is not restricted to workers (%q): other targets export it too", q.where, n, workersOnly)
			}
		}
		for _, n := range metricNames(q.expr) {
			if !strings.HasPrefix(n, "logtide_") && !strings.HasPrefix(n, "process_") && !strings.HasPrefix(n, "go_") {
				t.Errorf("%s: %s is not a metric of the worker", q.where, n)
			}
		}
	}
	inst := false
	for _, v := range d.Templating.List {
		if v.Name == "instance" {
			inst = true
			if sel, label, ok := labelValuesQuery(v.queryString()); !ok || label != "instance" || !v.IncludeAll || v.AllValue != ".*" {
				t.Errorf("instance variable: query %q (selector %q, label %q), includeAll %v, allValue %q", v.queryString(), sel, label, v.IncludeAll, v.AllValue)
			}
		}
	}
	if !inst {
		t.Error("no instance variable: the per-worker breakdown needs one")
	}
}

func TestFindingsDashboardStructure(t *testing.T) {
	d := loadDashboard(t, findingsFile)
	checkLayout(t, findingsFile, d)
	checkDatasourceRefs(t, findingsFile, d, opensearchPlugin)
	checkTargets(t, findingsFile, d)
	geomap := false
	for _, p := range allPanels(d.Panels) {
		geomap = geomap || p.Type == "geomap"
	}
	if !geomap {
		t.Error("no geomap panel")
	}
	// Bands of GuardDuty severity, as the console shows them.
	bands := map[string]string{}
	for _, p := range allPanels(d.Panels) {
		for _, tg := range p.Targets {
			for _, b := range tg.BucketAggs {
				if b.Type == "filters" {
					for label, q := range filterQueries(b) {
						bands[label] = q
					}
				}
			}
		}
	}
	want := map[string]string{"Low": "severity:[1 TO 4}", "Medium": "severity:[4 TO 7}", "High": "severity:[7 TO 9}", "Critical": "severity:[9 TO 10]"}
	if fmt.Sprint(bands) != fmt.Sprint(want) {
		t.Errorf("severity bands %v, want %v", bands, want)
	}
}

// filterQueries returns the label → Lucene query of a filters aggregation.
func filterQueries(b bucketAgg) map[string]string {
	out := map[string]string{}
	fs, _ := b.Settings["filters"].([]any)
	for _, f := range fs {
		m, _ := f.(map[string]any)
		q, _ := m["query"].(string)
		l, _ := m["label"].(string)
		if l == "" {
			l = q
		}
		out[l] = q
	}
	return out
}

// testVarValues stands in for Grafana's variables when a test runs the
// dashboard's queries: every worker, and windows that cover a test run of a
// few tens of seconds scraped every second.
func testVarValues() map[string]string {
	return map[string]string{
		"job":             ".*",
		"instance":        ".*",
		"__rate_interval": "30s",
		"__interval":      "5s",
		"__range":         "1m",
	}
}

func TestMetricNames(t *testing.T) {
	for _, c := range []struct {
		expr string
		want []string
	}{
		{`sum by (outcome) (rate(logtide_records_total{instance=~"$instance"}[$__rate_interval]))`, []string{"logtide_records_total"}},
		{`histogram_quantile(0.99, sum by (le) (rate(logtide_lag_seconds_bucket{a="b"}[5m])))`, []string{"logtide_lag_seconds_bucket"}},
		{`rate(process_cpu_seconds_total[1m]) and on (instance, job) logtide_build_info`, []string{"process_cpu_seconds_total", "logtide_build_info"}},
		{`time() - process_start_time_seconds offset 5m`, []string{"process_start_time_seconds"}},
		{`sum(x) without (job) / ignoring(le) group_left(version) y > bool 2e3`, []string{"x", "y"}},
		{`{__name__="logtide_objects_total", outcome="by"}`, []string{"logtide_objects_total"}},
		{`max_over_time(up[5m:1m]) or vector(0)`, []string{"up"}},
	} {
		if got := metricNames(c.expr); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("metricNames(%s) = %v, want %v", c.expr, got, c.want)
		}
	}
}

func TestExpandVars(t *testing.T) {
	got, err := expandVars(`rate(x{instance=~"$instance",a="${instance:regex}"}[$__rate_interval])`, testVarValues())
	if err != nil || got != `rate(x{instance=~".*",a=".*"}[30s])` {
		t.Errorf("got %q, %v", got, err)
	}
	if _, err := expandVars(`x{cluster="$cluster"}`, testVarValues()); err == nil {
		t.Error("an unknown variable expanded without error")
	}
}

// declaredMetrics lists the logtide_ metrics worker/internal/metrics
// declares (that package is internal to worker/, so its source is read).
func declaredMetrics(t *testing.T, root string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "worker", "internal", "metrics", "metrics.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`Namespace: ns, Name: "([a-z_]+)"`).FindAllStringSubmatch(string(b), -1) {
		out["logtide_"+m[1]] = true
	}
	if len(out) < 10 {
		t.Fatalf("found only %v in metrics.go: has the way collectors are declared changed?", out)
	}
	return out
}

// TestMetricsContract: docs/metrics.md documents exactly the worker's
// metrics, and the fleet dashboard shows each of them.
func TestMetricsContract(t *testing.T) {
	root := repoRoot(t)
	declared := declaredMetrics(t, root)
	doc, err := os.ReadFile(filepath.Join(root, "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(logtide_[a-z_]+)` \\|").FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = true
	}
	shown := map[string]bool{}
	for _, q := range promQueries(loadDashboard(t, fleetFile)) {
		for _, n := range metricNames(q.expr) {
			shown[strings.TrimSuffix(n, "_bucket")] = true
		}
	}
	for n := range declared {
		if !documented[n] {
			t.Errorf("docs/metrics.md has no row for %s", n)
		}
		if !shown[n] {
			t.Errorf("no panel of dashboards/%s shows %s", fleetFile, n)
		}
	}
	for n := range documented {
		if !declared[n] {
			t.Errorf("docs/metrics.md documents %s, which metrics.go does not declare", n)
		}
	}
}
