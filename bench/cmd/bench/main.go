// Command bench measures the worker against floors taken in the same run:
// the CPU cost of decompressing and parsing the findings once (decode floor)
// and the rate of a plain receive/get/delete loop against the same S3/SQS
// servers (I/O floor). The worker rows run the real bin/worker from local
// S3/SQS servers into a discarding bulk endpoint, into the local OpenSearch
// node, and into a bulk endpoint that throttles for a while. Corpora are
// seeded, so every run measures the same bytes.
//
// See docs/benchmarks.md; `make bench` builds the worker, starts the local
// services and runs this.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/logtide/logtide/worker/format/guardduty"
	"github.com/logtide/logtide/worker/formats"
)

type config struct {
	root      string
	workerBin string
	seed      uint64

	typicalObjects, typicalFindings int
	tinyObjects                     int
	hugeFindings                    int
	hugeCompanions                  int
	throttleObjects                 int
	motoObjects                     int
	ioObjects                       int

	motoURL, osURL string
	concurrency    int
	tinyConc       int
	repeat         int
	levels         []int
	pprof          bool

	throttleAt     float64
	throttleWindow time.Duration
	throttleItems  int
	throttleReqs   int

	// formatObjects, formatRecords and formatMB shape each other format's typical
	// corpus; cloudTrailHugeGiB sizes the large CloudTrail object.
	formatObjects, formatRecords int
	formatMB                     float64
	cloudTrailHugeGiB            float64

	out    string
	record string
	rows   map[string]bool
	// profileFormats names the formats whose row gets a separate profiled
	// worker run (its profile in the report, not its figures).
	profileFormats map[string]bool
	// formats limits the formats rows to these log types (nil: all).
	formats    map[string]bool
	workerArgs []string
	workerEnv  []string
}

// formatList reads option opt, a comma-separated list of the formats rows'
// log types; nil when it names none.
func formatList(opt, list string) map[string]bool {
	var m map[string]bool
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if _, ok := formats.Find(f); !ok || f == guardduty.Name {
			fatalf("%s: %q is not one of the formats rows' log types", opt, f)
		}
		if m == nil {
			m = map[string]bool{}
		}
		m[f] = true
	}
	return m
}

func main() {
	var c config
	var levels string
	var seed uint64
	flag.StringVar(&c.root, "root", "", "repository root (default: the folder holding go.mod, found upwards from the working directory)")
	flag.StringVar(&c.workerBin, "worker", "bin/worker", "worker binary, relative to the root unless absolute")
	flag.Uint64Var(&seed, "seed", 1, "corpus seed; each corpus derives its own from it")
	flag.IntVar(&c.typicalObjects, "typical-objects", 120, "objects of the typical corpus")
	flag.IntVar(&c.typicalFindings, "typical-findings", 500, "new findings per typical object (plus about 20 % re-exports)")
	flag.IntVar(&c.tinyObjects, "tiny-objects", 10000, "objects of one finding each")
	flag.IntVar(&c.hugeFindings, "huge-findings", 405000, "findings of the huge object (≈2.7 KB each; 0 skips the huge row)")
	flag.IntVar(&c.hugeCompanions, "huge-companions", 15, "typical objects queued with the huge one, so that many more are in flight")
	flag.IntVar(&c.throttleObjects, "throttle-objects", 300, "typical-size objects of the throttled run")
	flag.IntVar(&c.motoObjects, "moto-objects", 100, "objects each level of the moto I/O floor moves (moto is slow; 0 skips moto)")
	flag.IntVar(&c.ioObjects, "io-objects", 500, "objects each level of the ElasticMQ + gofakes3 I/O floor moves at least (corpora are queued several times over)")
	flag.StringVar(&c.motoURL, "moto-url", envOr("MOTO_URL", "http://127.0.0.1:5000"), "moto endpoint (reference I/O floor)")
	flag.StringVar(&c.osURL, "opensearch-url", envOr("OPENSEARCH_URL", "http://127.0.0.1:9200"), "OpenSearch endpoint (empty skips the OpenSearch row)")
	flag.IntVar(&c.concurrency, "concurrency", 16, "the worker's --concurrency in every worker row but the tiny one")
	flag.IntVar(&c.tinyConc, "tiny-concurrency", 64, "the worker's --concurrency for the tiny objects: each message waits for its object's bulk request, so many small objects need many in flight")
	flag.IntVar(&c.repeat, "repeat", 3, "runs of each discard-sink row (typical, tiny, each format's); the median is reported")
	flag.StringVar(&levels, "io-concurrency", "1,4,16", "concurrency levels of the I/O floor; the best is reported")
	flag.BoolVar(&c.pprof, "pprof", true, "take CPU profiles of the worker (needs its --pprof-addr)")
	flag.Float64Var(&c.throttleAt, "throttle-at", 0.2, "share of the throttled run's findings written before the sink starts answering 429")
	flag.DurationVar(&c.throttleWindow, "throttle-window", 6*time.Second, "how long the sink throttles")
	flag.IntVar(&c.throttleItems, "throttle-items", 2, "while throttling, answer 429 for one item in this many (0: none)")
	flag.IntVar(&c.throttleReqs, "throttle-requests", 4, "while throttling, answer 429 for one whole bulk request in this many (0: none)")
	flag.IntVar(&c.formatObjects, "format-objects", 40, "objects of each other log type's typical corpus (formats row)")
	flag.IntVar(&c.formatRecords, "format-records", 0, "records per object of each other log type's typical corpus (0: as many as -format-mb gives)")
	flag.Float64Var(&c.formatMB, "format-mb", 150, "uncompressed size of each other log type's typical corpus, in MB, unless -format-records is set")
	flag.Float64Var(&c.cloudTrailHugeGiB, "cloudtrail-huge-gib", 1.05, "uncompressed size of the large CloudTrail object, in GiB (0 skips it)")
	onlyFormats := flag.String("formats", "", "log types the formats rows run, comma-separated (e.g. vpcflow,s3access; empty: all)")
	profFormats := flag.String("profile-formats", "", "formats whose worker row is run once more under the CPU profiler, comma-separated (e.g. vpcflow,elb); with -pprof")
	rows := flag.String("rows", "moto,typical,tiny,huge,opensearch,throttle,formats", "rows to run besides the decode floors and the ElasticMQ + gofakes3 I/O floor")
	workerArgs := flag.String("worker-args", "", "extra options for every worker run, space-separated (e.g. \"--bulk-flush-interval=5ms\"); they are printed with the results")
	workerEnv := flag.String("worker-env", "", "extra environment for every worker run, space-separated NAME=value (e.g. \"GODEBUG=gctrace=1\"); printed with the results")
	flag.StringVar(&c.out, "out", ".cache/bench/report.md", "where the report is written too, relative to the root unless absolute")
	flag.StringVar(&c.record, "record", "", "also replace the results section of this Markdown file (e.g. docs/benchmarks.md)")
	flag.Parse()
	c.seed = seed
	c.profileFormats = formatList("-profile-formats", *profFormats)
	c.formats = formatList("-formats", *onlyFormats)
	c.rows = map[string]bool{}
	for _, r := range strings.Split(*rows, ",") {
		switch r = strings.TrimSpace(r); r {
		case "moto", "typical", "tiny", "huge", "opensearch", "throttle", "formats":
			c.rows[r] = true
		case "":
		default:
			fatalf("-rows: unknown row %q", r)
		}
	}
	c.workerArgs = strings.Fields(*workerArgs)
	c.workerEnv = strings.Fields(*workerEnv)
	for _, kv := range c.workerEnv {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			fatalf("-worker-env: %q is not NAME=value", kv)
		}
	}
	for _, f := range strings.Split(levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 64 {
			fatalf("-io-concurrency: %q is not a level in 1..64", f)
		}
		c.levels = append(c.levels, n)
	}
	if c.typicalObjects < 1 || c.typicalFindings < 1 || c.tinyObjects < 1 || c.throttleObjects < 1 || c.concurrency < 1 || c.tinyConc < 1 || c.repeat < 1 ||
		c.formatObjects < 1 || c.formatRecords < 0 || c.formatMB <= 0 || c.cloudTrailHugeGiB < 0 {
		fatalf("corpus sizes and -concurrency must be positive")
	}
	if c.root == "" {
		r, err := findRoot()
		if err != nil {
			fatalf("%v", err)
		}
		c.root = r
	}
	c.workerBin = abs(c.root, c.workerBin)
	c.out = abs(c.root, c.out)
	if c.record != "" {
		c.record = abs(c.root, c.record)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A hard bound on the whole run, well above its expected 10–15 minutes.
	ctx, cancel := context.WithTimeout(ctx, 40*time.Minute)
	defer cancel()

	b := newBench(c)
	err := b.run(ctx)
	b.close()
	if err != nil {
		fatalf("%v", err)
	}
}

func envOr(k, def string) string {
	if v, ok := os.LookupEnv(k); ok {
		return v
	}
	return def
}

func abs(root, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(root, p)
}

func findRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for range 20 {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		p := filepath.Dir(d)
		if p == d {
			break
		}
		d = p
	}
	return "", errors.New("no go.mod above the working directory; pass -root")
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
	os.Exit(1)
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench: %s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
}
