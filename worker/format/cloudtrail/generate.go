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
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/jsonw"
)

// CorpusOptions fix a corpus; UpdatePercent and OutOfOrder do not apply
// (CloudTrail's records are never updated).
type CorpusOptions = format.GenerateOptions

// Corpus is a planned set of log files. It is safe for concurrent use.
type Corpus struct {
	format.CorpusPlan
	opts   format.GenerateOptions
	seed   uint64
	org    string // the organization id, for several accounts
	events int
}

const (
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

// NewCorpus plans a corpus. It validates o and fills in defaults
// (format.GenerateOptions.WithDefaults); nothing is rendered until
// WriteObject is called. Each account and region gets a log file every
// five minutes from o.Start, holding the events of the five minutes
// before; with more than one account, the files are an organization
// trail's (AWSLogs/<org-id>/<account>/CloudTrail/...). An Insights file
// holds at most 4 records.
func NewCorpus(o CorpusOptions) (*Corpus, error) {
	o, err := o.WithDefaults()
	if err != nil {
		return nil, fmt.Errorf("cloudtrail corpus: %w", err)
	}
	o.Start = o.Start.Truncate(time.Second)

	c := &Corpus{opts: o, seed: format.Mix64(o.Seed ^ 0x636c6f7564747261)} // "cloudtra"
	if len(o.Accounts) > 1 {
		c.org = "o-" + randomString(c.seed^0x6f7267, 0, 10, lowerAlnum)
	}
	objects := make([]format.CorpusObject, o.Objects)
	for i := range objects {
		objects[i] = format.CorpusObject{Key: c.key(i), Records: c.recordsIn(i), ContentType: contentType}
		for r := range objects[i].Records {
			if _, _, again := c.redelivered(i, r); !again {
				c.events++
			}
		}
	}
	c.CorpusPlan = format.NewCorpusPlan("cloudtrail", objects)
	return c, nil
}

// Events is the number of distinct events (eventIDs) in all files: the
// documents an index holds once every file is read.
func (c *Corpus) Events() int { return c.events }

// WriteObject streams log file i, gzip-compressed, to w, record by record:
// memory does not grow with the file's size.
func (c *Corpus) WriteObject(w io.Writer, i int) error {
	return c.Write(w, i, fastGzip, func(w io.Writer) error {
		g := newGen(c)
		g.b = append(g.b, `{"Records":[`...)
		for r := range c.recordsIn(i) {
			if r > 0 {
				g.b = append(g.b, ',')
			}
			g.record(i, r)
			if len(g.b) >= 32<<10 {
				if _, err := w.Write(g.b); err != nil {
					return err
				}
				g.b = g.b[:0]
			}
		}
		_, err := w.Write(append(g.b, "]}"...))
		return err
	})
}

// fastGzip compresses with klauspost/compress, at its fastest level: much
// faster than the standard library, for the file of more than 1 GiB a
// benchmark generates.
func fastGzip(w io.Writer) (io.WriteCloser, error) {
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	return zw, nil
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
	h := format.Mix64(c.seed ^ uint64(i)<<32 ^ uint64(r) ^ 0x7265646c)
	if h%1000 >= redeliveryPerMille {
		return i, r, false
	}
	src := int(h >> 32 % uint64(c.recordsIn(j)))
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

const (
	alnum      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	hexDigits  = "0123456789abcdef"
)

// randomString is n characters of set drawn from (seed, k).
func randomString(seed, k uint64, n int, set string) string {
	b := make([]byte, n)
	h := format.Mix64(seed ^ format.Mix64(k))
	for i := range b {
		if i%8 == 7 {
			h = format.Mix64(h)
		}
		b[i] = set[h%uint64(len(set))]
		h /= uint64(len(set))
	}
	return string(b)
}
