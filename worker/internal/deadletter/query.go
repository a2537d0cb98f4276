package deadletter

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Requester sends one JSON request to the cluster (sink.Sink).
type Requester interface {
	Do(ctx context.Context, method, path string, params url.Values, body any) ([]byte, error)
}

// Object is an object some of whose records are in the dead-letter index.
type Object struct {
	Bucket, Key, VersionID string
	// Records is how many of its records are there.
	Records int64
}

// Filter chooses dead-letter documents: of a bucket (empty: any), of keys
// starting with KeyPrefix.
type Filter struct {
	Bucket, KeyPrefix string
}

func (f Filter) clauses() []any {
	var c []any
	if f.Bucket != "" {
		c = append(c, map[string]any{"term": map[string]any{"bucket": f.Bucket}})
	}
	if f.KeyPrefix != "" {
		c = append(c, map[string]any{"prefix": map[string]any{"key": f.KeyPrefix}})
	}
	return c
}

// objectClauses choose the documents of one object.
func objectClauses(o Object) []any {
	c := []any{
		map[string]any{"term": map[string]any{"bucket": o.Bucket}},
		map[string]any{"term": map[string]any{"key": o.Key}},
	}
	if o.VersionID != "" {
		return append(c, map[string]any{"term": map[string]any{"version_id": o.VersionID}})
	}
	return append(c, map[string]any{"bool": map[string]any{"must_not": map[string]any{"exists": map[string]any{"field": "version_id"}}}})
}

// Objects lists the objects with records in the index, a page of the
// cluster's composite aggregation at a time.
func Objects(ctx context.Context, r Requester, index string, f Filter) ([]Object, error) {
	var out []Object
	var after map[string]any
	for {
		comp := map[string]any{
			"size": 500,
			"sources": []any{
				map[string]any{"b": map[string]any{"terms": map[string]any{"field": "bucket"}}},
				map[string]any{"k": map[string]any{"terms": map[string]any{"field": "key"}}},
				map[string]any{"v": map[string]any{"terms": map[string]any{"field": "version_id", "missing_bucket": true}}},
			},
		}
		if after != nil {
			comp["after"] = after
		}
		body := map[string]any{
			"size":  0,
			"query": map[string]any{"bool": map[string]any{"filter": f.clauses()}},
			"aggs":  map[string]any{"objects": map[string]any{"composite": comp}},
		}
		b, err := r.Do(ctx, http.MethodPost, "/"+index+"/_search", nil, body)
		if err != nil {
			return nil, fmt.Errorf("listing the objects of %s: %w", index, err)
		}
		var res struct {
			Aggregations struct {
				Objects struct {
					AfterKey map[string]any `json:"after_key"`
					Buckets  []struct {
						Key struct {
							B string  `json:"b"`
							K string  `json:"k"`
							V *string `json:"v"`
						} `json:"key"`
						DocCount int64 `json:"doc_count"`
					} `json:"buckets"`
				} `json:"objects"`
			} `json:"aggregations"`
		}
		if err := json.Unmarshal(b, &res); err != nil {
			return nil, fmt.Errorf("listing the objects of %s: %w", index, err)
		}
		agg := res.Aggregations.Objects
		for _, bk := range agg.Buckets {
			o := Object{Bucket: bk.Key.B, Key: bk.Key.K, Records: bk.DocCount}
			if bk.Key.V != nil {
				o.VersionID = *bk.Key.V
			}
			out = append(out, o)
		}
		if len(agg.Buckets) == 0 || agg.AfterKey == nil {
			return out, nil
		}
		after = agg.AfterKey
	}
}

// Sweep removes the object's documents written before since: after the
// object was processed again from since on, those are records that did not
// fail again. It returns how many it removed.
func Sweep(ctx context.Context, r Requester, index string, o Object, since time.Time) (int64, error) {
	clauses := append(objectClauses(o), map[string]any{"range": map[string]any{"@timestamp": map[string]any{"lt": since.UTC().Format("2006-01-02T15:04:05.000Z")}}})
	b, err := r.Do(ctx, http.MethodPost, "/"+index+"/_delete_by_query",
		url.Values{"refresh": {"true"}, "conflicts": {"proceed"}}, map[string]any{"query": map[string]any{"bool": map[string]any{"filter": clauses}}})
	if err != nil {
		return 0, fmt.Errorf("removing the replayed records of s3://%s/%s from %s: %w", o.Bucket, o.Key, index, err)
	}
	var res struct {
		Deleted  int64 `json:"deleted"`
		Failures []any `json:"failures"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return 0, err
	}
	if len(res.Failures) > 0 {
		return res.Deleted, fmt.Errorf("removing the replayed records of s3://%s/%s: %d failures", o.Bucket, o.Key, len(res.Failures))
	}
	return res.Deleted, nil
}

// Count is how many of the object's records are in the index.
func Count(ctx context.Context, r Requester, index string, o Object) (int64, error) {
	b, err := r.Do(ctx, http.MethodPost, "/"+index+"/_count", nil, map[string]any{"query": map[string]any{"bool": map[string]any{"filter": objectClauses(o)}}})
	if err != nil {
		return 0, err
	}
	var res struct {
		Count int64 `json:"count"`
	}
	err = json.Unmarshal(b, &res)
	return res.Count, err
}

// Refresh makes what was written to the index searchable.
func Refresh(ctx context.Context, r Requester, index string) error {
	_, err := r.Do(ctx, http.MethodPost, "/"+index+"/_refresh", nil, nil)
	return err
}
