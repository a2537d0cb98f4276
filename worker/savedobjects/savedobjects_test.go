package savedobjects

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/formats"
)

func allFormats(t *testing.T, history bool) []format.Format {
	t.Helper()
	fs, err := formats.New(func(string) format.Options { return format.Options{History: history} })
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestSavedObjects(t *testing.T) {
	objs := For(allFormats(t, true), "logtide-deadletter")
	byID := map[string]SavedObject{}
	for _, o := range objs {
		if _, dup := byID[o.ID]; dup {
			t.Errorf("id %s twice", o.ID)
		}
		byID[o.ID] = o
	}
	patterns := 0
	for _, o := range objs {
		switch o.Type {
		case "index-pattern":
			patterns++
			if o.Attributes["timeFieldName"] != "@timestamp" {
				t.Errorf("%s: time field %v", o.ID, o.Attributes["timeFieldName"])
			}
		case "visualization", "dashboard":
			for _, r := range o.References {
				if ref, ok := byID[r.ID]; !ok || ref.Type != r.Type {
					t.Errorf("%s refers to %s %s, which is not there", o.ID, r.Type, r.ID)
				}
			}
		}
		if o.Type == "visualization" {
			var vs struct {
				Type string
				Aggs []struct{ Type string }
			}
			if err := json.Unmarshal([]byte(o.Attributes["visState"].(string)), &vs); err != nil || len(vs.Aggs) != 2 {
				t.Errorf("%s: visState %v %v", o.ID, vs, err)
			}
		}
		if o.Type == "dashboard" {
			var panels []map[string]any
			if err := json.Unmarshal([]byte(o.Attributes["panelsJSON"].(string)), &panels); err != nil || len(panels) != len(o.References) || len(panels) < 6 {
				t.Errorf("%s: %d panels for %d references (%v)", o.ID, len(panels), len(o.References), err)
			}
		}
	}
	// Every format, the history and the dead-letter index.
	if patterns != len(formats.All)+2 {
		t.Errorf("%d index patterns", patterns)
	}
}

// TestShippedSavedObjects: dashboards/opensearch-dashboards.ndjson is what
// setup imports with the default index names (regenerate it with
// `worker setup --saved-objects-file dashboards/opensearch-dashboards.ndjson`).
func TestShippedSavedObjects(t *testing.T) {
	var want bytes.Buffer
	if err := WriteNDJSON(&want, For(allFormats(t, false), "logtide-deadletter")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "..", "dashboards", "opensearch-dashboards.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Error("dashboards/opensearch-dashboards.ndjson is not what setup imports: regenerate it (worker setup --saved-objects-file dashboards/opensearch-dashboards.ndjson)")
	}
}
