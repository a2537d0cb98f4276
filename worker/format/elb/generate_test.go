package elb

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

func mustCorpus(t testing.TB, o format.GenerateOptions) *Corpus {
	return formattest.Must(t, NewCorpus, o)
}

func objectBytes(t testing.TB, c *Corpus, i int) []byte { return formattest.ObjectBytes(t, c, i) }

func TestGenerator(t *testing.T) {
	formattest.CheckGenerator(t, Spec, format.GenerateOptions{Seed: 42, Objects: 14, RecordsPerObject: 30, Prefix: "lb logs/prod",
		Accounts: []string{"111122223333", "444455556666"}, Regions: []string{"eu-west-1", "us-east-2"},
		Start: time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC)})
}

var keyRE = regexp.MustCompile(`^(?:(.*)/)?AWSLogs/(\d{12})/elasticloadbalancing/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/` +
	`(\d{12})_elasticloadbalancing_([a-z0-9-]+)_((?:app|net)\.[a-z0-9-]+\.[0-9a-f]{16}|[a-z0-9-]+)_(\d{8}T\d{4}Z)_(\d+\.\d+\.\d+\.\d+)_([a-z0-9]{8})\.log(\.gz)?$`)

func TestGeneratedKeys(t *testing.T) {
	accounts, regions := []string{"111122223333", "444455556666"}, []string{"eu-west-1", "us-east-2", "ap-south-1"}
	c := mustCorpus(t, format.GenerateOptions{Seed: 5, Objects: 30, RecordsPerObject: 2, Prefix: "lb logs/prod",
		Accounts: accounts, Regions: regions, Start: time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC)})
	f := mustELB(t, format.Options{})
	seen := map[string]bool{}
	for i, o := range c.Objects() {
		m := keyRE.FindStringSubmatch(o.Key)
		if m == nil {
			t.Fatalf("key %q is not ELB's layout", o.Key)
		}
		if m[1] != "lb logs/prod" || m[2] != m[7] || m[3] != m[8] || m[2] != accounts[i%2] || m[3] != regions[i/2%3] {
			t.Errorf("key %q: prefix, account or region", o.Key)
		}
		end, err := time.Parse("20060102T1504Z", m[10])
		if err != nil || end.Format("2006/01/02") != m[4]+"/"+m[5]+"/"+m[6] || !end.Equal(time.Date(2026, 3, 31, 23, 5*(i+1), 0, 0, time.UTC)) {
			t.Errorf("key %q: end time %v (%v)", o.Key, end, err)
		}
		kind := map[string]string{"app": "application", "net": "network"}[m[9][:3]]
		plain := m[13] == ""
		stored := objectBytes(t, c, i)
		gzipped := len(stored) > 2 && stored[0] == 0x1f && stored[1] == 0x8b
		switch {
		case kind == "" && (!plain || gzipped || o.ContentType != "text/plain"):
			t.Errorf("%s: a Classic Load Balancer's object is plain text", o.Key)
		case kind != "" && (plain || !gzipped || o.ContentType != "application/x-gzip"):
			t.Errorf("%s: an ALB or NLB object is gzip", o.Key)
		}
		if f.Claim(format.ParseKey(o.Key)) != format.Read {
			t.Errorf("%s: not claimed", o.Key)
		}
		if seen[o.Key] {
			t.Errorf("key %s twice", o.Key)
		}
		seen[o.Key] = true
	}
}

// TestGeneratedCoverage: a corpus holds every kind of line the decoder
// must read, and the documents say what the lines were.
func TestGeneratedCoverage(t *testing.T) {
	docs := formattest.CheckCorpus(t, Spec, format.GenerateOptions{Seed: 9, Objects: 14, RecordsPerObject: 300})
	seen := map[string]int{}
	for _, d := range docs {
		m := formattest.Body(t, d.Document)
		has := func(path string) bool { return formattest.Get(m, strings.Split(path, ".")...) != nil }
		str := func(path string) string { s, _ := formattest.Get(m, strings.Split(path, ".")...).(string); return s }
		lb := str("lb_type")
		seen[lb]++
		seen[lb+" "+str("type")]++
		seen[lb+" outcome "+str("event.outcome")]++
		if c, ok := m["elb_status_code"].(float64); ok {
			seen[lb+" status "+string("0123456789"[int(c)/100])+"xx"]++
		}
		if strings.Contains(str("source.ip"), ":") {
			seen[lb+" ipv6"]++
		}
		if strings.Contains(str("user_agent.original"), `"`) {
			seen["quote in user agent"]++
		}
		switch lb {
		case "application":
			if strings.Contains(str("target_group_arn"), "-fn/") && !has("target_ip") {
				seen["lambda"]++
			}
			if has("error_reason") {
				seen["error_reason"]++
			}
			if !has("target_processing_time") {
				seen["no target time"]++
			}
			if has("classification") {
				seen["classification"]++
			}
			if !has("conn_trace_id") {
				seen["without conn_trace_id"]++
			}
			if has("extra") {
				seen["extra"]++
			}
			if str("redirect_url") != "" {
				seen["redirect"]++
			}
			if has("ssl_cipher") {
				seen["tls"]++
			}
		case "network":
			if !has("tls_handshake_time") {
				seen["failed handshake"]++
			}
			if has("alpn_client_preference_list") {
				seen["alpn"]++
			}
		case "classic":
			if !has("request") {
				seen["tcp listener"]++
			}
			if !has("backend_ip") {
				seen["no backend"]++
			}
		}
	}
	for _, k := range []string{"application", "network", "classic",
		"application http", "application https", "application h2", "application grpcs", "application ws", "application wss",
		"application status 1xx", "application status 2xx", "application status 3xx", "application status 4xx", "application status 5xx",
		"application outcome failure", "application ipv6", "lambda", "error_reason", "no target time", "classification",
		"without conn_trace_id", "extra", "redirect", "tls", "quote in user agent",
		"network tls", "network outcome failure", "network ipv6", "failed handshake", "alpn",
		"classic status 2xx", "classic status 5xx", "tcp listener", "no backend", "classic ipv6"} {
		if seen[k] == 0 {
			t.Errorf("no %s in the corpus", k)
		}
	}
	if seen["application"] < 3*(seen["network"]+seen["classic"])/2 {
		t.Errorf("documents by kind: %d application, %d network, %d classic", seen["application"], seen["network"], seen["classic"])
	}
	t.Logf("%v", seen)
}

func TestGenerateDefaults(t *testing.T) {
	c := mustCorpus(t, format.GenerateOptions{})
	if c.Records() != format.DefaultObjects*format.DefaultRecordsPerObject {
		t.Errorf("defaults: %d records", c.Records())
	}
	if o := c.Objects()[0]; !strings.HasPrefix(o.Key, "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2026/01/05/") {
		t.Errorf("default key %s", o.Key)
	}
}

// TestWriteObjectStreams: writing an object needs a compressor and a line,
// whatever the object's size: the heap needed for an object of n lines is
// no larger than for one of n/10.
func TestWriteObjectStreams(t *testing.T) {
	n := 200_000
	if formattest.Race || testing.Short() {
		n = 20_000
	}
	for _, i := range []int{0, 5} { // an ALB object (gzip), a Classic one (plain text)
		formattest.CheckStreaming(t, Spec, format.GenerateOptions{Seed: 77, Objects: 6, RecordsPerObject: n}, n/10, i)
	}
}
