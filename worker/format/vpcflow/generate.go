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
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/logtide/logtide/worker/format"
)

// Corpus is a planned set of flow log objects. It is safe for concurrent
// use.
type Corpus struct {
	format.CorpusPlan
	opts  format.GenerateOptions
	seed  uint64
	plans []plan
	// objects is the plan's list, which the benchmarks index.
	objects []format.CorpusObject
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

// contentType is what the delivery sets on flow log files.
const contentType = "application/x-gzip"

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
	o, err := o.WithDefaults()
	if err != nil {
		return nil, fmt.Errorf("vpcflow corpus: %w", err)
	}
	o.Start = o.Start.Truncate(time.Second)

	c := &Corpus{
		opts:  o,
		seed:  format.Mix64(o.Seed ^ 0x7670_63666c6f77), // "vpcflow"
		plans: make([]plan, o.Objects),
	}
	objects := make([]format.CorpusObject, o.Objects)
	na, nr := len(o.Accounts), len(o.Regions)
	for i := range objects {
		// Every account and region takes a turn, then the next flow log:
		// each flow log delivers a file every five minutes.
		a, r, s := i%na, (i/na)%nr, (i/(na*nr))%len(slots)
		round := i / (na * nr * len(slots))
		p := plan{account: o.Accounts[a], region: o.Regions[r]}
		p.from = o.Start.Add(time.Duration(round)*5*time.Minute + time.Duration(s)*7*time.Second)
		p.log = c.flowLog(p.account, p.region, s)
		c.plans[i] = p
		objects[i] = format.CorpusObject{Key: c.key(i, p), Records: o.RecordsPerObject, ContentType: contentType}
	}
	c.CorpusPlan, c.objects = format.NewCorpusPlan("vpcflow", objects), objects
	return c, nil
}

// flowLog is flow log s of an account and region.
func (c *Corpus) flowLog(account, region string, s int) flowLog {
	sl := slots[s]
	h := format.Mix64(c.seed ^ hashString(account+"/"+region) ^ uint64(s)*0x9e3779b97f4a7c15)
	l := flowLog{layout: sl.layout, hive: sl.hive, hourly: sl.hourly, id: fmt.Sprintf("fl-%x%016x", format.Mix64(h)&0xf, h)}
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
	hash := uint32(format.Mix64(c.seed ^ uint64(i)*0xd1b54a32d192ed03))
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

// WriteObject streams object i, gzip-compressed, to w: a header line, then
// the records. Memory use does not grow with the object's size.
func (c *Corpus) WriteObject(w io.Writer, i int) error {
	return c.Write(w, i, format.Gzip, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 32<<10)
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
		return bw.Flush()
	})
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
