package ecs

import (
	"encoding/json"
	"testing"
)

// TestTemplateKeywordsFitATerm: a keyword longer than Lucene's largest term
// (32766 bytes) fails the whole document, so every keyword field stops
// indexing early enough. ignore_above counts UTF-16 units, which take at
// most three bytes each in UTF-8: 10922 would do; 8191 leaves room.
func TestTemplateKeywordsFitATerm(t *testing.T) {
	var tpl struct {
		Template struct {
			Mappings struct {
				Properties map[string]any `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal([]byte(ComponentTemplate()), &tpl); err != nil {
		t.Fatal(err)
	}
	n := 0
	var walk func(path string, props map[string]any)
	walk = func(path string, props map[string]any) {
		for name, v := range props {
			m, _ := v.(map[string]any)
			if sub, ok := m["properties"].(map[string]any); ok {
				walk(path+name+".", sub)
				continue
			}
			if m["type"] != "keyword" {
				continue
			}
			n++
			above, ok := m["ignore_above"].(float64)
			if !ok || above < 1 || above > 8191 {
				t.Errorf("%s%s: keyword with ignore_above %v, want 1..8191", path, name, m["ignore_above"])
			}
		}
	}
	walk("", tpl.Template.Mappings.Properties)
	if n < 10 {
		t.Fatalf("only %d keyword fields found: the template was not read", n)
	}
}
