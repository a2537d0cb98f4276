// Package deadletter builds the documents that record what could not be
// indexed: which object and line, at which stage, why, and the raw record, so
// nothing read from an object is ever dropped without a trace.
package deadletter

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxRaw is the most bytes of a record kept in a dead-letter document; the
// rest is cut (raw_truncated is then true and raw_bytes gives the full size).
const MaxRaw = 16 << 10

// Stages at which a record can fail.
const (
	// StageDecode: the line could not be read as a record (too long).
	StageDecode = "decode"
	// StageTransform: the record is not valid JSON or lacks what the
	// transform needs (arn, timestamps).
	StageTransform = "transform"
	// StageIndex: the cluster rejected the document (mapping error, too
	// large, ...).
	StageIndex = "index"
)

// Record is one record that could not be indexed.
type Record struct {
	Bucket, Key, VersionID string
	Line                   int
	Stage                  string
	Reason                 string
	// Status is the cluster's HTTP status for StageIndex, else 0.
	Status int
	// Raw is the record as read (or as sent, for StageIndex).
	Raw []byte
	// RawBytes is the full size of the record when Raw holds only its start
	// (a line too long to read whole); 0 means len(Raw).
	RawBytes              int
	TargetIndex, TargetID string
	// TargetVersion is the external version the refused document had (0:
	// none), so a replay can tell whether the index now holds it.
	TargetVersion int64
	MessageID     string
	// Copy names the copy of the record's document that was refused
	// (CopyHistory), "" for the document itself.
	Copy string
}

// CopyHistory marks the history copy of a record's document.
const CopyHistory = "history"

// ID is deterministic per object version and line, so a redelivered message
// finds its earlier dead-letter documents in place instead of adding
// copies: each is written with the time of its writing as its external
// version (see Version), so the latest failure's document stays, and a
// replay can tell the records that failed again (written since it started)
// from those that did not.
func (r Record) ID() string {
	h := sha256.New()
	for _, s := range []string{r.Bucket, r.Key, r.VersionID} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	var b [8]byte
	for i := range b {
		b[i] = byte(r.Line >> (8 * i))
	}
	h.Write(b[:])
	if r.Copy != "" { // the record's own document keeps the id it always had
		h.Write([]byte(r.Copy))
	}
	return hex.EncodeToString(h.Sum(nil))
}

type doc struct {
	Timestamp     string `json:"@timestamp"`
	Bucket        string `json:"bucket"`
	Key           string `json:"key"`
	VersionID     string `json:"version_id,omitempty"`
	Line          int    `json:"line"`
	Stage         string `json:"stage"`
	Reason        string `json:"reason"`
	Status        int    `json:"status,omitempty"`
	Raw           string `json:"raw"`
	RawBytes      int    `json:"raw_bytes"`
	RawTruncated  bool   `json:"raw_truncated"`
	TargetIndex   string `json:"target_index,omitempty"`
	TargetID      string `json:"target_id,omitempty"`
	TargetVersion int64  `json:"target_version,omitempty"`
	MessageID     string `json:"message_id,omitempty"`
	Copy          string `json:"copy,omitempty"`
}

// Version is the external version of a dead-letter document written at
// now: its time in microseconds.
func Version(now time.Time) int64 { return now.UnixMicro() }

// Body renders the dead-letter document.
func (r Record) Body(now time.Time) []byte {
	raw := r.Raw
	full := r.RawBytes
	if full < len(raw) {
		full = len(raw)
	}
	truncated := full > len(raw)
	if len(raw) > MaxRaw {
		raw, truncated = raw[:MaxRaw], true
	}
	// Cut at a rune boundary; encoding/json replaces any invalid bytes of
	// the record itself.
	for i := 1; truncated && i < utf8.UTFMax && len(raw) > 0; i++ {
		if r, size := utf8.DecodeLastRune(raw); r != utf8.RuneError || size > 1 {
			break
		}
		raw = raw[:len(raw)-1]
	}
	b, _ := json.Marshal(doc{ // a struct of strings and ints cannot fail to encode
		Timestamp: now.UTC().Format("2006-01-02T15:04:05.000Z"),
		Bucket:    r.Bucket, Key: r.Key, VersionID: r.VersionID, Line: r.Line,
		Stage: r.Stage, Reason: r.Reason, Status: r.Status,
		Raw: string(raw), RawBytes: full, RawTruncated: truncated,
		TargetIndex: r.TargetIndex, TargetID: r.TargetID, TargetVersion: r.TargetVersion, MessageID: r.MessageID, Copy: r.Copy,
	})
	return b
}

//go:embed template.json
var template string

// IndexTemplate returns a composable template for the dead-letter index: the
// raw record is kept in _source but not indexed, so any record fits.
func IndexTemplate(index string) (name, body string) {
	return index, strings.ReplaceAll(template, "{{INDEX}}", index)
}
