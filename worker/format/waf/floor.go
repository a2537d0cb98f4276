package waf

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// floor reads decompressed content the cheapest way a consumer that looks
// inside every record could: cut into lines, each line given to encoding/json
// into a struct of the fields the decoder reads. The benchmark sets the
// worker's CPU per GB against it.
func floor(content io.Reader) (int, error) {
	sc := bufio.NewScanner(content)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	n := 0
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var f floorRecord
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			return n, fmt.Errorf("line %d: %w", n+1, err)
		}
		n++
	}
	return n, sc.Err()
}

// floorRecord holds the fields the decoder reads.
type floorRecord struct {
	Timestamp        int64           `json:"timestamp"`
	WebACLID         string          `json:"webaclId"`
	Action           string          `json:"action"`
	HTTPSourceName   string          `json:"httpSourceName"`
	ResponseCodeSent json.RawMessage `json:"responseCodeSent"`
	HTTPRequest      struct {
		ClientIP    string `json:"clientIp"`
		URI         string `json:"uri"`
		Args        string `json:"args"`
		HTTPVersion string `json:"httpVersion"`
		HTTPMethod  string `json:"httpMethod"`
		RequestID   string `json:"requestId"`
		Host        string `json:"host"`
		Scheme      string `json:"scheme"`
		Headers     []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"headers"`
	} `json:"httpRequest"`
}
