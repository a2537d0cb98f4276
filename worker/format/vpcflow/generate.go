package vpcflow

// This file and generate_flow.go generate realistic, deterministic flow log
// files as AWS delivers them to S3: gzip-compressed text, a header line
// naming the fields, then one record per line. Each object is rendered on
// demand from its own seed, so a corpus of any size streams without being
// held in memory, and the same options always give byte-identical objects.
//
// Objects come from six flow logs per account and region, in turn: four in
// the default (version 2) format, one in a custom version 5 format whose
// fields come in another order, one of a transit gateway (version 6
// fields). Some are delivered in the Hive-compatible layout, some with
// hourly folders. Records are mostly accepted TCP, with UDP, ICMP,
// rejected connections, IPv6, and NODATA and SKIPDATA records among them.

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"

	"github.com/logtide/logtide/worker/format"
)

// Corpus is a planned set of flow log objects. It is safe for concurrent
// use.
type Corpus struct {
	opts    format.GenerateOptions
	seed    uint64
	objects []format.CorpusObject
	plans   []plan
}

// plan is what an object's content depends on besides its seed.
type plan struct {
	account, region string
	log             flowLog
	// from is the start of the five minutes the object's records cover.
	from time.Time
}

// flowLog is one of the flow logs objects come from.
type flowLog struct {
	layout         layout
	hive, hourly   bool
	id             string // fl-...
	headerNames    string
	fields         []genField
	transitGateway bool
}

const (
	defaultObjects = 10
	defaultRecords = 50
	// contentType is what the delivery sets on flow log files.
	contentType = "application/x-gzip"
)

var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// slots are the six flow logs of an account and region, in the order
// objects come from them.
var slots = [6]struct {
	layout       layout
	hive, hourly bool
}{
	{layoutDefault, false, false},
	{layoutDefault, false, true},
	{layoutCustom, false, false},
	{layoutDefault, true, false},
	{layoutTransit, true, true},
	{layoutDefault, false, false},
}

// NewCorpus plans a corpus: Objects objects (default 10) of
// RecordsPerObject records each (default 50), for Accounts and Regions
// (default 123456789012 and us-east-1) in turn, the first covering the five
// minutes from Start (default 2026-01-05T00:00:00Z). UpdatePercent and
// OutOfOrder do not apply: flow log records are never updated.
func NewCorpus(o format.GenerateOptions) (*Corpus, error) {
	if o.Objects < 0 || o.RecordsPerObject < 0 {
		return nil, errors.New("vpcflow corpus: Objects and RecordsPerObject must not be negative")
	}
	if o.Objects == 0 {
		o.Objects = defaultObjects
	}
	if o.RecordsPerObject == 0 {
		o.RecordsPerObject = defaultRecords
	}
	if len(o.Accounts) == 0 {
		o.Accounts = []string{"123456789012"}
	}
	for _, a := range o.Accounts {
		if !accountRE.MatchString(a) {
			return nil, fmt.Errorf("vpcflow corpus: account %q is not 12 digits", a)
		}
	}
	if len(o.Regions) == 0 {
		o.Regions = []string{"us-east-1"}
	}
	for _, r := range o.Regions {
		if !regionRE.MatchString(r) {
			return nil, fmt.Errorf("vpcflow corpus: %q is not a region name", r)
		}
	}
	o.Accounts = append([]string(nil), o.Accounts...)
	o.Regions = append([]string(nil), o.Regions...)
	if o.Prefix != "" && !strings.HasSuffix(o.Prefix, "/") {
		o.Prefix += "/"
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	}
	o.Start = o.Start.UTC().Truncate(time.Second)

	c := &Corpus{
		opts:    o,
		seed:    mix64(o.Seed ^ 0x7670_63666c6f77), // "vpcflow"
		objects: make([]format.CorpusObject, o.Objects),
		plans:   make([]plan, o.Objects),
	}
	na, nr := len(o.Accounts), len(o.Regions)
	for i := range c.objects {
		// Every account and region takes a turn, then the next flow log:
		// each flow log delivers a file every five minutes.
		a, r, s := i%na, (i/na)%nr, (i/(na*nr))%len(slots)
		round := i / (na * nr * len(slots))
		p := plan{account: o.Accounts[a], region: o.Regions[r]}
		p.from = o.Start.Add(time.Duration(round)*5*time.Minute + time.Duration(s)*7*time.Second)
		p.log = c.flowLog(p.account, p.region, s)
		c.plans[i] = p
		c.objects[i] = format.CorpusObject{Key: c.key(i, p), Records: o.RecordsPerObject, ContentType: contentType}
	}
	return c, nil
}

// flowLog is flow log s of an account and region.
func (c *Corpus) flowLog(account, region string, s int) flowLog {
	sl := slots[s]
	h := mix64(c.seed ^ hashString(account+"/"+region) ^ uint64(s)*0x9e3779b97f4a7c15)
	l := flowLog{layout: sl.layout, hive: sl.hive, hourly: sl.hourly, id: fmt.Sprintf("fl-%x%016x", mix64(h)&0xf, h)}
	l.fields = layouts[sl.layout]
	l.headerNames = headerOf(l.fields)
	l.transitGateway = sl.layout == layoutTransit
	return l
}

// key is where object i is delivered: the account, service and region
// folders, the day (and hour) of the file, and a file name naming them
// with the flow log and the time the file was written.
func (c *Corpus) key(i int, p plan) string {
	written := p.from.Add(5 * time.Minute)
	hash := uint32(mix64(c.seed ^ uint64(i)*0xd1b54a32d192ed03))
	file := fmt.Sprintf("%s_vpcflowlogs_%s_%s_%s_%08x.log.gz", p.account, p.region, p.log.id, written.Format("20060102T1504Z"), hash)
	var b strings.Builder
	b.WriteString(c.opts.Prefix)
	if p.log.hive {
		fmt.Fprintf(&b, "AWSLogs/aws-account-id=%s/aws-service=vpcflowlogs/aws-region=%s/%s/", p.account, p.region, written.Format("year=2006/month=01/day=02"))
		if p.log.hourly {
			b.WriteString(written.Format("hour=15/"))
		}
	} else {
		fmt.Fprintf(&b, "AWSLogs/%s/vpcflowlogs/%s/%s/", p.account, p.region, written.Format("2006/01/02"))
		if p.log.hourly {
			b.WriteString(written.Format("15/"))
		}
	}
	b.WriteString(file)
	return b.String()
}

// Objects lists the objects in the order they were delivered.
func (c *Corpus) Objects() []format.CorpusObject {
	return append([]format.CorpusObject(nil), c.objects...)
}

// Records is the number of records in all objects (header lines aside).
func (c *Corpus) Records() int { return len(c.objects) * c.opts.RecordsPerObject }

// WriteObject streams object i, gzip-compressed, to w. Memory use does not
// grow with the object's size.
func (c *Corpus) WriteObject(w io.Writer, i int) error {
	if i < 0 || i >= len(c.objects) {
		return fmt.Errorf("vpcflow corpus: object %d out of range [0,%d)", i, len(c.objects))
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return fmt.Errorf("vpcflow corpus: %w", err)
	}
	bw := bufio.NewWriterSize(zw, 32<<10)
	p := &c.plans[i]
	g := newGen(c, p, rand.New(rand.NewPCG(c.seed, uint64(i))))
	bw.WriteString(p.log.headerNames)
	for range c.opts.RecordsPerObject {
		bw.WriteByte('\n')
		bw.Write(g.record())
	}
	// Delivered files end with a newline; the reader also takes them
	// without one.
	bw.WriteByte('\n')
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("vpcflow corpus: write object %d: %w", i, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("vpcflow corpus: write object %d: %w", i, err)
	}
	return nil
}

// mix64 is the splitmix64 finalizer: a bijection on uint64.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// hashString is FNV-1a, to derive values from names.
func hashString(s string) uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := range len(s) {
		h ^= uint64(s[i])
		h *= 0x100000001b3
	}
	return h
}
