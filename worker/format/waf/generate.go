package waf

// This file and generate_request.go generate realistic, deterministic WAF
// log objects: gzip-compressed JSON Lines, one web request per line, under
// the keys WAF's S3 delivery writes, one object per web ACL every five
// minutes. Each object is rendered on demand from its own seed, so a corpus
// of any size streams without being held in memory, and the same options
// always give byte-identical objects and keys.

import (
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/logtide/logtide/worker/format"
)

// CorpusOptions fix a corpus. The zero value of each field selects its
// default.
type CorpusOptions struct {
	// Seed selects the corpus; every other choice derives from it.
	Seed uint64
	// Objects is the number of log objects (default 10).
	Objects int
	// RequestsPerObject is the number of lines of each object (default 50).
	RequestsPerObject int
	// Accounts own the web ACLs (default ["123456789012"]).
	Accounts []string
	// Regions hold the regional web ACLs (default ["us-east-1"]); every
	// account also has a web ACL for CloudFront.
	Regions []string
	// Prefix goes before AWSLogs/; a '/' is added if it lacks one.
	Prefix string
	// Start is the time of the first objects (default 2026-01-05T00:00:00Z).
	Start time.Time
}

// Corpus is a planned set of WAF log objects. It is safe for concurrent use.
type Corpus struct {
	format.CorpusPlan
	opts format.GenerateOptions
	seed uint64
	acls []webACL
}

// webACL is one web ACL and the resource it protects.
type webACL struct {
	account, region, name, arn string
	// folder is the key's folder: the region, or "cloudfront".
	folder string
	// cloudfront: the ACL protects a CloudFront distribution (source CF);
	// otherwise regional resources (ALB, API Gateway, AppSync, Cognito).
	cloudfront bool
	// id is the ACL's id (the end of its ARN), rateRule its rate-based
	// rule's.
	id, rateRule string
	// distribution, lb and api name the protected resources.
	distribution, lb, api, stage, appsync, userPool string
}

// contentType is what WAF sets on its log objects.
const contentType = "application/gzip"

// window is how much time an object covers.
const window = 5 * time.Minute

// NewCorpus plans a corpus. It validates o and fills in defaults
// (format.GenerateOptions.WithDefaults); nothing is rendered until
// WriteObject.
func NewCorpus(o CorpusOptions) (*Corpus, error) {
	opts, err := format.GenerateOptions{
		Seed: o.Seed, Objects: o.Objects, RecordsPerObject: o.RequestsPerObject,
		Accounts: o.Accounts, Regions: o.Regions, Prefix: o.Prefix, Start: o.Start,
	}.WithDefaults()
	if err != nil {
		return nil, fmt.Errorf("waf corpus: %w", err)
	}
	opts.Start = opts.Start.Truncate(window)
	c := &Corpus{opts: opts, seed: format.Mix64(opts.Seed ^ 0x7761666c6f6773)} // "waflogs"
	c.planACLs()
	objects := make([]format.CorpusObject, opts.Objects)
	for i := range objects {
		acl, at := c.objectACL(i)
		h := format.Mix64(c.seed ^ uint64(i)*0x9e3779b97f4a7c15)
		objects[i] = format.CorpusObject{
			Key: fmt.Sprintf("%sAWSLogs/%s/WAFLogs/%s/%s/%s/%s_waflogs_%s_%s_%s_%08x.log.gz",
				opts.Prefix, acl.account, acl.folder, acl.name, at.Format("2006/01/02/15/04"),
				acl.account, acl.folder, acl.name, at.Format("20060102T1504Z"), uint32(h)),
			Records:     opts.RecordsPerObject,
			ContentType: contentType,
		}
	}
	c.CorpusPlan = format.NewCorpusPlan("waf", objects)
	return c, nil
}

// planACLs names the web ACLs: per account, one for CloudFront and one per
// region.
func (c *Corpus) planACLs() {
	r := rand.New(rand.NewPCG(c.seed, 0x61636c73))
	for _, account := range c.opts.Accounts {
		cf := webACL{account: account, region: "us-east-1", folder: "cloudfront", name: "storefront-cdn", cloudfront: true,
			distribution: "E" + randString(r, upperDigits, 13)}
		cf.id, cf.rateRule = uuid4(r), uuid4(r)
		cf.arn = fmt.Sprintf("arn:aws:wafv2:us-east-1:%s:global/webacl/%s/%s", account, cf.name, cf.id)
		c.acls = append(c.acls, cf)
		for _, region := range c.opts.Regions {
			w := webACL{account: account, region: region, folder: region, name: "regional-apps",
				lb:       "app/shop-web-prod/" + randString(r, hexDigits, 16),
				api:      randString(r, lowerDigits, 10),
				stage:    []string{"prod", "v1", "live"}[r.IntN(3)],
				appsync:  randString(r, lowerDigits, 26),
				userPool: region + "_" + randString(r, alnum, 9),
			}
			w.id, w.rateRule = uuid4(r), uuid4(r)
			w.arn = fmt.Sprintf("arn:aws:wafv2:%s:%s:regional/webacl/%s/%s", region, account, w.name, w.id)
			c.acls = append(c.acls, w)
		}
	}
}

// objectACL is the web ACL of object i and the start of its five minutes:
// the ACLs take turns, each writing one object per window.
func (c *Corpus) objectACL(i int) (*webACL, time.Time) {
	n := len(c.acls)
	return &c.acls[i%n], c.opts.Start.Add(time.Duration(i/n) * window)
}

// WriteObject streams object i, gzip-compressed JSON Lines, to w. Memory use
// does not grow with the object's size.
func (c *Corpus) WriteObject(w io.Writer, i int) error {
	return c.Write(w, i, format.Gzip, func(w io.Writer) error {
		acl, start := c.objectACL(i)
		g := &gen{c: c, acl: acl, r: rand.New(rand.NewPCG(c.seed^uint64(i), format.Mix64(uint64(i))))}
		n := c.opts.RecordsPerObject
		// Times rise through the window in steps of about window/n.
		step := int64(window/time.Millisecond) / int64(n)
		ms := start.UnixMilli()
		end := start.Add(window).UnixMilli() - 1
		var prev []byte
		for range n {
			if prev != nil && g.r.IntN(200) == 0 {
				// The same request delivered twice.
				g.b = append(g.b[:0], prev...)
			} else {
				ms = min(ms+g.r.Int64N(2*step+1), end)
				g.request(ms)
				g.b = append(g.b, '\n')
				prev = append(prev[:0], g.b...)
			}
			if _, err := w.Write(g.b); err != nil {
				return err
			}
		}
		return nil
	})
}

const (
	hexDigits   = "0123456789abcdef"
	upperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	lowerDigits = "abcdefghijklmnopqrstuvwxyz0123456789"
	alnum       = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	base64Chars = alnum + "-_"
)

func randString(r *rand.Rand, chars string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	return string(b)
}

// uuid4 is a random version 4 UUID.
func uuid4(r *rand.Rand) string { return string(format.AppendUUID(nil, r.Uint64(), r.Uint64())) }
