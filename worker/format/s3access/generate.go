package s3access

// This file and generate_tables.go generate realistic, deterministic S3
// server access log objects: plain text (S3 does not compress them), one
// request per line, under the keys S3 gives them in the target bucket.
//
// A Corpus is a plan fixed by its options: each object is rendered on
// demand from its own seed, so a corpus of any size can be streamed without
// holding it in memory, and the same options always give byte-identical
// objects and keys. The lines cover what real logs hold: reads, writes,
// listings, deletes (multi-object deletes log a line per key under one
// request id), 403 and 404 errors, AWS services and anonymous website
// visitors as requesters, keys with spaces and non-ASCII characters
// (URL-encoded, as S3 writes them), IPv6 clients, presigned URLs, and
// objects in the older shorter format or with a field appended after the
// ones this version knows.

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/logtide/logtide/worker/format"
)

// contentType is what S3 sets on the log objects it writes.
const contentType = "text/plain"

// Corpus is a planned set of access log objects. It is safe for concurrent
// use.
type Corpus struct {
	format.CorpusPlan
	seed  uint64
	plans []objectPlan
}

// objectPlan is what fixes one object: its source bucket and window.
type objectPlan struct {
	account, region string
	bucket          int // index in bucketNames
	// from and to bound the request times of the object's lines.
	from, to time.Time
	// fields is the number of fields on each line: the current 26, the
	// older 18 or 27 for a format with one more field.
	fields int
	// records is the number of lines.
	records int
}

// NewCorpus plans a corpus from o; zero values select the defaults
// (format.GenerateOptions.WithDefaults). Nothing is rendered until
// WriteObject.
func NewCorpus(o format.GenerateOptions) (*Corpus, error) {
	o, err := o.WithDefaults()
	if err != nil {
		return nil, fmt.Errorf("s3access corpus: %w", err)
	}
	o.Start = o.Start.Truncate(time.Second)

	c := &Corpus{
		seed:  format.Mix64(o.Seed ^ 0x7333616363657373), // "s3access"
		plans: make([]objectPlan, o.Objects),
	}
	objects := make([]format.CorpusObject, o.Objects)
	r := rand.New(rand.NewPCG(c.seed, 0x706c616e))
	delivered := o.Start
	for i := range objects {
		if i > 0 {
			delivered = delivered.Add(time.Duration(5*60+r.IntN(55*60)) * time.Second)
		}
		p := objectPlan{
			account: o.Accounts[i%len(o.Accounts)],
			region:  o.Regions[i%len(o.Regions)],
			bucket:  r.IntN(len(bucketNames)),
			from:    delivered.Add(-time.Hour),
			to:      delivered,
			fields:  numKnown,
			records: o.RecordsPerObject,
		}
		switch v := r.IntN(10); {
		case v == 0:
			p.fields = fVersionID + 1
		case v == 1:
			p.fields = numKnown + 1
		}
		unique := strings.ToUpper(hexOf(c.seed^0x756e69, uint64(i), 16))
		key := o.Prefix + delivered.Format("2006-01-02-15-04-05") + "-" + unique
		if i%4 == 3 {
			// The partitioned layout, dated by the requests' day
			// (EventTime): the object holds that day's requests only.
			day := p.from.Truncate(24 * time.Hour)
			if p.to.After(day.Add(24 * time.Hour)) {
				p.to = day.Add(24 * time.Hour)
			}
			key = fmt.Sprintf("%s%s/%s/%s/%s/%s-00-00-00-%s", o.Prefix, p.account, p.region,
				bucketName(p.account, p.bucket), day.Format("2006/01/02"), day.Format("2006-01-02"), unique)
		}
		c.plans[i] = p
		objects[i] = format.CorpusObject{Key: key, Records: o.RecordsPerObject, ContentType: contentType}
	}
	c.CorpusPlan = format.NewCorpusPlan("s3access", objects)
	return c, nil
}

// WriteObject writes object i, plain text, to w. Memory use does not grow
// with the object's size.
func (c *Corpus) WriteObject(w io.Writer, i int) error {
	return c.Write(w, i, nil, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 64<<10)
		g := &gen{
			r:    rand.New(rand.NewPCG(c.seed, uint64(i)+1)),
			plan: c.plans[i],
		}
		g.bucket = bucketName(g.plan.account, g.plan.bucket)
		g.owner = canonicalID(g.plan.account)
		for left := g.plan.records; left > 0; {
			left -= g.event(left)
			if _, err := bw.Write(g.b); err != nil {
				return err
			}
			g.b = g.b[:0]
		}
		return bw.Flush()
	})
}

// gen renders the lines of one object.
type gen struct {
	r             *rand.Rand
	plan          objectPlan
	bucket, owner string
	b             []byte
}

// line is one request as the log writes it; "" is written as "-".
type line struct {
	t                                        time.Time
	ip, requester, requestID, operation, key string
	uri                                      string
	status                                   int
	errorCode                                string
	bytesSent, objectSize                    int64
	totalTime, turnAround                    int
	referrer, userAgent, versionID           string
	sigVersion, cipher, authType, host, tls  string
	accessPoint, aclRequired                 string
}

// event renders one request: one line, or several for a multi-object
// delete, never more than max. It returns the number of lines.
func (g *gen) event(max int) int {
	r := g.r
	l := line{
		t:         g.plan.from.Add(time.Duration(r.Int64N(int64(g.plan.to.Sub(g.plan.from)/time.Second))) * time.Second),
		requestID: strings.ToUpper(hexOf(r.Uint64(), 1, 16)),
		status:    200,
	}
	g.client(&l)
	key := escape(keys[r.IntN(len(keys))])
	size := int64(200 + r.IntN(4<<20))
	switch op := r.IntN(100); {
	case op < 40:
		l.operation = "REST.GET.OBJECT"
		l.key = key
		l.objectSize = size
		l.bytesSent = size
		switch e := r.IntN(20); {
		case e == 0:
			l.status, l.errorCode, l.bytesSent, l.objectSize = 404, "NoSuchKey", 243, 0
		case e == 1:
			l.status, l.errorCode, l.bytesSent, l.objectSize = 403, "AccessDenied", 243, 0
		case e == 2:
			l.status, l.bytesSent = 304, 0
		case e == 3:
			l.status, l.bytesSent = 206, min(size, 1<<20)
		}
	case op < 55:
		l.operation = "REST.PUT.OBJECT"
		l.key = key
		l.objectSize = size
		if r.IntN(15) == 0 {
			l.status, l.errorCode, l.bytesSent = 403, "AccessDenied", 243
		}
		if r.IntN(4) == 0 {
			l.versionID = versionID(r)
		}
	case op < 67:
		l.operation = "REST.HEAD.OBJECT"
		l.key = key
		l.objectSize = size
		if r.IntN(6) == 0 {
			l.status, l.errorCode, l.objectSize = 404, "NoSuchKey", 0
		}
	case op < 75:
		l.operation = "REST.GET.BUCKET"
		l.uri = "/?list-type=2&prefix=" + strings.ReplaceAll(key[:strings.IndexByte(key, '/')+1], "/", "%2F") + "&delimiter=%2F&encoding-type=url"
		l.bytesSent = int64(600 + r.IntN(40000))
	case op < 80:
		l.operation = "REST.DELETE.OBJECT"
		l.key = key
		l.status = 204
	case op < 84 && max >= 3:
		return g.batchDelete(&l, max)
	case op < 92:
		g.website(&l, key, size)
	default:
		// An AWS service reading the bucket's configuration.
		l.operation, l.uri = "REST.GET.ACL", "/?acl"
		if r.IntN(2) == 0 {
			l.operation, l.uri = "REST.GET.BUCKETPOLICY", "/?policy"
			if r.IntN(3) == 0 {
				l.status, l.errorCode = 404, "NoSuchBucketPolicy"
			}
		}
		l.requester = services[r.IntN(len(services))]
		l.userAgent = serviceAgents[r.IntN(len(serviceAgents))]
		l.bytesSent = int64(300 + r.IntN(900))
	}
	if l.uri == "" && l.key != "" {
		l.uri = "/" + l.key
		if l.operation == "REST.GET.OBJECT" && r.IntN(10) == 0 {
			// A presigned URL: the signature is in the query.
			l.authType = "QueryString"
			l.uri += "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F" + l.t.Format("20060102") +
				"%2F" + g.plan.region + "%2Fs3%2Faws4_request&X-Amz-Date=" + l.t.Format("20060102T150405Z") +
				"&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=" + hexOf(r.Uint64(), 2, 16) + hexOf(r.Uint64(), 3, 16)
		}
	}
	l.uri = methodOf(l.operation) + " " + g.target(&l) + " HTTP/1.1"
	g.timing(&l)
	g.write(&l)
	return 1
}

// client fills in who made a request and how: an application's role or
// user, another account, a browser; over HTTPS with SigV4 in most cases.
func (g *gen) client(l *line) {
	r := g.r
	l.ip = clientIPs[r.IntN(len(clientIPs))]
	if r.IntN(8) == 0 {
		l.ip = ipv6Clients[r.IntN(len(ipv6Clients))]
	}
	switch p := r.IntN(10); {
	case p < 5:
		l.requester = fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s", g.plan.account, roles[r.IntN(len(roles))])
	case p < 8:
		l.requester = fmt.Sprintf("arn:aws:iam::%s:user/%s", g.plan.account, users[r.IntN(len(users))])
	case p < 9:
		l.requester = g.owner
	default:
		l.requester = canonicalID(fmt.Sprintf("%012d", r.IntN(1e12))) // another account
	}
	l.userAgent = agents[r.IntN(len(agents))]
	l.sigVersion, l.authType = "SigV4", "AuthHeader"
	if r.IntN(40) == 0 {
		l.sigVersion = "SigV2"
	}
	l.host = g.bucket + ".s3." + g.plan.region + ".amazonaws.com"
	if r.IntN(5) == 0 {
		l.cipher, l.tls = "TLS_AES_128_GCM_SHA256", "TLSv1.3"
	} else {
		l.cipher, l.tls = "ECDHE-RSA-AES128-GCM-SHA256", "TLSv1.2"
	}
	if r.IntN(12) == 0 {
		l.accessPoint = fmt.Sprintf("arn:aws:s3:%s:%s:accesspoint/%s", g.plan.region, g.plan.account, accessPoints[r.IntN(len(accessPoints))])
	}
	if r.IntN(30) == 0 {
		l.aclRequired = "Yes"
	}
}

// website makes l an anonymous visitor's read through the static website
// endpoint: plain HTTP, unsigned, with a referrer.
func (g *gen) website(l *line, key string, size int64) {
	r := g.r
	l.operation = "WEBSITE.GET.OBJECT"
	l.key = escape(siteKeys[r.IntN(len(siteKeys))])
	if r.IntN(3) == 0 {
		l.key = key
	}
	l.requester, l.sigVersion, l.authType, l.cipher, l.tls, l.accessPoint, l.aclRequired = "", "", "", "", "", "", ""
	l.userAgent = browsers[r.IntN(len(browsers))]
	l.referrer = "https://www.example.com/" + siteKeys[r.IntN(len(siteKeys))]
	l.host = g.bucket + ".s3-website-" + g.plan.region + ".amazonaws.com"
	l.objectSize, l.bytesSent = size, size
	if r.IntN(8) == 0 {
		l.status, l.errorCode, l.bytesSent, l.objectSize = 404, "NoSuchKey", 512, 0
	}
}

// batchDelete renders a multi-object delete: a line for each key deleted
// (BATCH.DELETE.OBJECT, no request line of its own) and the POST request,
// all under one request id and time.
func (g *gen) batchDelete(l *line, max int) int {
	r := g.r
	n := min(2+r.IntN(4), max-1)
	batch := *l
	batch.operation, batch.status, batch.uri, batch.referrer, batch.userAgent = "BATCH.DELETE.OBJECT", 204, "", "", ""
	for i := range n {
		batch.key = escape(keys[(r.IntN(len(keys))+i)%len(keys)])
		batch.objectSize = int64(200 + r.IntN(1<<20))
		batch.versionID = ""
		if r.IntN(3) == 0 {
			batch.versionID = versionID(r)
		}
		g.write(&batch)
	}
	l.operation = "REST.POST.MULTI_OBJECT_DELETE"
	l.uri = "POST " + g.target(&line{uri: "/?delete"}) + " HTTP/1.1"
	l.bytesSent = int64(120 + 90*n)
	g.timing(l)
	g.write(l)
	return n + 1
}

// target is the request target of l: l.uri, or "/"+key, in the
// virtual-hosted style (the bucket in the host) most clients use, or the
// path style with the bucket first.
func (g *gen) target(l *line) string {
	t := l.uri
	if t == "" {
		t = "/"
	}
	if g.r.IntN(6) == 0 && l.operation != "WEBSITE.GET.OBJECT" {
		l.host = "s3." + g.plan.region + ".amazonaws.com"
		if t == "/" || t[1] == '?' {
			return "/" + g.bucket + t[1:]
		}
		return "/" + g.bucket + t
	}
	return t
}

// timing fills in the total and turn-around times, in milliseconds.
func (g *gen) timing(l *line) {
	l.turnAround = 1 + g.r.IntN(40)
	l.totalTime = l.turnAround + int(l.bytesSent>>16) + g.r.IntN(30)
}

// write appends l as S3 writes it, with as many fields as the object's
// format has.
func (g *gen) write(l *line) {
	b := g.b
	b = append(b, g.owner...)
	b = append(b, ' ')
	b = append(b, g.bucket...)
	b = append(b, " ["...)
	b = l.t.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, "] "...)
	b = field(b, l.ip)
	b = field(b, l.requester)
	b = field(b, l.requestID)
	b = field(b, l.operation)
	b = field(b, l.key)
	b = quoted(b, l.uri)
	b = number(b, int64(l.status))
	b = field(b, l.errorCode)
	b = number(b, l.bytesSent)
	b = number(b, l.objectSize)
	b = number(b, int64(l.totalTime))
	b = number(b, int64(l.turnAround))
	b = quoted(b, l.referrer)
	b = quoted(b, l.userAgent)
	if g.plan.fields > fVersionID {
		b = field(b, l.versionID)
	}
	if g.plan.fields > fVersionID+1 {
		b = field(b, hostID(g.r))
		b = field(b, l.sigVersion)
		b = field(b, l.cipher)
		b = field(b, l.authType)
		b = field(b, l.host)
		b = field(b, l.tls)
		b = field(b, l.accessPoint)
		b = field(b, l.aclRequired)
	}
	if g.plan.fields > numKnown {
		b = field(b, g.plan.region)
	}
	b[len(b)-1] = '\n'
	g.b = b
}

// field appends v, or "-" when empty, and a space.
func field(b []byte, v string) []byte {
	if v == "" {
		v = "-"
	}
	b = append(b, v...)
	return append(b, ' ')
}

func quoted(b []byte, v string) []byte {
	if v == "" {
		v = "-"
	}
	b = append(b, '"')
	b = append(b, v...)
	return append(b, '"', ' ')
}

// number appends n, or "-" when zero (S3 writes "-" for no bytes sent).
func number(b []byte, n int64) []byte {
	if n <= 0 {
		return append(b, '-', ' ')
	}
	b = strconv.AppendInt(b, n, 10)
	return append(b, ' ')
}

func methodOf(operation string) string {
	switch {
	case strings.HasPrefix(operation, "REST.PUT."):
		return "PUT"
	case strings.HasPrefix(operation, "REST.HEAD."):
		return "HEAD"
	case strings.HasPrefix(operation, "REST.DELETE."):
		return "DELETE"
	case strings.HasPrefix(operation, "REST.POST."):
		return "POST"
	}
	return "GET"
}

// escape URL-encodes a key as S3 writes it in the log: every byte but
// letters, digits, '-', '_', '.', '~' and '/' as %XX.
func escape(key string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := range len(key) {
		c := key[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// canonicalID is the canonical user id (64 hex digits) of an account.
func canonicalID(account string) string {
	h := uint64(0xcbf29ce484222325)
	for i := range len(account) {
		h = (h ^ uint64(account[i])) * 0x100000001b3
	}
	return hexOf(h, 1, 16) + hexOf(h, 2, 16) + hexOf(h, 3, 16) + hexOf(h, 4, 16)
}

func bucketName(account string, i int) string {
	return bucketNames[i] + "-" + account[8:]
}

// hostID is an x-amz-id-2 value: 56 random bytes, base64.
func hostID(r *rand.Rand) string {
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var b [76]byte
	for i := 0; i < 75; i++ {
		b[i] = b64[r.IntN(64)]
	}
	b[75] = '='
	return string(b[:])
}

func versionID(r *rand.Rand) string {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"
	var b [32]byte
	for i := range b {
		b[i] = alnum[r.IntN(len(alnum))]
	}
	return string(b[:])
}

// hexOf is n (at most 16) lower-case hex digits derived from seed and k.
func hexOf(seed, k uint64, n int) string {
	const hex = "0123456789abcdef"
	x := format.Mix64(seed ^ format.Mix64(k))
	var b [16]byte
	for i := range n {
		b[i] = hex[x>>60]
		x <<= 4
	}
	return string(b[:n])
}
