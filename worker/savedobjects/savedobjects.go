// Package savedobjects builds the OpenSearch Dashboards saved objects of
// the formats' indices: an index pattern per format (with its time field),
// and overview dashboards of GuardDuty findings and CloudTrail events.
// `worker setup` imports them; dashboards/opensearch-dashboards.ndjson is
// their export with the default index names.
package savedobjects

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/logtide/logtide/worker/format"
)

// SavedObject is one OpenSearch Dashboards saved object, as its NDJSON
// export and import write it.
type SavedObject struct {
	Type             string            `json:"type"`
	ID               string            `json:"id"`
	Attributes       map[string]any    `json:"attributes"`
	References       []Reference       `json:"references"`
	MigrationVersion map[string]string `json:"migrationVersion"`
}

// Reference links a saved object to another.
type Reference struct {
	Name string `json:"name"`
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Vis is a visualization of a dashboard: a bar chart of the documents over
// time, or a table of the most frequent values of a field.
type Vis struct {
	ID, Title string
	// Field is the terms field of a table; "" for the bars over time.
	Field string
	Size  int
}

// Overview is a dashboard of one format's indices.
type Overview struct {
	ID, Title, Format string
	Panels            []Vis
}

// Overviews are the dashboards shipped: GuardDuty findings and CloudTrail
// events, each a chart over time and the tables an analyst starts from.
var Overviews = []Overview{
	{ID: "logtide-guardduty-overview", Title: "logtide: GuardDuty findings", Format: "guardduty", Panels: []Vis{
		{ID: "logtide-guardduty-over-time", Title: "GuardDuty: findings updated over time"},
		{ID: "logtide-guardduty-types", Title: "GuardDuty: finding types", Field: "type", Size: 15},
		{ID: "logtide-guardduty-severity", Title: "GuardDuty: severities", Field: "severity", Size: 20},
		{ID: "logtide-guardduty-accounts", Title: "GuardDuty: accounts", Field: "cloud.account.id", Size: 20},
		{ID: "logtide-guardduty-remote-ips", Title: "GuardDuty: remote addresses", Field: "remote.ip", Size: 20},
		{ID: "logtide-guardduty-users", Title: "GuardDuty: IAM users", Field: "user.name", Size: 20},
	}},
	{ID: "logtide-cloudtrail-overview", Title: "logtide: CloudTrail events", Format: "cloudtrail", Panels: []Vis{
		{ID: "logtide-cloudtrail-over-time", Title: "CloudTrail: events over time"},
		{ID: "logtide-cloudtrail-event-names", Title: "CloudTrail: event names", Field: "eventName", Size: 20},
		{ID: "logtide-cloudtrail-event-sources", Title: "CloudTrail: services", Field: "eventSource", Size: 20},
		{ID: "logtide-cloudtrail-errors", Title: "CloudTrail: error codes", Field: "errorCode", Size: 20},
		{ID: "logtide-cloudtrail-source-ips", Title: "CloudTrail: source addresses", Field: "source.ip", Size: 20},
		{ID: "logtide-cloudtrail-users", Title: "CloudTrail: users", Field: "user.name", Size: 20},
	}},
}

// IndexPatternID is the id of the index pattern of a format's indices.
func IndexPatternID(formatName string) string { return "logtide-" + formatName }

// For are the index patterns of every format's indices (and the
// findings history's, when on), of the dead-letter index, with their time
// fields, and the overview dashboards with their visualizations.
func For(fs []format.Format, deadLetterIndex string) []SavedObject {
	var out []SavedObject
	pattern := func(id, title string) {
		out = append(out, SavedObject{Type: "index-pattern", ID: id, References: []Reference{},
			Attributes:       map[string]any{"title": title, "timeFieldName": "@timestamp"},
			MigrationVersion: map[string]string{"index-pattern": "7.6.0"}})
	}
	byName := map[string]format.Format{}
	for _, f := range fs {
		byName[f.Name()] = f
		pattern(IndexPatternID(f.Name()), f.IndexPattern())
		if h, ok := f.(format.History); ok && h.HistoryPattern() != "" {
			pattern(IndexPatternID(f.Name()+"-history"), h.HistoryPattern())
		}
	}
	pattern("logtide-deadletter", deadLetterIndex)
	for _, d := range Overviews {
		if byName[d.Format] == nil {
			continue
		}
		var panels []any
		var refs []Reference
		for i, v := range d.Panels {
			out = append(out, visualization(v, IndexPatternID(d.Format)))
			ref := fmt.Sprintf("panel_%d", i)
			panels = append(panels, map[string]any{
				"version": "2.19.0", "panelIndex": fmt.Sprint(i + 1), "embeddableConfig": map[string]any{}, "panelRefName": ref,
				"gridData": map[string]any{"x": (i % 2) * 24, "y": (i / 2) * 15, "w": 24, "h": 15, "i": fmt.Sprint(i + 1)},
			})
			refs = append(refs, Reference{Name: ref, Type: "visualization", ID: v.ID})
		}
		out = append(out, SavedObject{Type: "dashboard", ID: d.ID, References: refs,
			Attributes: map[string]any{
				"title": d.Title, "description": "", "hits": 0, "version": 1,
				"panelsJSON":  mustJSON(panels),
				"optionsJSON": mustJSON(map[string]any{"useMargins": true, "hidePanelTitles": false}),
				"timeRestore": true, "timeFrom": "now-7d", "timeTo": "now",
				"refreshInterval":       map[string]any{"pause": true, "value": 0},
				"kibanaSavedObjectMeta": map[string]any{"searchSourceJSON": mustJSON(map[string]any{"query": map[string]any{"language": "kuery", "query": ""}, "filter": []any{}})},
			},
			MigrationVersion: map[string]string{"dashboard": "7.9.3"}})
	}
	return out
}

// visualization builds one panel's saved object on the index pattern.
func visualization(v Vis, indexPattern string) SavedObject {
	count := map[string]any{"id": "1", "enabled": true, "type": "count", "schema": "metric", "params": map[string]any{}}
	var state map[string]any
	if v.Field == "" {
		state = map[string]any{"title": v.Title, "type": "histogram", "aggs": []any{count, map[string]any{
			"id": "2", "enabled": true, "type": "date_histogram", "schema": "segment",
			"params": map[string]any{"field": "@timestamp", "useNormalizedOpenSearchInterval": true, "interval": "auto", "drop_partials": false, "min_doc_count": 1, "extended_bounds": map[string]any{}},
		}}, "params": histogramParams}
	} else {
		state = map[string]any{"title": v.Title, "type": "table", "aggs": []any{count, map[string]any{
			"id": "2", "enabled": true, "type": "terms", "schema": "bucket",
			"params": map[string]any{"field": v.Field, "orderBy": "1", "order": "desc", "size": v.Size, "otherBucket": false, "missingBucket": false},
		}}, "params": map[string]any{"perPage": 10, "showPartialRows": false, "showMetricsAtAllLevels": false, "showTotal": false, "totalFunc": "sum", "percentageCol": ""}}
	}
	return SavedObject{Type: "visualization", ID: v.ID,
		References: []Reference{{Name: "kibanaSavedObjectMeta.searchSourceJSON.index", Type: "index-pattern", ID: indexPattern}},
		Attributes: map[string]any{
			"title": v.Title, "description": "", "version": 1, "uiStateJSON": "{}",
			"visState": mustJSON(state),
			"kibanaSavedObjectMeta": map[string]any{"searchSourceJSON": mustJSON(map[string]any{
				"query": map[string]any{"language": "kuery", "query": ""}, "filter": []any{},
				"indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index"})},
		},
		MigrationVersion: map[string]string{"visualization": "7.10.0"}}
}

// histogramParams are the bar chart's settings, as the editor saves them.
var histogramParams = map[string]any{
	"type": "histogram", "addTooltip": true, "addLegend": true, "legendPosition": "right", "times": []any{}, "addTimeMarker": false,
	"grid": map[string]any{"categoryLines": false},
	"categoryAxes": []any{map[string]any{"id": "CategoryAxis-1", "type": "category", "position": "bottom", "show": true, "style": map[string]any{},
		"scale": map[string]any{"type": "linear"}, "labels": map[string]any{"show": true, "filter": true, "truncate": 100}, "title": map[string]any{}}},
	"valueAxes": []any{map[string]any{"id": "ValueAxis-1", "name": "LeftAxis-1", "type": "value", "position": "left", "show": true, "style": map[string]any{},
		"scale": map[string]any{"type": "linear", "mode": "normal"}, "labels": map[string]any{"show": true, "rotate": 0, "filter": false, "truncate": 100},
		"title": map[string]any{"text": "Count"}}},
	"seriesParams": []any{map[string]any{"show": true, "type": "histogram", "mode": "stacked", "data": map[string]any{"label": "Count", "id": "1"},
		"valueAxis": "ValueAxis-1", "drawLinesBetweenPoints": true, "lineWidth": 2, "showCircles": true}},
	"labels":        map[string]any{"show": false},
	"thresholdLine": map[string]any{"show": false, "value": 10, "width": 1, "style": "full", "color": "#E7664C"},
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // maps of strings, numbers and booleans
	}
	return string(b)
}

// WriteNDJSON writes the objects one per line, as Dashboards' export does.
func WriteNDJSON(w io.Writer, objs []SavedObject) error {
	for _, o := range objs {
		b, err := json.Marshal(o)
		if err != nil {
			return err
		}
		if _, err := w.Write(append(b, '\n')); err != nil {
			return err
		}
	}
	return nil
}
