package guardduty

// This file and the other generate*.go files generate realistic,
// deterministic GuardDuty findings export objects: the gzip-compressed JSON
// Lines files GuardDuty writes to S3 under
// AWSLogs/<account>/GuardDuty/<region>/YYYY/MM/DD/.
//
// A Corpus is a plan fixed by its CorpusOptions. Each object is rendered on demand
// from per-finding seeds, so a corpus of any size can be streamed without
// holding it in memory, and the same Options always give byte-identical
// objects and keys. Findings reports what a consumer should end up with once
// every object has been indexed (the newest version of each finding), which
// is what integration tests assert against.
//
// Generated findings follow the camelCase export shape and include the
// irregularities real exports have: every service.action type, families with
// no action at all (runtime, malware scan, attack sequence), type drift in
// organization.asn, additionalInfo.unusual, launchTime and bucket createdAt,
// timestamps with and without milliseconds, and re-exports of updated
// findings, optionally out of order.

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/logtide/logtide/worker/format"
)

// CorpusOptions fixes a corpus. The zero value of each field selects its default.
type CorpusOptions struct {
	// Seed selects the corpus; every other choice derives from it.
	Seed uint64
	// Objects is the number of export objects (default 10).
	Objects int
	// FindingsPerObject is the number of new findings in each object, before
	// re-exports are added (default 50).
	FindingsPerObject int
	// ReexportPercent is the share of findings exported a second time, in a
	// later object, as an updated version (default 20; negative disables
	// re-exports). A finding whose object has no later object of the same
	// region is not re-exported unless OutOfOrder is set.
	ReexportPercent int
	// OutOfOrder places about a third of the re-exports in an object that
	// comes before the one holding the older copy, as when the older object
	// is delivered late. Such a copy still has the later updatedAt, which
	// is then later than the export time of the object carrying it.
	OutOfOrder bool
	// Accounts are the accounts findings belong to (default
	// ["123456789012"]). Keys use the first one, as a delegated
	// administrator's export destination does for its members' findings.
	Accounts []string
	// Regions are assigned to objects round-robin (default ["us-east-1"]).
	Regions []string
	// Prefix is prepended to every key; a '/' is added if it lacks one.
	Prefix string
	// Start is the export time of the first object (default
	// 2026-01-05T00:00:00Z). Later objects follow 5 minutes to 2 hours apart.
	Start time.Time
}

// LatLon is one remoteIpDetails.geoLocation.
type LatLon struct {
	Lat, Lon float64
}

// Finding is the final state of one finding after every object has been
// indexed: the values of its newest version, the one with the latest
// updatedAt.
type Finding struct {
	// ARN, ID, Account (accountId), Region and Type identify the finding;
	// they are the same in every version.
	ARN, ID, Account, Region, Type string
	// ActionType is service.action.actionType, or "" for findings without
	// an action (runtime, malware scan and attack sequence findings).
	ActionType string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// Severity and Count are severity and service.count of the newest version.
	Severity float64
	Count    int
	// Exports is the number of lines that carry this finding.
	Exports int
	// Geo holds every remoteIpDetails.geoLocation of the newest version, in
	// document order (several for PORT_PROBE, none for DNS_REQUEST).
	Geo []LatLon
}

// Corpus is a planned set of export objects and the state a consumer should
// end up with. It is safe for concurrent use.
type Corpus struct {
	format.CorpusPlan
	opts     format.GenerateOptions
	seed     uint64
	fpo      int
	pct      int
	objTime  []time.Time
	reexport [][]int64 // per object: the findings re-exported into it

	famOrder  [numFamilies]family
	detectors [][]string // by account, region

	findingsOnce sync.Once
	findings     []Finding
}

// contentType is what GuardDuty sets on its export objects.
const contentType = "application/x-ndjson"

const defaultReexport = 20

// NewCorpus plans a corpus. It validates opts and fills in defaults
// (format.GenerateOptions.WithDefaults; ReexportPercent 20); nothing is
// rendered until WriteObject or Findings is called.
func NewCorpus(opts CorpusOptions) (*Corpus, error) {
	if opts.ReexportPercent > 100 {
		return nil, fmt.Errorf("guardduty corpus: ReexportPercent %d is above 100", opts.ReexportPercent)
	}
	o, err := format.GenerateOptions{
		Seed: opts.Seed, Objects: opts.Objects, RecordsPerObject: opts.FindingsPerObject,
		UpdatePercent: opts.ReexportPercent, OutOfOrder: opts.OutOfOrder,
		Accounts: opts.Accounts, Regions: opts.Regions, Prefix: opts.Prefix, Start: opts.Start,
	}.WithDefaults()
	if err != nil {
		return nil, fmt.Errorf("guardduty corpus: %w", err)
	}
	o.Start = o.Start.Truncate(time.Millisecond)
	pct := o.UpdatePercent
	switch {
	case pct == 0:
		pct = defaultReexport
	case pct < 0:
		pct = 0
	}

	c := &Corpus{
		opts:     o,
		seed:     format.Mix64(o.Seed ^ 0x6764657870_6f7274), // "gdexport"
		fpo:      o.RecordsPerObject,
		pct:      pct,
		objTime:  make([]time.Time, o.Objects),
		reexport: make([][]int64, o.Objects),
	}
	objects := c.planObjects()
	fr := rand.New(rand.NewPCG(c.seed, 0x66616d))
	for i, j := range fr.Perm(int(numFamilies)) {
		c.famOrder[i] = family(j)
	}
	c.detectors = make([][]string, len(o.Accounts))
	for a := range o.Accounts {
		c.detectors[a] = make([]string, len(o.Regions))
		for r := range o.Regions {
			k := uint64(a)<<32 | uint64(r)
			c.detectors[a][r] = hexOf(c.seed^0x646574, k, 16) + hexOf(c.seed^0x646575, k, 16)
		}
	}
	total := int64(o.Objects) * int64(c.fpo)
	for idx := int64(0); idx < total; idx++ {
		if k, ok := c.reexportTarget(idx); ok {
			c.reexport[k] = append(c.reexport[k], idx)
		}
	}
	for i := range objects {
		objects[i].Records = c.fpo + len(c.reexport[i])
		objects[i].ContentType = contentType
	}
	c.CorpusPlan = format.NewCorpusPlan("guardduty", objects)
	return c, nil
}

// planObjects fixes each object's export time and key.
func (c *Corpus) planObjects() []format.CorpusObject {
	objects := make([]format.CorpusObject, c.opts.Objects)
	r := rand.New(rand.NewPCG(c.seed, 0x6f626a65637473))
	t := c.opts.Start
	for i := range objects {
		if i > 0 {
			t = t.Add(5*time.Minute + time.Duration(r.Int64N(int64(115*time.Minute/time.Millisecond)))*time.Millisecond)
		}
		c.objTime[i] = t
		hi, lo := format.Mix64(c.seed+uint64(i)*0x9e3779b97f4a7c15), format.Mix64(^c.seed^uint64(i)*0xd1b54a32d192ed03)
		objects[i].Key = fmt.Sprintf("%sAWSLogs/%s/GuardDuty/%s/%s/%s.jsonl.gz",
			c.opts.Prefix, c.opts.Accounts[0], c.regionOf(i), t.Format("2006/01/02"), uuid4(hi, lo))
	}
	return objects
}

func (c *Corpus) regionOf(obj int) string { return c.opts.Regions[obj%len(c.opts.Regions)] }

// reexportTarget says whether finding idx is exported a second time and into
// which object. It is a pure function of the seed so that rendering an
// object never needs the rest of the plan.
func (c *Corpus) reexportTarget(idx int64) (int, bool) {
	if c.pct <= 0 {
		return 0, false
	}
	h := format.Mix64(c.seed ^ uint64(idx)*0xd1b54a32d192ed03)
	if int(h%100) >= c.pct {
		return 0, false
	}
	h = format.Mix64(h)
	obj := int(idx / int64(c.fpo))
	nr := len(c.opts.Regions)
	ahead := (c.opts.Objects - 1 - obj) / nr // later objects of the same region
	back := obj / nr
	const maxStep = 3
	if c.opts.OutOfOrder && back > 0 && (h%3 == 0 || ahead == 0) {
		return obj - nr*(1+int((h>>8)%uint64(min(back, maxStep)))), true
	}
	if ahead == 0 {
		return 0, false
	}
	return obj + nr*(1+int((h>>8)%uint64(min(ahead, maxStep)))), true
}

// WriteObject streams object i, gzip-compressed JSON Lines, to w. Memory use
// does not grow with the object's size.
func (c *Corpus) WriteObject(w io.Writer, i int) error {
	return c.Write(w, i, format.Gzip, func(w io.Writer) error {
		g := newGen(c)
		// The order of new findings and re-exports within an object is a
		// uniform interleaving drawn from the object's own seed.
		order := rand.New(rand.NewPCG(c.seed^0x696e746572, uint64(i)))
		next, end := int64(i)*int64(c.fpo), int64(i+1)*int64(c.fpo)
		re := c.reexport[i]
		for next < end || len(re) > 0 {
			n, m := int(end-next), len(re)
			if m > 0 && (n == 0 || order.IntN(n+m) < m) {
				g.render(re[0], 2)
				re = re[1:]
			} else {
				g.render(next, 1)
				next++
			}
			g.w.b = append(g.w.b, '\n')
			if _, err := w.Write(g.w.b); err != nil {
				return err
			}
		}
		return nil
	})
}

// Findings is the expected state after all objects are indexed: one entry
// per distinct finding (by arn), ordered by the object holding the finding's
// first version and by line within it. The table is computed on the first
// call and kept; each call returns a fresh slice of it.
func (c *Corpus) Findings() []Finding {
	c.findingsOnce.Do(func() {
		g := newGen(c)
		total := int64(c.opts.Objects) * int64(c.fpo)
		c.findings = make([]Finding, 0, total)
		for idx := int64(0); idx < total; idx++ {
			v := 1
			if _, ok := c.reexportTarget(idx); ok {
				v = 2
			}
			g.render(idx, v)
			s := &g.sum
			c.findings = append(c.findings, Finding{
				ARN: s.arn, ID: s.id, Account: s.account, Region: s.region, Type: s.typ,
				ActionType: s.actionType, CreatedAt: s.createdAt, UpdatedAt: s.updatedAt,
				Severity: s.severity, Count: s.count, Exports: v,
				Geo: append([]LatLon(nil), s.geo...),
			})
		}
	})
	return slices.Clone(c.findings)
}

// uuid4 formats 128 bits as a version 4 UUID.
func uuid4(hi, lo uint64) string { return string(format.AppendUUID(nil, hi, lo)) }
