package workerrun

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestScrape(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "identity" {
			t.Errorf("Accept-Encoding %q", r.Header.Get("Accept-Encoding"))
		}
		_, _ = w.Write([]byte(`# HELP logtide_records_total x
# TYPE logtide_records_total counter
logtide_records_total{outcome="indexed"} 10
logtide_records_total{outcome="read"} 12
logtide_records_total_extra 99
logtide_messages_in_flight 3
`))
	}))
	defer srv.Close()
	m, err := Scrape(srv.Client(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Sum("logtide_records_total"); got != 22 {
		t.Errorf("Sum = %v, want 22 (a longer name with the same prefix must not count)", got)
	}
	if got := m.Get("logtide_records_total", `outcome="read"`); got != 12 {
		t.Errorf("Get = %v", got)
	}
	if !m.Has("logtide_messages_in_flight") || m.Has("logtide_intake_limit") {
		t.Error("Has")
	}
}
