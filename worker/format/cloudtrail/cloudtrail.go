// Package cloudtrail reads AWS CloudTrail log files: gzip-compressed JSON
// documents {"Records":[...]} that CloudTrail writes to S3 under
// [prefix/]AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/,
// one file about every five minutes per trail and region, and Insights
// events under CloudTrail-Insight/. A record (an API call, a console
// sign-in, a service event, an Insights event) is indexed as delivered,
// compacted onto one line, under its eventID, with the Elastic Common
// Schema fields added. The package also generates realistic sample log
// files (generate*.go) for the demo, the tests and the benchmarks.
package cloudtrail

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/ecs"
	"github.com/logtide/logtide/worker/format/jsonscan"
)

// Name is the format's name.
const Name = "cloudtrail"

// Spec registers the format with the worker.
var Spec = format.Spec{
	Name:    Name,
	Summary: "AWS CloudTrail log files and Insights events (AWSLogs/[<org-id>/]<account>/CloudTrail/...)",
	New:     func(o format.Options) (format.Format, error) { return New(o) },
	Generate: func(o format.GenerateOptions) (format.Corpus, error) {
		return NewCorpus(CorpusOptions{
			Seed: o.Seed, Objects: o.Objects, RecordsPerObject: o.RecordsPerObject,
			Accounts: o.Accounts, Regions: o.Regions, Prefix: o.Prefix, Start: o.Start,
		})
	},
	Floor: floor,
}

// CloudTrail is the format of CloudTrail log files.
type CloudTrail struct {
	prefix string
	loc    *time.Location
}

// New returns the format for a run. The index prefix defaults to
// "cloudtrail".
func New(o format.Options) (*CloudTrail, error) {
	o, err := o.WithDefaults(Name)
	if err != nil {
		return nil, err
	}
	return &CloudTrail{prefix: o.IndexPrefix, loc: o.Location}, nil
}

// Name is "cloudtrail".
func (c *CloudTrail) Name() string { return Name }

// Claim reads the log files under CloudTrail/ and the Insights files under
// CloudTrail-Insight/, and skips the digest files under CloudTrail-Digest/:
// they list the hashes of the log files, not events.
func (c *CloudTrail) Claim(k format.Key) format.Claim {
	switch k.Service {
	case "CloudTrail", "CloudTrail-Insight":
		return format.Read
	case "CloudTrail-Digest":
		return format.Skip
	}
	return format.NotMine
}

// Framing: a log file is one JSON document whose Records array holds the
// events.
func (c *CloudTrail) Framing() format.Framing { return format.RecordsArray }

// Decoder returns the decoder of one log file: it needs the object for the
// ids of records without an eventID.
func (c *CloudTrail) Decoder(o format.Object) format.Decoder {
	return &decoder{f: c, o: o}
}

// IndexPattern matches every index the format writes to, Insights events'
// included.
func (c *CloudTrail) IndexPattern() string { return c.prefix + "-*" }

// minYear and maxYear bound the years of the events indexed.
const (
	minYear = 1970
	maxYear = 9998
)

// maxID is the longest _id Elasticsearch and OpenSearch accept, in bytes.
const maxID = 512

// decoder decodes the records of one object. It remembers the last index
// name, since consecutive records nearly always fall on the same day.
type decoder struct {
	f *CloudTrail
	o format.Object

	lastDay     int // year*10000 + month*100 + day, 0 before the first
	lastInsight bool
	lastIndex   string
	// ecs is where a document's ECS fields are written before its body.
	ecs []byte
	// text holds the text of the fields, decoded, before it is made one
	// string.
	text []byte
	// users backs related.user.
	users [2]string
}

// Decode turns one record into a document:
//   - _id is the eventID, so that an event delivered twice (CloudTrail
//     redelivers some, and several trails can log the same event) is one
//     document; a record without one gets the id of its place in the object;
//   - the index is <prefix>-YYYY-MM-DD of eventTime, and
//     <prefix>-insight-YYYY-MM-DD for Insights events, which are alerts
//     about the rate of calls rather than calls;
//   - the body is the record as delivered, on one line, followed by the
//     Elastic Common Schema fields.
func (d *decoder) Decode(rec []byte, n int) (format.Document, error) {
	rec = bytes.TrimSpace(rec)
	f, spaced, unfit, err := scanRecord(rec)
	if err != nil {
		return format.Document{}, format.Errorf("%v", err)
	}
	// body is the record as indexed: as delivered, unless a free-form
	// block would make the cluster refuse it (a scalar, or a leaf longer
	// than a term), which moves whole to logtide.unindexed. The fields
	// are read from the record as delivered either way.
	body := rec
	if unfit != "" || len(rec) > format.LeafLimit {
		if moved, ok := format.MoveUnfit(rec, freeFormPaths...); ok {
			body, spaced = moved, false
		} else if unfit != "" {
			return format.Document{}, format.Errorf("%s is not an object, and the record has a member logtide to keep it in", unfit)
		}
	}
	if len(f[eventTime]) == 0 || jsonscan.IsNull(f[eventTime]) {
		return format.Document{}, format.Errorf("no eventTime")
	}
	if f[eventTime][0] != '"' {
		return format.Document{}, format.Errorf("eventTime is not a string")
	}
	t, err := parseTime(f[eventTime])
	if err != nil {
		return format.Document{}, format.Errorf("eventTime: %v", err)
	}
	if y := t.Year(); y < minYear || y > maxYear {
		// A zero time written for a missing one, or a mistyped year:
		// it would create an index of its own (and past 9999 an index
		// name out of pattern).
		return format.Document{}, format.Errorf("eventTime %s is not between the years %d and %d", t.Format(time.RFC3339), minYear, maxYear)
	}
	id, err := readEventID(f[eventID])
	if err != nil {
		return format.Document{}, format.Errorf("eventID: %v", err)
	}
	if id == "" {
		id = format.PositionID(d.o, n)
	}
	text := d.texts(&f)
	insight := text[eventType] == "AwsCloudTrailInsight" || text[eventCategory] == "Insight"
	e := ecsFields(&text, t, insight, d.users[:0])
	// The ECS fields are written first, so that the body is allocated once
	// and at its size: bodies wait in bulk requests, and room to spare
	// would be memory held.
	d.ecs = e.Append(d.ecs[:0])

	// The record is an object holding at least eventTime: the added fields
	// follow a comma, in place of its closing brace.
	doc := make([]byte, 0, len(body)+len(d.ecs))
	if spaced {
		doc = jsonscan.AppendCompact(doc, body)
	} else {
		doc = append(doc, body...)
	}
	doc = append(doc[:len(doc)-1], d.ecs...)
	doc = append(doc, '}')
	return format.Document{Index: d.index(t, insight), ID: id, Body: doc}, nil
}

// texts are the fields that are strings, decoded ("" for the others). They
// are made from one string, not one each: they are read while the
// document is built, and dropped after.
func (d *decoder) texts(f *fields) (text [numFields]string) {
	var ends [numFields]int
	d.text = d.text[:0]
	for i, raw := range f {
		if len(raw) >= 2 && raw[0] == '"' && field(i) != eventTime && field(i) != eventID {
			if inner := raw[1 : len(raw)-1]; bytes.IndexByte(inner, '\\') < 0 {
				d.text = append(d.text, inner...)
			} else {
				d.text = jsonscan.AppendString(d.text, raw)
			}
		}
		ends[i] = len(d.text)
	}
	all, start := string(d.text), 0
	for i, end := range ends {
		text[i], start = all[start:end], end
	}
	return text
}

// readEventID reads the eventID: "" when absent, null or empty.
func readEventID(raw []byte) (string, error) {
	if jsonscan.IsNull(raw) {
		return "", nil
	}
	if raw[0] != '"' {
		return "", fmt.Errorf("not a string")
	}
	id := jsonscan.String(raw)
	if len(id) > maxID {
		return "", fmt.Errorf("longer than %d bytes", maxID)
	}
	if strings.ContainsRune(id, utf8.RuneError) {
		// Invalid bytes read as U+FFFD, and two ids that differ only
		// there would share one document.
		return "", fmt.Errorf("not valid UTF-8")
	}
	return id, nil
}

// index is the index of an event at t, remembered for the next record.
func (d *decoder) index(t time.Time, insight bool) string {
	y, m, day := t.In(d.f.loc).Date()
	key := y*10000 + int(m)*100 + day
	if key == d.lastDay && insight == d.lastInsight && d.lastIndex != "" {
		return d.lastIndex
	}
	b := make([]byte, 0, len(d.f.prefix)+20)
	b = append(b, d.f.prefix...)
	if insight {
		b = append(b, "-insight"...)
	}
	b = append(b, '-')
	b = t.In(d.f.loc).AppendFormat(b, "2006-01-02")
	d.lastDay, d.lastInsight, d.lastIndex = key, insight, string(b)
	return d.lastIndex
}

// parseTime reads an eventTime: ISO-8601 in UTC to the second as CloudTrail
// writes it (read without time.Parse, it is in every record), or any other
// RFC 3339 time.
func parseTime(quoted []byte) (time.Time, error) {
	s := quoted[1 : len(quoted)-1]
	if len(s) == 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' && s[19] == 'Z' {
		y, ok1 := digits(s[0:4])
		mo, ok2 := digits(s[5:7])
		d, ok3 := digits(s[8:10])
		h, ok4 := digits(s[11:13])
		mi, ok5 := digits(s[14:16])
		sec, ok6 := digits(s[17:19])
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(y, mo) && h < 24 && mi < 60 && sec < 60 {
			return time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC), nil
		}
	}
	str := jsonscan.String(quoted)
	t, err := time.Parse(time.RFC3339Nano, str)
	if err != nil {
		return time.Time{}, fmt.Errorf("not an ISO-8601 time: %.40q", str)
	}
	return t.UTC(), nil
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Event categories and types (ECS allowed values). They are shared,
// read-only slices.
var (
	categoryAuthentication = []string{"authentication"}
	categoryIAM            = []string{"iam"}
	categoryConfiguration  = []string{"configuration"}

	typeStart    = []string{"start"}
	typeInfo     = []string{"info"}
	typeAccess   = []string{"access"}
	typeChange   = []string{"change"}
	typeCreation = []string{"creation"}
	typeDeletion = []string{"deletion"}
)

// ecsFields are the ECS fields of a record:
//   - event.kind "event", or "alert" for Insights events;
//   - event.category "authentication" for console sign-ins and STS,
//     "iam" for IAM, "configuration" for every other service; event.type
//     from the verb the eventName starts with (creation, deletion, change,
//     access; start for sign-ins and new sessions);
//   - event.outcome "failure" when the record has an errorCode or is a
//     failed console sign-in, else "success" (none for Insights events);
//   - source.ip when sourceIPAddress is an address (it can be a service
//     name such as s3.amazonaws.com, kept in source.address);
//   - user.name from userIdentity: its userName, else its session issuer's,
//     else the last part of its arn.
func ecsFields(text *[numFields]string, t time.Time, insight bool, users []string) ecs.Fields {
	e := ecs.Fields{
		Timestamp: t,
		Event: ecs.Event{
			Kind:     "event",
			Dataset:  "aws.cloudtrail",
			Action:   text[eventName],
			Provider: text[eventSource],
		},
		Cloud:     ecs.Cloud{AccountID: text[recipientAccount], Region: text[awsRegion]},
		UserAgent: text[userAgent],
	}
	if e.Cloud.AccountID == "" {
		e.Cloud.AccountID = text[userAccount]
	}
	if insight {
		// An Insights event is about the calls of one API of a service:
		// the insight type is what happened, the service where.
		e.Event.Kind = "alert"
		e.Event.Action = text[insightType]
		if e.Event.Provider == "" {
			e.Event.Provider = text[insightSource]
		}
		e.Event.Category, e.Event.Type = categoryConfiguration, typeInfo
	} else {
		e.Event.Category, e.Event.Type = classify(e.Event.Provider, e.Event.Action, text[eventType])
		e.Event.Outcome = "success"
		if text[errorCode] != "" || text[consoleLogin] == "Failure" {
			e.Event.Outcome = "failure"
		}
	}
	if svc, _, ok := strings.Cut(e.Event.Provider, "."); ok {
		e.Cloud.ServiceName = svc
	}
	if src := text[sourceIP]; src != "" {
		e.Source.IP, e.Source.Address = src, src
	}
	issuer, arnName := text[issuerName], lastPart(text[userARN])
	switch {
	case text[userName] != "":
		e.UserName = text[userName]
	case issuer != "":
		e.UserName = issuer
	default:
		e.UserName = arnName
	}
	// related.user also holds the other names of the identity: the role
	// and the session name of an assumed role.
	if issuer != "" && issuer != e.UserName {
		users = append(users, issuer)
	}
	if arnName != "" && arnName != e.UserName && arnName != issuer {
		users = append(users, arnName)
	}
	if len(users) > 0 {
		e.RelatedUsers = users
	}
	return e
}

// lastPart is what follows the last '/' of an arn (a user, role or session
// name), or its last ':' ("root").
func lastPart(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	if i := strings.LastIndexByte(arn, ':'); i >= 0 && strings.HasPrefix(arn, "arn:") {
		return arn[i+1:]
	}
	return ""
}

// classify chooses event.category and event.type.
func classify(provider, action, eventType string) (category, typ []string) {
	switch {
	case eventType == "AwsConsoleSignIn" || provider == "signin.amazonaws.com" || provider == "sts.amazonaws.com":
		if action == "ConsoleLogin" || strings.HasPrefix(action, "AssumeRole") || action == "GetSessionToken" || action == "GetFederationToken" {
			return categoryAuthentication, typeStart
		}
		return categoryAuthentication, typeInfo
	case provider == "iam.amazonaws.com":
		v := verbType(action)
		if v == access {
			return categoryIAM, typeInfo // access is not a type of the iam category
		}
		return categoryIAM, types[v]
	}
	return categoryConfiguration, types[verbType(action)]
}

// verb is what an API call does, by the first word of its name.
type verb uint8

const (
	change verb = iota
	creation
	deletion
	access
)

// types are the event.type of each verb.
var types = [...][]string{change: typeChange, creation: typeCreation, deletion: typeDeletion, access: typeAccess}

// verbs are the first words of API names that do not change a resource.
var verbs = []struct {
	prefix string
	verb   verb
}{
	{"Create", creation}, {"Run", creation}, {"Allocate", creation}, {"Import", creation},
	{"Register", creation}, {"Copy", creation}, {"Issue", creation},
	{"Delete", deletion}, {"Terminate", deletion}, {"Deregister", deletion}, {"Release", deletion},
	{"Get", access}, {"List", access}, {"Describe", access}, {"Lookup", access},
	{"Head", access}, {"Search", access}, {"Select", access}, {"Scan", access},
	{"Query", access}, {"BatchGet", access}, {"Decrypt", access}, {"Download", access},
	{"Generate", access}, {"Invoke", access}, {"Consume", access}, {"Receive", access},
}

// verbType is what the API call named action does: creation, deletion,
// access (reads), else change.
func verbType(action string) verb {
	for _, v := range verbs {
		if strings.HasPrefix(action, v.prefix) {
			return v.verb
		}
	}
	return change
}
