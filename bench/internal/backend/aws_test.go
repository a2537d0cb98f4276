package backend

import (
	"strings"
	"testing"
	"time"
)

func TestNotificationRoundTrip(t *testing.T) {
	for _, key := range []string{"AWSLogs/1/GuardDuty/us-east-1/2026/01/05/a.jsonl.gz", "odd key/with spaces+plus%.gz"} {
		body := Notification("b", key, 42, time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC))
		if !strings.Contains(body, `"eventTime":"2026-01-05T00:00:00.000Z"`) || !strings.Contains(body, `"eventSource":"aws:s3"`) {
			t.Errorf("body %s", body)
		}
		b, k, err := ParseNotification(body)
		if err != nil || b != "b" || k != key {
			t.Errorf("round trip of %q: %q %q %v", key, b, k, err)
		}
	}
}

func TestConnectRefusesNonLocal(t *testing.T) {
	if _, err := Connect("x", "http://s3.amazonaws.com", "http://127.0.0.1:1"); err == nil {
		t.Fatal("a non-local endpoint was accepted")
	}
}
