package cloudtrail

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/logtide/logtide/worker/internal/decode"
)

// floor reads decompressed content the cheapest way a consumer that looks
// inside every record could: the Records array cut by the scanner the
// worker uses, each record given to encoding/json into a struct of the
// fields the decoder reads. The benchmark sets the
// worker's CPU per GB against it.
func floor(content io.Reader) (int, error) {
	s := decode.NewArrayScanner(content, "Records", decode.DefaultMaxLine)
	defer s.Close()
	n := 0
	for {
		rec, _, err := s.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		var f floorRecord
		if err := json.Unmarshal(rec, &f); err != nil {
			return n, fmt.Errorf("record %d: %w", n+1, err)
		}
		n++
	}
}

// floorRecord holds the fields the decoder reads.
type floorRecord struct {
	EventTime          string `json:"eventTime"`
	EventID            string `json:"eventID"`
	EventName          string `json:"eventName"`
	EventSource        string `json:"eventSource"`
	EventType          string `json:"eventType"`
	EventCategory      string `json:"eventCategory"`
	AWSRegion          string `json:"awsRegion"`
	SourceIPAddress    string `json:"sourceIPAddress"`
	UserAgent          string `json:"userAgent"`
	ErrorCode          string `json:"errorCode"`
	RecipientAccountID string `json:"recipientAccountId"`
	UserIdentity       struct {
		UserName       string `json:"userName"`
		ARN            string `json:"arn"`
		AccountID      string `json:"accountId"`
		SessionContext struct {
			SessionIssuer struct {
				UserName string `json:"userName"`
			} `json:"sessionIssuer"`
		} `json:"sessionContext"`
	} `json:"userIdentity"`
	InsightDetails struct {
		EventSource string `json:"eventSource"`
		InsightType string `json:"insightType"`
	} `json:"insightDetails"`
	ResponseElements struct {
		ConsoleLogin string `json:"ConsoleLogin"`
	} `json:"responseElements"`
}
