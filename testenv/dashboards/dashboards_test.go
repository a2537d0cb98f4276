//go:build integration

package dashboards

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"golang.org/x/sync/errgroup"

	"github.com/logtide/logtide/testenv/awslocal"
	"github.com/logtide/logtide/testenv/search"
	"github.com/logtide/logtide/testenv/services"
	"github.com/logtide/logtide/testenv/syncbuf"
	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/guardduty"
	"github.com/logtide/logtide/worker/formats"
	"github.com/logtide/logtide/worker/savedobjects"
)

// noDataWhenHealthy lists the metrics a healthy run never touches: a labelled
// counter has no series before its first event, so the panels built on them
// show "no data" here. Keep it short: each entry is a panel whose data this
// test cannot prove.
var noDataWhenHealthy = map[string]string{
	// Only after a transient failure (an object unreadable for now, the
	// cluster still failing after every retry) or a shutdown that outlasts
	// its grace period.
	"logtide_messages_returned_total": "",
	// Only while the cluster refuses whole bulk requests (the fault tests
	// and the chaos test make it do so).
	"logtide_bulk_request_failures_total": "",
}

// TestDashboardsAgainstLiveServices runs a worker on the local stack with a
// real Prometheus scraping it every second, feeds it findings, generated
// objects of every other log type, poison records of each, a body that is no
// notification and a notification for a missing object, then checks the
// fleet dashboard's every query against Prometheus and every query and field
// of each log type's dashboard against the OpenSearch indices of its format.
// TestAlertRules checks the fleet's alerting rules with promtool and runs
// their unit tests (dashboards/logtide-alerts.test.yml: each alert fires on
// synthetic series of its cause, and only then).
func TestAlertRules(t *testing.T) {
	root := repoRoot(t)
	run(t, root, "testenv/prometheus.sh", "install")
	run(t, root, "promtool", "check", "rules", "dashboards/logtide-alerts.yml")
	run(t, root, "promtool", "test", "rules", "dashboards/logtide-alerts.test.yml")
}

func TestDashboardsAgainstLiveServices(t *testing.T) {
	esURL := services.Env(t, "OPENSEARCH_URL")
	services.Env(t, "AWS_ENDPOINT_URL")
	root := repoRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	t0 := time.Now()
	phase := func(what string) { t.Logf("%6.1fs %s", time.Since(t0).Seconds(), what) }

	run(t, root, "testenv/prometheus.sh", "install")
	run(t, root, "promtool", "check", "config", "compose/prometheus.yml")
	bin := filepath.Join(t.TempDir(), "worker")
	run(t, root, "go", "build", "-o", bin, "./worker/cmd/worker")
	phase("prometheus installed, worker built")

	c, err := awslocal.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("dash-%d", time.Now().UnixNano())
	// A short visibility timeout and two receives send the messages the
	// worker leaves alone to the dead-letter queue within seconds.
	st, err := c.Provision(ctx, awslocal.Options{Bucket: name, Queue: name, VisibilityTimeout: 2 * time.Second, MaxReceiveCount: 2})
	if err != nil {
		t.Fatal(err)
	}
	deadLetterIndex := "dl-" + name
	t.Cleanup(func() {
		// The worker installed a template per index name; the documents are
		// only needed while the test runs.
		if err := search.New(esURL).Drop(context.Background(), name+"*", deadLetterIndex+"*"); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})

	// Each format writes to <name>-<format>-YYYY-MM-DD: the test's documents
	// stay apart from others', under the same templates as the defaults
	// <format>-* (and patterns that do not overlap, as templates of the same
	// priority must not).
	var prefixes []string
	indexOf := map[string]string{} // format → its indices
	for _, spec := range formats.All {
		prefixes = append(prefixes, spec.Name+"="+name+"-"+spec.Name)
		indexOf[spec.Name] = name + "-" + spec.Name + "-*"
	}
	metricsAddr := freeAddr(t)
	worker := start(t, bin, "run", "--queue-url", st.QueueURL, "--es-url", esURL, "--index-prefix", strings.Join(prefixes, ","),
		"--dead-letter-index", deadLetterIndex, "--metrics-addr", metricsAddr, "--wait-time", "1s",
		"--concurrency", "16", "--bulk-max-docs", "100", "--max-line-bytes", strconv.Itoa(maxLineBytes))
	defer worker.stop(t)
	waitFor(t, ctx, "the worker's /healthz", worker, func() (bool, string) {
		_, err := get(ctx, "http://"+metricsAddr+"/healthz")
		return err == nil, fmt.Sprint(err)
	})

	promAddr := freeAddr(t)
	promDir := t.TempDir()
	promCfg := filepath.Join(promDir, "prometheus.yml")
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nrule_files: [%q]\nscrape_configs:\n  - job_name: logtide-worker\n    static_configs:\n      - targets: [%q]\n",
		filepath.Join(root, "dashboards", "logtide-alerts.yml"), metricsAddr)
	if err := os.WriteFile(promCfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, root, "promtool", "check", "config", promCfg)
	prom := start(t, "prometheus", "--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(promDir, "data"),
		"--web.listen-address="+promAddr)
	defer prom.stop(t)
	pc := promClient{base: "http://" + promAddr}
	waitFor(t, ctx, "Prometheus's first scrape of the worker", prom, func() (bool, string) {
		r, err := pc.query(ctx, `up{job="logtide-worker"} == 1`)
		return err == nil && len(r.samples) == 1, fmt.Sprint(r.samples, err)
	})
	firstScrape := time.Now()
	phase("worker and Prometheus up")

	// The work arrives after the first scrape, so every counter and histogram
	// moves within Prometheus's view.
	corpus, err := guardduty.NewCorpus(guardduty.CorpusOptions{Seed: 5, Objects: 6, FindingsPerObject: 20,
		Accounts: []string{"123456789012", "210987654321"}, Regions: []string{"us-east-1", "eu-west-1"}})
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range corpus.Objects() {
		var buf bytes.Buffer
		if err := corpus.WriteObject(&buf, i); err != nil {
			t.Fatal(err)
		}
		put(t, ctx, c, name, o.Key, buf.Bytes())
	}
	good := func(id string, sev string) string {
		return `{"arn":"arn:aws:guardduty:us-east-1:123456789012:detector/d/finding/` + id + `","id":"` + id +
			`","accountId":"123456789012","region":"us-east-1","type":"Recon:EC2/PortProbeUnprotectedPort","severity":` + sev +
			`,"createdAt":"2026-01-05T10:00:00.000Z","updatedAt":"2026-01-05T11:00:00.000Z"}`
	}
	// Two poison records: one the worker cannot read as JSON, one the
	// cluster's mapping refuses (a bulk item failure).
	poison := []string{good(name+"-p1", "5"), `{not json`, good(name+"-p2", `{"x":1}`)}
	// Findings on the edges of GuardDuty's severity bands: the findings
	// dashboard's bands must count each of them exactly once.
	for i, sev := range []string{"1", "3.9", "4", "6.9", "7", "8.9", "9", "10"} {
		poison = append(poison, good(fmt.Sprintf("%s-s%d", name, i), sev))
	}
	put(t, ctx, c, name, "AWSLogs/123456789012/GuardDuty/us-east-1/2026/01/05/poison.jsonl.gz", gz(t, strings.Join(poison, "\n")+"\n"))
	// Every other log type: a generated set of objects, as its service
	// writes them, the first with one record too long to read added (a dead
	// letter under that format's key layout).
	others := uploadFormats(t, ctx, c, name)
	// Two messages the worker must leave for the redrive policy.
	gone := "AWSLogs/123456789012/GuardDuty/us-east-1/2026/01/05/gone.jsonl.gz"
	put(t, ctx, c, name, gone, gz(t, "{}\n"))
	if _, err := c.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: aws.String(gone)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(st.QueueURL), MessageBody: aws.String("not a notification")}); err != nil {
		t.Fatal(err)
	}
	phase("uploaded")

	waitFor(t, ctx, "the queue to drain (and 2 messages in the DLQ)", worker, func() (bool, string) {
		v, f, d, err1 := c.Depth(ctx, st.QueueURL)
		dv, _, _, err2 := c.Depth(ctx, st.DLQURL)
		ok := err1 == nil && err2 == nil && v+f+d == 0 && dv == 2
		return ok, fmt.Sprintf("queue visible %d in flight %d delayed %d, DLQ %d (%v %v)", v, f, d, dv, err1, err2)
	})
	drained := time.Now()
	phase("queue drained")
	// Enough samples for rate() and for the final values to be scraped.
	if wait := max(time.Until(firstScrape.Add(12*time.Second)), time.Until(drained.Add(3*time.Second))); wait > 0 {
		time.Sleep(wait)
	}

	page, err := get(ctx, "http://"+metricsAddr+"/metrics")
	if err != nil || !strings.Contains(page, "logtide_records_total{") {
		t.Fatalf("scrape of the worker: %v\n%.2000s", err, page)
	}

	t.Run("promtool check metrics", func(t *testing.T) {
		cmd := exec.Command("promtool", "check", "metrics")
		cmd.Stdin = strings.NewReader(page)
		out, err := cmd.CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) != 0 {
			t.Errorf("promtool check metrics on the worker's scrape: %v\n%s", err, out)
		}
		// Debian's promtool lags behind; the linter of the client library
		// the worker is built with may know more rules.
		problems, err := promlint.New(strings.NewReader(page)).Lint()
		if err != nil || len(problems) != 0 {
			t.Errorf("promlint (client_golang) on the worker's scrape: %v %+v", err, problems)
		}
	})

	fleet := loadDashboard(t, fleetFile)
	exported := scrapedNames(page)
	t.Run("fleet metric names are exported", func(t *testing.T) {
		declared := declaredMetrics(t, root)
		seen := map[string]bool{}
		for _, q := range promQueries(fleet) {
			for _, n := range metricNames(q.expr) {
				if seen[n] {
					continue
				}
				seen[n] = true
				switch _, quiet := noDataWhenHealthy[n]; {
				case exported[n]:
				case quiet && declared[n]:
				default:
					t.Errorf("%s uses %s, which the worker does not export (%s)", q.where, n, q.expr)
				}
			}
		}
		for n := range noDataWhenHealthy {
			if exported[n] {
				t.Errorf("%s has data in a healthy run: drop it from noDataWhenHealthy", n)
			}
		}
	})

	t.Run("every fleet query returns data", func(t *testing.T) {
		vals := testVarValues()
		for _, q := range promQueries(fleet) {
			expr, err := expandVars(q.expr, vals)
			if err != nil {
				t.Error(err)
				continue
			}
			r, err := pc.query(ctx, expr)
			if err != nil {
				t.Errorf("%s: %s: %v", q.where, expr, err)
				continue
			}
			quiet := slices.ContainsFunc(metricNames(q.expr), func(n string) bool { _, ok := noDataWhenHealthy[n]; return ok })
			if quiet {
				continue
			}
			finite := slices.ContainsFunc(r.samples, func(s sample) bool { return !math.IsNaN(s.value) && !math.IsInf(s.value, 0) })
			if len(r.samples) == 0 || !finite {
				t.Errorf("%s: no data: %s → %v", q.where, expr, r.samples)
			}
		}
		for _, v := range fleet.Templating.List {
			sel, label, ok := labelValuesQuery(v.queryString())
			if !ok {
				continue
			}
			sel, err := expandVars(sel, vals)
			if err != nil {
				t.Error(err)
				continue
			}
			// The test's Prometheus scrapes the worker as job logtide-worker
			// at metricsAddr.
			want := map[string]string{"instance": metricsAddr, "job": "logtide-worker"}[label]
			var values []string
			if err := pc.get(ctx, "/api/v1/label/"+label+"/values?match[]="+url.QueryEscape(sel), &values); err != nil || !slices.Contains(values, want) {
				t.Errorf("variable %s: label_values(%s, %s) = %v (%v), want %s among them", v.Name, sel, label, values, err, want)
			}
		}
	})

	t.Run("the counters tell what happened", func(t *testing.T) {
		one := func(expr string) float64 {
			r, err := pc.query(ctx, expr)
			if err != nil || len(r.samples) != 1 {
				t.Errorf("%s: %v %v", expr, r.samples, err)
				return math.NaN()
			}
			return r.samples[0].value
		}
		if d := one(`sum(logtide_records_total{outcome="read"}) - sum(logtide_records_total{outcome=~"indexed|stale|skipped|dead_lettered"})`); d != 0 {
			t.Errorf("records read - (indexed + stale + skipped + dead_lettered) = %v", d)
		}
		if n, want := one(`sum(logtide_records_total{outcome="dead_lettered"})`), float64(2+others); n != want {
			t.Errorf("%v records dead-lettered, want %v (2 findings, 1 of each other log type)", n, want)
		}
		for _, expr := range []string{
			`logtide_bulk_item_failures_total{reason="mapper_parsing_exception"}`,
			`logtide_messages_left_for_redrive_total{reason="unparsable_body"}`,
			`logtide_messages_left_for_redrive_total{reason="object_unavailable"}`,
			`logtide_objects_total{outcome="failed"}`,
			`logtide_messages_deleted_total{reason="test_event"}`,
		} {
			if n := one(expr); !(n >= 1) {
				t.Errorf("%s = %v, want ≥ 1", expr, n)
			}
		}
	})
	t.Run("alerts fire on what happened", func(t *testing.T) {
		rules, err := pc.alertRules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(rules) != 7 {
			t.Errorf("%d alerting rules loaded, want the 7 of dashboards/logtide-alerts.yml", len(rules))
		}
		active := map[string][]string{} // alert → the reason label of each active alert
		for _, r := range rules {
			if r.Health != "ok" {
				t.Errorf("rule %s: health %q: %s", r.Name, r.Health, r.LastError)
			}
			for _, a := range r.Alerts {
				active[r.Name] = append(active[r.Name], a.Labels["reason"])
			}
		}
		// Two messages were left for the redrive policy and two records
		// dead-lettered; the worker ran and wrote documents throughout.
		left := active["LogtideMessagesLeftForRedrive"]
		slices.Sort(left)
		if !slices.Equal(left, []string{"object_unavailable", "unparsable_body"}) {
			t.Errorf("LogtideMessagesLeftForRedrive active for reasons %v, want object_unavailable and unparsable_body", left)
		}
		if len(active["LogtideRecordsDeadLettered"]) != 1 {
			t.Errorf("LogtideRecordsDeadLettered: %d active alerts, want 1", len(active["LogtideRecordsDeadLettered"]))
		}
		for _, quiet := range []string{"LogtideWorkersDown", "LogtideIndexingStalled", "LogtideBacklogOld", "LogtideLagHigh", "LogtideClusterThrottling"} {
			if n := len(active[quiet]); n != 0 {
				t.Errorf("%s: %d active alerts in a run that gave it no cause", quiet, n)
			}
		}
	})
	phase("fleet dashboard checked")

	es := search.New(esURL)
	if err := es.Refresh(ctx, name+"-*,"+deadLetterIndex); err != nil {
		t.Fatal(err)
	}
	for _, fd := range formatDashboards(t) {
		t.Run(fd.File+" fields and queries", func(t *testing.T) {
			// The worker's indices of the format and dead letters have the
			// mappings of the default ones (same templates).
			checkFormatDashboard(t, ctx, es, fd, map[string]string{fd.DataVar: indexOf[fd.Spec.Name], deadLetterVar: deadLetterIndex})
		})
	}
	t.Run("findings dashboard uses the findings' fields", func(t *testing.T) {
		used := map[string]map[string]bool{} // datasource variable → fields
		aggregated := map[string]map[string]bool{}
		for _, p := range allPanels(loadDashboard(t, findingsFile).Panels) {
			for v, uses := range panelUses(p) {
				if used[v] == nil {
					used[v], aggregated[v] = map[string]bool{}, map[string]bool{}
				}
				for _, u := range uses {
					used[v][u.Field] = true
					aggregated[v][u.Field] = aggregated[v][u.Field] || u.Agg == "terms"
				}
			}
		}
		for _, f := range []string{"type", "severity", "accountId", "region", "remote.location", "@timestamp"} {
			if !used["findings"][f] {
				t.Errorf("the findings dashboard does not use %s", f)
			}
		}
		if !aggregated["deadletters"]["stage"] {
			t.Error("no dead-letter panel counts by stage")
		}
		want := map[string]string{"type": "keyword", "severity": "float", "accountId": "keyword", "region": "keyword",
			"remote.location": "geo_point", "@timestamp": "date"}
		types := fieldTypes(t, ctx, es, indexOf["guardduty"], used["findings"])
		for f, typ := range want {
			if got := types[f]; got != typ {
				t.Errorf("findings: field %s is %q, want %s", f, got, typ)
			}
		}
		if got := fieldTypes(t, ctx, es, deadLetterIndex, map[string]bool{"stage": true})["stage"]; got != "keyword" {
			t.Errorf("dead letters: stage is %q, want keyword", got)
		}
	})
	phase("dashboards of the log types checked")

	t.Run("OpenSearch Dashboards saved objects", func(t *testing.T) {
		checkSavedObjects(t, ctx, es, name, deadLetterIndex)
	})
	phase("saved objects checked")

	if err := worker.stop(t); err != nil {
		t.Errorf("worker did not stop cleanly: %v\n%s", err, worker.tail())
	}
	prom.stop(t)
	phase("stopped")
}

// run runs a command from the repository root and fails the test with its
// output if it fails.
func run(t *testing.T, root, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// proc is a child process the test owns; stop ends it by its pid.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
	done chan struct{}
	err  error
	once sync.Once
}

func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: filepath.Base(name), cmd: exec.Command(name, args...), out: &syncbuf.Buffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	// If this test process dies (say, go test -timeout), so does the child:
	// a worker or Prometheus left behind would hold its port.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) tail() string {
	s := p.out.String()
	if len(s) > 4000 {
		s = "…" + s[len(s)-4000:]
	}
	return s
}

// stop sends SIGTERM, then SIGKILL after 30 s; it returns how the process
// ended (nil for exit status 0).
func (p *proc) stop(t *testing.T) error {
	p.once.Do(func() {
		if !p.exited() {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(30 * time.Second):
				t.Errorf("%s (pid %d) ignored SIGTERM for 30 s; killing it", p.name, p.cmd.Process.Pid)
				_ = p.cmd.Process.Kill()
				<-p.done
			}
		}
	})
	return p.err
}

// waitFor polls cond until it holds, failing with its last word if p exits
// or ctx ends first.
func waitFor(t *testing.T, ctx context.Context, what string, p *proc, cond func() (bool, string)) {
	t.Helper()
	last := ""
	for {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		if p.exited() {
			t.Fatalf("waiting for %s: %s exited (%v)\n%s", what, p.name, p.err, p.tail())
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v; last: %s\n%s:\n%s", what, ctx.Err(), last, p.name, p.tail())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func get(ctx context.Context, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %s: %.300s", u, resp.Status, b)
	}
	return string(b), err
}

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := io.WriteString(zw, s); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func put(t *testing.T, ctx context.Context, c *awslocal.Clients, bucket, key string, body []byte) {
	t.Helper()
	if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
}

// ---------------------------------------------------------------- Prometheus

type promClient struct{ base string }

// alertRule is one alerting rule as /api/v1/rules reports it.
type alertRule struct {
	Name      string `json:"name"`
	Health    string `json:"health"`
	LastError string `json:"lastError"`
	Alerts    []struct {
		Labels map[string]string `json:"labels"`
		State  string            `json:"state"`
	} `json:"alerts"`
}

// alertRules lists the loaded alerting rules with their active alerts.
func (c promClient) alertRules(ctx context.Context) ([]alertRule, error) {
	body, err := get(ctx, c.base+"/api/v1/rules?type=alert")
	if err != nil {
		return nil, err
	}
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Groups []struct {
				Rules []alertRule `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.Status != "success" {
		return nil, fmt.Errorf("/api/v1/rules: %v: %.300s", err, body)
	}
	var rules []alertRule
	for _, g := range r.Data.Groups {
		rules = append(rules, g.Rules...)
	}
	return rules, nil
}

type sample struct {
	labels map[string]string
	value  float64
}

type promResult struct {
	samples []sample
}

// get decodes the data of a Prometheus API answer into out; an answer
// whose status is not success is an error.
func (p promClient) get(ctx context.Context, path string, out any) error {
	body, err := get(ctx, p.base+path)
	var env struct {
		Status    string          `json:"status"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Data      json.RawMessage `json:"data"`
	}
	if jerr := json.Unmarshal([]byte(body), &env); jerr != nil {
		if err == nil {
			err = jerr
		}
		return err
	}
	if env.Status != "success" {
		return fmt.Errorf("status %s: %s: %s", env.Status, env.ErrorType, env.Error)
	}
	return json.Unmarshal(env.Data, out)
}

// query runs an instant query now.
func (p promClient) query(ctx context.Context, expr string) (promResult, error) {
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := p.get(ctx, "/api/v1/query?query="+url.QueryEscape(expr), &data); err != nil {
		return promResult{}, err
	}
	var r promResult
	parse := func(v [2]any) float64 {
		s, _ := v[1].(string)
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return math.NaN()
		}
		return f
	}
	switch data.ResultType {
	case "vector":
		var vs []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(data.Result, &vs); err != nil {
			return r, err
		}
		for _, v := range vs {
			r.samples = append(r.samples, sample{labels: v.Metric, value: parse(v.Value)})
		}
	case "scalar":
		var v [2]any
		if err := json.Unmarshal(data.Result, &v); err != nil {
			return r, err
		}
		r.samples = append(r.samples, sample{value: parse(v)})
	default:
		return r, fmt.Errorf("result type %s: a dashboard panel wants a vector", data.ResultType)
	}
	return r, nil
}

// scrapedNames returns the sample names of a text-format scrape.
func scrapedNames(page string) map[string]bool {
	out := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(page))
	for sc.Scan() {
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if i := strings.IndexAny(l, "{ "); i > 0 {
			out[l[:i]] = true
		}
	}
	return out
}

// ---------------------------------------------------------------- OpenSearch

// maxLineBytes is the worker's --max-line-bytes in this test: the poison
// record of each log type is longer.
const maxLineBytes = 256 << 10

// uploadFormats puts a generated set of objects of every format but
// GuardDuty's into bucket, the first object of each with one record longer
// than maxLineBytes added; it returns how many formats it uploaded (as many
// dead letters).
func uploadFormats(t *testing.T, ctx context.Context, c *awslocal.Clients, bucket string) int {
	t.Helper()
	n := 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, spec := range formats.All {
		if spec.Name == "guardduty" {
			continue
		}
		// Enough records for every panel to have data: Insights files,
		// capture gaps, desync classifications, SQL injection matches and
		// DNS Firewall blocks are a few in a hundred.
		corpus, err := spec.Generate(format.GenerateOptions{Seed: 7, Objects: 20, RecordsPerObject: 50,
			Accounts: []string{"123456789012", "210987654321"}, Regions: []string{"us-east-1", "eu-west-1"}})
		if err != nil {
			t.Fatalf("%s: %v", spec.Name, err)
		}
		framing := newFormat(t, spec).Framing()
		for i, o := range corpus.Objects() {
			var buf bytes.Buffer
			if err := corpus.WriteObject(&buf, i); err != nil {
				t.Fatalf("%s: %s: %v", spec.Name, o.Key, err)
			}
			body := buf.Bytes()
			if i == 0 {
				body = withLongRecord(t, o.Key, body, framing)
			}
			g.Go(func() error {
				_, err := c.S3.PutObject(gctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(o.Key), Body: bytes.NewReader(body)})
				if err != nil {
					return fmt.Errorf("%s: %w", o.Key, err)
				}
				return nil
			})
		}
		n++
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	return n
}

// withLongRecord adds a record longer than maxLineBytes to an object's
// content, gzip-compressed or not as it is: a line at its end, or an element
// at the start of its Records array.
func withLongRecord(t *testing.T, key string, body []byte, framing format.Framing) []byte {
	t.Helper()
	gzipped := bytes.HasPrefix(body, []byte{0x1f, 0x8b})
	content := body
	if gzipped {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if content, err = io.ReadAll(zr); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
	}
	long := strings.Repeat("x", maxLineBytes+4096)
	var out []byte
	switch framing {
	case format.Lines:
		out = append(out, content...)
		if len(out) > 0 && out[len(out)-1] != '\n' {
			out = append(out, '\n')
		}
		out = append(out, long+"\n"...)
	case format.RecordsArray:
		i := bytes.Index(content, []byte(`"Records"`))
		j := bytes.IndexByte(content[max(i, 0):], '[')
		if i < 0 || j < 0 {
			t.Fatalf("%s: no Records array in %.200s", key, content)
		}
		at := i + j + 1
		rec := `{"pad":"` + long + `"}`
		if rest := bytes.TrimLeft(content[at:], " \t\r\n"); len(rest) == 0 || rest[0] != ']' {
			rec += ","
		}
		out = append(append(append(out, content[:at]...), rec...), content[at:]...)
	default:
		t.Fatalf("%s: framing %d", key, framing)
	}
	if gzipped {
		return gz(t, string(out))
	}
	return out
}

// checkFormatDashboard runs every query of a log type's dashboard against
// the indices the worker wrote (index: datasource variable → index
// pattern) and checks every field it reads against their mappings.
func checkFormatDashboard(t *testing.T, ctx context.Context, es *search.Client, fd formatDashboard, index map[string]string) {
	t.Helper()
	used := map[string]map[string][]fieldUse{} // datasource variable → field → uses
	for _, p := range allPanels(fd.D.Panels) {
		for v, uses := range panelUses(p) {
			if _, ok := index[v]; !ok {
				t.Errorf("panel %q: datasource variable %q", p.Title, v)
				continue
			}
			if used[v] == nil {
				used[v] = map[string][]fieldUse{}
			}
			for _, u := range uses {
				used[v][u.Field] = append(used[v][u.Field], u)
			}
		}
		for _, tg := range p.Targets {
			if idx, ok := index[dsVar(tg.Datasource)]; ok {
				checkSearch(t, ctx, es, idx, p, tg)
			}
		}
	}
	for v, fields := range used {
		names := map[string]bool{}
		for f := range fields {
			names[f] = true
		}
		types := fieldTypes(t, ctx, es, index[v], names)
		for f, uses := range fields {
			typ, ok := types[f]
			if !ok {
				// A path inside a free-form field can be searched and
				// shown, not aggregated.
				searchedOnly := !slices.ContainsFunc(uses, func(u fieldUse) bool { return u.Agg != "query" && u.Agg != "column" })
				inFreeForm := freeForm(f, func(p string) (string, bool) {
					typ, ok := fieldTypes(t, ctx, es, index[v], map[string]bool{p: true})[p]
					return typ, ok
				})
				if !searchedOnly || !inFreeForm {
					t.Errorf("%s: field %s used by the dashboard is not in the mapping of %s", v, f, index[v])
				}
				continue
			}
			for _, u := range uses {
				if want := u.wantTypes(); want != nil && !slices.Contains(want, typ) {
					t.Errorf("%s: %s on field %s, which is %s in %s: want one of %v", v, u.Agg, f, typ, index[v], want)
				}
			}
		}
	}
}

// fieldTypes returns the mapping type of each field in the indices matching
// index; a field whose type differs between them is an error.
func fieldTypes(t *testing.T, ctx context.Context, es *search.Client, index string, fields map[string]bool) map[string]string {
	t.Helper()
	var names []string
	for f := range fields {
		names = append(names, f)
	}
	sort.Strings(names)
	var res map[string]struct {
		Mappings map[string]struct {
			Mapping map[string]struct {
				Type string `json:"type"`
			} `json:"mapping"`
		} `json:"mappings"`
	}
	if err := es.Do(ctx, http.MethodGet, "/"+index+"/_mapping/field/"+url.PathEscape(strings.Join(names, ",")), nil, &res); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	where := map[string]string{}
	for idx, im := range res {
		for f, m := range im.Mappings {
			for _, v := range m.Mapping {
				if prev, ok := out[f]; ok && prev != v.Type {
					t.Errorf("field %s is %s in %s and %s in %s", f, prev, where[f], v.Type, idx)
				}
				out[f], where[f] = v.Type, idx
			}
		}
	}
	return out
}

// checkSearch runs a target as the OpenSearch plugin would (same query,
// bucket aggregations nested in order with the metrics in the innermost,
// terms ordered as set; or raw documents) and requires data: documents in
// the buckets, a value for every metric, and for a table of documents a
// value in every column it keeps. A filters aggregation must split the
// documents of the query exactly once.
func checkSearch(t *testing.T, ctx context.Context, es *search.Client, index string, p panel, tg target) {
	t.Helper()
	where := fmt.Sprintf("panel %q target %s", p.Title, tg.RefID)
	q := tg.Query
	if q == "" {
		q = "*"
	}
	body := map[string]any{
		"size": 0, "track_total_hits": true,
		"query": map[string]any{"query_string": map[string]any{"query": q, "analyze_wildcard": true}},
	}
	raw := slices.ContainsFunc(tg.Metrics, func(m osMetric) bool { return slices.Contains(rawTypes, m.Type) })
	var metrics []osMetric
	for _, m := range tg.Metrics {
		if !raw && m.Type != "count" {
			metrics = append(metrics, m)
		}
	}
	if raw {
		body["size"] = 100
		body["sort"] = []any{map[string]any{tg.TimeField: "desc"}}
	} else {
		aggs := map[string]any{}
		for _, m := range metrics {
			aggs[m.ID] = metricAggBody(m)
		}
		for i := len(tg.BucketAggs) - 1; i >= 0; i-- {
			b := tg.BucketAggs[i]
			a := bucketAggBody(b)
			sub := maps.Clone(aggs)
			// The plugin adds the metric a terms aggregation is ordered by
			// inside it.
			if by, _ := b.Settings["orderBy"].(string); b.Type == "terms" {
				for _, m := range metrics {
					if m.ID == by {
						sub[m.ID] = metricAggBody(m)
					}
				}
			}
			if len(sub) > 0 {
				a["aggs"] = sub
			}
			aggs = map[string]any{b.ID: a}
		}
		body["aggs"] = aggs
	}
	var res struct {
		Hits struct {
			Total struct{ Value int } `json:"total"`
			Hits  []struct {
				Source map[string]any `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
		Aggregations json.RawMessage `json:"aggregations"`
	}
	if err := es.Do(ctx, http.MethodPost, "/"+index+"/_search", body, &res); err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	if raw {
		if len(res.Hits.Hits) == 0 {
			t.Errorf("%s (%s): no document", where, q)
			return
		}
		shown := map[string]bool{}
		for _, h := range res.Hits.Hits {
			flatten("", h.Source, shown)
		}
		for _, col := range panelFields(p) {
			if !shown[col] {
				t.Errorf("%s (%s): column %s is empty in all %d documents", where, q, col, len(res.Hits.Hits))
			}
		}
		return
	}
	if len(tg.BucketAggs) == 0 {
		return
	}
	var top map[string]struct {
		Buckets json.RawMessage `json:"buckets"`
	}
	var tree any
	if err := json.Unmarshal(res.Aggregations, &top); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	_ = json.Unmarshal(res.Aggregations, &tree)
	outer := tg.BucketAggs[0]
	b := top[outer.ID].Buckets
	total := 0
	if outer.Type == "filters" {
		var byLabel map[string]struct {
			DocCount int `json:"doc_count"`
		}
		_ = json.Unmarshal(b, &byLabel)
		for _, v := range byLabel {
			total += v.DocCount
		}
		if total != res.Hits.Total.Value {
			t.Errorf("%s: filters %v count %d documents of %d: bands overlap or leave gaps", where, byLabel, total, res.Hits.Total.Value)
		}
	} else {
		var list []struct {
			DocCount int `json:"doc_count"`
		}
		_ = json.Unmarshal(b, &list)
		for _, v := range list {
			total += v.DocCount
		}
	}
	if total == 0 {
		t.Errorf("%s (%s): %s aggregation on %q found nothing", where, q, outer.Type, outer.Field)
		return
	}
	for _, m := range metrics {
		if !hasMetricValue(tree, m.ID) {
			t.Errorf("%s (%s): %s of %s has no value in any bucket", where, q, m.Type, m.Field)
		}
	}
}

// flatten adds the dotted path of every leaf value of v under prefix to out,
// the way the plugin turns a document into table columns.
func flatten(prefix string, v any, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, vv := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, vv, out)
		}
	case []any:
		for _, vv := range x {
			flatten(prefix, vv, out)
		}
	case nil:
	default:
		out[prefix] = true
	}
}

// hasMetricValue reports whether a bucket somewhere in an aggregation
// response holds a value for metric id: {"value": x} or, for percentiles,
// {"values": {"95.0": x}}.
func hasMetricValue(node any, id string) bool {
	switch x := node.(type) {
	case map[string]any:
		if m, ok := x[id].(map[string]any); ok {
			if m["value"] != nil {
				return true
			}
			if vs, ok := m["values"].(map[string]any); ok {
				for _, v := range vs {
					if v != nil {
						return true
					}
				}
			}
		}
		for _, v := range x {
			if hasMetricValue(v, id) {
				return true
			}
		}
	case []any:
		for _, v := range x {
			if hasMetricValue(v, id) {
				return true
			}
		}
	}
	return false
}

// metricAggBody is a metric aggregation as the plugin sends it: the field
// and the metric's settings as they are stored.
func metricAggBody(m osMetric) map[string]any {
	a := map[string]any{"field": m.Field}
	for k, v := range m.Settings {
		a[k] = v
	}
	return map[string]any{m.Type: a}
}

func bucketAggBody(b bucketAgg) map[string]any {
	setting := func(k string, def int) int {
		if s, ok := b.Settings[k].(string); ok {
			if n, err := strconv.Atoi(s); err == nil {
				return n
			}
		}
		return def
	}
	switch b.Type {
	case "terms":
		order := map[string]any{"_count": "desc"}
		if by, _ := b.Settings["orderBy"].(string); by != "" {
			dir, _ := b.Settings["order"].(string)
			if dir == "" {
				dir = "desc"
			}
			if by == "_term" {
				by = "_key"
			}
			order = map[string]any{by: dir}
		}
		return map[string]any{"terms": map[string]any{"field": b.Field, "size": setting("size", 10), "min_doc_count": setting("min_doc_count", 1),
			"order": order}}
	case "filters":
		fs := map[string]any{}
		for label, q := range filterQueries(b) {
			fs[label] = map[string]any{"query_string": map[string]any{"query": q, "analyze_wildcard": true}}
		}
		return map[string]any{"filters": map[string]any{"filters": fs}}
	case "geohash_grid":
		return map[string]any{"geohash_grid": map[string]any{"field": b.Field, "precision": setting("precision", 3)}}
	case "date_histogram":
		return map[string]any{"date_histogram": map[string]any{"field": b.Field, "fixed_interval": "1d", "min_doc_count": setting("min_doc_count", 0)}}
	}
	return map[string]any{"unsupported_" + b.Type: map[string]any{}}
}

// checkSavedObjects checks the saved objects `worker setup` imports into
// OpenSearch Dashboards, for the test's index names, against the indices
// the worker wrote: every index pattern matches indices whose time field is
// a date, and every visualization's fields have the type its aggregation
// needs and give buckets.
func checkSavedObjects(t *testing.T, ctx context.Context, es *search.Client, name, deadLetterIndex string) {
	fs, err := formats.New(func(f string) format.Options { return format.Options{IndexPrefix: name + "-" + f} })
	if err != nil {
		t.Fatal(err)
	}
	objs := savedobjects.For(fs, deadLetterIndex)
	titles := map[string]string{} // index pattern id → title
	for _, o := range objs {
		if o.Type != "index-pattern" {
			continue
		}
		title := o.Attributes["title"].(string)
		titles[o.ID] = title
		if typ := fieldTypes(t, ctx, es, title, map[string]bool{"@timestamp": true})["@timestamp"]; typ != "date" {
			t.Errorf("index pattern %s (%s): time field @timestamp is %q", o.ID, title, typ)
		}
	}
	visualizations := 0
	for _, o := range objs {
		if o.Type != "visualization" {
			continue
		}
		visualizations++
		index := titles[o.References[0].ID]
		var vs struct {
			Aggs []struct {
				Type   string
				Params map[string]any
			}
		}
		if err := json.Unmarshal([]byte(o.Attributes["visState"].(string)), &vs); err != nil {
			t.Fatal(err)
		}
		for _, a := range vs.Aggs {
			field, _ := a.Params["field"].(string)
			if field == "" {
				continue
			}
			typ := fieldTypes(t, ctx, es, index, map[string]bool{field: true})[field]
			want := []string{"keyword", "ip", "long", "integer", "short", "float", "double", "boolean"}
			agg := map[string]any{"terms": map[string]any{"field": field, "size": 5}}
			if a.Type == "date_histogram" {
				want = []string{"date"}
				agg = map[string]any{"date_histogram": map[string]any{"field": field, "calendar_interval": "day"}}
			}
			if !slices.Contains(want, typ) {
				t.Errorf("%s: %s on %s, which is %q in %s: want one of %v", o.ID, a.Type, field, typ, index, want)
				continue
			}
			var res struct {
				Aggregations struct {
					A struct {
						Buckets []any `json:"buckets"`
					} `json:"a"`
				} `json:"aggregations"`
			}
			if err := es.Do(ctx, http.MethodPost, "/"+index+"/_search", map[string]any{"size": 0, "aggs": map[string]any{"a": agg}}, &res); err != nil {
				t.Fatal(err)
			}
			if len(res.Aggregations.A.Buckets) == 0 {
				t.Errorf("%s: %s on %s gives no bucket in %s", o.ID, a.Type, field, index)
			}
		}
	}
	if visualizations < 12 {
		t.Errorf("%d visualizations", visualizations)
	}
}
