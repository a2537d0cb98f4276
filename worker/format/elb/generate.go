package elb

// This file and generate_lines.go generate realistic, deterministic ELB
// access log objects: mostly Application Load Balancer logs (http, https,
// h2, some gRPC and WebSockets, some Lambda targets, every status class,
// redirects, WAF blocks, desync classifications), with some Network Load
// Balancer TLS logs and Classic Load Balancer logs (HTTP, HTTPS and TCP
// listeners), under the keys ELB writes. ALB and NLB objects are gzip,
// Classic ones plain text, as ELB stores them. Objects are rendered line by
// line when written, so an object of any size streams in constant memory.
// ELB's test object is not generated: it holds no record.

import (
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

// Corpus is a planned set of ELB log objects. It is safe for concurrent
// use: WriteObject keeps its state on its own stack.
type Corpus struct {
	seed    uint64
	objects []format.CorpusObject
	plans   []objectPlan
	records int
}

// objectPlan is what an object's lines are drawn from.
type objectPlan struct {
	kind            *kind
	account, region string
	lb              loadBalancer
	// end is the end of the five minutes the object covers (its name
	// says so); node is the load balancer node's address.
	end  time.Time
	node string
	// albFields is the number of fields of the object's ALB lines: logs
	// written before a field was added have fewer (29, 30, 33 or 36).
	albFields int
	// alpn: the NLB listener has an ALPN policy.
	alpn    bool
	records int
}

// loadBalancer is one of the sample load balancers.
type loadBalancer struct {
	name, host string
	// id is the resource id in lines (app/web-prod/50dc6c495c0c9188, or
	// the name for a Classic one); keyID the same in object names, with
	// its slashes as dots.
	id, keyID string
	// lambda: share of requests (percent) routed to a Lambda function.
	lambda int
	waf    bool
}

// The defaults of format.GenerateOptions' zero values.
const (
	defaultObjects = 10
	defaultRecords = 50
)

var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// NewCorpus plans a corpus. Of every seven objects, one is a Network Load
// Balancer's and one a Classic Load Balancer's; the others are Application
// Load Balancers'. Objects follow each other five minutes apart, accounts
// and regions taken in turn.
func NewCorpus(o format.GenerateOptions) (*Corpus, error) {
	if o.Objects < 0 || o.RecordsPerObject < 0 {
		return nil, errors.New("elb corpus: Objects and RecordsPerObject must not be negative")
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
			return nil, fmt.Errorf("elb corpus: account %q is not 12 digits", a)
		}
	}
	if len(o.Regions) == 0 {
		o.Regions = []string{"us-east-1"}
	}
	for _, r := range o.Regions {
		if !regionRE.MatchString(r) {
			return nil, fmt.Errorf("elb corpus: %q is not a region name", r)
		}
	}
	if o.Prefix != "" && !strings.HasSuffix(o.Prefix, "/") {
		o.Prefix += "/"
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	}
	start := o.Start.UTC().Truncate(5 * time.Minute)

	c := &Corpus{seed: mix64(o.Seed ^ 0x656c62), objects: make([]format.CorpusObject, o.Objects), plans: make([]objectPlan, o.Objects)}
	for i := range c.plans {
		h := mix64(c.seed ^ uint64(i)*0x9e3779b97f4a7c15)
		p := &c.plans[i]
		p.account = o.Accounts[i%len(o.Accounts)]
		p.region = o.Regions[i/len(o.Accounts)%len(o.Regions)]
		p.end = start.Add(time.Duration(i+1) * 5 * time.Minute)
		p.records = o.RecordsPerObject
		switch i % 7 {
		case 3:
			p.kind = nlb
		case 5:
			p.kind = classic
		default:
			p.kind = alb
		}
		p.lb = c.loadBalancer(p.kind, p.account, p.region, int(h%3))
		p.node = fmt.Sprintf("172.31.%d.%d", h>>8&0xff, 1+h>>16%254)
		p.albFields = []int{29, 30, 33, 33, 36}[h>>24%5]
		p.alpn = h>>32&1 == 0
		ext, ct := ".log.gz", "application/x-gzip"
		if p.kind == classic {
			ext, ct = ".log", "text/plain"
		}
		c.objects[i] = format.CorpusObject{
			Key: fmt.Sprintf("%sAWSLogs/%s/elasticloadbalancing/%s/%s/%s_elasticloadbalancing_%s_%s_%s_%s_%s%s",
				o.Prefix, p.account, p.region, p.end.Format("2006/01/02"), p.account, p.region, p.lb.keyID,
				p.end.Format("20060102T1504Z"), p.node, base36(mix64(h), 8), ext),
			Records:     p.records,
			ContentType: ct,
		}
		c.records += p.records
	}
	return c, nil
}

// loadBalancer is sample load balancer n of a kind in an account and region.
func (c *Corpus) loadBalancer(k *kind, account, region string, n int) loadBalancer {
	names := map[*kind][]string{alb: {"web-prod", "api-internal", "checkout"}, nlb: {"tls-edge", "mqtt-gateway", "tls-edge"}, classic: {"legacy-www", "legacy-api", "legacy-www"}}[k]
	hosts := map[string]string{"web-prod": "www.example.com", "api-internal": "api.example.com", "checkout": "shop.example.net",
		"tls-edge": "edge.example.com", "mqtt-gateway": "mqtt.example.org", "legacy-www": "legacy.example.com", "legacy-api": "legacy-api.example.com"}
	name := names[n]
	lb := loadBalancer{name: name, host: hosts[name], id: name, keyID: name}
	hex := fmt.Sprintf("%016x", mix64(c.seed^hash(account+region+name)))
	switch k {
	case alb:
		lb.id, lb.keyID = "app/"+name+"/"+hex, "app."+name+"."+hex
		lb.lambda = map[string]int{"api-internal": 30, "checkout": 5}[name]
		lb.waf = name != "api-internal"
	case nlb:
		lb.id, lb.keyID = "net/"+name+"/"+hex, "net."+name+"."+hex
	}
	return lb
}

// Objects lists the objects in the order they were written.
func (c *Corpus) Objects() []format.CorpusObject {
	return append([]format.CorpusObject(nil), c.objects...)
}

// Records is the number of lines in all objects.
func (c *Corpus) Records() int { return c.records }

// WriteObject writes object i as ELB stores it: gzip for Application and
// Network Load Balancers, plain text for Classic ones.
func (c *Corpus) WriteObject(w io.Writer, i int) error {
	if i < 0 || i >= len(c.plans) {
		return fmt.Errorf("elb corpus: object %d out of range [0,%d)", i, len(c.plans))
	}
	p := &c.plans[i]
	out := w
	var zw *gzip.Writer
	if p.kind != classic {
		var err error
		if zw, err = gzip.NewWriterLevel(w, gzip.BestSpeed); err != nil {
			return fmt.Errorf("elb corpus: %w", err)
		}
		out = zw
	}
	g := &lineGen{r: rand.New(rand.NewPCG(c.seed, uint64(i))), p: p}
	window := int64(5 * time.Minute)
	from := p.end.Add(-5 * time.Minute)
	step := window / int64(max(p.records, 1))
	for n := range p.records {
		// Lines come roughly in time order, a little shuffled, as ELB
		// writes them.
		t := from.Add(time.Duration(int64(n)*step + g.r.Int64N(max(step, 1))))
		g.line(t)
		if _, err := out.Write(g.b); err != nil {
			return fmt.Errorf("elb corpus: write object %d: %w", i, err)
		}
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return fmt.Errorf("elb corpus: write object %d: %w", i, err)
		}
	}
	return nil
}

// mix64 is the splitmix64 finalizer: a bijection on uint64 that spreads
// nearby inputs far apart.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// hash is FNV-1a of s.
func hash(s string) uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := range len(s) {
		h = (h ^ uint64(s[i])) * 0x100000001b3
	}
	return h
}

// base36 is n digits and lower-case letters drawn from x.
func base36(x uint64, n int) string {
	const chars = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[x%36]
		x = x/36 ^ mix64(x)>>8
	}
	return string(b)
}
