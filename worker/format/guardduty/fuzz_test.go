package guardduty

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/jsonscan"
)

// fuzzSeeds are findings as they appear in exports, one per line. They are
// literals so the fuzz target runs wherever the module is checked out.
var fuzzSeeds = []string{
	// Panther's rule test sample: AWS_API_CALL without remoteIpDetails.
	`{"schemaVersion":"2.0","accountId":"123456789012","region":"us-east-1","partition":"aws","arn":"arn:aws:guardduty:us-west-2:123456789012:detector/111111bbbbbbbbbb5555555551111111/finding/90b82273685661b9318f078d0851fe9a","type":"PrivilegeEscalation:IAMUser/AdministrativePermissions","service":{"serviceName":"guardduty","detectorId":"111111bbbbbbbbbb5555555551111111","action":{"actionType":"AWS_API_CALL","awsApiCallAction":{"api":"PutRolePolicy","serviceName":"iam.amazonaws.com","callerType":"Domain","domainDetails":{"domain":"cloudformation.amazonaws.com"},"affectedResources":{"AWS::IAM::Role":"arn:aws:iam::123456789012:role/IAMRole"}}},"resourceRole":"TARGET","additionalInfo":{"sample":true},"evidence":null,"eventFirstSeen":"2020-02-14T17:59:17Z","eventLastSeen":"2020-02-14T17:59:17Z","archived":false,"count":1},"severity":1,"id":"eeb88ab56556eb7771b266670dddee5a","createdAt":"2020-02-14T18:12:22.316Z","updatedAt":"2020-02-14T18:12:22.316Z","title":"Principal AssumedRole:IAMRole attempted to add a policy to themselves that is highly permissive.","description":"Principal AssumedRole:IAMRole attempted to add a highly permissive policy to themselves."}`,
	// Attack sequence: no action, times with a space and no zone, escapes.
	`{"accountId":"123456789012","arn":"arn:aws:guardduty:us-east-1:123456789012:detector/111111bbbbbbbbbb5555555551111111/finding/b174b38d16e34da0a4c66012083bd8f7","createdAt":"2025-02-25 20:40:06.765","description":"A sequence of actions involving 14 signals\n  - Connected from a known Tor Exit Node: 10.0.0.1\n","id":"b174b38d16e34da0a4c66012083bd8f7","partition":"aws","region":"us-east-1","resource":{"resourceType":"AttackSequence"},"schemaVersion":"2.0","service":{"additionalInfo":{"sample":true,"type":"default","value":"{\"sample\":true}"},"archived":false,"count":1,"detectorId":"111111bbbbbbbbbb5555555551111111","eventFirstSeen":"2025-02-25 20:40:06.000000000","eventLastSeen":"2025-02-25 20:40:06.000000000","featureName":"Correlation","resourceRole":"TARGET","serviceName":"guardduty"},"severity":9,"title":"Potential data compromise of one or more S3 buckets.","type":"AttackSequence:S3/CompromisedData","updatedAt":"2025-02-25 20:40:06.765"}`,
	// AWS sample: NETWORK_CONNECTION with the 0,0 "unknown" location and a
	// launchTime in epoch milliseconds.
	`{"schemaVersion":"2.0","accountId":"123456789012","region":"us-east-1","partition":"aws","id":"16afba5c5c43e07c9e3e5e2e544e95df","arn":"arn:aws:guardduty:us-east-1:123456789012:detector/123456789012/finding/16afba5c5c43e07c9e3e5e2e544e95df","type":"Canary:EC2/Stateless.IntegTest","resource":{"resourceType":"Instance","instanceDetails":{"instanceId":"i-05746eb48123455e0","instanceType":"t2.micro","launchTime":1492735675000,"tags":[{"key":"Name","value":"ssh-22-open"}]}},"service":{"serviceName":"guardduty","action":{"actionType":"NETWORK_CONNECTION","networkConnectionAction":{"connectionDirection":"OUTBOUND","remoteIpDetails":{"ipAddressV4":"0.0.0.0","organization":{"asn":-1,"isp":"GeneratedFindingISP","org":"GeneratedFindingORG"},"country":{"countryName":"United States"},"geoLocation":{"lat":0,"lon":0}},"remotePortDetails":{"port":22,"portName":"SSH"},"protocol":"TCP","blocked":false}},"additionalInfo":{"unusualProtocol":"UDP","unusual":22},"eventFirstSeen":"2017-10-31T23:16:23Z","eventLastSeen":"2017-10-31T23:16:23Z","archived":false,"count":1},"severity":5,"createdAt":"2017-10-31T23:16:23.824Z","updatedAt":"2017-10-31T23:16:23.824Z","title":"Canary:EC2/Stateless.IntegTest"}`,
	// PORT_PROBE with several remote parties, one repeated, one IPv6, one
	// with its coordinates as strings.
	`{"schemaVersion":"2.0","accountId":"111122223333","region":"eu-west-1","arn":"arn:aws:guardduty:eu-west-1:111122223333:detector/12abc34d567e8fa901bc2d34e56789f0/finding/4cc3e4d6b2a4e2ab1bd9f0e1a2b3c4d5","type":"Recon:EC2/PortProbeUnprotectedPort","service":{"action":{"actionType":"PORT_PROBE","portProbeAction":{"blocked":false,"portProbeDetails":[{"localPortDetails":{"port":22,"portName":"SSH"},"remoteIpDetails":{"ipAddressV4":"198.51.100.7","geoLocation":{"lat":52.37,"lon":4.89},"organization":{"asn":"64496","asnOrg":"EXAMPLE-AS"}}},{"localPortDetails":{"port":3389,"portName":"RDP"},"remoteIpDetails":{"ipAddressV4":"203.0.113.9","geoLocation":{"lat":-33.87,"lon":151.21}}},{"localPortDetails":{"port":22,"portName":"SSH"},"remoteIpDetails":{"ipAddressV4":"198.51.100.7","geoLocation":{"lat":52.37,"lon":4.89}}},{"localPortDetails":{"port":443},"remoteIpDetails":{"ipAddressV6":"2001:db8::1","geoLocation":{"lat":"35.68","lon":"139.69"}}}]}},"count":14,"eventFirstSeen":"2026-03-01T10:00:00Z","eventLastSeen":"2026-03-02T09:59:59Z"},"severity":2,"createdAt":"2026-03-01T10:05:11.120Z","updatedAt":"2026-03-02T10:05:11.999Z"}`,
	// KUBERNETES_API_CALL, times without milliseconds, updatedAt in epoch
	// seconds with a fraction.
	`{"arn":"arn:aws:guardduty:ap-northeast-1:123456789012:detector/d/finding/k8s","type":"Discovery:Kubernetes/SuccessfulAnonymousAccess","service":{"action":{"actionType":"KUBERNETES_API_CALL","kubernetesApiCallAction":{"requestUri":"/api","verb":"get","sourceIPs":["192.0.2.44"],"statusCode":200,"remoteIpDetails":{"ipAddressV4":"192.0.2.44","geoLocation":{"lat":35.7,"lon":139.7}}}}},"createdAt":"2026-01-05T00:00:00Z","updatedAt":1767571200.5}`,
	// DNS_REQUEST: no remote party; createdAt with a zone offset.
	`{"arn":"arn:aws:guardduty:us-east-1:123456789012:detector/d/finding/dns","type":"Backdoor:EC2/C&CActivity.B!DNS","service":{"action":{"actionType":"DNS_REQUEST","dnsRequestAction":{"domain":"example.invalid","protocol":"UDP","blocked":false}}},"createdAt":"2026-01-05T01:30:00+02:00","updatedAt":"2026-01-05T01:30:00.000000001+02:00"}`,
	// Times whose year is outside 0001-9999 once in UTC.
	`{"arn":"a","createdAt":"0000-01-01 00:00:00+01:00","updatedAt":"2026-03-01T16:30:00Z"}`,
	`{"arn":"a","createdAt":"2026-03-01T16:30:00Z","updatedAt":"9999-12-31T23:30:00-01:00"}`,
	// additionalInfo that is not an object; an address that is not one;
	// an access key's user.
	`{"arn":"a","createdAt":1,"updatedAt":1,"service":{"additionalInfo":"text","action":{"actionType":"AWS_API_CALL","awsApiCallAction":{"remoteIpDetails":{"ipAddressV4":"999.1.1.1","ipAddressV6":"2001:db8::2"}}}},"resource":{"accessKeyDetails":{"userName":"alice"}}}`,
	// Minimal accepted record, and near misses.
	`{"arn":"a","createdAt":1,"updatedAt":1}`,
	`  {"arn":"a","createdAt":"2026-03-01T16:30:00","updatedAt":"2026-03-01T16:30:00Z","remote":{"ip":["1.1.1.1"]},"@timestamp":null}  `,
	`{"arn":"a","createdAt":"2026-03-01T16:30:00Z","updatedAt":"2026-03-01T16:30:00Z","service":{"action":{"actionType":"X","awsApiCallAction":{"remoteIpDetails":"weird"},"portProbeAction":{"portProbeDetails":{}}}}}`,
	`{"arn":"a","createdAt":"2026-03-01T16:30:00Z","updatedAt":-1}`,
	`{"arn":"a","createdAt":"2026-03-01T16:30:00Z","updatedAt":1e300}`,
	`{"arn":null,"createdAt":"2026-03-01T16:30:00Z","updatedAt":"2026-03-01T16:30:00Z"}`,
	`{}`,
	`{ }`,
	`[]`,
	`not json`,
	``,
}

func FuzzTransform(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	// Two configurations: the default, and a prefix with an index time zone
	// whose offset is not a whole hour.
	utc, err := New(format.Options{})
	if err != nil {
		f.Fatal(err)
	}
	kolkata, err := New(format.Options{IndexPrefix: "gd-fuzz", Location: time.FixedZone("IST", 5*3600+1800)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, g := range []*GuardDuty{utc, kolkata} {
			in := bytes.Clone(line)
			d, err := g.Decode(in, 0)
			if !bytes.Equal(in, line) {
				t.Fatal("Transform modified its input")
			}
			if err != nil {
				var re *format.RecordError
				if !errors.As(err, &re) {
					t.Fatalf("error %T is not a *format.RecordError: %v", err, err)
				}
				if re.Reason == "" {
					t.Fatal("format.RecordError without a reason")
				}
				continue
			}
			checkDocument(t, g, line, d)
			again, err := g.Decode(line, 0)
			if err != nil || again.Index != d.Index || again.ID != d.ID || again.Version != d.Version || !bytes.Equal(again.Body, d.Body) {
				t.Fatalf("Transform is not deterministic: %+v then %+v (%v)", d, again, err)
			}
		}
	})
}

func checkDocument(t *testing.T, g *GuardDuty, line []byte, d format.Document) {
	t.Helper()
	if !json.Valid(d.Body) {
		t.Fatalf("body is not valid JSON:\n%q", d.Body)
	}
	if !bytes.Contains(d.Body, []byte(`"@timestamp"`)) {
		t.Fatalf("body has no @timestamp: %q", d.Body)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(d.Body, &top); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%q", err, d.Body)
	}
	var ts string
	if err := json.Unmarshal(top["@timestamp"], &ts); err != nil || !strings.HasSuffix(ts, "Z") {
		t.Fatalf("@timestamp %s is not a UTC time string (%v)", top["@timestamp"], err)
	}
	if d.ID == "" || len(d.ID) > maxID {
		t.Fatalf("id of %d bytes: %q", len(d.ID), d.ID)
	}
	if !strings.HasPrefix(d.Index, g.prefix+"-") {
		t.Fatalf("index %q lacks the prefix %q", d.Index, g.prefix)
	}
	// The record is indexed as exported, fields added after it; only
	// createdAt and updatedAt not written in RFC 3339 are rewritten as the
	// instant they were read as, which the index mapping reads the same way.
	trimmed := bytes.TrimSpace(line)
	orig, err := scanRecord(trimmed)
	if err != nil {
		t.Fatalf("accepted a record the scanner refuses: %v", err)
	}
	body, err := scanRecord(d.Body)
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	rewritten := false
	for _, f := range [][2][]byte{{orig.createdAt, body.createdAt}, {orig.updatedAt, body.updatedAt}} {
		was, wasRFC, err1 := readTime(f[0])
		is, isRFC, err2 := readTime(f[1])
		if err1 != nil || err2 != nil || !isRFC || !was.Truncate(time.Millisecond).Equal(is) && !was.Equal(is) {
			t.Fatalf("timestamp %s indexed as %s (%v, %v)", f[0], f[1], err1, err2)
		}
		rewritten = rewritten || !wasRFC
	}
	if format.Unfit(orig.additionalInfo) {
		// Moved whole under logtide.unindexed.
		var moved struct {
			Logtide struct {
				Unindexed map[string]json.RawMessage `json:"unindexed"`
			} `json:"logtide"`
		}
		if err := json.Unmarshal(d.Body, &moved); err != nil {
			t.Fatal(err)
		}
		got := moved.Logtide.Unindexed["service.additionalInfo"]
		if !jsonSame(got, orig.additionalInfo) || !jsonscan.IsNull(body.additionalInfo) {
			t.Fatalf("additionalInfo %.200s not moved: body has %.200s and %.200s", orig.additionalInfo, body.additionalInfo, got)
		}
		rewritten = true
	}
	if !rewritten && !bytes.HasPrefix(d.Body, trimmed[:len(trimmed)-1]) {
		t.Fatalf("body does not start with the record as exported:\n%q\n%q", trimmed, d.Body)
	}
}

// jsonSame tells whether two JSON values are the same once decoded.
func jsonSame(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}
