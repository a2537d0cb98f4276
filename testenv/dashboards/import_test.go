package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// Grafana's import screen (Dashboards → New → Import) asks for what a
// dashboard's __inputs declare and fills each ${NAME} of the JSON with the
// answer; __requires lists what the dashboard needs installed. Every
// dashboard names the datasources it reads as inputs of their plugin type,
// so it imports into any Grafana, whatever its datasources are called.

type importInput struct {
	Name     string `json:"name"`
	Label    string `json:"label"`
	Type     string `json:"type"`
	PluginID string `json:"pluginId"`
}

type importRequire struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version string `json:"version"`
}

type importable struct {
	Inputs   []importInput   `json:"__inputs"`
	Requires []importRequire `json:"__requires"`
}

// inputRefRE is what Grafana's import replaces: ${NAME} for a declared input.
var inputRefRE = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

var (
	dsInputRE = regexp.MustCompile(`^DS_[A-Z0-9_]+$`)
	// dsRefRE is a datasource input's ${DS_…} left in a dashboard.
	dsRefRE   = regexp.MustCompile(`\$\{DS_[A-Z0-9_]+\}`)
	versionRE = regexp.MustCompile(`^\d+\.\d+\.\d+$`)
)

func dashboardFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards: %v", err)
	}
	return files
}

// fillInputs does what the import does with the answers: every string of the
// dashboard has each ${NAME} of an answered input replaced; other variables
// (${instance}, ${findings}) stay.
func fillInputs(v any, answers map[string]string) any {
	switch x := v.(type) {
	case string:
		return inputRefRE.ReplaceAllStringFunc(x, func(m string) string {
			if a, ok := answers[inputRefRE.FindStringSubmatch(m)[1]]; ok {
				return a
			}
			return m
		})
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = fillInputs(e, answers)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = fillInputs(e, answers)
		}
		return out
	}
	return v
}

func TestDashboardsImportInputs(t *testing.T) {
	for _, f := range dashboardFiles(t) {
		name := filepath.Base(f)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var imp importable
		var d dashboard
		var raw map[string]any
		for _, v := range []any{&imp, &d, &raw} {
			if err := json.Unmarshal(b, v); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}

		inputs := map[string]importInput{}
		for _, in := range imp.Inputs {
			if !dsInputRE.MatchString(in.Name) || in.Type != "datasource" || in.PluginID == "" || in.Label == "" {
				t.Errorf("%s: input %+v: want a datasource input DS_… with a plugin id and a label", name, in)
			}
			if _, dup := inputs[in.Name]; dup {
				t.Errorf("%s: input %s declared twice", name, in.Name)
			}
			inputs[in.Name] = in
		}
		// Every ${DS_…} of the file is a declared input, and every input is
		// used: an undeclared one would stay in the imported dashboard.
		used := map[string]bool{}
		for _, m := range inputRefRE.FindAllStringSubmatch(string(b), -1) {
			if strings.HasPrefix(m[1], "DS_") {
				used[m[1]] = true
				if _, ok := inputs[m[1]]; !ok {
					t.Errorf("%s: ${%s} is not among the __inputs %v", name, m[1], imp.Inputs)
				}
			}
		}
		for n := range inputs {
			if !used[n] {
				t.Errorf("%s: input %s is declared and never used", name, n)
			}
		}

		// Each datasource variable is chosen by type: no name regex, and its
		// default is the input of its plugin type (the import screen offers
		// the datasources of that plugin).
		answers := map[string]string{}
		for _, v := range d.Templating.List {
			if v.Type != "datasource" {
				continue
			}
			if v.Regex != "" {
				t.Errorf("%s: datasource variable %s filters datasources by name (%s): it must take any %s datasource", name, v.Name, v.Regex, v.queryString())
			}
			cur := fmt.Sprint(v.Current.Value)
			m := inputRefRE.FindStringSubmatch(cur)
			if m == nil || m[0] != cur || fmt.Sprint(v.Current.Text) != cur {
				t.Errorf("%s: datasource variable %s defaults to %q (text %v), want an input ${DS_…}", name, v.Name, cur, v.Current.Text)
				continue
			}
			in, ok := inputs[m[1]]
			if !ok || in.PluginID != v.queryString() {
				t.Errorf("%s: datasource variable %s (%s) defaults to input %s %+v of another plugin", name, v.Name, v.queryString(), m[1], in)
			}
			answers[m[1]] = "uid-of-" + v.Name
		}

		// __requires: this Grafana, each datasource plugin of the inputs,
		// each panel plugin the dashboard draws with, and nothing else.
		want := map[string]bool{"grafana grafana": true}
		for _, in := range inputs {
			want["datasource "+in.PluginID] = true
		}
		for _, p := range allPanels(d.Panels) {
			if p.Type != "row" {
				want["panel "+p.Type] = true
			}
		}
		got := map[string]bool{}
		for _, r := range imp.Requires {
			k := r.Type + " " + r.ID
			if got[k] || r.Name == "" {
				t.Errorf("%s: __requires entry %+v: duplicate or unnamed", name, r)
			}
			got[k] = true
			if (r.Type == "grafana" || r.Type == "datasource") && !versionRE.MatchString(r.Version) {
				t.Errorf("%s: __requires %s has version %q, want x.y.z", name, k, r.Version)
			}
		}
		if g, w := sortedKeys(got), sortedKeys(want); !slices.Equal(g, w) {
			t.Errorf("%s: __requires %v, want %v", name, g, w)
		}

		// The import with an answer for every input: no input is left, the
		// datasource variables default to the datasources picked, and every
		// panel still reads through them.
		filled, err := json.Marshal(fillInputs(raw, answers))
		if err != nil {
			t.Fatal(err)
		}
		if m := dsRefRE.Find(filled); m != nil {
			t.Errorf("%s: %s is left after the import", name, m)
		}
		var imported dashboard
		if err := json.Unmarshal(filled, &imported); err != nil {
			t.Fatal(err)
		}
		for _, v := range imported.Templating.List {
			if v.Type == "datasource" && fmt.Sprint(v.Current.Value) != "uid-of-"+v.Name {
				t.Errorf("%s: after the import, variable %s defaults to %v, want the datasource picked", name, v.Name, v.Current.Value)
			}
		}
		plugin := opensearchPlugin
		if name == fleetFile {
			plugin = "prometheus"
		}
		checkDatasourceRefs(t, name+" (imported)", imported, plugin)
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestFillInputs(t *testing.T) {
	got := fillInputs(map[string]any{
		"a": "${DS_X}",
		"b": []any{"x-${DS_X}-${instance}", 3.0},
		"c": "${DS_Y}",
	}, map[string]string{"DS_X": "u1"})
	b, _ := json.Marshal(got)
	if want := `{"a":"u1","b":["x-u1-${instance}",3],"c":"${DS_Y}"}`; string(b) != want {
		t.Errorf("fillInputs: %s, want %s", b, want)
	}
}
