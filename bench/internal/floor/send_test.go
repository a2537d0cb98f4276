package floor

import (
	"net/http"
	"strings"
	"testing"

	"github.com/logtide/logtide/bench/internal/bulksink"
)

const bulkBody = `{"index":{"_index":"vpcflow-2026-01-05","_id":"a"}}
{"srcaddr":"10.0.0.1"}
{"index":{"_index":"vpcflow-2026-01-05","_id":"b"}}
{"srcaddr":"10.0.0.2"}
`

// The sink keeps the first requests whole up to its limit, and RunSend
// replays them until the total, every item answered.
func TestKeptRequestsReplayed(t *testing.T) {
	s, err := bulksink.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Keep(int64(len(bulkBody)) + 1) // the first two requests
	for range 3 {
		resp, err := http.Post(s.URL+"/_bulk?filter_path=items.*.status", "application/x-ndjson", strings.NewReader(bulkBody))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	kept := s.Kept()
	if len(kept) != 2 || string(kept[0].Body) != bulkBody || kept[1].URI != "/_bulk?filter_path=items.*.status" {
		t.Fatalf("kept %d requests: %+v", len(kept), kept)
	}
	if s.OK.Load() != 6 {
		t.Fatalf("the kept requests were not answered as the others: %d items ok, want 6", s.OK.Load())
	}
	total := int64(5*len(bulkBody)) - 1
	send, err := RunSend(s.URL, kept, total)
	if err != nil {
		t.Fatal(err)
	}
	if send.Requests != 5 || send.Bytes != int64(5*len(bulkBody)) {
		t.Errorf("sent %d requests, %d bytes; want 5 and %d", send.Requests, send.Bytes, 5*len(bulkBody))
	}
	if got := s.OK.Load(); got != 16 {
		t.Errorf("the sink answered %d items ok, want 16", got)
	}
	s.Reset()
	if len(s.Kept()) != 0 {
		t.Error("Reset left kept requests")
	}
	if _, err := RunSend(s.URL, nil, 1); err == nil {
		t.Error("nothing to send: no error")
	}
}
