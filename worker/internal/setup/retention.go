package setup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/internal/sink"
)

// Retention says how many days each format's indices are kept. A
// GuardDuty current-state index is named after the day its findings were
// created and keeps receiving their updates for as long as GuardDuty sends
// them: deleting it by age would delete live findings, so it is kept unless
// named on its own (Days[guardduty]). Its history indices are dated by
// updatedAt, like every other format's by its event time, and take the
// default.
type Retention struct {
	// Default applies to every format's indices but GuardDuty's current
	// state (0: none).
	Default int
	// Days overrides it by format name, or "<format>-history".
	Days map[string]int
}

// Off reports a retention that keeps everything.
func (r Retention) Off() bool {
	if r.Default > 0 {
		return false
	}
	for _, d := range r.Days {
		if d > 0 {
			return false
		}
	}
	return true
}

// ParseRetention reads "90" (the default) and "FORMAT=DAYS" items,
// comma-separated.
func ParseRetention(s string) (Retention, error) {
	r := Retention{Days: map[string]int{}}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, days, named := strings.Cut(item, "=")
		if !named {
			days, name = name, ""
		}
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return r, fmt.Errorf("%q: want DAYS or FORMAT=DAYS, days a whole number", item)
		}
		if !named {
			r.Default = n
		} else {
			r.Days[name] = n
		}
	}
	return r, nil
}

// Policy is the retention of one set of indices.
type Policy struct {
	// Name is the policy's id in the cluster, logtide-<what>.
	Name string
	// What names the indices in reports: a format, or its history.
	What    string
	Pattern string
	Days    int
}

// Policies are the retention policies of the formats' indices: one per
// format (and per history) with days to keep.
func (r Retention) Policies(fs []format.Format) ([]Policy, error) {
	known := map[string]bool{}
	var out []Policy
	add := func(what, pattern string, days int) {
		known[what] = true
		if days > 0 && pattern != "" {
			out = append(out, Policy{Name: "logtide-" + what, What: what, Pattern: pattern, Days: days})
		}
	}
	for _, f := range fs {
		days, ok := r.Days[f.Name()]
		if !ok && !versioned(f) {
			days = r.Default
		}
		add(f.Name(), f.IndexPattern(), days)
		if h, ok := f.(format.History); ok {
			days, ok := r.Days[f.Name()+"-history"]
			if !ok {
				days = r.Default
			}
			add(f.Name()+"-history", h.HistoryPattern(), days)
		}
	}
	for name := range r.Days {
		if !known[name] {
			return nil, fmt.Errorf("--retention-days %s: no such format (or <format>-history)", name)
		}
	}
	return out, nil
}

// versioned reports a format whose current-state indices are dated by a
// record's creation and updated later (GuardDuty's).
func versioned(f format.Format) bool {
	_, ok := f.(format.History)
	return ok
}

// Requester sends one JSON request to the cluster (sink.Sink).
type Requester interface {
	Do(ctx context.Context, method, path string, params url.Values, body any) ([]byte, error)
}

// noHandler reports an API the cluster does not have (a plugin missing).
func noHandler(err error) bool {
	st := sink.Status(err)
	return (st == http.StatusBadRequest || st == http.StatusNotFound || st == http.StatusMethodNotAllowed) &&
		(strings.Contains(err.Error(), "no handler found") || strings.Contains(err.Error(), "Incorrect HTTP method"))
}

// ismPolicy is an Index State Management policy deleting the indices of p
// Days after their creation, attached to new indices by its ism_template.
func ismPolicy(p Policy) map[string]any {
	return map[string]any{
		"description":   fmt.Sprintf("logtide: delete %s indices (%s) %d days after their creation", p.What, p.Pattern, p.Days),
		"default_state": "keep",
		"states": []any{
			map[string]any{"name": "keep", "actions": []any{}, "transitions": []any{
				map[string]any{"state_name": "delete", "conditions": map[string]any{"min_index_age": fmt.Sprintf("%dd", p.Days)}},
			}},
			map[string]any{"name": "delete", "actions": []any{map[string]any{"delete": map[string]any{}}}, "transitions": []any{}},
		},
		"ism_template": []any{map[string]any{"index_patterns": []any{p.Pattern}, "priority": 100}},
	}
}

// installISM installs or updates the policy on OpenSearch's Index State
// Management plugin, and attaches it to the existing indices that have
// none. It says what it did.
func installISM(ctx context.Context, r Requester, p Policy) (string, error) {
	path := "/_plugins/_ism/policies/" + p.Name
	want := ismPolicy(p)
	b, err := r.Do(ctx, http.MethodGet, path, nil, nil)
	var did string
	switch {
	case err != nil && sink.Status(err) == http.StatusNotFound && !noHandler(err):
		if _, err := r.Do(ctx, http.MethodPut, path, nil, map[string]any{"policy": want}); err != nil {
			return "", err
		}
		did = "created"
	case err != nil:
		return "", err
	default:
		var cur struct {
			SeqNo       int64          `json:"_seq_no"`
			PrimaryTerm int64          `json:"_primary_term"`
			Policy      map[string]any `json:"policy"`
		}
		if err := json.Unmarshal(b, &cur); err != nil {
			return "", err
		}
		if sameISM(cur.Policy, want) {
			did = "unchanged"
			break
		}
		params := url.Values{"if_seq_no": {strconv.FormatInt(cur.SeqNo, 10)}, "if_primary_term": {strconv.FormatInt(cur.PrimaryTerm, 10)}}
		if _, err := r.Do(ctx, http.MethodPut, path, params, map[string]any{"policy": want}); err != nil {
			return "", err
		}
		did = "updated"
	}
	// Indices created before the policy: ism_template only reaches new
	// ones. Those already managed are left to their policy.
	b, err = r.Do(ctx, http.MethodPost, "/_plugins/_ism/add/"+p.Pattern, nil, map[string]any{"policy_id": p.Name})
	if err != nil {
		return did, fmt.Errorf("attaching to %s: %w", p.Pattern, err)
	}
	var added struct {
		Updated int `json:"updated_indices"`
	}
	_ = json.Unmarshal(b, &added)
	return fmt.Sprintf("%s, attached to %d existing indices", did, added.Updated), nil
}

// sameISM compares what the policy says (states, default state, template
// patterns), not what the cluster adds to it (ids, times, versions).
func sameISM(cur, want map[string]any) bool {
	norm := func(m map[string]any) any {
		b, _ := json.Marshal(map[string]any{"default_state": m["default_state"], "states": m["states"], "description": m["description"], "patterns": ismPatterns(m)})
		var v any
		_ = json.Unmarshal(b, &v)
		return v
	}
	return reflect.DeepEqual(norm(cur), norm(want))
}

func ismPatterns(m map[string]any) []string {
	var out []string
	list, _ := m["ism_template"].([]any)
	for _, t := range list {
		tm, _ := t.(map[string]any)
		ps, _ := tm["index_patterns"].([]any)
		for _, p := range ps {
			out = append(out, fmt.Sprint(p))
		}
	}
	slices.Sort(out)
	return out
}

// ilmPolicy is an Index Lifecycle Management policy deleting indices Days
// after their creation.
func ilmPolicy(p Policy) map[string]any {
	return map[string]any{"policy": map[string]any{
		"_meta":  map[string]any{"description": fmt.Sprintf("logtide: delete %s indices (%s) %d days after their creation", p.What, p.Pattern, p.Days)},
		"phases": map[string]any{"delete": map[string]any{"min_age": fmt.Sprintf("%dd", p.Days), "actions": map[string]any{"delete": map[string]any{}}}},
	}}
}

// installILM installs (PUT is an update) the policy on Elasticsearch's
// Index Lifecycle Management and names it in the settings of the existing
// indices; new indices get it from their index template (LifecycleSetting).
func installILM(ctx context.Context, r Requester, p Policy) (string, error) {
	if _, err := r.Do(ctx, http.MethodPut, "/_ilm/policy/"+p.Name, nil, ilmPolicy(p)); err != nil {
		return "", err
	}
	_, err := r.Do(ctx, http.MethodPut, "/"+p.Pattern+"/_settings", url.Values{"allow_no_indices": {"true"}, "expand_wildcards": {"open"}},
		map[string]any{"index.lifecycle.name": p.Name})
	if err != nil {
		return "", fmt.Errorf("naming it in the settings of %s: %w", p.Pattern, err)
	}
	return "installed, named in the settings of the existing indices", nil
}

// lifecycleAPI says which retention API the engine has: "ism", "ilm", or
// "" with the reason.
func lifecycleAPI(ctx context.Context, r Requester, e format.Engine) (string, string) {
	switch e.Distribution {
	case "opensearch":
		_, err := r.Do(ctx, http.MethodGet, "/_plugins/_ism/policies", url.Values{"size": {"1"}}, nil)
		if err == nil {
			return "ism", ""
		}
		if noHandler(err) {
			return "", "this OpenSearch has no Index State Management plugin (opensearch-index-management)"
		}
		return "", "Index State Management: " + err.Error()
	case "elasticsearch":
		if !e.XPack() {
			return "", "this Elasticsearch build (" + e.Flavor + ") has no Index Lifecycle Management, which comes with X-Pack"
		}
		if _, err := r.Do(ctx, http.MethodGet, "/_ilm/status", nil, nil); err != nil {
			return "", "Index Lifecycle Management: " + err.Error()
		}
		return "ilm", ""
	}
	return "", "unknown engine " + e.Distribution
}

// LifecycleSetting adds, on an engine with Index Lifecycle Management, the
// policy's name to an index template's settings, so each new index gets it.
func LifecycleSetting(body string, policy string) (string, error) {
	var t map[string]any
	if err := json.Unmarshal([]byte(body), &t); err != nil {
		return "", err
	}
	tpl, _ := t["template"].(map[string]any)
	if tpl == nil {
		return "", errors.New("index template without a template block")
	}
	settings, _ := tpl["settings"].(map[string]any)
	if settings == nil {
		settings = map[string]any{}
		tpl["settings"] = settings
	}
	settings["index.lifecycle.name"] = policy
	b, err := json.Marshal(t)
	return string(b), err
}
