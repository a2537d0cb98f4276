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
	"reflect"
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
// is processed twice or half-processed. A record that names nothing to
// process (ObjectRemoved, a folder key) is ignored once its members have
// the types a notification gives them; its key is not decoded.
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
//
// The body is decoded in one pass into a struct holding every member that
// tells the formats apart; the members of the format found are then checked
// one by one. Like encoding/json, member names match regardless of case.
func parse(body []byte, inSNS bool) (Notification, string) {
	var b envelope
	if err := json.Unmarshal(body, &b); err != nil {
		if len(bytes.TrimSpace(body)) == 0 {
			return Notification{}, "empty body"
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal(body, &top); err != nil {
			return Notification{}, "not a JSON object: " + err.Error()
		}
		// A JSON object, but a member has a type no notification has.
		return Notification{}, describeTypeError(err)
	}
	switch {
	case b.Records != nil:
		return parseRecords(*b.Records)
	case b.Type != nil:
		if inSNS {
			return Notification{}, "SNS envelope inside an SNS envelope is not supported"
		}
		return parseSNS(b)
	case b.Event != nil:
		return parseTestEvent(b)
	case b.DetailType != nil:
		return parseEventBridge(b)
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil || top == nil {
		return Notification{}, "not a JSON object: null"
	}
	if _, ok := top["Records"]; ok { // "Records": null
		return Notification{}, "no records"
	}
	return Notification{}, "unrecognised JSON object with keys " + keyList(top)
}

// envelope holds the members of every notification format. A member that
// is absent stays nil; JSON null reads as absent too.
type envelope struct {
	// A direct S3 notification.
	Records *[]s3Record `json:"Records"`
	// An SNS envelope.
	Type    *string `json:"Type"`
	Message *string `json:"Message"`
	// The s3:TestEvent.
	Service *string `json:"Service"`
	Event   *string `json:"Event"`
	// An EventBridge event.
	DetailType *string   `json:"detail-type"`
	Source     *string   `json:"source"`
	Time       string    `json:"time"`
	Detail     *ebDetail `json:"detail"`
}

// s3Record is one element of a direct S3 notification's Records array.
type s3Record struct {
	EventSource string    `json:"eventSource"`
	EventName   string    `json:"eventName"`
	EventTime   string    `json:"eventTime"`
	S3          *s3Entity `json:"s3"`
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

// describeTypeError says which member of a JSON object has a type no
// notification gives it.
func describeTypeError(err error) string {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return err.Error()
	}
	want := "another type"
	switch te.Type.Kind() {
	case reflect.String:
		want = "a string"
	case reflect.Int64:
		want = "a number"
	case reflect.Slice:
		want = "an array"
	case reflect.Struct, reflect.Pointer:
		want = "an object"
	}
	where := te.Field
	if where == "" {
		where = "a member"
	}
	return fmt.Sprintf("%s is a JSON %s where a notification has %s", where, te.Value, want)
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

func parseRecords(recs []s3Record) (Notification, string) {
	if len(recs) == 0 {
		return Notification{}, "no records"
	}
	var n Notification
	for i, r := range recs {
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
		e := r.S3
		switch {
		case e == nil:
			return Notification{}, fmt.Sprintf("record %d: no s3 member", i)
		case e.Bucket.Name == "":
			return Notification{}, fmt.Sprintf("record %d: no bucket name", i)
		case e.Object.Key == "":
			return Notification{}, fmt.Sprintf("record %d: no object key", i)
		case e.Object.Size < 0:
			return Notification{}, fmt.Sprintf("record %d: negative size %d", i, e.Object.Size)
		}
		key, err := decodeKey(e.Object.Key)
		if err != nil {
			return Notification{}, fmt.Sprintf("record %d: bad key %q: %v", i, truncate(e.Object.Key), err)
		}
		if strings.HasSuffix(key, "/") {
			n.Ignored++
			continue
		}
		n.Objects = append(n.Objects, e.object(key, r.EventName, r.EventTime))
	}
	return n, ""
}

func parseSNS(b envelope) (Notification, string) {
	if *b.Type != "Notification" {
		return Notification{}, fmt.Sprintf("SNS message of Type %q, not Notification", truncate(*b.Type))
	}
	if b.Message == nil {
		return Notification{}, "SNS Notification without Message"
	}
	n, reason := parse([]byte(*b.Message), true)
	if reason != "" {
		return Notification{}, "SNS Message: " + reason
	}
	return n, ""
}

func parseTestEvent(b envelope) (Notification, string) {
	if b.Service == nil || *b.Service != "Amazon S3" || *b.Event != "s3:TestEvent" {
		service := ""
		if b.Service != nil {
			service = *b.Service
		}
		return Notification{}, fmt.Sprintf("unknown event %q from service %q", truncate(*b.Event), truncate(service))
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

func parseEventBridge(b envelope) (Notification, string) {
	if b.Source == nil || *b.Source != "aws.s3" {
		return Notification{}, fmt.Sprintf("EventBridge event %q is not from aws.s3", truncate(*b.DetailType))
	}
	if *b.DetailType != "Object Created" {
		return Notification{Ignored: 1}, ""
	}
	d := b.Detail
	switch {
	case d == nil:
		return Notification{}, "EventBridge Object Created without detail"
	case d.Bucket.Name == "":
		return Notification{}, "EventBridge detail: no bucket name"
	case d.Object.Key == "":
		return Notification{}, "EventBridge detail: no object key"
	case d.Object.Size < 0:
		return Notification{}, fmt.Sprintf("EventBridge detail: negative size %d", d.Object.Size)
	case strings.HasSuffix(d.Object.Key, "/"):
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
		EventTime: parseTime(b.Time),
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
		body = body[:min(len(body), maxExcerpt+utf8.UTFMax)] // enough for cut; avoids copying a large body
	}
	return &FormatError{Reason: reason, Excerpt: truncate(string(body))}
}
