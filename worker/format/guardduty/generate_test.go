package guardduty

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

// line is one decoded finding with where it was found.
type line struct {
	obj, n int
	raw    []byte
	doc    map[string]any
}

func mustNew(t *testing.T, opts CorpusOptions) *Corpus { return formattest.Must(t, NewCorpus, opts) }

// readAll decodes every line of every object, checking the framing.
func readAll(t *testing.T, c *Corpus) []line {
	t.Helper()
	var out []line
	for i, o := range c.Objects() {
		rows := formattest.Lines(t, formattest.ObjectBytes(t, c, i))
		if len(rows) != o.Records {
			t.Fatalf("object %d has %d lines, Objects says %d", i, len(rows), o.Records)
		}
		for n, row := range rows {
			dec := json.NewDecoder(bytes.NewReader(row))
			dec.UseNumber()
			var doc map[string]any
			if err := dec.Decode(&doc); err != nil {
				t.Fatalf("object %d line %d: %v\n%s", i, n+1, err, row)
			}
			if dec.More() {
				t.Fatalf("object %d line %d: trailing data", i, n+1)
			}
			out = append(out, line{obj: i, n: n, raw: row, doc: doc})
		}
	}
	return out
}

// get walks a path of object keys; ok is false if any step is missing.
func get(doc any, path ...string) (any, bool) {
	for _, k := range path {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil, false
		}
		if doc, ok = m[k]; !ok {
			return nil, false
		}
	}
	return doc, true
}

func str(doc any, path ...string) string {
	v, _ := get(doc, path...)
	s, _ := v.(string)
	return s
}

func num(t *testing.T, doc any, path ...string) float64 {
	t.Helper()
	v, ok := get(doc, path...)
	n, isNum := v.(json.Number)
	if !ok || !isNum {
		t.Fatalf("%s is %T %v, want a number", strings.Join(path, "."), v, v)
	}
	f, err := n.Float64()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var (
	isoRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$`)
	hexRE = regexp.MustCompile(`^[0-9a-f]{32}$`)
	arnRE = regexp.MustCompile(`^arn:aws:guardduty:([a-z0-9-]+):(\d{12}):detector/([0-9a-f]{32})/finding/([0-9a-f]{32})$`)
	keyRE = regexp.MustCompile(`^(?:(.*)/)?AWSLogs/(?:o-[a-z0-9]+/)?(\d{12})/GuardDuty/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/` +
		`([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})\.jsonl\.gz$`)
)

func parseISO(t *testing.T, s string) time.Time {
	t.Helper()
	if !isoRE.MatchString(s) {
		t.Fatalf("timestamp %q is not ISO-8601 UTC", s)
	}
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// geoOf collects every remoteIpDetails.geoLocation in document order.
func geoOf(t *testing.T, v any) []LatLon {
	t.Helper()
	var out []LatLon
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				if k == "remoteIpDetails" {
					out = append(out, LatLon{num(t, v[k], "geoLocation", "lat"), num(t, v[k], "geoLocation", "lon")})
					continue
				}
				walk(v[k])
			}
		}
	}
	walk(v)
	return out
}

// TestGenerator: a ReexportPercent above 100 is refused too.
func TestGenerator(t *testing.T) {
	formattest.CheckGenerator(t, Spec, format.GenerateOptions{Seed: 42, Objects: 12, RecordsPerObject: 30, OutOfOrder: true,
		Prefix: "guardduty exports/2026", Accounts: []string{"111122223333", "444455556666"}, Regions: []string{"us-east-1", "eu-west-1"},
		Start: time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC)},
		format.GenerateOptions{UpdatePercent: 101})
}

// TestFindingsDeterministic: Findings renders the same findings in
// another order than the objects do; it must not depend on that order.
func TestFindingsDeterministic(t *testing.T) {
	opts := CorpusOptions{Seed: 42, Objects: 4, FindingsPerObject: 30, OutOfOrder: true,
		Accounts: []string{"111122223333", "444455556666"}, Regions: []string{"us-east-1", "eu-west-1"}}
	a, b := mustNew(t, opts), mustNew(t, opts)
	for i := range a.Objects() {
		formattest.ObjectBytes(t, a, i)
	}
	if !reflect.DeepEqual(a.Findings(), b.Findings()) {
		t.Fatal("same options gave different Findings")
	}
}

// TestRenderIsPure checks that a finding renders the same whatever the
// generator rendered before, which WriteObject and Findings rely on.
func TestRenderIsPure(t *testing.T) {
	c := mustNew(t, CorpusOptions{Seed: 31, Objects: 2, FindingsPerObject: 40})
	forward, backward := newGen(c), newGen(c)
	total := int64(len(c.Objects()) * c.fpo)
	want := make([]string, total)
	for idx := range total {
		forward.render(idx, 1)
		want[idx] = string(forward.w.b)
	}
	for idx := total - 1; idx >= 0; idx-- {
		backward.render(idx, 1)
		if got := string(backward.w.b); got != want[idx] {
			t.Fatalf("finding %d depends on render order:\n%s\n%s", idx, got, want[idx])
		}
		fresh := newGen(c)
		fresh.render(idx, 1)
		if string(fresh.w.b) != want[idx] {
			t.Fatalf("finding %d differs in a fresh generator", idx)
		}
	}
}

func TestLinesAreValidFindings(t *testing.T) {
	accounts := []string{"111122223333", "444455556666"}
	c := mustNew(t, CorpusOptions{Seed: 1, Objects: 6, Accounts: accounts, Regions: []string{"us-east-1", "eu-central-1"}})
	lines := readAll(t, c)
	if len(lines) != c.Records() {
		t.Fatalf("read %d lines, Records() = %d", len(lines), c.Records())
	}
	sum := 0
	for _, o := range c.Objects() {
		sum += o.Records
	}
	if sum != c.Records() {
		t.Fatalf("Records() = %d, sum over objects = %d", c.Records(), sum)
	}
	seenAcct := map[string]bool{}
	for _, l := range lines {
		d := l.doc
		where := func() string { return c.Objects()[l.obj].Key + ": " + string(l.raw) }
		for _, k := range []string{"schemaVersion", "accountId", "region", "partition", "id", "arn", "type", "title", "description", "createdAt", "updatedAt"} {
			if str(d, k) == "" {
				t.Fatalf("missing string %s in %s", k, where())
			}
		}
		if str(d, "schemaVersion") != "2.0" || str(d, "partition") != "aws" {
			t.Fatalf("bad schemaVersion/partition in %s", where())
		}
		acct := str(d, "accountId")
		if !slices.Contains(accounts, acct) {
			t.Fatalf("accountId %s not among %v", acct, accounts)
		}
		seenAcct[acct] = true
		key := keyRE.FindStringSubmatch(c.Objects()[l.obj].Key)
		if key[3] != str(d, "region") {
			t.Fatalf("finding region %s in an object of region %s", str(d, "region"), key[3])
		}
		m := arnRE.FindStringSubmatch(str(d, "arn"))
		if m == nil || m[1] != str(d, "region") || m[2] != acct || m[4] != str(d, "id") || !hexRE.MatchString(str(d, "id")) {
			t.Fatalf("arn %q does not match region/account/id", str(d, "arn"))
		}
		if m[3] != str(d, "service", "detectorId") {
			t.Fatalf("detectorId %s not in arn %s", str(d, "service", "detectorId"), str(d, "arn"))
		}
		created, updated := parseISO(t, str(d, "createdAt")), parseISO(t, str(d, "updatedAt"))
		if updated.Before(created) {
			t.Fatalf("updatedAt before createdAt in %s", where())
		}
		first, last := parseISO(t, str(d, "service", "eventFirstSeen")), parseISO(t, str(d, "service", "eventLastSeen"))
		if last.Before(first) {
			t.Fatalf("eventLastSeen before eventFirstSeen in %s", where())
		}
		if sev := num(t, d, "severity"); sev < 1 || sev > 10 {
			t.Fatalf("severity %v out of range", sev)
		}
		if str(d, "service", "serviceName") != "guardduty" || str(d, "resource", "resourceType") == "" {
			t.Fatalf("missing serviceName or resourceType in %s", where())
		}
		if n := num(t, d, "service", "count"); n < 1 {
			t.Fatalf("count %v", n)
		}
		if v, _ := get(d, "service", "archived"); v != false {
			t.Fatalf("archived = %v", v)
		}
		if str(d, "service", "additionalInfo", "type") != "default" {
			t.Fatalf("additionalInfo.type missing in %s", where())
		}
		var inner map[string]any
		if err := json.Unmarshal([]byte(str(d, "service", "additionalInfo", "value")), &inner); err != nil {
			t.Fatalf("additionalInfo.value is not a JSON object: %v", err)
		}
		for k := range inner {
			if _, ok := get(d, "service", "additionalInfo", k); !ok {
				t.Fatalf("additionalInfo.value has %s but additionalInfo does not", k)
			}
		}
		for _, g := range geoOf(t, d) {
			if g.Lat == 0 || g.Lon == 0 || g.Lat < -90 || g.Lat > 90 || g.Lon < -180 || g.Lon > 180 {
				t.Fatalf("implausible geoLocation %+v", g)
			}
		}
	}
	if len(seenAcct) != len(accounts) {
		t.Fatalf("accounts seen: %v", seenAcct)
	}
}

func TestEveryFamilyOccurs(t *testing.T) {
	c := mustNew(t, CorpusOptions{Seed: 3})
	lines := readAll(t, c)
	actions := map[string]int{}
	var runtimeN, malwareN, sequenceN int
	for _, l := range lines {
		d := l.doc
		action, hasAction := get(d, "service", "action")
		at := str(action, "actionType")
		actions[at]++
		switch at {
		case "PORT_PROBE":
			details, _ := get(action, "portProbeAction", "portProbeDetails")
			arr, _ := details.([]any)
			if len(arr) < 2 {
				t.Fatalf("PORT_PROBE with %d portProbeDetails", len(arr))
			}
			ips := map[string]bool{}
			for _, e := range arr {
				ips[str(e, "remoteIpDetails", "ipAddressV4")] = true
				if _, ok := get(e, "remoteIpDetails", "geoLocation", "lat"); !ok {
					t.Fatal("portProbeDetails entry without remoteIpDetails.geoLocation")
				}
			}
			if len(ips) < 2 {
				t.Fatalf("PORT_PROBE with remote IPs %v", ips)
			}
		case "DNS_REQUEST":
			if len(geoOf(t, action)) != 0 || str(action, "dnsRequestAction", "domain") == "" {
				t.Fatalf("bad DNS_REQUEST action %v", action)
			}
		case "KUBERNETES_API_CALL":
			src, _ := get(action, "kubernetesApiCallAction", "sourceIPs")
			if arr, _ := src.([]any); len(arr) == 0 || str(action, "kubernetesApiCallAction", "remoteIpDetails", "ipAddressV4") != arr[0] {
				t.Fatalf("bad KUBERNETES_API_CALL sourceIPs %v", src)
			}
		case "AWS_API_CALL", "NETWORK_CONNECTION", "RDS_LOGIN_ATTEMPT":
			if len(geoOf(t, action)) != 1 {
				t.Fatalf("%s without exactly one remoteIpDetails", at)
			}
		case "":
			if hasAction {
				t.Fatal("service.action without actionType")
			}
		default:
			t.Fatalf("unexpected actionType %s", at)
		}
		if _, ok := get(d, "service", "runtimeDetails", "process", "executablePath"); ok {
			runtimeN++
			checkNoAction(t, d, hasAction)
		}
		if _, ok := get(d, "service", "ebsVolumeScanDetails", "scanId"); ok {
			malwareN++
			checkNoAction(t, d, hasAction)
		}
		if str(d, "resource", "resourceType") == "AttackSequence" {
			sequenceN++
			checkNoAction(t, d, hasAction)
			if str(d, "service", "featureName") != "Correlation" || num(t, d, "severity") < 9 ||
				!strings.HasPrefix(str(d, "type"), "AttackSequence:") {
				t.Fatalf("bad attack sequence finding %s", l.raw)
			}
		}
	}
	for _, at := range []string{"AWS_API_CALL", "NETWORK_CONNECTION", "PORT_PROBE", "DNS_REQUEST", "KUBERNETES_API_CALL", "RDS_LOGIN_ATTEMPT"} {
		if actions[at] == 0 {
			t.Errorf("no %s finding in a default corpus", at)
		}
	}
	if runtimeN == 0 || malwareN == 0 || sequenceN == 0 {
		t.Errorf("runtime %d, malware %d, attack sequence %d findings", runtimeN, malwareN, sequenceN)
	}
	if actions[""] != runtimeN+malwareN+sequenceN {
		t.Errorf("%d findings without action, want %d", actions[""], runtimeN+malwareN+sequenceN)
	}

	// The first findings of any corpus cover every family.
	small := mustNew(t, CorpusOptions{Seed: 99, Objects: 1, FindingsPerObject: int(numFamilies), ReexportPercent: -1})
	kinds := map[string]bool{}
	for _, f := range small.Findings() {
		kinds[f.ActionType] = true
	}
	if len(kinds) != 7 {
		t.Errorf("a %d-finding corpus has action types %v", numFamilies, kinds)
	}
}

func checkNoAction(t *testing.T, d map[string]any, hasAction bool) {
	t.Helper()
	if hasAction {
		t.Fatalf("%s finding has a service.action", str(d, "type"))
	}
}

func TestTypeDrift(t *testing.T) {
	lines := readAll(t, mustNew(t, CorpusOptions{Seed: 5}))
	seen := map[string]bool{}
	note := func(what string, v any) {
		switch v := v.(type) {
		case json.Number:
			if strings.Contains(v.String(), ".") {
				seen[what+":float"] = true
			} else {
				seen[what+":int"] = true
			}
		case string:
			seen[what+":string"] = true
		case map[string]any:
			seen[what+":object"] = true
		case nil:
			seen[what+":null"] = true
		}
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				p := path + "." + k
				switch {
				case k == "asn", k == "launchTime", k == "platform", k == "severity" && path == "":
					note(k, e)
				case k == "unusual" && strings.HasSuffix(path, "additionalInfo"):
					note(k, e)
				case k == "createdAt" && strings.HasSuffix(path, "s3BucketDetails"):
					note("bucketCreatedAt", e)
				}
				walk(p, e)
			}
		case []any:
			for _, e := range v {
				walk(path, e)
			}
		}
	}
	for _, l := range lines {
		walk("", l.doc)
		if isoRE.FindStringSubmatch(str(l.doc, "createdAt"))[1] == "" {
			seen["createdAt:noMillis"] = true
		} else {
			seen["createdAt:millis"] = true
		}
	}
	for _, want := range []string{
		"asn:string", "asn:int", "unusual:int", "unusual:string", "unusual:object",
		"launchTime:string", "launchTime:int", "platform:null", "bucketCreatedAt:float", "bucketCreatedAt:string",
		"severity:int", "severity:float", "createdAt:millis", "createdAt:noMillis",
	} {
		if !seen[want] {
			t.Errorf("no %s in a default corpus", want)
		}
	}
}

// checkExpected compares Findings with what the objects really contain.
func checkExpected(t *testing.T, c *Corpus) (outOfOrder int) {
	t.Helper()
	byARN := map[string][]line{}
	for _, l := range readAll(t, c) {
		arn := str(l.doc, "arn")
		byARN[arn] = append(byARN[arn], l)
	}
	exp := c.Findings()
	if len(exp) != len(byARN) {
		t.Fatalf("Findings has %d entries, objects hold %d distinct arns", len(exp), len(byARN))
	}
	reexported := 0
	for _, e := range exp {
		copies := byARN[e.ARN]
		if len(copies) != e.Exports {
			t.Fatalf("%s: Exports = %d, found on %d lines", e.ARN, e.Exports, len(copies))
		}
		slices.SortFunc(copies, func(a, b line) int {
			return parseISO(t, str(a.doc, "updatedAt")).Compare(parseISO(t, str(b.doc, "updatedAt")))
		})
		newest := copies[len(copies)-1].doc
		for i := 1; i < len(copies); i++ {
			older, newer := copies[i-1], copies[i]
			reexported++
			if newer.obj < older.obj {
				outOfOrder++
			}
			if !parseISO(t, str(older.doc, "updatedAt")).Before(parseISO(t, str(newer.doc, "updatedAt"))) {
				t.Fatalf("%s: two copies share updatedAt", e.ARN)
			}
			for _, k := range []string{"id", "createdAt", "type", "accountId", "region"} {
				if str(older.doc, k) != str(newer.doc, k) {
					t.Fatalf("%s: %s changed between exports: %s -> %s", e.ARN, k, str(older.doc, k), str(newer.doc, k))
				}
			}
			if num(t, newer.doc, "service", "count") <= num(t, older.doc, "service", "count") {
				t.Fatalf("%s: service.count did not grow", e.ARN)
			}
			if !parseISO(t, str(older.doc, "service", "eventLastSeen")).Before(parseISO(t, str(newer.doc, "service", "eventLastSeen"))) {
				t.Fatalf("%s: eventLastSeen did not move forward", e.ARN)
			}
		}
		got := Finding{
			ARN: str(newest, "arn"), ID: str(newest, "id"), Account: str(newest, "accountId"), Region: str(newest, "region"),
			Type: str(newest, "type"), ActionType: str(newest, "service", "action", "actionType"),
			CreatedAt: parseISO(t, str(newest, "createdAt")), UpdatedAt: parseISO(t, str(newest, "updatedAt")),
			Severity: num(t, newest, "severity"), Count: int(num(t, newest, "service", "count")), Exports: len(copies),
		}
		action, _ := get(newest, "service", "action")
		got.Geo = geoOf(t, action)
		want := e
		if len(want.Geo) == 0 {
			want.Geo = nil
		}
		if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
			t.Fatalf("%s: times %v/%v, Findings says %v/%v", e.ARN, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
		}
		got.CreatedAt, got.UpdatedAt = want.CreatedAt, want.UpdatedAt
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("newest copy in the data:\n%+v\nFindings says:\n%+v", got, want)
		}
	}
	if reexported == 0 {
		t.Fatal("no finding was re-exported")
	}
	t.Logf("%d findings, %d lines, %d re-exports, %d out of order", len(exp), c.Records(), reexported, outOfOrder)
	return outOfOrder
}

func TestFindingsMatchNewestCopy(t *testing.T) {
	c := mustNew(t, CorpusOptions{Seed: 11, Regions: []string{"us-east-1", "us-west-2"}})
	if n := checkExpected(t, c); n != 0 {
		t.Fatalf("%d re-exports out of order with OutOfOrder off", n)
	}
	// About ReexportPercent of the findings are exported twice (all but
	// those whose object has no later object of the same region).
	twice := 0
	for _, e := range c.Findings() {
		if e.Exports == 2 {
			twice++
		}
	}
	if share := float64(twice) / float64(len(c.Findings())); share < 0.1 || share > 0.3 {
		t.Errorf("%.2f of findings re-exported, want about 0.2", share)
	}
}

func TestOutOfOrder(t *testing.T) {
	c := mustNew(t, CorpusOptions{Seed: 12, OutOfOrder: true, ReexportPercent: 30})
	if n := checkExpected(t, c); n == 0 {
		t.Fatal("OutOfOrder produced no re-export ahead of its older copy")
	}
}

func TestNoReexports(t *testing.T) {
	c := mustNew(t, CorpusOptions{Seed: 13, Objects: 3, FindingsPerObject: 7, ReexportPercent: -1})
	if c.Records() != 21 || len(c.Findings()) != 21 {
		t.Fatalf("Lines %d, Findings %d, want 21", c.Records(), len(c.Findings()))
	}
	for _, e := range c.Findings() {
		if e.Exports != 1 {
			t.Fatalf("%s exported %d times", e.ARN, e.Exports)
		}
	}
}

func TestKeys(t *testing.T) {
	accounts := []string{"999988887777", "111122223333"}
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-2"}
	c := mustNew(t, CorpusOptions{Seed: 8, Objects: 40, FindingsPerObject: 1, Prefix: "guardduty exports/2026",
		Accounts: accounts, Regions: regions, Start: time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC)})
	seen := map[string]bool{}
	var prevDate string
	for i, o := range c.Objects() {
		m := keyRE.FindStringSubmatch(o.Key)
		if m == nil {
			t.Fatalf("key %q does not match the GuardDuty layout", o.Key)
		}
		if m[1] != "guardduty exports/2026" || m[2] != accounts[0] || m[3] != regions[i%len(regions)] {
			t.Fatalf("key %q: prefix %q account %s region %s", o.Key, m[1], m[2], m[3])
		}
		date := m[4] + m[5] + m[6]
		if date < prevDate || date < "20260331" {
			t.Fatalf("key %q: date goes backwards", o.Key)
		}
		prevDate = date
		if seen[m[7]] {
			t.Fatalf("uuid %s repeated", m[7])
		}
		seen[m[7]] = true
	}
	if prevDate == "20260331" {
		t.Fatal("40 objects 5 minutes to 2 hours apart should cross midnight")
	}
}

func TestDefaults(t *testing.T) {
	c := mustNew(t, CorpusOptions{Objects: 2, FindingsPerObject: 3})
	if len(c.Objects()) != 2 || c.Records() < 6 {
		t.Errorf("defaults not applied as given: %d objects, %d lines", len(c.Objects()), c.Records())
	}
	d := mustNew(t, CorpusOptions{})
	if len(d.Findings()) != format.DefaultObjects*format.DefaultRecordsPerObject {
		t.Errorf("default corpus has %d findings", len(d.Findings()))
	}
}

// TestWriteObjectStreams writes a large object and a much smaller one
// and checks that the heap needed does not grow with the object: a
// streaming writer needs a gzip compressor and one line, whatever the size.
func TestWriteObjectStreams(t *testing.T) {
	n := 200_000
	if formattest.Race || testing.Short() {
		n = 10_000 // the race detector makes gzip some 15 times slower
	}
	grew, size := formattest.CheckStreaming(t, Spec, format.GenerateOptions{Seed: 77, Objects: 1, RecordsPerObject: n}, n/20, 0)
	if grew > int64(size)/2 {
		t.Errorf("heap grew by %d bytes while writing a %d byte object", grew, size)
	}
}
