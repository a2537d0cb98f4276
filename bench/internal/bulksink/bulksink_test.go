package bulksink

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

const body = `{"index":{"_index":"gd-2026-01-05","_id":"arn:1","version":5,"version_type":"external_gte"}}
{"arn":"arn:1","x":"` + "\u00e9" + `"}
{"index":{"_index":"gd-2026-01-05","_id":"arn:2"}}
{"arn":"arn:2"}
{"delete":{"_index":"gd-2026-01-05","_id":"arn:3"}}
{"create":{"_index":"dl","_id":"d\"1"}}
{"raw":"a\nb"}
`

type answer struct {
	Errors bool `json:"errors"`
	Items  []map[string]struct {
		Index  string `json:"_index"`
		ID     string `json:"_id"`
		Status int    `json:"status"`
		Error  *struct {
			Type string `json:"type"`
		} `json:"error"`
	} `json:"items"`
}

func post(t *testing.T, s *Sink) (int, answer) {
	return postTo(t, s.URL+"/_bulk")
}

func postTo(t *testing.T, url string) (int, answer) {
	t.Helper()
	resp, err := http.Post(url, "application/x-ndjson", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a answer
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, a
}

func TestBulkAnswersEveryItem(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	code, a := post(t, s)
	if code != http.StatusOK || a.Errors || len(a.Items) != 4 {
		t.Fatalf("status %d, answer %+v", code, a)
	}
	want := []struct{ op, id string }{{"index", "arn:1"}, {"index", "arn:2"}, {"delete", "arn:3"}, {"create", `d"1`}}
	for i, w := range want {
		it, ok := a.Items[i][w.op]
		if !ok || it.ID != w.id || it.Status != 201 {
			t.Errorf("item %d: %+v, want %s %s 201", i, a.Items[i], w.op, w.id)
		}
	}
	if s.OK.Load() != 4 || len(s.Events()) != 1 {
		t.Errorf("counted %d ok in %d events", s.OK.Load(), len(s.Events()))
	}
}

// TestFilterPath: asked for the items' status only, as the worker asks,
// the sink answers each item with its status, as the clusters do.
func TestFilterPath(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Throttle(2, 0)
	code, a := postTo(t, s.URL+"/_bulk?filter_path=items.*.status,items.*.error.type")
	if code != http.StatusOK || len(a.Items) != 4 {
		t.Fatalf("status %d, answer %+v", code, a)
	}
	statuses := ""
	for i, op := range []string{"index", "index", "delete", "create"} {
		it := a.Items[i][op]
		if it.ID != "" || it.Index != "" || (it.Status == 429) != (it.Error != nil) {
			t.Errorf("item %d: %+v", i, a.Items[i])
		}
		statuses += fmt.Sprint(it.Status, " ")
	}
	if statuses != "201 429 201 429 " {
		t.Errorf("statuses %s", statuses)
	}
}

func TestThrottle(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Throttle(2, 0)
	_, a := post(t, s)
	n429 := 0
	for _, m := range a.Items {
		for _, it := range m {
			if it.Status == 429 {
				n429++
				if it.Error == nil || it.Error.Type != "es_rejected_execution_exception" {
					t.Errorf("429 item without a rejection error: %+v", it)
				}
			}
		}
	}
	if !a.Errors || n429 != 2 {
		t.Fatalf("errors=%v, %d items throttled; want true, 2", a.Errors, n429)
	}
	s.Throttle(0, 1)
	if code, _ := post(t, s); code != http.StatusTooManyRequests {
		t.Fatalf("whole-request throttle: status %d", code)
	}
	s.Recover()
	if code, a := post(t, s); code != http.StatusOK || a.Errors {
		t.Fatalf("after recovery: status %d errors %v", code, a.Errors)
	}
}
