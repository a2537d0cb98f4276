//go:build integration

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/logtide/logtide/testenv/search"
	"github.com/logtide/logtide/testenv/services"
	"github.com/logtide/logtide/testenv/syncbuf"
	"github.com/logtide/logtide/worker/formats"
)

// TestSetup installs everything twice (the second run changes nothing and
// says so), reads the templates and the dead-letter index back from the
// cluster, writes the saved objects for the run's index names, and reports
// a retention the engine cannot apply as a failure naming the reason.
func TestSetup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	esURL := services.Env(t, "OPENSEARCH_URL")
	es := search.New(esURL)
	name := fmt.Sprintf("setup-%d", time.Now().UnixNano())
	t.Cleanup(func() { _ = es.Drop(context.Background(), name+"*", "dl-"+name+"*", "history-"+name+"*") })
	var prefixes []string
	for _, s := range formats.All {
		prefixes = append(prefixes, s.Name+"="+name+"-"+s.Name)
	}
	objects := filepath.Join(t.TempDir(), "objects.ndjson")
	args := []string{"--es-url", esURL, "--index-prefix", strings.Join(prefixes, ","), "--dead-letter-index", "dl-" + name, "--findings-history", "--saved-objects-file", objects}
	runSetup := func(extra ...string) (int, string) {
		var out, errOut syncbuf.Buffer
		code := run(ctx, append(append([]string{"setup"}, args...), extra...), &out, &errOut)
		return code, out.String() + errOut.String()
	}

	code, out := runSetup()
	if code != 0 {
		t.Fatalf("setup: exit %d\n%s", code, out)
	}
	for _, want := range []string{"installed  component template logtide-ecs", "installed  index template of guardduty", "installed  index template of the guardduty history",
		"installed  index template of resolver", "created    dead-letter index dl-" + name, "skipped    retention: none asked for"} {
		if !strings.Contains(out, want) {
			t.Errorf("setup output lacks %q:\n%s", want, out)
		}
	}
	// The templates, read back.
	for tpl, pattern := range map[string]string{name + "-guardduty": name + "-guardduty-*", "history-" + name + "-guardduty": "history-" + name + "-guardduty-*",
		name + "-cloudtrail": name + "-cloudtrail-*", "dl-" + name: "dl-" + name} {
		var res struct {
			IndexTemplates []struct {
				IndexTemplate struct {
					IndexPatterns []string `json:"index_patterns"`
					ComposedOf    []string `json:"composed_of"`
				} `json:"index_template"`
			} `json:"index_templates"`
		}
		if err := es.Do(ctx, "GET", "/_index_template/"+tpl, nil, &res); err != nil {
			t.Fatal(err)
		}
		if len(res.IndexTemplates) != 1 || fmt.Sprint(res.IndexTemplates[0].IndexTemplate.IndexPatterns) != "["+pattern+"]" {
			t.Errorf("template %s: %+v", tpl, res)
			continue
		}
		if !strings.HasPrefix(tpl, "dl-") && !slices.Contains(res.IndexTemplates[0].IndexTemplate.ComposedOf, "logtide-ecs") {
			t.Errorf("template %s is not composed of logtide-ecs: %v", tpl, res.IndexTemplates[0].IndexTemplate.ComposedOf)
		}
	}
	var mapping map[string]struct {
		Mappings struct {
			Properties map[string]struct{ Type string } `json:"properties"`
		} `json:"mappings"`
	}
	if err := es.Do(ctx, "GET", "/dl-"+name+"/_mapping", nil, &mapping); err != nil {
		t.Fatal(err)
	}
	if p := mapping["dl-"+name].Mappings.Properties; p["copy"].Type != "keyword" || p["target_version"].Type != "long" || p["key"].Type != "keyword" {
		t.Errorf("dead-letter index mapping %+v", p)
	}
	b, err := os.ReadFile(objects)
	if err != nil || !strings.Contains(string(b), `"title":"`+name+`-guardduty-*"`) || !strings.Contains(string(b), `"title":"history-`+name+`-guardduty-*"`) {
		t.Errorf("saved objects for the run's names: %v\n%.500s", err, b)
	}

	code, out = runSetup()
	if code != 0 || !strings.Contains(out, "exists     dead-letter index dl-"+name) {
		t.Errorf("second setup: exit %d\n%s", code, out)
	}

	// The local engines have no lifecycle API (OpenSearch's index-management
	// plugin and Elasticsearch's X-Pack are not published where the test
	// stack installs from): setup says so, and fails.
	code, out = runSetup("--retention-days", "30")
	if code != 1 || !strings.Contains(out, "FAILED     retention: this ") || !strings.Contains(out, "7 policies not installed") {
		t.Errorf("retention without ISM: exit %d\n%s", code, out)
	}
}
