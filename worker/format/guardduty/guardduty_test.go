package guardduty

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/logtide/logtide/testenv/refdata"
	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

// sharedData is the reference data folder (testenv/refdata); the test is
// skipped where it is absent.
func sharedData(t *testing.T) string {
	t.Helper()
	return refdata.Dir(t, "guardduty")
}

func mustGD(t *testing.T, o format.Options) *GuardDuty { return formattest.Must(t, New, o) }

func decodeBody(t *testing.T, d format.Document) map[string]any { return formattest.Body(t, d) }

// TestFixtureFindings decodes the project's own findings (testdata/): every
// shape of timestamp, a re-export, the action types with remote parties,
// and a finding without an action.
func TestFixtureFindings(t *testing.T) {
	g := mustGD(t, format.Options{})
	b, err := os.ReadFile(filepath.Join("testdata", "findings.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	const det = "arn:aws:guardduty:%s:210987654321:detector/4ec6b2d0a1f3e5c7b9d1f3a5c7e9b1d3/finding/%s"
	want := []struct {
		region, id, index, ts string
		version               int64
		createdAt, updatedAt  string // as indexed
		ips                   []string
		locs                  int
	}{
		{"eu-west-1", "1a2b3c4d5e6f708192a3b4c5d6e7f801", "guardduty-2026-03-14", "2026-03-14T09:02:31.117Z", 1773478951117,
			"2026-03-14T09:02:31.117Z", "2026-03-14T09:02:31.117Z", []string{"198.51.100.77"}, 0}, // 0,0 is an unknown place
		{"eu-west-1", "2b3c4d5e6f708192a3b4c5d6e7f80912", "guardduty-2026-03-14", "2026-03-14T11:35:00.000Z", 1773488100000,
			"2026-03-14T10:05:00.000Z", "2026-03-14T11:35:00.000Z", []string{"192.0.2.44"}, 1},
		// The re-export: same id and index, a larger version.
		{"eu-west-1", "2b3c4d5e6f708192a3b4c5d6e7f80912", "guardduty-2026-03-14", "2026-03-15T02:05:00.000Z", 1773540300000,
			"2026-03-14T10:05:00.000Z", "2026-03-15T02:05:00.000Z", []string{"192.0.2.44"}, 1},
		// Epoch seconds with a fraction and epoch milliseconds: both are
		// indexed as the instant they were read as.
		{"us-east-1", "3c4d5e6f708192a3b4c5d6e7f8091a2b", "guardduty-2026-03-15", "2026-03-15T00:00:00.250Z", 1773532800250,
			"2026-03-15T00:00:00.250Z", "2026-03-15T00:00:00.250Z", []string{"2001:db8::7"}, 1},
		// Space-separated times without a zone are UTC; no action, no remote.
		{"us-east-1", "4d5e6f708192a3b4c5d6e7f8091a2b3c", "guardduty-2026-03-16", "2026-03-16T05:00:00.125Z", 1773637200125,
			"2026-03-16T04:10:22.500Z", "2026-03-16T05:00:00.125Z", nil, 0},
		{"eu-west-1", "5e6f708192a3b4c5d6e7f8091a2b3c4d", "guardduty-2026-03-17", "2026-03-17T06:00:01.000Z", 1773727201000,
			"2026-03-17T00:00:01Z", "2026-03-17T06:00:01Z", []string{"192.0.2.10", "192.0.2.11", "192.0.2.12"}, 1},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d fixture findings, want %d", len(lines), len(want))
	}
	for i, w := range want {
		d, err := g.Decode([]byte(lines[i]), i+1)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if id := fmt.Sprintf(det, w.region, w.id); d.ID != id || d.Index != w.index || d.Version != w.version {
			t.Errorf("line %d: id %s index %s version %d, want %s %s %d", i+1, d.ID, d.Index, d.Version, id, w.index, w.version)
		}
		m := decodeBody(t, d)
		if m["@timestamp"] != w.ts || m["createdAt"] != w.createdAt || m["updatedAt"] != w.updatedAt {
			t.Errorf("line %d: @timestamp %v createdAt %v updatedAt %v, want %s %s %s", i+1, m["@timestamp"], m["createdAt"], m["updatedAt"], w.ts, w.createdAt, w.updatedAt)
		}
		r, _ := m["remote"].(map[string]any)
		ips, _ := r["ip"].([]any)
		if fmt.Sprint(ips) != fmt.Sprint(w.ips) && !(len(ips) == 0 && len(w.ips) == 0) {
			t.Errorf("line %d: remote.ip %v, want %v", i+1, ips, w.ips)
		}
		if locs, _ := r["location"].([]any); len(locs) != w.locs {
			t.Errorf("line %d: remote.location %v, want %d points", i+1, locs, w.locs)
		}
		// Everything else is as exported.
		var orig map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &orig); err != nil {
			t.Fatal(err)
		}
		for k, v := range orig {
			if k != "createdAt" && k != "updatedAt" && fmt.Sprint(m[k]) != fmt.Sprint(v) {
				t.Errorf("line %d: %s changed from %v to %v", i+1, k, v, m[k])
			}
		}
	}
}

func TestSamples(t *testing.T) {
	data := sharedData(t)
	g := mustGD(t, format.Options{})
	type want struct {
		index, id, ts string
		version       int64
		ips           []string
		locs          int
	}
	cases := map[string]want{
		"awssamples_guardduty_iam_event.json": {
			index: "guardduty-2022-01-13", id: "arn:aws:guardduty:us-east-1:123456789012:detector/123456789012/finding/30bf285e52a1e405084ff6ec28e06e17",
			ts: "2022-01-13T00:00:47.427Z", version: 1642032047427, ips: []string{"198.51.100.0"}, locs: 0, // 0,0 = unknown location
		},
		"awssamples_guardduty_ec2_event.json": {
			index: "guardduty-2017-10-31", ts: "2017-10-31T23:16:23.824Z", version: 1509491783824, ips: []string{"0.0.0.0"},
		},
	}
	for file, w := range cases {
		raw, err := os.ReadFile(filepath.Join(data, "guardduty", file))
		if err != nil {
			t.Fatal(err)
		}
		line, err := compact(raw)
		if err != nil {
			t.Fatal(err)
		}
		d, err := g.Decode(line, 0)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if d.Index != w.index || (w.id != "" && d.ID != w.id) || d.Version != w.version {
			t.Errorf("%s: got index %q id %q version %d", file, d.Index, d.ID, d.Version)
		}
		m := decodeBody(t, d)
		if m["@timestamp"] != w.ts {
			t.Errorf("%s: @timestamp %v, want %s", file, m["@timestamp"], w.ts)
		}
		if m["arn"] != d.ID {
			t.Errorf("%s: id %q is not the arn %v", file, d.ID, m["arn"])
		}
		r, _ := m["remote"].(map[string]any)
		ips, _ := r["ip"].([]any)
		if len(ips) != len(w.ips) || (len(ips) > 0 && ips[0] != w.ips[0]) {
			t.Errorf("%s: remote.ip %v, want %v", file, ips, w.ips)
		}
		locs, _ := r["location"].([]any)
		if len(locs) != w.locs {
			t.Errorf("%s: remote.location %v, want %d points", file, locs, w.locs)
		}
	}
}

func TestPantherAndDerivedExports(t *testing.T) {
	data := sharedData(t)
	g := mustGD(t, format.Options{})
	f, err := os.Open(filepath.Join(data, "guardduty", "panther_guardduty_rule_tests.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		d, err := g.Decode(sc.Bytes(), 0)
		if err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		m := decodeBody(t, d)
		if m["type"] == "AttackSequence:S3/CompromisedData" {
			// Panther's edited form "2025-02-25 20:40:06.765", read as UTC.
			if d.Index != "guardduty-2025-02-25" || m["@timestamp"] != "2025-02-25T20:40:06.765Z" {
				t.Errorf("attack sequence: index %s @timestamp %v", d.Index, m["@timestamp"])
			}
			if _, ok := m["remote"]; ok {
				t.Errorf("attack sequence has no action, got remote %v", m["remote"])
			}
		}
	}
	if n != 8 {
		t.Fatalf("read %d lines, want 8", n)
	}

	// The derived re-export carries the same id with a later updatedAt: same
	// index and _id, larger version.
	dir := filepath.Join(data, "derived", "guardduty", "AWSLogs", "123456789012", "GuardDuty", "us-east-1", "2022", "01", "13")
	first := readGz(t, filepath.Join(dir, "6f1c2a9e-4d5b-3e8f-9a0b-1c2d3e4f5a6b.jsonl.gz"))
	re := readGz(t, filepath.Join(dir, "0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d.jsonl.gz"))
	if len(first) != 11 || len(re) != 1 {
		t.Fatalf("derived exports: %d and %d lines", len(first), len(re))
	}
	nd, err := g.Decode(re[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range first {
		d, err := g.Decode(l, 0)
		if err != nil {
			t.Fatal(err)
		}
		if d.ID == nd.ID {
			found = true
			if d.Index != nd.Index || d.Version >= nd.Version {
				t.Errorf("re-export: old %s/%d new %s/%d", d.Index, d.Version, nd.Index, nd.Version)
			}
		}
	}
	if !found {
		t.Error("re-exported finding not in the first export")
	}
}

func readGz(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	var out [][]byte
	for sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func compact(raw []byte) ([]byte, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func TestActionTypes(t *testing.T) {
	g := mustGD(t, format.Options{})
	ip := func(addr string, lat, lon float64) string {
		b, _ := json.Marshal(map[string]any{"ipAddressV4": addr, "geoLocation": map[string]any{"lat": lat, "lon": lon}})
		return string(b)
	}
	base := `"arn":"arn:aws:guardduty:eu-west-1:111122223333:detector/d/finding/f","createdAt":"2026-03-01T23:30:00Z","updatedAt":"2026-03-02T01:00:00.5Z"`
	cases := []struct {
		name   string
		action string
		ips    []string
		points [][2]float64
	}{
		{"api call", `{"actionType":"AWS_API_CALL","awsApiCallAction":{"remoteIpDetails":` + ip("1.2.3.4", 47.6, -122.3) + `}}`, []string{"1.2.3.4"}, [][2]float64{{47.6, -122.3}}},
		{"network", `{"actionType":"NETWORK_CONNECTION","networkConnectionAction":{"remoteIpDetails":` + ip("5.6.7.8", 1.5, 2.5) + `}}`, []string{"5.6.7.8"}, [][2]float64{{1.5, 2.5}}},
		{"port probe", `{"actionType":"PORT_PROBE","portProbeAction":{"portProbeDetails":[{"remoteIpDetails":` + ip("9.9.9.9", 10, 20) + `},{"remoteIpDetails":` + ip("8.8.8.8", -33.9, 151.2) + `},{"remoteIpDetails":` + ip("9.9.9.9", 10, 20) + `}]}}`, []string{"9.9.9.9", "8.8.8.8"}, [][2]float64{{10, 20}, {-33.9, 151.2}}},
		{"dns", `{"actionType":"DNS_REQUEST","dnsRequestAction":{"domain":"x.example"}}`, nil, nil},
		{"kubernetes", `{"actionType":"KUBERNETES_API_CALL","kubernetesApiCallAction":{"sourceIPs":["7.7.7.7"],"remoteIpDetails":` + ip("7.7.7.7", 35.7, 139.7) + `}}`, []string{"7.7.7.7"}, [][2]float64{{35.7, 139.7}}},
		{"rds", `{"actionType":"RDS_LOGIN_ATTEMPT","rdsLoginAttemptAction":{"remoteIpDetails":` + ip("6.6.6.6", 0, 0) + `}}`, []string{"6.6.6.6"}, nil},
		{"odd shape kept", `{"actionType":"X","awsApiCallAction":{"remoteIpDetails":"weird"}}`, nil, nil},
		// An action type this version does not know still yields its remote
		// party; blocks come in name order, a bad block is skipped, a
		// duplicated block name counts once (the last).
		{"future action type", `{"actionType":"NEW_THING","zzzAction":{"remoteIpDetails":` + ip("4.4.4.4", 1, 1) + `},"newThingAction":{"remoteIpDetails":{"ipAddressV6":"2001:db8::7","geoLocation":{"lat":"12.5","lon":"-3"}}},"badAction":{"remoteIpDetails":{"ipAddressV4":42}},"zzzAction":{"remoteIpDetails":` + ip("3.3.3.3", 2, 2) + `}}`,
			[]string{"2001:db8::7", "3.3.3.3"}, [][2]float64{{12.5, -3}, {2, 2}}},
		{"port probe with a bad detail is skipped whole", `{"portProbeAction":{"portProbeDetails":[{"remoteIpDetails":` + ip("9.9.9.9", 10, 20) + `},{"remoteIpDetails":{"ipAddressV4":[]}}]},"networkConnectionAction":{"remoteIpDetails":` + ip("5.6.7.8", 1.5, 2.5) + `}}`, []string{"5.6.7.8"}, [][2]float64{{1.5, 2.5}}},
		// remote.ip is typed ip: what is not an address is left out.
		{"invalid v4, valid v6", `{"networkConnectionAction":{"remoteIpDetails":{"ipAddressV4":"999.1.1.1","ipAddressV6":"2001:db8::9"}}}`, []string{"2001:db8::9"}, nil},
		{"no valid address", `{"networkConnectionAction":{"remoteIpDetails":{"ipAddressV4":"unknown","ipAddressV6":"::g"}}}`, nil, nil},
		{"escaped names", `{"network\u0043onnectionAction":{"remote\u0049pDetails":{"ipAddressV4":"5.6.7.\u0038"}}}`, []string{"5.6.7.8"}, nil},
	}
	for _, c := range cases {
		line := `{` + base + `,"service":{"action":` + c.action + `}}`
		d, err := g.Decode([]byte(line), 0)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if d.Index != "guardduty-2026-03-01" || d.Version != time.Date(2026, 3, 2, 1, 0, 0, 5e8, time.UTC).UnixMilli() {
			t.Errorf("%s: index %s version %d", c.name, d.Index, d.Version)
		}
		var m struct {
			TS     string `json:"@timestamp"`
			Remote *struct {
				IP       []string `json:"ip"`
				Location []struct{ Lat, Lon float64 }
			} `json:"remote"`
		}
		if err := json.Unmarshal(d.Body, &m); err != nil {
			t.Fatalf("%s: %v\n%s", c.name, err, d.Body)
		}
		if m.TS != "2026-03-02T01:00:00.500Z" {
			t.Errorf("%s: @timestamp %s", c.name, m.TS)
		}
		var gotIPs []string
		var gotPts [][2]float64
		if m.Remote != nil {
			gotIPs = m.Remote.IP
			for _, p := range m.Remote.Location {
				gotPts = append(gotPts, [2]float64{p.Lat, p.Lon})
			}
		}
		if strings.Join(gotIPs, ",") != strings.Join(c.ips, ",") {
			t.Errorf("%s: ips %v want %v", c.name, gotIPs, c.ips)
		}
		if len(gotPts) != len(c.points) {
			t.Errorf("%s: points %v want %v", c.name, gotPts, c.points)
			continue
		}
		for i := range gotPts {
			if gotPts[i] != c.points[i] {
				t.Errorf("%s: points %v want %v", c.name, gotPts, c.points)
			}
		}
	}
}

func TestTimeZoneAndPrefix(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	g := mustGD(t, format.Options{IndexPrefix: "gd", Location: tokyo})
	d, err := g.Decode([]byte(`{"arn":"a","createdAt":"2026-03-01T16:30:00Z","updatedAt":1772382600000}`), 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.Index != "gd-2026-03-02" || d.Version != 1772382600000 {
		t.Errorf("index %s version %d", d.Index, d.Version)
	}
	if _, err := New(format.Options{IndexPrefix: "Bad Prefix"}); err == nil {
		t.Error("invalid prefix accepted")
	}
}

func TestRejects(t *testing.T) {
	g := mustGD(t, format.Options{})
	for _, line := range []string{
		`not json`,
		`[1,2]`,
		`{"arn":"a","createdAt":"2026-03-01T16:30:00Z"`,
		`{"createdAt":"2026-03-01T16:30:00Z","updatedAt":"2026-03-01T16:30:00Z"}`,
		`{"arn":"a","createdAt":"2026-03-01T16:30:00Z"}`,
		`{"arn":"a","createdAt":"yesterday","updatedAt":"2026-03-01T16:30:00Z"}`,
		// Year 0000 and 10000 once in UTC: not a time the cluster reads.
		`{"arn":"a","createdAt":"0001-01-01T00:30:00+01:00","updatedAt":"2026-03-01T16:30:00Z"}`,
		`{"arn":"a","createdAt":"2026-03-01T16:30:00Z","updatedAt":"9999-12-31 23:30:00-01:00"}`,
		`{"arn":"` + strings.Repeat("a", 600) + `","createdAt":"2026-03-01T16:30:00Z","updatedAt":"2026-03-01T16:30:00Z"}`,
	} {
		_, err := g.Decode([]byte(line), 0)
		var re *format.RecordError
		if !errors.As(err, &re) {
			t.Errorf("%.60s: err %v, want a format.RecordError", line, err)
		}
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2017, 12, 18, 16, 58, 11, 551e6, time.UTC)
	for _, in := range []string{`"2017-12-18T16:58:11.551Z"`, `1513616291.551`, `1513616291551`, `"2017-12-18 16:58:11.551"`, `"2017-12-18T16:58:11.551"`, `"2017-12-18T17:58:11.551+01:00"`} {
		got, err := ParseTime(json.RawMessage(in))
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, in := range []string{``, `null`, `"x"`, `-5`, `{}`} {
		if _, err := ParseTime(json.RawMessage(in)); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestTemplateIsJSON(t *testing.T) {
	for _, e := range []format.Engine{{}, {Distribution: "opensearch", Major: 2, Minor: 19}, {Distribution: "elasticsearch", Major: 7, Minor: 10, Flavor: "oss"}} {
		name, body := mustGD(t, format.Options{IndexPrefix: "gd"}).IndexTemplate(e)
		var m struct {
			Patterns   []string `json:"index_patterns"`
			ComposedOf []string `json:"composed_of"`
			Template   struct {
				Mappings struct {
					Properties struct {
						Service struct {
							Properties struct {
								AdditionalInfo map[string]any `json:"additionalInfo"`
							} `json:"properties"`
						} `json:"service"`
					} `json:"properties"`
				} `json:"mappings"`
			} `json:"template"`
		}
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatal(err)
		}
		if name != "gd" || fmt.Sprint(m.Patterns) != "[gd-*]" || fmt.Sprint(m.ComposedOf) != "[logtide-ecs]" {
			t.Errorf("template %s patterns %v composed of %v", name, m.Patterns, m.ComposedOf)
		}
		ai := m.Template.Mappings.Properties.Service.Properties.AdditionalInfo
		if want := map[bool]string{true: "flat_object", false: "object"}[e.Distribution == "opensearch"]; ai["type"] != want {
			t.Errorf("%+v: service.additionalInfo mapped as %v, want %s", e, ai, want)
		}
	}
}

// TestUserAndAdditionalInfo: the IAM user of an access key finding is
// user.name; a service.additionalInfo that the free-form mapping would
// refuse (not an object, or a leaf longer than the cluster indexes) is kept
// whole under logtide.unindexed instead of failing the finding.
func TestUserAndAdditionalInfo(t *testing.T) {
	g := mustGD(t, format.Options{})
	long := strings.Repeat("A", format.TermLimit)
	cases := []struct {
		name, info string
		moved      bool
	}{
		{"object", `{"sample":true}`, false},
		{"string", `"not an object"`, true},
		{"long leaf", `{"value":"` + long + `"}`, true},
	}
	for _, c := range cases {
		line := `{"arn":"a","createdAt":"2026-03-01T16:30:00Z","updatedAt":"2026-03-01T16:30:00Z","resource":{"resourceType":"AccessKey","accessKeyDetails":{"accessKeyId":"ASIA","userName":"alice"}},"service":{"count":2,"additionalInfo":` + c.info + `}}`
		d, err := g.Decode([]byte(line), 0)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var m struct {
			User    struct{ Name string }
			Related struct{ User []string }
			Service struct {
				Count          int
				AdditionalInfo json.RawMessage
			}
			Logtide struct {
				Unindexed map[string]json.RawMessage
			}
		}
		if err := json.Unmarshal(d.Body, &m); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if m.User.Name != "alice" || fmt.Sprint(m.Related.User) != "[alice]" || m.Service.Count != 2 {
			t.Errorf("%s: user.name %q related.user %v count %d", c.name, m.User.Name, m.Related.User, m.Service.Count)
		}
		moved := m.Logtide.Unindexed["service.additionalInfo"]
		if c.moved {
			if string(m.Service.AdditionalInfo) != "null" || !jsonSame(moved, []byte(c.info)) {
				t.Errorf("%s: not moved: %.80s / %.80s", c.name, m.Service.AdditionalInfo, moved)
			}
		} else if moved != nil || !jsonSame(m.Service.AdditionalInfo, []byte(c.info)) {
			t.Errorf("%s: moved: %.80s / %.80s", c.name, m.Service.AdditionalInfo, moved)
		}
	}
}

// TestNoRecordWithoutAVersion: a finding claiming an updatedAt at or before
// 1970 (a zero time written by a broken exporter) would be written without a
// version and could never be repaired by the correct export: it is
// dead-lettered instead.
func TestNoRecordWithoutAVersion(t *testing.T) {
	g := mustGD(t, format.Options{})
	for _, updated := range []string{`"1970-01-01T00:00:00Z"`, `"1969-12-31T23:59:59Z"`, `"0001-01-01T00:00:00Z"`, `"1970-01-01 00:00:00"`} {
		_, err := g.Decode([]byte(`{"arn":"a","createdAt":"2026-01-01T00:00:00Z","updatedAt":`+updated+`}`), 1)
		var re *format.RecordError
		if !errors.As(err, &re) || !strings.Contains(re.Reason, "no version") {
			t.Errorf("updatedAt %s: %v", updated, err)
		}
	}
	d, err := g.Decode([]byte(`{"arn":"a","createdAt":"1970-01-01T00:00:00Z","updatedAt":"1970-01-01T00:00:00.001Z"}`), 1)
	if err != nil || d.Version != 1 {
		t.Errorf("the first millisecond after 1970: version %d, %v", d.Version, err)
	}
}

// TestArnMustBeUTF8: invalid bytes would read as U+FFFD, and two such arns
// would share one document.
func TestArnMustBeUTF8(t *testing.T) {
	g := mustGD(t, format.Options{})
	for _, arn := range []string{"\"arn:aws:guardduty:x\xff\"", `"arn:aws:guardduty:\ud800"`} {
		_, err := g.Decode([]byte(`{"arn":`+arn+`,"createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00Z"}`), 1)
		var re *format.RecordError
		if !errors.As(err, &re) || !strings.Contains(re.Reason, "UTF-8") {
			t.Errorf("arn %q: %v", arn, err)
		}
	}
}

// TestManyPortProbes: the remote parties of a PORT_PROBE finding are
// gathered in linear time, even with tens of thousands of them (80,000 once
// took 16 s).
func TestManyPortProbes(t *testing.T) {
	g := mustGD(t, format.Options{})
	decode := func(n int) time.Duration {
		var b strings.Builder
		b.WriteString(`{"arn":"a","createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00Z","service":{"action":{"actionType":"PORT_PROBE","portProbeAction":{"portProbeDetails":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"localPortDetails":{"port":22},"remoteIpDetails":{"ipAddressV4":"10.%d.%d.%d","geoLocation":{"lat":%d.5,"lon":%d.25}}}`, i>>16, (i>>8)&255, i&255, i%80, i%170)
		}
		b.WriteString(`]}}}}`)
		line := []byte(b.String())
		start := time.Now()
		d, err := g.Decode(line, 1)
		took := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Remote struct {
				IP []string `json:"ip"`
			} `json:"remote"`
		}
		if err := json.Unmarshal(d.Body, &m); err != nil || len(m.Remote.IP) != n {
			t.Fatalf("%d remote addresses, want %d (%v)", len(m.Remote.IP), n, err)
		}
		return took
	}
	small, large := decode(10000), decode(80000)
	// Eight times the parties: linear time takes about eight times as long,
	// quadratic time 64 times. The ratio holds with -race and on slow
	// machines, where absolute times do not.
	if large > 24*small && large > 100*time.Millisecond {
		t.Errorf("10,000 probes took %s, 80,000 took %s: not linear", small, large)
	}
	t.Logf("10,000 probes: %s; 80,000: %s", small, large)
}

// TestAsTheWorkerReadsIt: sample exports read through the worker's own
// decompression and framing give valid documents, and the template parses
// for every engine.
func TestAsTheWorkerReadsIt(t *testing.T) {
	docs := formattest.CheckCorpus(t, Spec, format.GenerateOptions{Seed: 3, Objects: 4, RecordsPerObject: 60, UpdatePercent: 30})
	if len(docs) < 240 {
		t.Errorf("%d documents", len(docs))
	}
	formattest.CheckTemplate(t, mustGD(t, format.Options{}))
}
