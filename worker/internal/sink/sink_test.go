package sink

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fakeBulk answers each item with the status named by its document's "want".
func fakeBulk(t *testing.T, requestStatus int) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_bulk" {
			http.NotFound(w, r)
			return
		}
		if got := r.URL.Query().Get("filter_path"); got != bulkFilter {
			t.Errorf("filter_path %q, want %q", got, bulkFilter)
		}
		if requestStatus != 0 {
			w.WriteHeader(requestStatus)
			fmt.Fprint(w, `{"error":{"type":"x","reason":"y"},"status":`, requestStatus, `}`)
			return
		}
		sc := bufio.NewScanner(r.Body)
		var items []string
		for sc.Scan() {
			var action map[string]map[string]any
			if err := json.Unmarshal(sc.Bytes(), &action); err != nil {
				t.Errorf("bad action line: %s", sc.Bytes())
				return
			}
			meta := action["index"]
			if meta["version_type"] != "external_gte" || meta["version"] == nil {
				t.Errorf("action without external version: %s", sc.Bytes())
			}
			sc.Scan()
			var doc struct{ Want int }
			if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
				t.Errorf("bad doc line: %s", sc.Bytes())
			}
			item := fmt.Sprintf(`{"index":{"_index":"i","_id":"%v","status":%d`, meta["_id"], doc.Want)
			switch {
			case doc.Want == 409:
				item += `,"error":{"type":"version_conflict_engine_exception","reason":"current version [5] is higher"}`
			case doc.Want >= 300:
				item += `,"error":{"type":"mapper_parsing_exception","reason":"failed to parse"}`
			}
			items = append(items, item+`}}`)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"took":1,"errors":true,"items":[%s]}`, strings.Join(items, ","))
	}))
}

func TestBulkClassifiesItems(t *testing.T) {
	srv := fakeBulk(t, 0)
	defer srv.Close()
	s, err := New(Options{URLs: []string{srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	// 401, 403, 404 and 408 are the cluster's problem (credentials, an index
	// it cannot create, a timeout), not the document's: sent again.
	statuses := []int{201, 200, 409, 429, 503, 400, 413, 401, 403, 404, 408, 422}
	want := []Outcome{Written, Written, Stale, Retry, Retry, Rejected, Rejected, Retry, Retry, Retry, Retry, Rejected}
	var items []Item
	for i, st := range statuses {
		items = append(items, Item{Index: "i", ID: fmt.Sprint(i), Version: 1, Body: []byte(fmt.Sprintf(`{"want":%d}`, st))})
	}
	res, err := s.Bulk(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if res[i].Outcome != want[i] || res[i].Status != statuses[i] {
			t.Errorf("item %d: %+v, want %v", i, res[i], want[i])
		}
	}
	if !strings.Contains(res[5].Reason, "mapper_parsing_exception") {
		t.Errorf("reason not kept: %q", res[5].Reason)
	}
}

// TestReadBulkResponse: the answer is read whole or filtered (filter_path),
// whatever the action, and an answer that does not account for every item
// is an error of the request.
func TestReadBulkResponse(t *testing.T) {
	full := `{"took":3,"errors":true,"items":[` +
		`{"index":{"_index":"gd-2026-03-01","_id":"a","_version":7,"result":"created","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":5,"_primary_term":1,"status":201}},` +
		`{"create":{"_index":"x","_id":"b","status":409,"error":{"type":"version_conflict_engine_exception","reason":"[b]: version conflict, document already exists (current version [1])","index":"x","shard":"0"}}},` +
		`{"index":{"_index":"x","_id":"c","status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [remote.ip]","caused_by":{"type":"illegal_argument_exception","reason":"'x' is not an IP string literal."}}}},` +
		`{"index":{"_index":"x","_id":"d","status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation"}}},` +
		`{"update":{"status":200}},` +
		`{"index":{"status":500,"error":"a proxy wrote a string"}},` +
		`{"index":{"status":400,"error":{"type":"x","reason":"\u00e9\n"}}},` +
		`{},` +
		`{"index":{"error":{"type":"y"}}}` +
		`]}`
	filtered := `{"items":[{"index":{"status":201}},{"create":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"[b]: version conflict, document already exists (current version [1])"}}},` +
		`{"index":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [remote.ip]"}}},{"index":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation"}}},` +
		`{"update":{"status":200}},{"index":{"status":500,"error":"a proxy wrote a string"}},{"index":{"status":400,"error":{"type":"x","reason":"é\n"}}},{},{"index":{"error":{"type":"y"}}}]}`
	want := []Result{
		{Outcome: Written, Status: 201},
		{Outcome: Stale, Status: 409, ErrorType: "version_conflict_engine_exception", Reason: "version_conflict_engine_exception: [b]: version conflict, document already exists (current version [1])"},
		{Outcome: Rejected, Status: 400, ErrorType: "mapper_parsing_exception", Reason: "mapper_parsing_exception: failed to parse field [remote.ip]"},
		{Outcome: Retry, Status: 429, ErrorType: "es_rejected_execution_exception", Reason: "es_rejected_execution_exception: rejected execution of coordinating operation"},
		{Outcome: Written, Status: 200},
		{Outcome: Retry, Status: 500, Reason: ": a proxy wrote a string"},
		{Outcome: Rejected, Status: 400, ErrorType: "x", Reason: "x: é\n"},
		{Outcome: Retry, Reason: "no result for item"},
		{Outcome: Retry, ErrorType: "y", Reason: "y: "},
	}
	for name, body := range map[string]string{"full": full, "filtered": filtered} {
		got, err := readBulkResponse([]byte(body), len(want))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s item %d: %+v, want %+v", name, i, got[i], want[i])
			}
		}
	}
	for _, c := range []struct{ body, err string }{
		{`{"items":[{"index":{"status":201}}]}`, "1 results for 2 items"},
		{`{"took":1,"errors":false}`, "no items"},
		{`{"items":{}}`, "items is not one array"},
		{`{"items":[],"items":[]}`, "items is not one array"},
		{`<html>502 Bad Gateway</html>`, "not a JSON object"},
		{`{"items":[{"index":{"status":201}},{"index":{"status":201}}]`, "not JSON"},
	} {
		if _, err := readBulkResponse([]byte(c.body), 2); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: %v, want %q", c.body, err, c.err)
		}
	}
}

func TestBulkRequestErrors(t *testing.T) {
	for _, c := range []struct {
		status               int
		tooLarge, badRequest bool
	}{{429, false, false}, {503, false, false}, {400, false, true}, {403, false, false}, {413, true, false}} {
		srv := fakeBulk(t, c.status)
		s, err := New(Options{URLs: []string{srv.URL}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Bulk(context.Background(), []Item{{Index: "i", ID: "1", Body: []byte(`{}`)}})
		var re *RequestError
		if !errors.As(err, &re) || re.Status != c.status || re.TooLarge() != c.tooLarge || re.BadRequest() != c.badRequest {
			t.Errorf("status %d: got %v", c.status, err)
		}
		if re != nil && re.Reason() != fmt.Sprintf("status_%d", c.status) {
			t.Errorf("status %d: reason %s", c.status, re.Reason())
		}
		srv.Close()
	}
	// Nobody listening.
	s, err := New(Options{URLs: []string{"http://127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Bulk(context.Background(), []Item{{Index: "i", ID: "1", Body: []byte(`{}`)}})
	var re *RequestError
	if !errors.As(err, &re) || re.Status != 0 || re.Reason() != "unreachable" {
		t.Errorf("connection refused: got %v (reason %s)", err, re.Reason())
	}
}

func TestActionLineEscapes(t *testing.T) {
	var b strings.Builder
	writeAction(&b, Item{Index: "i", ID: "arn:a/b\"c\\dé\n", Version: 7})
	var action map[string]map[string]any
	if err := json.Unmarshal([]byte(b.String()), &action); err != nil {
		t.Fatalf("%s: %v", b.String(), err)
	}
	if m := action["index"]; m["_id"] != "arn:a/b\"c\\dé\n" || m["version"] != 7.0 || m["version_type"] != "external_gte" {
		t.Errorf("got %v", m)
	}
	b.Reset()
	writeAction(&b, Item{Index: "dl", ID: "x"})
	if b.String() != "{\"create\":{\"_index\":\"dl\",\"_id\":\"x\"}}\n" {
		t.Errorf("unversioned action %q", b.String())
	}
}

// BenchmarkReadBulkResponse reads the answer to a request of 2,000 items,
// whole and as filter_path leaves it.
func BenchmarkReadBulkResponse(b *testing.B) {
	const n = 2000
	for _, c := range []struct{ name, item string }{
		{"whole", `{"index":{"_index":"vpcflow-2026-03-01","_id":"0123456789abcdef0123456789abcdef-1234","_version":1,"result":"created","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":1234,"_primary_term":1,"status":201}}`},
		{"filtered", `{"index":{"status":201}}`},
	} {
		body := []byte(`{"took":30,"errors":false,"items":[` + strings.Repeat(c.item+",", n-1) + c.item + `]}`)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for range b.N {
				if _, err := readBulkResponse(body, n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
