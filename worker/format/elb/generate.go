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
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/logtide/logtide/worker/format"
)

// Corpus is a planned set of ELB log objects. It is safe for concurrent
// use: WriteObject keeps its state on its own stack.
type Corpus struct {
	format.CorpusPlan
	seed  uint64
	plans []objectPlan
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

// NewCorpus plans a corpus. Of every seven objects, one is a Network Load
// Balancer's and one a Classic Load Balancer's; the others are Application
// Load Balancers'. Objects follow each other five minutes apart, accounts
// and regions taken in turn.
func NewCorpus(o format.GenerateOptions) (*Corpus, error) {
	o, err := o.WithDefaults()
	if err != nil {
		return nil, fmt.Errorf("elb corpus: %w", err)
	}
	start := o.Start.Truncate(5 * time.Minute)

	c := &Corpus{seed: format.Mix64(o.Seed ^ 0x656c62), plans: make([]objectPlan, o.Objects)}
	objects := make([]format.CorpusObject, o.Objects)
	for i := range c.plans {
		h := format.Mix64(c.seed ^ uint64(i)*0x9e3779b97f4a7c15)
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
		objects[i] = format.CorpusObject{
			Key: fmt.Sprintf("%sAWSLogs/%s/elasticloadbalancing/%s/%s/%s_elasticloadbalancing_%s_%s_%s_%s_%s%s",
				o.Prefix, p.account, p.region, p.end.Format("2006/01/02"), p.account, p.region, p.lb.keyID,
				p.end.Format("20060102T1504Z"), p.node, base36(format.Mix64(h), 8), ext),
			Records:     p.records,
			ContentType: ct,
		}
	}
	c.CorpusPlan = format.NewCorpusPlan("elb", objects)
	return c, nil
}

// loadBalancer is sample load balancer n of a kind in an account and region.
func (c *Corpus) loadBalancer(k *kind, account, region string, n int) loadBalancer {
	names := map[*kind][]string{alb: {"web-prod", "api-internal", "checkout"}, nlb: {"tls-edge", "mqtt-gateway", "tls-edge"}, classic: {"legacy-www", "legacy-api", "legacy-www"}}[k]
	hosts := map[string]string{"web-prod": "www.example.com", "api-internal": "api.example.com", "checkout": "shop.example.net",
		"tls-edge": "edge.example.com", "mqtt-gateway": "mqtt.example.org", "legacy-www": "legacy.example.com", "legacy-api": "legacy-api.example.com"}
	name := names[n]
	lb := loadBalancer{name: name, host: hosts[name], id: name, keyID: name}
	hex := fmt.Sprintf("%016x", format.Mix64(c.seed^hash(account+region+name)))
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

// WriteObject writes object i as ELB stores it: gzip for Application and
// Network Load Balancers, plain text for Classic ones.
func (c *Corpus) WriteObject(w io.Writer, i int) error {
	var z format.Compressor
	if i >= 0 && i < len(c.plans) && c.plans[i].kind != classic {
		z = format.Gzip
	}
	return c.Write(w, i, z, func(w io.Writer) error {
		p := &c.plans[i]
		g := &lineGen{r: rand.New(rand.NewPCG(c.seed, uint64(i))), p: p}
		window := int64(5 * time.Minute)
		from := p.end.Add(-5 * time.Minute)
		step := window / int64(max(p.records, 1))
		for n := range p.records {
			// Lines come roughly in time order, a little shuffled, as ELB
			// writes them.
			t := from.Add(time.Duration(int64(n)*step + g.r.Int64N(max(step, 1))))
			g.line(t)
			if _, err := w.Write(g.b); err != nil {
				return err
			}
		}
		return nil
	})
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
		x = x/36 ^ format.Mix64(x)>>8
	}
	return string(b)
}
