// Package search is a minimal client of the search cluster's REST API for
// the demo and the integration tests: refresh, count, fetch documents.
package search

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/logtide/logtide/worker/format"
)

// Client talks to one cluster endpoint.
type Client struct {
	URL  string
	HTTP *http.Client
}

// New returns a client for the cluster at url.
func New(url string) *Client {
	return &Client{URL: strings.TrimRight(url, "/"), HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// Do sends a request with an optional JSON body and decodes a JSON answer
// into out (if not nil). Statuses other than 2xx are errors.
func (c *Client) Do(ctx context.Context, method, path string, body any, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %.500s", method, path, resp.Status, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// Refresh makes everything written to the indices matching pattern searchable.
func (c *Client) Refresh(ctx context.Context, pattern string) error {
	return c.Do(ctx, http.MethodPost, "/"+pattern+"/_refresh?allow_no_indices=true", nil, nil)
}

// CountByIndex returns the number of documents of each index matching pattern.
func (c *Client) CountByIndex(ctx context.Context, pattern string) (map[string]int, error) {
	var rows []struct {
		Index string `json:"index"`
		Count string `json:"docs.count"`
	}
	if err := c.Do(ctx, http.MethodGet, "/_cat/indices/"+pattern+"?format=json&h=index,docs.count&expand_wildcards=open", nil, &rows); err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, r := range rows {
		var n int
		fmt.Sscan(r.Count, &n)
		out[r.Index] = n
	}
	return out, nil
}

// Hit is one document as stored.
type Hit struct {
	Index   string          `json:"_index"`
	ID      string          `json:"_id"`
	Version int64           `json:"_version"`
	Source  json.RawMessage `json:"_source"`
}

// All returns every document of the indices matching pattern, with
// versions, however many there are (it scrolls).
func (c *Client) All(ctx context.Context, pattern string) ([]Hit, error) {
	type page struct {
		ScrollID string `json:"_scroll_id"`
		Hits     struct {
			Hits []Hit `json:"hits"`
		} `json:"hits"`
	}
	var p page
	q := map[string]any{"size": 1000, "version": true, "sort": []string{"_doc"}, "query": map[string]any{"match_all": map[string]any{}}}
	if err := c.Do(ctx, http.MethodPost, "/"+pattern+"/_search?scroll=1m", q, &p); err != nil {
		return nil, err
	}
	var all []Hit
	for len(p.Hits.Hits) > 0 {
		all = append(all, p.Hits.Hits...)
		id := p.ScrollID
		p = page{}
		if err := c.Do(ctx, http.MethodPost, "/_search/scroll", map[string]any{"scroll": "1m", "scroll_id": id}, &p); err != nil {
			return nil, err
		}
	}
	if p.ScrollID != "" {
		_ = c.Do(ctx, http.MethodDelete, "/_search/scroll", map[string]any{"scroll_id": []string{p.ScrollID}}, nil)
	}
	return all, nil
}

// Drop deletes the indices and the index templates whose names match any of
// patterns (wildcards allowed): what a test run leaves behind.
func (c *Client) Drop(ctx context.Context, patterns ...string) error {
	var errs []error
	for _, p := range patterns {
		if err := c.Do(ctx, http.MethodDelete, "/"+p+"?allow_no_indices=true&ignore_unavailable=true", nil, nil); err != nil {
			errs = append(errs, err)
		}
		var res struct {
			Templates []struct {
				Name string `json:"name"`
			} `json:"index_templates"`
		}
		if err := c.Do(ctx, http.MethodGet, "/_index_template/"+p, nil, &res); err != nil {
			errs = append(errs, err)
			continue
		}
		for _, tp := range res.Templates {
			if err := c.Do(ctx, http.MethodDelete, "/_index_template/"+tp.Name, nil, nil); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Engine is what the cluster says it is, as the worker reads it.
func (c *Client) Engine(ctx context.Context) (format.Engine, error) {
	var info struct {
		Version struct {
			Distribution string `json:"distribution"`
			Number       string `json:"number"`
			BuildFlavor  string `json:"build_flavor"`
		} `json:"version"`
	}
	if err := c.Do(ctx, http.MethodGet, "/", nil, &info); err != nil {
		return format.Engine{}, err
	}
	e := format.Engine{Distribution: info.Version.Distribution, Flavor: info.Version.BuildFlavor}
	if e.Distribution == "" {
		e.Distribution = "elasticsearch"
	}
	fmt.Sscanf(info.Version.Number, "%d.%d", &e.Major, &e.Minor)
	return e, nil
}
