// Package guardduty reads Amazon GuardDuty findings exports: gzip-compressed
// JSON Lines, one finding per line, that GuardDuty writes to S3 under
// [prefix/]AWSLogs/<account>/GuardDuty/<region>/YYYY/MM/DD/<uuid>.jsonl.gz.
// A finding is indexed as exported with a few fields added, under its ARN,
// at the version of its updatedAt. The package also generates realistic
// sample exports (generate*.go) for the demo, the tests and the benchmarks.
package guardduty

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/ecs"
	"github.com/logtide/logtide/worker/format/jsonscan"
	"github.com/logtide/logtide/worker/format/jsonw"
)

// Name is the format's name.
const Name = "guardduty"

// Spec registers the format with the worker.
var Spec = format.Spec{
	Name:    Name,
	Summary: "Amazon GuardDuty findings exports (AWSLogs/<account>/GuardDuty/...)",
	New:     func(o format.Options) (format.Format, error) { return New(o) },
	Generate: func(o format.GenerateOptions) (format.Corpus, error) {
		return NewCorpus(CorpusOptions{
			Seed: o.Seed, Objects: o.Objects, FindingsPerObject: o.RecordsPerObject,
			ReexportPercent: o.UpdatePercent, OutOfOrder: o.OutOfOrder,
			Accounts: o.Accounts, Regions: o.Regions, Prefix: o.Prefix, Start: o.Start,
		})
	},
	Floor: floor,
}

// floor parses every line into a generic value (maps, slices, float64s),
// as a consumer that looks inside a finding must at least do.
func floor(content io.Reader) (int, error) {
	sc := bufio.NewScanner(content)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	n := 0
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var v any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return n, fmt.Errorf("line %d: %w", n+1, err)
		}
		n++
	}
	return n, sc.Err()
}

// GuardDuty is the format of GuardDuty findings exports.
type GuardDuty struct {
	prefix  string
	loc     *time.Location
	history bool
}

// New returns the format for a run. The index prefix defaults to
// "guardduty".
func New(o format.Options) (*GuardDuty, error) {
	o, err := o.WithDefaults(Name)
	if err != nil {
		return nil, err
	}
	return &GuardDuty{prefix: o.IndexPrefix, loc: o.Location, history: o.History}, nil
}

// Name is "guardduty".
func (g *GuardDuty) Name() string { return Name }

// Claim takes the objects GuardDuty writes under AWSLogs/<account>/GuardDuty/.
func (g *GuardDuty) Claim(k format.Key) format.Claim {
	if k.Service == "GuardDuty" {
		return format.Read
	}
	return format.NotMine
}

// Framing is one finding per line.
func (g *GuardDuty) Framing() format.Framing { return format.Lines }

// Decoder needs no state per object: it is the format itself.
func (g *GuardDuty) Decoder(format.Object) format.Decoder { return g }

// IndexPattern matches every index the format writes to.
func (g *GuardDuty) IndexPattern() string { return g.prefix + "-*" }

// HistoryPattern matches the history indices, history-<prefix>-*, or is
// "" when history is off. They lie outside the format's own pattern, so a
// query on the current state never counts a finding twice.
func (g *GuardDuty) HistoryPattern() string {
	if !g.history {
		return ""
	}
	return "history-" + g.prefix + "-*"
}

// HistoryOf is the version doc is of a finding, for the history indices:
// history-<prefix>-YYYY-MM-DD of its updatedAt, _id the arn and the
// updatedAt, written once (a replay is a duplicate). A finding whose arn
// leaves no room in an _id for the time gets no history document.
func (g *GuardDuty) HistoryOf(doc format.Document) (format.Document, bool) {
	if !g.history || doc.Version <= 0 {
		return format.Document{}, false
	}
	updated := time.UnixMilli(doc.Version)
	id := doc.ID + "@" + updated.UTC().Format("2006-01-02T15:04:05.000Z")
	if len(id) > maxID {
		return format.Document{}, false
	}
	return format.Document{Index: "history-" + g.prefix + "-" + updated.In(g.loc).Format("2006-01-02"), ID: id, Body: doc.Body}, true
}

// maxID is the longest _id Elasticsearch and OpenSearch accept, in bytes.
const maxID = 512

// Decode turns one finding (one JSON line of an export object) into a
// document:
//   - _id is the finding's ARN, which is globally unique and stable across
//     re-exports, so an updated finding replaces its earlier copy;
//   - the index is <prefix>-YYYY-MM-DD of createdAt, which never changes for a
//     finding, so all its versions land in the same index;
//   - @timestamp is updatedAt; Version is updatedAt in epoch milliseconds;
//   - the Elastic Common Schema fields (event.*, cloud.*, related.ip) say
//     what the finding is in the names every format shares;
//   - remote.ip and remote.location (geo_point) collect the remote addresses of
//     the finding's action, whatever its type (PORT_PROBE has several).
//
// The record is otherwise indexed as exported, but for createdAt and
// updatedAt written as numbers or without a zone: those are rewritten as the
// UTC instant they were read as, so that the index name, @timestamp, the
// version and the mapped fields all read them the same way (the index
// mapping would read a number as epoch milliseconds, where GuardDuty's
// EventBridge shape writes epoch seconds).
func (g *GuardDuty) Decode(line []byte, _ int) (format.Document, error) {
	line = bytes.TrimSpace(line)
	if len(line) < 2 || line[0] != '{' || line[len(line)-1] != '}' {
		return format.Document{}, format.Errorf("not a JSON object")
	}
	f, err := scanRecord(line)
	if err != nil {
		return format.Document{}, format.Errorf("invalid JSON: %v", err)
	}
	if format.Unfit(f.additionalInfo) {
		// Not an object, or too long a leaf for the free-form field: kept
		// whole under logtide.unindexed instead of failing the finding.
		if moved, ok := format.MoveUnfit(line, additionalInfoPath); ok {
			line = moved
			if f, err = scanRecord(line); err != nil {
				return format.Document{}, format.Errorf("invalid JSON: %v", err)
			}
		}
	}
	arn, err := stringField(f.arn)
	if err != nil {
		return format.Document{}, format.Errorf("arn: %v", err)
	}
	if arn == "" {
		return format.Document{}, format.Errorf("no arn")
	}
	if len(f.service) > 0 && f.service[0] != '{' && string(f.service) != "null" {
		return format.Document{}, format.Errorf("service is not an object")
	}
	if len(arn) > maxID {
		return format.Document{}, format.Errorf("arn longer than %d bytes", maxID)
	}
	if strings.ContainsRune(arn, utf8.RuneError) {
		// Invalid bytes read as U+FFFD, and two arns that differ only there
		// would share one document.
		return format.Document{}, format.Errorf("arn is not valid UTF-8")
	}
	updated, updatedRFC, err := readTime(f.updatedAt)
	if err != nil {
		return format.Document{}, format.Errorf("updatedAt: %v", err)
	}
	created, createdRFC, err := readTime(f.createdAt)
	if err != nil {
		return format.Document{}, format.Errorf("createdAt: %v", err)
	}
	version := updated.UnixMilli()
	if version <= 0 {
		return format.Document{}, format.Errorf("updatedAt %s is not after 1970-01-01T00:00:00Z: the finding has no version to order its copies by", updated.Format(time.RFC3339Nano))
	}

	// The record has an arn, so its object is not empty: the added fields
	// follow a comma.
	body := make([]byte, 0, len(line)+128)
	body = appendTimes(body, line[:len(line)-1], timeField{f.createdAt, created, createdRFC}, timeField{f.updatedAt, updated, updatedRFC})
	remotes := actionRemotes(f.action).list
	body = appendRemote(body, remotes)
	body = g.appendECS(body, arn, f.typ, f.userName, updated, remotes)
	body = append(body, '}')

	return format.Document{
		Index:   g.prefix + "-" + created.In(g.loc).Format("2006-01-02"),
		ID:      arn,
		Version: version,
		Body:    body,
	}, nil
}

// additionalInfoPath is the free-form block of a finding.
var additionalInfoPath = []string{"service", "additionalInfo"}

// appendECS appends the Elastic Common Schema fields of a finding: it is an
// alert; its account and region (from the arn, which names them for every
// finding), its type as the action, the IAM user of the access key it is
// about as user.name and related.user, and every remote address as
// related.ip.
func (g *GuardDuty) appendECS(body []byte, arn string, typ, userName []byte, updated time.Time, remotes []remote) []byte {
	f := ecs.Fields{
		Timestamp: updated,
		Event: ecs.Event{Kind: "alert", Category: []string{"intrusion_detection"}, Type: []string{"info"},
			Dataset: "aws.guardduty", Provider: "guardduty"},
	}
	if t, err := stringField(typ); err == nil {
		f.Event.Action = t
	}
	if u, err := stringField(userName); err == nil && u != "" {
		f.UserName = u
	}
	// arn:aws:guardduty:<region>:<account>:detector/...
	if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 && parts[2] == "guardduty" {
		f.Cloud.Region, f.Cloud.AccountID = parts[3], parts[4]
	}
	for _, r := range remotes {
		if r.ip != "" {
			f.RelatedIPs = append(f.RelatedIPs, r.ip)
		}
	}
	return f.Append(body)
}

// actionRemotes lists the remote parties of a finding's service.action (raw
// JSON of an accepted record; nil when absent): the remoteIpDetails of every
// action type's block, in the order of the block names (GuardDuty's action
// types carry at most one remote party each, except PORT_PROBE, which has a
// list of them in portProbeDetails). A block whose remote party has fields
// of unexpected types contributes nothing; the record still indexes.
func actionRemotes(action []byte) remotes {
	blocks := map[string][]byte{}
	members(action, func(name, value []byte) {
		if len(value) > 0 && value[0] == '{' {
			blocks[string(name)] = value
		} else {
			delete(blocks, string(name))
		}
	})
	names := make([]string, 0, len(blocks))
	for name := range blocks {
		names = append(names, name)
	}
	sort.Strings(names) // stable output whatever the map order
	var out remotes
	for _, name := range names {
		block := blocks[name]
		if name != "portProbeAction" {
			if d, ok := parseIPDetails(member(block, "remoteIpDetails")); ok {
				out.add(d)
			}
			continue
		}
		details := member(block, "portProbeDetails")
		if jsonscan.IsNull(details) || details[0] != '[' {
			continue
		}
		var probes []*ipDetails
		ok := true
		elements(details, func(e []byte) {
			switch {
			case string(e) == "null":
			case e[0] != '{':
				ok = false
			default:
				d, good := parseIPDetails(member(e, "remoteIpDetails"))
				ok = ok && good
				probes = append(probes, d)
			}
		})
		if ok {
			for _, d := range probes {
				out.add(d)
			}
		}
	}
	return out
}

// parseIPDetails reads a remoteIpDetails value: nil for null or absent,
// false when it or its address fields have unexpected types.
func parseIPDetails(raw []byte) (*ipDetails, bool) {
	if jsonscan.IsNull(raw) {
		return nil, true
	}
	if raw[0] != '{' {
		return nil, false
	}
	d := &ipDetails{}
	ok := true
	str := func(v []byte, dst *string) {
		switch {
		case jsonscan.IsNull(v):
		case v[0] == '"':
			*dst = jsonscan.String(v)
		default:
			ok = false
		}
	}
	members(raw, func(name, v []byte) {
		switch {
		case string(name) == "ipAddressV4":
			str(v, &d.IPv4)
		case string(name) == "ipAddressV6":
			str(v, &d.IPv6)
		case string(name) == "geoLocation":
			switch {
			case jsonscan.IsNull(v):
				d.lat, d.lon, d.geo = nil, nil, false
			case v[0] != '{':
				ok = false
			default:
				d.lat, d.lon, d.geo = member(v, "lat"), member(v, "lon"), true
			}
		}
	})
	return d, ok
}

// stringField decodes a raw JSON value that must be a string or null (read
// as empty).
func stringField(raw []byte) (string, error) {
	if jsonscan.IsNull(raw) {
		return "", nil
	}
	if raw[0] != '"' {
		return "", errors.New("not a string")
	}
	return jsonscan.String(raw), nil
}

// ipDetails is what the transform reads of a remoteIpDetails block.
type ipDetails struct {
	IPv4, IPv6 string
	// geo is set when geoLocation is an object; lat and lon are its raw
	// values (numbers or numeric strings).
	geo      bool
	lat, lon []byte
}

// remote is one remote party of a finding's action.
type remote struct {
	ip       string
	lat, lon float64
	hasGeo   bool
}

// remotes collects the distinct remote parties of a finding, in order.
type remotes struct {
	list []remote
	// seen holds the parties once there are more than a few: a PORT_PROBE
	// finding can name tens of thousands.
	seen map[remote]struct{}
}

// add adds the party of d, unless it is already there or names neither an
// address nor a location.
func (rs *remotes) add(d *ipDetails) {
	if d == nil {
		return
	}
	// remote.ip is typed ip: a value that is not an address would make the
	// cluster refuse the whole finding, so it is left out (it stays in the
	// finding's own fields).
	r := remote{ip: ecs.IP(d.IPv4)}
	if r.ip == "" {
		r.ip = ecs.IP(d.IPv6)
	}
	if d.geo {
		lat, err1 := strconv.ParseFloat(strings.Trim(string(d.lat), `"`), 64)
		lon, err2 := strconv.ParseFloat(strings.Trim(string(d.lon), `"`), 64)
		// 0,0 is what GuardDuty reports for an unknown location.
		if err1 == nil && err2 == nil && (lat != 0 || lon != 0) &&
			lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 {
			r.lat, r.lon, r.hasGeo = lat, lon, true
		}
	}
	if r.ip == "" && !r.hasGeo {
		return
	}
	if rs.seen == nil && len(rs.list) >= 8 {
		rs.seen = make(map[remote]struct{}, 2*len(rs.list))
		for _, o := range rs.list {
			rs.seen[o] = struct{}{}
		}
	}
	if rs.seen != nil {
		if _, dup := rs.seen[r]; dup {
			return
		}
		rs.seen[r] = struct{}{}
	} else if slices.Contains(rs.list, r) {
		return
	}
	rs.list = append(rs.list, r)
}

func appendRemote(body []byte, rs []remote) []byte {
	if len(rs) == 0 {
		return body
	}
	body = append(body, `,"remote":{`...)
	n := 0
	for _, r := range rs {
		if r.ip == "" {
			continue
		}
		if n == 0 {
			body = append(body, `"ip":[`...)
		} else {
			body = append(body, ',')
		}
		body = strconv.AppendQuote(body, r.ip)
		n++
	}
	if n > 0 {
		body = append(body, ']')
	}
	g := 0
	for _, r := range rs {
		if !r.hasGeo {
			continue
		}
		if g == 0 {
			if n > 0 {
				body = append(body, ',')
			}
			body = append(body, `"location":[`...)
		} else {
			body = append(body, ',')
		}
		body = append(body, `{"lat":`...)
		body = strconv.AppendFloat(body, r.lat, 'f', -1, 64)
		body = append(body, `,"lon":`...)
		body = strconv.AppendFloat(body, r.lon, 'f', -1, 64)
		body = append(body, '}')
		g++
	}
	if g > 0 {
		body = append(body, ']')
	}
	return append(body, '}')
}

// timeField is a timestamp of the record: its raw value and the instant it
// was read as.
type timeField struct {
	raw []byte
	t   time.Time
	// rfc3339: the value is an RFC 3339 string, which the index mapping
	// reads as the same instant: it stays as it is.
	rfc3339 bool
}

// appendTimes appends obj, with every timestamp that the index mapping
// could read otherwise than the worker did replaced by its UTC instant in
// RFC 3339. Each raw value is a slice of obj.
func appendTimes(body, obj []byte, fields ...timeField) []byte {
	from := 0
	for _, f := range sortedByOffset(obj, fields) {
		if f.rfc3339 {
			continue
		}
		at := cap(obj) - cap(f.raw) // offset of f.raw in obj
		body = append(body, obj[from:at]...)
		body = jsonw.Time(body, f.t)
		from = at + len(f.raw)
	}
	return append(body, obj[from:]...)
}

// sortedByOffset orders the fields as they appear in obj (there are two).
func sortedByOffset(obj []byte, fields []timeField) []timeField {
	if len(fields) == 2 && cap(fields[0].raw) < cap(fields[1].raw) {
		fields[0], fields[1] = fields[1], fields[0]
	}
	return fields
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999", // no zone: UTC
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999", // no zone: UTC
}

// ParseTime reads the timestamps GuardDuty and the tools around it write:
// ISO-8601 with or without fractional seconds or zone (UTC assumed), a space
// instead of the T, or epoch seconds/milliseconds as a number.
func ParseTime(raw json.RawMessage) (time.Time, error) {
	t, _, err := readTime(raw)
	return t, err
}

// readTime is ParseTime, and also says whether the value was an RFC 3339
// string, which the index mapping reads as the same instant.
func readTime(raw []byte) (t time.Time, rfc3339 bool, err error) {
	s := string(bytes.TrimSpace(raw))
	if s == "" || s == "null" {
		return time.Time{}, false, errors.New("missing")
	}
	if s[0] != '"' {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v <= 0 {
			return time.Time{}, false, fmt.Errorf("not a time: %.40s", s)
		}
		if v < 1e11 { // seconds until the year 5138; milliseconds otherwise
			return time.UnixMilli(int64(v * 1000)).UTC(), false, nil
		}
		return time.UnixMilli(int64(v)).UTC(), false, nil
	}
	var str string
	plain := len(s) >= 2 && s[len(s)-1] == '"' && !strings.ContainsRune(s, '\\')
	if plain {
		str = s[1 : len(s)-1] // the usual case: nothing to unescape
	} else if err := json.Unmarshal(raw, &str); err != nil {
		return time.Time{}, false, fmt.Errorf("not a time: %.40s", s)
	}
	for i, l := range timeLayouts {
		if t, err := time.Parse(l, str); err == nil {
			if y := t.UTC().Year(); y < 1 || y > 9999 {
				// Written back in UTC it would not be a time the
				// cluster (or this function) reads.
				return time.Time{}, false, fmt.Errorf("%.40q is outside the years 0001 to 9999 in UTC", str)
			}
			return t.UTC(), plain && i == 0, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("not a time: %.40q", str)
}
