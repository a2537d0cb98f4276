package elb

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

func mustCorpus(t testing.TB, o format.GenerateOptions) *Corpus {
	t.Helper()
	c, err := NewCorpus(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func objectBytes(t testing.TB, c *Corpus, i int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := c.WriteObject(&b, i); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestGenerateIsDeterministic(t *testing.T) {
	o := format.GenerateOptions{Seed: 42, Objects: 8, RecordsPerObject: 30, Accounts: []string{"111122223333", "444455556666"}}
	a, b := mustCorpus(t, o), mustCorpus(t, o)
	if !reflect.DeepEqual(a.Objects(), b.Objects()) {
		t.Fatal("same options gave different objects")
	}
	for i := range a.Objects() {
		if !bytes.Equal(objectBytes(t, a, i), objectBytes(t, b, i)) || !bytes.Equal(objectBytes(t, a, i), objectBytes(t, a, i)) {
			t.Fatalf("object %d differs between two writes", i)
		}
	}
	o.Seed = 43
	c := mustCorpus(t, o)
	for i, ob := range c.Objects() {
		if ob.Key == a.Objects()[i].Key || bytes.Equal(objectBytes(t, a, i), objectBytes(t, c, i)) {
			t.Errorf("object %d: seeds 42 and 43 gave the same object", i)
		}
	}
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
		var m map[string]any
		if err := json.Unmarshal(d.Body, &m); err != nil {
			t.Fatal(err)
		}
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

func TestGenerateOptions(t *testing.T) {
	for _, o := range []format.GenerateOptions{
		{Objects: -1}, {RecordsPerObject: -1}, {Accounts: []string{"12345"}}, {Regions: []string{"US_EAST_1"}},
	} {
		if _, err := NewCorpus(o); err == nil {
			t.Errorf("NewCorpus(%+v) accepted bad options", o)
		}
	}
	c := mustCorpus(t, format.GenerateOptions{})
	if len(c.Objects()) != defaultObjects || c.Records() != defaultObjects*defaultRecords {
		t.Errorf("defaults: %d objects, %d records", len(c.Objects()), c.Records())
	}
	if o := c.Objects()[0]; !strings.HasPrefix(o.Key, "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2026/01/05/") {
		t.Errorf("default key %s", o.Key)
	}
	if err := c.WriteObject(io.Discard, len(c.Objects())); err == nil {
		t.Error("WriteObject accepted an index out of range")
	}
	boom := errors.New("boom")
	if err := c.WriteObject(failWriter{boom}, 0); !errors.Is(err, boom) {
		t.Errorf("WriteObject on a failing writer: %v", err)
	}
	if err := c.WriteObject(failWriter{boom}, 5); !errors.Is(err, boom) {
		t.Errorf("WriteObject of a plain object on a failing writer: %v", err)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

// heapWriter counts what it is given and samples the live heap.
type heapWriter struct {
	n, next int
	peak    uint64
}

func (h *heapWriter) Write(p []byte) (int, error) {
	h.n += len(p)
	if h.n >= h.next {
		h.next = h.n + 32<<10
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		h.peak = max(h.peak, ms.HeapAlloc)
	}
	return len(p), nil
}

// TestWriteObjectStreams: writing an object needs a compressor and a line,
// whatever the object's size: the heap needed for an object of n lines is
// no larger than for one of n/10.
func TestWriteObjectStreams(t *testing.T) {
	n := 200_000
	if raceEnabled || testing.Short() {
		n = 20_000
	}
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	measure := func(i, lines int) (grew int64, size int) {
		c := mustCorpus(t, format.GenerateOptions{Seed: 77, Objects: 6, RecordsPerObject: lines})
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		hw := &heapWriter{}
		if err := c.WriteObject(hw, i); err != nil {
			t.Fatal(err)
		}
		return int64(hw.peak) - int64(before.HeapAlloc), hw.n
	}
	for _, i := range []int{0, 5} { // an ALB object (gzip), a Classic one (plain text)
		small, _ := measure(i, n/10)
		big, size := measure(i, n)
		t.Logf("object %d: %d lines, %d bytes; the heap grew by at most %d bytes (%d for a tenth of the lines)", i, n, size, big, small)
		if big > 4<<20 || big > small+1<<20 {
			t.Errorf("object %d: the heap grew by %d bytes for %d lines, %d for %d", i, big, n, small, n/10)
		}
	}
}
