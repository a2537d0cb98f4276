package metrics

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestServe(t *testing.T) {
	m := New("v1.2.3")
	m.MessagesReceived.Inc()
	m.MessagesDeleted.WithLabelValues("done").Inc()
	m.Objects.WithLabelValues("done").Inc()
	m.Records.WithLabelValues("indexed").Add(3)
	m.BulkRequests.WithLabelValues("ok").Inc()
	m.BulkDuration.Observe(0.02)

	srv := httptest.NewServer(m.Handler(nil))
	defer srv.Close()

	get := func(path string) string {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %s", path, resp.Status)
		}
		return string(b)
	}
	if h := get("/healthz"); h != "ok\n" {
		t.Errorf("/healthz: %q", h)
	}
	page := get("/metrics")
	for _, want := range []string{
		"logtide_messages_received_total 1",
		`logtide_messages_deleted_total{reason="done"} 1`,
		`logtide_objects_total{outcome="done"} 1`,
		`logtide_records_total{outcome="indexed"} 3`,
		`logtide_bulk_requests_total{outcome="ok"} 1`,
		"logtide_bulk_request_duration_seconds_count 1",
		`logtide_build_info{goversion="go`,
		"logtide_messages_in_flight 0",
		"go_goroutines",
		"process_resident_memory_bytes",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestHealthz(t *testing.T) {
	var health error
	srv := httptest.NewServer(New("").Handler(func() error { return health }))
	defer srv.Close()
	get := func() (int, string) {
		resp, err := http.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(); code != 200 || body != "ok\n" {
		t.Errorf("healthy: %d %q", code, body)
	}
	health = errors.New("no progress for 10m0s with 3 messages in work")
	if code, body := get(); code != 503 || body != "unhealthy: no progress for 10m0s with 3 messages in work\n" {
		t.Errorf("stuck: %d %q", code, body)
	}
}
