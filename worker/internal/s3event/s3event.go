// Package s3event turns the body of an SQS message into the S3 objects it
// names.
//
// It owns the parsing of the notification formats that can reach the
// worker's queue:
//
//   - direct S3 event notifications ({"Records":[...]}), including raw SNS
//     delivery, whose object keys are URL form-encoded;
//   - SNS envelopes ({"Type":"Notification","Message":"..."}) wrapping one
//     of the other formats (one level only);
//   - EventBridge "Object Created" events from aws.s3, whose keys are raw;
//   - the s3:TestEvent that S3 sends when notifications are configured.
//
// The package is pure: it does no I/O, keeps no state and never panics.
// A body it cannot understand yields a *FormatError, which is permanent.
package s3event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Object is one S3 object named by a notification.
type Object struct {
	// Bucket is the bucket name.
	Bucket string
	// Key is the object key, decoded (direct S3 and SNS keys are URL
	// form-decoded; EventBridge keys are used as sent).
	Key string
	// Size is the object size in bytes as reported by the notification. It is
	// informational: zero-size objects are kept.
	Size int64
	// VersionID is the object version, empty if the bucket is not versioned.
	VersionID string
	// ETag is the object ETag as sent (without quotes).
	ETag string
	// Sequencer orders events for the same key (hex string, compare after
	// left-padding to equal length).
	Sequencer string
	// EventName is the S3 event name, e.g. "ObjectCreated:Put". For
	// EventBridge it is "ObjectCreated:" followed by the event's reason,
	// e.g. "ObjectCreated:PutObject".
	EventName string
	// EventTime is the event time in UTC; zero if absent or unparsable.
	EventTime time.Time
}

// Notification is what one SQS body says.
type Notification struct {
	// Objects are the created objects to process (ObjectCreated only), in
	// body order.
	Objects []Object
	// Test is true when the body is an s3:TestEvent, sent directly or inside
	// an SNS envelope. A test event names no objects.
	Test bool
	// Ignored counts records that name no object to process: ObjectRemoved
	// and other non-create events, and keys ending in "/".
	Ignored int
}

// FormatError reports a body that is not a notification this package
// understands. It is permanent: retrying the same body will not help, so the
// message belongs on a dead-letter queue.
type FormatError struct {
	// Reason says what is wrong with the body.
	Reason string
	// Excerpt is the start of the body (at most maxExcerpt bytes, valid
	// UTF-8), to help find the message.
	Excerpt string
}

// Error implements error.
func (e *FormatError) Error() string {
	if e.Excerpt == "" {
		return "s3event: " + e.Reason
	}
	return fmt.Sprintf("s3event: %s (body starts %q)", e.Reason, e.Excerpt)
}

const (
	// maxBody bounds the body accepted by Parse. SQS messages are at most
	// 256 KiB (1 MiB since 2025); anything larger is not an SQS body.
	maxBody = 1 << 20
	// maxExcerpt bounds FormatError.Excerpt and keys quoted in reasons.
	maxExcerpt = 200

	createdPrefix = "ObjectCreated:"
)

// decodeKey decodes an S3 notification key: '+' is a space, %XX escapes.
// It fails on a malformed escape or when the decoded key is not valid UTF-8
// (S3 keys always are).
func decodeKey(raw string) (string, error) {
	k, err := url.QueryUnescape(raw)
	if err != nil {
		return "", err
	}
	if !utf8.ValidString(k) {
		return "", errors.New("decoded key is not valid UTF-8")
	}
	return k, nil
}

// Parse decodes an SQS message body. Every error it returns is a
// *FormatError, and then the Notification is zero: one malformed record
// (say, a key with a bad %-escape) rejects the whole body, so nothing in it
// is processed twice or half-processed. Records that are ignored are not
// validated beyond their eventSource and eventName.
func Parse(body []byte) (Notification, error) {
	if len(body) > maxBody {
		return Notification{}, newFormatError(body, fmt.Sprintf("body is %d bytes, more than %d", len(body), maxBody))
	}
	n, reason := parse(body, false)
	if reason != "" {
		return Notification{}, newFormatError(body, reason)
	}
	return n, nil
}

// parse does the work of Parse and returns a reason instead of an error, so
// that an SNS envelope can prefix the reason of its Message. inSNS is true
// while parsing an SNS Message, which may not itself be an SNS envelope.
func parse(body []byte, inSNS bool) (Notification, string) {
	if n, ok := parseDirect(body); ok {
		return n, ""
	}
	return parseGeneral(body, inSNS)
}

// directBody is a direct S3 notification whose records all name created
// objects: the body every message carries in the usual setup, decoded in one
// pass.
type directBody struct {
	Records []struct {
		EventSource string   `json:"eventSource"`
		EventName   string   `json:"eventName"`
		EventTime   string   `json:"eventTime"`
		S3          s3Entity `json:"s3"`
	} `json:"Records"`
}

var recordsKey, s3Key = []byte(`"records"`), []byte(`"s3"`)

// parseDirect is the fast path of parse: it takes a direct S3 notification
// whose records are all valid ObjectCreated records of objects, and declines
// (false) anything else, which the general path then parses, ignores or
// rejects with its reason. Both give the same result for what it takes.
func parseDirect(body []byte) (Notification, bool) {
	b := bytes.TrimLeft(body, " \t\r\n")
	if !bytes.HasPrefix(b, []byte(`{"Records":[`)) {
		return Notification{}, false
	}
	// encoding/json matches struct fields regardless of case, where the
	// general path reads exactly "Records"; and it merges a repeated s3
	// member into one struct, where the general path keeps the last one.
	// Bodies where that could matter decline.
	lower := bytes.ToLower(b)
	if bytes.Count(lower, recordsKey) != 1 {
		return Notification{}, false
	}
	var d directBody
	if json.Unmarshal(b, &d) != nil || len(d.Records) == 0 || bytes.Count(lower, s3Key) != len(d.Records) {
		return Notification{}, false
	}
	n := Notification{Objects: make([]Object, 0, len(d.Records))}
	for _, r := range d.Records {
		e := r.S3
		if r.EventSource != "aws:s3" || !strings.HasPrefix(r.EventName, createdPrefix) ||
			e.Bucket.Name == "" || e.Object.Key == "" || e.Object.Size < 0 {
			return Notification{}, false
		}
		key, err := decodeKey(e.Object.Key)
		if err != nil || strings.HasSuffix(key, "/") {
			return Notification{}, false
		}
		n.Objects = append(n.Objects, e.object(key, r.EventName, r.EventTime))
	}
	return n, true
}

// parseGeneral reads every notification format, and says what is wrong with
// a body it cannot take.
func parseGeneral(body []byte, inSNS bool) (Notification, string) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		if len(strings.TrimSpace(string(body))) == 0 {
			return Notification{}, "empty body"
		}
		return Notification{}, "not a JSON object: " + err.Error()
	}
	if top == nil { // the literal null
		return Notification{}, "not a JSON object: null"
	}
	switch {
	case has(top, "Records"):
		return parseRecords(top["Records"])
	case has(top, "Type"):
		if inSNS {
			return Notification{}, "SNS envelope inside an SNS envelope is not supported"
		}
		return parseSNS(top)
	case has(top, "Event"):
		return parseTestEvent(top)
	case has(top, "detail-type"):
		return parseEventBridge(top)
	default:
		return Notification{}, "unrecognised JSON object with keys " + keyList(top)
	}
}

// s3Record is one element of a direct S3 notification's Records array. The
// s3 member is decoded only for ObjectCreated records.
type s3Record struct {
	EventSource string          `json:"eventSource"`
	EventName   string          `json:"eventName"`
	EventTime   string          `json:"eventTime"`
	S3          json.RawMessage `json:"s3"`
}

type s3Entity struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key       string `json:"key"`
		Size      int64  `json:"size"`
		ETag      string `json:"eTag"`
		VersionID string `json:"versionId"`
		Sequencer string `json:"sequencer"`
	} `json:"object"`
}

// object is the Object a record names; key is its decoded key.
func (e *s3Entity) object(key, eventName, eventTime string) Object {
	return Object{
		Bucket:    e.Bucket.Name,
		Key:       key,
		Size:      e.Object.Size,
		VersionID: e.Object.VersionID,
		ETag:      e.Object.ETag,
		Sequencer: e.Object.Sequencer,
		EventName: eventName,
		EventTime: parseTime(eventTime),
	}
}

func parseRecords(raw json.RawMessage) (Notification, string) {
	var recs []json.RawMessage
	if err := json.Unmarshal(raw, &recs); err != nil {
		return Notification{}, "Records is not an array: " + err.Error()
	}
	if len(recs) == 0 {
		return Notification{}, "no records"
	}
	var n Notification
	for i, rr := range recs {
		var r s3Record
		if err := json.Unmarshal(rr, &r); err != nil {
			return Notification{}, fmt.Sprintf("record %d: %v", i, err)
		}
		if r.EventSource == "aws:sqs" {
			return Notification{}, fmt.Sprintf("record %d: eventSource is aws:sqs, not aws:s3 (a Lambda SQS event? parse each record's body instead)", i)
		}
		if r.EventSource != "aws:s3" {
			return Notification{}, fmt.Sprintf("record %d: eventSource %q is not aws:s3", i, truncate(r.EventSource))
		}
		if r.EventName == "" {
			return Notification{}, fmt.Sprintf("record %d: no eventName", i)
		}
		if !strings.HasPrefix(r.EventName, createdPrefix) {
			n.Ignored++
			continue
		}
		if len(r.S3) == 0 {
			return Notification{}, fmt.Sprintf("record %d: no s3 member", i)
		}
		var e s3Entity
		if err := json.Unmarshal(r.S3, &e); err != nil {
			return Notification{}, fmt.Sprintf("record %d: s3: %v", i, err)
		}
		if e.Bucket.Name == "" {
			return Notification{}, fmt.Sprintf("record %d: no bucket name", i)
		}
		if e.Object.Key == "" {
			return Notification{}, fmt.Sprintf("record %d: no object key", i)
		}
		key, err := decodeKey(e.Object.Key)
		if err != nil {
			return Notification{}, fmt.Sprintf("record %d: bad key %q: %v", i, truncate(e.Object.Key), err)
		}
		if e.Object.Size < 0 {
			return Notification{}, fmt.Sprintf("record %d: negative size %d", i, e.Object.Size)
		}
		if strings.HasSuffix(key, "/") {
			n.Ignored++
			continue
		}
		n.Objects = append(n.Objects, e.object(key, r.EventName, r.EventTime))
	}
	return n, ""
}

func parseSNS(top map[string]json.RawMessage) (Notification, string) {
	typ, ok := str(top, "Type")
	if !ok {
		return Notification{}, "SNS Type is not a string"
	}
	if typ != "Notification" {
		return Notification{}, fmt.Sprintf("SNS message of Type %q, not Notification", truncate(typ))
	}
	if !has(top, "Message") {
		return Notification{}, "SNS Notification without Message"
	}
	msg, ok := str(top, "Message")
	if !ok {
		return Notification{}, "SNS Message is not a string"
	}
	n, reason := parse([]byte(msg), true)
	if reason != "" {
		return Notification{}, "SNS Message: " + reason
	}
	return n, ""
}

func parseTestEvent(top map[string]json.RawMessage) (Notification, string) {
	service, ok1 := str(top, "Service")
	event, ok2 := str(top, "Event")
	if !ok1 || !ok2 {
		return Notification{}, "Service or Event is not a string"
	}
	if service != "Amazon S3" || event != "s3:TestEvent" {
		return Notification{}, fmt.Sprintf("unknown event %q from service %q", truncate(event), truncate(service))
	}
	return Notification{Test: true}, ""
}

type ebDetail struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key       string `json:"key"`
		Size      int64  `json:"size"`
		ETag      string `json:"etag"`
		VersionID string `json:"version-id"`
		Sequencer string `json:"sequencer"`
	} `json:"object"`
	Reason string `json:"reason"`
}

func parseEventBridge(top map[string]json.RawMessage) (Notification, string) {
	detailType, ok := str(top, "detail-type")
	if !ok {
		return Notification{}, "EventBridge detail-type is not a string"
	}
	if source, ok := str(top, "source"); !ok || source != "aws.s3" {
		return Notification{}, fmt.Sprintf("EventBridge event %q is not from aws.s3", truncate(detailType))
	}
	if detailType != "Object Created" {
		return Notification{Ignored: 1}, ""
	}
	when, _ := str(top, "time")
	raw, ok := top["detail"]
	if !ok {
		return Notification{}, "EventBridge Object Created without detail"
	}
	var d ebDetail
	if err := json.Unmarshal(raw, &d); err != nil {
		return Notification{}, "EventBridge detail: " + err.Error()
	}
	if d.Bucket.Name == "" {
		return Notification{}, "EventBridge detail: no bucket name"
	}
	if d.Object.Key == "" {
		return Notification{}, "EventBridge detail: no object key"
	}
	if d.Object.Size < 0 {
		return Notification{}, fmt.Sprintf("EventBridge detail: negative size %d", d.Object.Size)
	}
	if strings.HasSuffix(d.Object.Key, "/") {
		return Notification{Ignored: 1}, ""
	}
	return Notification{Objects: []Object{{
		Bucket:    d.Bucket.Name,
		Key:       d.Object.Key, // EventBridge keys are not URL-encoded
		Size:      d.Object.Size,
		VersionID: d.Object.VersionID,
		ETag:      d.Object.ETag,
		Sequencer: d.Object.Sequencer,
		EventName: createdPrefix + d.Reason,
		EventTime: parseTime(when),
	}}}, ""
}

// timeLayouts are tried in order. time.RFC3339 also accepts fractional
// seconds when parsing. The zone-less layouts are what moto emits; they are
// read as UTC.
var timeLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05",
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// str returns the string member k of m: "" and true when it is absent or
// null, false when it is not a string.
func str(m map[string]json.RawMessage, k string) (string, bool) {
	raw, ok := m[k]
	if !ok {
		return "", true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

func has(m map[string]json.RawMessage, k string) bool {
	_, ok := m[k]
	return ok
}

// keyList names up to 8 keys of a JSON object, sorted, for error reasons.
func keyList(m map[string]json.RawMessage) string {
	if len(m) == 0 {
		return "(none)"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	more := ""
	if len(keys) > 8 {
		more = fmt.Sprintf(" and %d more", len(keys)-8)
		keys = keys[:8]
	}
	for i, k := range keys {
		keys[i] = fmt.Sprintf("%q", truncate(k))
	}
	return strings.Join(keys, ", ") + more
}

// truncate cuts s to at most maxExcerpt bytes of valid UTF-8, replacing
// invalid bytes with U+FFFD.
func truncate(s string) string {
	s = strings.ToValidUTF8(cut(s), "\uFFFD")
	return cut(s) // replacements may have made it longer
}

// cut shortens s to at most maxExcerpt bytes without splitting a rune.
func cut(s string) string {
	if len(s) <= maxExcerpt {
		return s
	}
	n := maxExcerpt
	for i := 0; i < utf8.UTFMax && n > 0 && !utf8.RuneStart(s[n]); i++ {
		n--
	}
	return s[:n]
}

func newFormatError(body []byte, reason string) *FormatError {
	if len(body) > maxExcerpt {
		body = body[:maxExcerpt+utf8.UTFMax] // enough for cut; avoids copying a large body
	}
	return &FormatError{Reason: reason, Excerpt: truncate(string(body))}
}
