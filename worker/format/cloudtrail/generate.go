package cloudtrail

// This file and generate_events.go generate realistic, deterministic
// CloudTrail log files: the gzip-compressed {"Records":[...]} documents a
// trail delivers about every five minutes per account and region, under
// AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/.
//
// A Corpus is a plan fixed by its CorpusOptions. Each record is rendered on
// demand from its own seed (object and position), so an object of any size
// streams through a gzip writer record by record, and the same options
// always give byte-identical objects and keys. The records are management
// events of several services under every kind of identity (IAM users,
// assumed roles, AWS services, the root user, AWS-internal service events
// without an identity type), console sign-ins, failed calls, data events,
// calls made by a service on a user's behalf (sourceIPAddress is then the
// service's name), a requestParameters member whose type differs between
// services, and events delivered twice (a record of a file repeated in the
// next file of its trail). Every tenth object is an Insights file.

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/jsonw"
)

// CorpusOptions fixes a corpus. The zero value of each field selects its
// default.
type CorpusOptions struct {
	// Seed selects the corpus; every other choice derives from it.
	Seed uint64
	// Objects is the number of log files (default 10).
	Objects int
	// RecordsPerObject is the number of records in each log file (default
	// 50); an Insights file holds at most 4.
	RecordsPerObject int
	// Accounts are the accounts whose trails deliver the files (default
	// ["123456789012"]). With more than one, the files are an
	// organization trail's: AWSLogs/<org-id>/<account>/CloudTrail/....
	Accounts []string
	// Regions are the regions of the files (default ["us-east-1"]).
	Regions []string
	// Prefix is prepended to every key; a '/' is added if it lacks one.
	Prefix string
	// Start is the delivery time of the first file (default
	// 2026-01-05T00:00:00Z); each account and region gets a file every five
	// minutes, holding the events of the five minutes before.
	Start time.Time
}

// Corpus is a planned set of log files. It is safe for concurrent use.
type Corpus struct {
	opts    CorpusOptions
	seed    uint64
	org     string // the organization id, for several accounts
	objects []format.CorpusObject
	records int
	events  int
}

const (
	defaultObjects = 10
	defaultRecords = 50
	// contentType is what CloudTrail sets on its log files.
	contentType = "application/json"
	// slot is the time between two files of a trail in one region.
	slot = 5 * time.Minute
	// insightEvery: object i is an Insights file when i%insightEvery is
	// insightEvery-1.
	insightEvery = 10
	// maxInsights is the number of records of an Insights file.
	maxInsights = 4
	// redeliveryPerMille of the records of a file (after the first of
	// its trail) repeat a record of the trail's previous file.
	redeliveryPerMille = 20
)

var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// NewCorpus plans a corpus. It validates opts and fills in defaults;
// nothing is rendered until WriteObject is called.
func NewCorpus(opts CorpusOptions) (*Corpus, error) {
	if opts.Objects < 0 || opts.RecordsPerObject < 0 {
		return nil, errors.New("cloudtrail corpus: Objects and RecordsPerObject must not be negative")
	}
	if opts.Objects == 0 {
		opts.Objects = defaultObjects
	}
	if opts.RecordsPerObject == 0 {
		opts.RecordsPerObject = defaultRecords
	}
	if len(opts.Accounts) == 0 {
		opts.Accounts = []string{"123456789012"}
	}
	for _, a := range opts.Accounts {
		if !accountRE.MatchString(a) {
			return nil, fmt.Errorf("cloudtrail corpus: account %q is not 12 digits", a)
		}
	}
	if len(opts.Regions) == 0 {
		opts.Regions = []string{"us-east-1"}
	}
	for _, r := range opts.Regions {
		if !regionRE.MatchString(r) {
			return nil, fmt.Errorf("cloudtrail corpus: %q is not a region name", r)
		}
	}
	opts.Accounts = append([]string(nil), opts.Accounts...)
	opts.Regions = append([]string(nil), opts.Regions...)
	if opts.Prefix != "" && !strings.HasSuffix(opts.Prefix, "/") {
		opts.Prefix += "/"
	}
	if opts.Start.IsZero() {
		opts.Start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	}
	opts.Start = opts.Start.UTC().Truncate(time.Second)

	c := &Corpus{opts: opts, seed: mix64(opts.Seed ^ 0x636c6f7564747261), objects: make([]format.CorpusObject, opts.Objects)} // "cloudtra"
	if len(opts.Accounts) > 1 {
		c.org = "o-" + randomString(c.seed^0x6f7267, 0, 10, lowerAlnum)
	}
	for i := range c.objects {
		o := &c.objects[i]
		o.Records, o.ContentType = c.recordsIn(i), contentType
		o.Key = c.key(i)
		c.records += o.Records
		for r := range o.Records {
			if _, _, again := c.redelivered(i, r); !again {
				c.events++
			}
		}
	}
	return c, nil
}

// Objects lists the log files in delivery order.
func (c *Corpus) Objects() []format.CorpusObject {
	return append([]format.CorpusObject(nil), c.objects...)
}

// Records is the number of records in all files.
func (c *Corpus) Records() int { return c.records }

// Events is the number of distinct events (eventIDs) in all files: the
// documents an index holds once every file is read.
func (c *Corpus) Events() int { return c.events }

// WriteObject streams log file i, gzip-compressed, to w, record by record:
// memory does not grow with the file's size.
func (c *Corpus) WriteObject(w io.Writer, i int) error {
	if i < 0 || i >= len(c.objects) {
		return fmt.Errorf("cloudtrail corpus: object %d out of range [0,%d)", i, len(c.objects))
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return fmt.Errorf("cloudtrail corpus: %w", err)
	}
	g := newGen(c)
	g.b = append(g.b, `{"Records":[`...)
	for r := range c.objects[i].Records {
		if r > 0 {
			g.b = append(g.b, ',')
		}
		g.record(i, r)
		if len(g.b) >= 32<<10 {
			if _, err := zw.Write(g.b); err != nil {
				return fmt.Errorf("cloudtrail corpus: write object %d: %w", i, err)
			}
			g.b = g.b[:0]
		}
	}
	if _, err := zw.Write(append(g.b, "]}"...)); err != nil {
		return fmt.Errorf("cloudtrail corpus: write object %d: %w", i, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("cloudtrail corpus: write object %d: %w", i, err)
	}
	return nil
}

// isInsight says whether object i is an Insights file.
func (c *Corpus) isInsight(i int) bool { return i%insightEvery == insightEvery-1 }

func (c *Corpus) recordsIn(i int) int {
	if c.isInsight(i) {
		return min(c.opts.RecordsPerObject, maxInsights)
	}
	return c.opts.RecordsPerObject
}

// trails is the number of files delivered every five minutes: one per
// account and region.
func (c *Corpus) trails() int { return len(c.opts.Accounts) * len(c.opts.Regions) }

func (c *Corpus) account(i int) string {
	return c.opts.Accounts[i/len(c.opts.Regions)%len(c.opts.Accounts)]
}

func (c *Corpus) region(i int) string { return c.opts.Regions[i%len(c.opts.Regions)] }

// delivered is when file i is delivered; its events are of the five
// minutes before.
func (c *Corpus) delivered(i int) time.Time {
	return c.opts.Start.Add(time.Duration(i/c.trails()) * slot)
}

// key is the S3 key of file i, in the layout CloudTrail writes.
func (c *Corpus) key(i int) string {
	service := "CloudTrail"
	if c.isInsight(i) {
		service = "CloudTrail-Insight"
	}
	acct, region, t := c.account(i), c.region(i), c.delivered(i)
	org := ""
	if c.org != "" {
		org = c.org + "/"
	}
	return fmt.Sprintf("%sAWSLogs/%s%s/%s/%s/%s/%s_%s_%s_%s_%s.json.gz", c.opts.Prefix, org, acct, service, region,
		t.Format("2006/01/02"), acct, service, region, t.Format("20060102T1504Z"), randomString(c.seed^0x6b6579, uint64(i), 16, alnum))
}

// redelivered says whether record r of file i repeats a record of the
// trail's previous file, and which (resolved to the first delivery).
func (c *Corpus) redelivered(i, r int) (int, int, bool) {
	j := i - c.trails()
	if j < 0 || c.isInsight(i) || c.isInsight(j) {
		return i, r, false
	}
	h := mix64(c.seed ^ uint64(i)<<32 ^ uint64(r) ^ 0x7265646c)
	if h%1000 >= redeliveryPerMille {
		return i, r, false
	}
	src := int(h >> 32 % uint64(c.objects[j].Records))
	if si, sr, again := c.redelivered(j, src); again {
		return si, sr, true
	}
	return j, src, true
}

// gen renders records into b.
type gen struct {
	c   *Corpus
	b   []byte
	pcg rand.PCG
	r   *rand.Rand
	// comma: a value was just completed, the next needs a ','.
	comma bool
	// The record being rendered.
	obj     int
	acct    string
	region  string
	t       time.Time
	eventID string
}

// The members of the object being written. Keys are constants needing no
// escape.

func (g *gen) sep() {
	if g.comma {
		g.b = append(g.b, ',')
	}
}

func (g *gen) key(k string) {
	g.sep()
	g.b = append(g.b, '"')
	g.b = append(g.b, k...)
	g.b = append(g.b, '"', ':')
	g.comma = false
}

func (g *gen) str(k, v string) { g.key(k); g.b = jsonw.String(g.b, v); g.comma = true }

// lit writes v, JSON already.
func (g *gen) lit(k, v string) { g.key(k); g.b = append(g.b, v...); g.comma = true }

func (g *gen) ts(k string, t time.Time) {
	g.key(k)
	g.b = append(g.b, '"')
	g.b = t.UTC().AppendFormat(g.b, "2006-01-02T15:04:05Z")
	g.b = append(g.b, '"')
	g.comma = true
}

func newGen(c *Corpus) *gen {
	g := &gen{c: c, b: make([]byte, 0, 64<<10)}
	g.r = rand.New(&g.pcg)
	return g
}

// mix64 is the splitmix64 finalizer: a bijection on uint64, so distinct
// inputs give distinct outputs.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

const (
	alnum      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	hexDigits  = "0123456789abcdef"
)

// randomString is n characters of set drawn from (seed, k).
func randomString(seed, k uint64, n int, set string) string {
	b := make([]byte, n)
	h := mix64(seed ^ mix64(k))
	for i := range b {
		if i%8 == 7 {
			h = mix64(h)
		}
		b[i] = set[h%uint64(len(set))]
		h /= uint64(len(set))
	}
	return string(b)
}

// appendUUID appends 128 bits as a version 4 UUID.
func appendUUID(b []byte, hi, lo uint64) []byte {
	hi = hi&^0xf000 | 0x4000
	lo = lo&^(0xc<<60) | 0x8<<60
	for i, n := range [...]int{8, 4, 4, 4, 12} {
		if i > 0 {
			b = append(b, '-')
		}
		for range n {
			b = append(b, hexDigits[hi>>60])
			hi = hi<<4 | lo>>60
			lo <<= 4
		}
	}
	return b
}
