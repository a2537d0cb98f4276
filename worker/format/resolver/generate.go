package resolver

// This file generates realistic, deterministic Resolver query log objects:
// gzip-compressed JSON Lines under
// AWSLogs/<account>/vpcdnsquerylogs/<vpc-id>/YYYY/MM/DD/, one object per VPC
// and five-minute interval. Each object is rendered on demand from its own
// seed, so a corpus of any size streams without being held in memory, and
// the same options always give byte-identical objects.
//
// The queries are what a VPC's resolver sees: mostly A and AAAA for package
// registries, SaaS APIs and AWS endpoints (some behind CNAME chains), names
// of the VPC's own hosts and private zone, reverse (PTR) lookups, NXDOMAIN
// for search-domain suffixes and typos, some MX, TXT and SRV, the odd
// SERVFAIL and REFUSED, queries over TCP, from IPv6 sources and from an
// inbound Resolver endpoint (UDP, TCP or DoH), and DNS Firewall BLOCK, ALERT
// and ALLOW actions.

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/jsonw"
)

// Corpus is a planned set of query log objects. It is safe for concurrent
// use.
type Corpus struct {
	format.CorpusPlan
	seed   uint64
	perObj int
	vpcs   []vpc
	vpcOf  []int
	start  []time.Time // the start of each object's interval
}

// vpc is one VPC whose queries are logged.
type vpc struct {
	account, region, id string
	// internal is the domain of its hosts' names (ec2.internal in
	// us-east-1, <region>.compute.internal elsewhere).
	internal string
	// net is the second octet of its 10.net.0.0/16.
	net int
	// instances are its instances' ids, ip4 and ip6 their addresses.
	instances, ip4, ip6 []string
	// inbound is its inbound Resolver endpoint and enis that endpoint's
	// network interfaces.
	inbound string
	enis    []string
	// ruleGroup and the domain lists of its DNS Firewall rules.
	ruleGroup, blockList, alertList, allowList string
}

// contentType is what the objects are stored as.
const contentType = "application/octet-stream"

// interval is how much time one object covers.
const interval = 5 * time.Minute

// NewCorpus plans a corpus: o.Objects objects (default 10) of
// o.RecordsPerObject queries (default 50), for two VPCs in each of the
// accounts and regions, from o.Start (default 2026-01-05T00:00:00Z) on.
// Nothing is rendered until WriteObject is called.
func NewCorpus(o format.GenerateOptions) (*Corpus, error) {
	o, err := o.WithDefaults()
	if err != nil {
		return nil, fmt.Errorf("resolver corpus: %w", err)
	}
	c := &Corpus{seed: format.Mix64(o.Seed ^ 0x7235337265736f6c), perObj: o.RecordsPerObject}
	for a, account := range o.Accounts {
		for r, region := range o.Regions {
			for k := range 2 {
				c.vpcs = append(c.vpcs, c.newVPC(account, region, uint64(a)<<20|uint64(r)<<4|uint64(k)))
			}
		}
	}
	start := o.Start.Truncate(time.Second)
	objects := make([]format.CorpusObject, 0, o.Objects)
	for i := range o.Objects {
		v := &c.vpcs[i%len(c.vpcs)]
		t := start.Add(time.Duration(i/len(c.vpcs)) * interval)
		c.vpcOf = append(c.vpcOf, i%len(c.vpcs))
		c.start = append(c.start, t)
		objects = append(objects, format.CorpusObject{
			Key: fmt.Sprintf("%sAWSLogs/%s/%s/%s/%s/%s_%s_%s_%s_%s.log.gz", o.Prefix, v.account, Service, v.id,
				t.Format("2006/01/02"), v.account, Service, v.id, t.Format("20060102T1504Z"), c.hex(0x6f626a, uint64(i), 8)),
			Records:     o.RecordsPerObject,
			ContentType: contentType,
		})
	}
	c.CorpusPlan = format.NewCorpusPlan("resolver", objects)
	return c, nil
}

func (c *Corpus) newVPC(account, region string, k uint64) vpc {
	v := vpc{
		account: account, region: region, id: "vpc-" + c.hex(0x767063, k, 17),
		internal: region + ".compute.internal",
		net:      int(format.Mix64(c.seed^k) % 250),
		inbound:  "rslvr-in-" + c.hex(0x696e, k, 17),
	}
	if region == "us-east-1" {
		v.internal = "ec2.internal"
	}
	// The VPC's IPv6 block is a /56 of Amazon's 2600:1f18::/32; each of
	// its four subnets a /64 of it.
	v6a, v6b := 0x4000+format.Mix64(c.seed+k)%0x4000, (format.Mix64(c.seed-k)%0x100)<<8
	for j := range uint64(6) {
		h := format.Mix64(c.seed ^ k<<8 ^ j)
		v.instances = append(v.instances, "i-"+c.hex(0x696e73, k<<8|j, 17))
		v.ip4 = append(v.ip4, fmt.Sprintf("10.%d.%d.%d", v.net, 1+j%4, 4+h%250))
		v.ip6 = append(v.ip6, fmt.Sprintf("2600:1f18:%x:%x:%x:%x:%x:%x", v6a, v6b+1+j%4, h>>48, h>>32&0xffff, h>>16&0xffff, h&0xffff))
	}
	v.enis = []string{"rni-" + c.hex(0x656e69, k<<1, 17), "rni-" + c.hex(0x656e69, k<<1|1, 17)}
	v.ruleGroup = "rslvr-frg-" + c.hex(0x667267, k, 17)
	v.blockList = "rslvr-fdl-" + c.hex(0x66646c, k<<2, 17)
	v.alertList = "rslvr-fdl-" + c.hex(0x66646c, k<<2|1, 17)
	v.allowList = "rslvr-fdl-" + c.hex(0x66646c, k<<2|2, 17)
	return v
}

// WriteObject streams object i, gzip-compressed JSON Lines, to w. Memory use
// does not grow with the object's size.
func (c *Corpus) WriteObject(w io.Writer, i int) error {
	return c.Write(w, i, format.Gzip, func(w io.Writer) error {
		g := gen{v: &c.vpcs[c.vpcOf[i]], rng: rand.New(rand.NewPCG(c.seed, uint64(i)))}
		for n := range c.perObj {
			// Queries are in time order, spread over the interval, to the
			// second as Resolver writes them.
			t := c.start[i].Add(time.Duration(int64(interval) * int64(n) / int64(c.perObj))).Truncate(time.Second)
			g.record(t)
			if _, err := w.Write(g.b); err != nil {
				return err
			}
		}
		return nil
	})
}

// gen renders the queries of one object.
type gen struct {
	v   *vpc
	rng *rand.Rand
	b   []byte
	// The query being rendered.
	name, qtype, rcode string
	answers            [][2]string // type, data
}

var (
	publicNames = []string{
		"github.com", "api.github.com", "objects.githubusercontent.com", "registry.npmjs.org", "pypi.org",
		"files.pythonhosted.org", "proxy.golang.org", "sum.golang.org", "registry-1.docker.io", "auth.docker.io",
		"production.cloudflare.docker.com", "index.docker.io", "deb.debian.org", "security.ubuntu.com",
		"archive.ubuntu.com", "dl-cdn.alpinelinux.org", "repo.maven.apache.org", "www.google.com",
		"oauth2.googleapis.com", "login.microsoftonline.com", "api.stripe.com", "hooks.slack.com",
		"api.datadoghq.com", "http-intake.logs.datadoghq.com", "o450123.ingest.sentry.io", "cdn.jsdelivr.net",
		"api.twilio.com", "api.sendgrid.com", "ocsp.digicert.com", "crl3.digicert.com",
	}
	awsServices = []string{"sts", "s3", "ec2", "ssm", "ssmmessages", "ec2messages", "logs", "monitoring", "kms",
		"secretsmanager", "dynamodb", "sqs", "sns", "api.ecr", "elasticloadbalancing", "events"}
	privateHosts = []string{"db.prod.corp.internal", "db-replica.prod.corp.internal", "kafka-1.prod.corp.internal",
		"kafka-2.prod.corp.internal", "redis.prod.corp.internal", "vault.corp.internal", "grafana.corp.internal"}
	typos      = []string{"githb.com", "api.gihub.com", "regsitry.npmjs.org", "pypi.orgg", "intranet.corp.internl"}
	blocked    = []string{"update.cryptominer-pool.example", "c2.badactor.example", "exfil.tunnel.example"}
	alerted    = []string{"pastebin.com", "transfer.sh", "ngrok.io"}
	mailZones  = []string{"example.com", "example.org", "example.net"}
	cdnSuffix  = []string{".cloudfront.net", ".edgekey.net", ".fastly.net", ".azureedge.net"}
	onPremNets = []string{"192.168.10.", "192.168.20.", "172.20.4."}
	docNets    = []string{"192.0.2.", "198.51.100.", "203.0.113."}
)

// record renders one query at t into g.b, a line.
func (g *gen) record(t time.Time) {
	r, v := g.rng, g.v
	g.answers, g.rcode = g.answers[:0], "NOERROR"
	var action, list string
	switch k := r.IntN(1000); {
	case k < 330:
		g.public("A")
	case k < 480:
		g.name = awsServices[r.IntN(len(awsServices))] + "." + v.region + ".amazonaws.com."
		g.qtype = "A"
		base := r.IntN(8)
		for j := range 1 + r.IntN(3) {
			g.answers = append(g.answers, [2]string{"A", ipv4(g.name, base+j)})
		}
	case k < 610:
		g.public("AAAA")
	case k < 690:
		g.qtype = "A"
		if r.IntN(2) == 0 {
			ip := g.vpcIP()
			g.name = "ip-" + strings.ReplaceAll(ip, ".", "-") + "." + v.internal + "."
			g.answers = append(g.answers, [2]string{"A", ip})
		} else {
			g.name = privateHosts[r.IntN(len(privateHosts))] + "."
			g.answers = append(g.answers, [2]string{"A", fmt.Sprintf("10.%d.%d.%d", v.net, 10+hash(g.name)%4, 10+hash(g.name)%200)})
		}
	case k < 750:
		ip := strings.Split(g.vpcIP(), ".")
		g.name = ip[3] + "." + ip[2] + "." + ip[1] + "." + ip[0] + ".in-addr.arpa."
		g.qtype = "PTR"
		g.answers = append(g.answers, [2]string{"PTR", "ip-" + strings.Join(ip, "-") + "." + v.internal + "."})
	case k < 840:
		g.qtype, g.rcode = "A", "NXDOMAIN"
		switch r.IntN(3) {
		case 0: // a search domain appended to a name that needed none
			g.name = publicNames[r.IntN(len(publicNames))] + "." + v.internal + "."
			g.qtype = []string{"A", "AAAA"}[r.IntN(2)]
		case 1:
			g.name = typos[r.IntN(len(typos))] + "."
		default:
			g.name = "wpad.corp.internal."
		}
	case k < 860:
		zone := mailZones[r.IntN(len(mailZones))]
		g.name, g.qtype = zone+".", "MX"
		g.answers = append(g.answers, [2]string{"MX", "10 mx1." + zone + "."}, [2]string{"MX", "20 mx2." + zone + "."})
	case k < 890:
		zone := mailZones[r.IntN(len(mailZones))]
		g.qtype = "TXT"
		if r.IntN(2) == 0 {
			g.name = zone + "."
			g.answers = append(g.answers, [2]string{"TXT", `"v=spf1 include:_spf.` + zone + ` ~all"`})
		} else {
			g.name = "_dmarc." + zone + "."
			g.answers = append(g.answers, [2]string{"TXT", `"v=DMARC1; p=reject; rua=mailto:dmarc@` + zone + `"`})
		}
	case k < 910:
		g.name, g.qtype = "_ldap._tcp.corp.internal.", "SRV"
		g.answers = append(g.answers, [2]string{"SRV", "0 100 389 dc1.corp.internal."}, [2]string{"SRV", "0 100 389 dc2.corp.internal."})
	case k < 922:
		g.name, g.qtype, g.rcode = "broken-dnssec.example.", "A", "SERVFAIL"
	case k < 927:
		g.name, g.qtype, g.rcode = "version.bind.", "TXT", "REFUSED"
	case k < 957:
		action, list = "BLOCK", v.blockList
		g.name, g.qtype = blocked[r.IntN(len(blocked))]+".", "A"
		if r.IntN(3) > 0 {
			g.rcode = "NXDOMAIN"
		}
	case k < 982:
		action, list = "ALERT", v.alertList
		g.name, g.qtype = alerted[r.IntN(len(alerted))]+".", "A"
		g.answers = append(g.answers, [2]string{"A", ipv4(g.name, 0)}, [2]string{"A", ipv4(g.name, 1)})
	default:
		action, list = "ALLOW", v.allowList
		g.name, g.qtype = "s3."+v.region+".amazonaws.com.", "A"
		g.answers = append(g.answers, [2]string{"A", ipv4(g.name, r.IntN(8))})
	}
	g.write(t, action, list)
}

// public makes a query of type qtype for a public name, sometimes answered
// through a CDN's CNAME, sometimes (AAAA) with no address of that family.
func (g *gen) public(qtype string) {
	r := g.rng
	g.name, g.qtype = publicNames[r.IntN(len(publicNames))]+".", qtype
	target := g.name
	if r.IntN(10) < 3 {
		target = "d" + strconv.FormatUint(uint64(hash(g.name))*2654435761%1e12, 36) + cdnSuffix[hash(g.name)%len(cdnSuffix)] + "."
		g.answers = append(g.answers, [2]string{"CNAME", target})
	}
	if qtype == "AAAA" && r.IntN(5) == 0 {
		return
	}
	for j := range 1 + r.IntN(4) {
		if qtype == "AAAA" {
			g.answers = append(g.answers, [2]string{"AAAA", fmt.Sprintf("2001:db8:%x::%x", hash(target)%0xffff, j+1)})
		} else {
			g.answers = append(g.answers, [2]string{"A", ipv4(target, j)})
		}
	}
}

// vpcIP is the address of one of the VPC's hosts.
func (g *gen) vpcIP() string {
	return fmt.Sprintf("10.%d.%d.%d", g.v.net, 1+g.rng.IntN(4), 4+g.rng.IntN(250))
}

// write renders the current query, with the firewall action when there is
// one, in the order Resolver writes the fields.
func (g *gen) write(t time.Time, action, list string) {
	r, v := g.rng, g.v
	b := append(g.b[:0], `{"version":"1.100000","account_id":"`...)
	b = append(b, v.account...)
	b = append(b, `","region":"`...)
	b = append(b, v.region...)
	b = append(b, `","vpc_id":"`...)
	b = append(b, v.id...)
	b = append(b, `","query_timestamp":"`...)
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
	b = append(b, `","query_name":`...)
	b = jsonw.String(b, g.name)
	b = append(b, `,"query_type":"`...)
	b = append(b, g.qtype...)
	b = append(b, `","query_class":"IN","rcode":"`...)
	b = append(b, g.rcode...)
	b = append(b, `","answers":[`...)
	for j, a := range g.answers {
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Rdata":`...)
		b = jsonw.String(b, a[1])
		b = append(b, `,"Type":"`...)
		b = append(b, a[0]...)
		b = append(b, `","Class":"IN"}`...)
	}
	b = append(b, `],"srcaddr":"`...)
	transport := "UDP"
	var srcids string
	switch k := r.IntN(100); {
	case k < 9: // on premises, through the inbound endpoint
		b = append(b, onPremNets[r.IntN(len(onPremNets))]...)
		b = strconv.AppendInt(b, int64(10+r.IntN(240)), 10)
		srcids = `{"resolver_endpoint":"` + v.inbound + `","resolver_network_interface":"` + v.enis[r.IntN(len(v.enis))] + `"}`
		transport = []string{"UDP", "UDP", "UDP", "UDP", "UDP", "UDP", "UDP", "TCP", "DoH", "DoH"}[r.IntN(10)]
	case k < 15: // an instance over IPv6
		inst := r.IntN(len(v.instances))
		b = append(b, v.ip6[inst]...)
		srcids = `{"instance":"` + v.instances[inst] + `"}`
	default:
		inst := r.IntN(len(v.instances))
		b = append(b, v.ip4[inst]...)
		srcids = `{"instance":"` + v.instances[inst] + `"}`
		if r.IntN(100) < 3 {
			transport = "TCP"
		}
	}
	b = append(b, `","srcport":"`...)
	b = strconv.AppendInt(b, int64(1024+r.IntN(64512)), 10)
	b = append(b, `","transport":"`...)
	b = append(b, transport...)
	b = append(b, `","srcids":`...)
	b = append(b, srcids...)
	if action != "" {
		b = append(b, `,"firewall_rule_group_id":"`...)
		b = append(b, v.ruleGroup...)
		b = append(b, `","firewall_rule_action":"`...)
		b = append(b, action...)
		b = append(b, `","firewall_domain_list_id":"`...)
		b = append(b, list...)
		b = append(b, '"')
	}
	g.b = append(b, "}\n"...)
}

// ipv4 is the j-th address a public name resolves to: always the same one,
// from the documentation ranges.
func ipv4(name string, j int) string {
	h := hash(name)
	return docNets[h%len(docNets)] + strconv.Itoa(1+(h/3+j*37)%253)
}

// hash is FNV-1a, for values derived from a name.
func hash(s string) int {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return int(h >> 1)
}

// hex is n hex digits derived from the corpus seed, a domain and k.
func (c *Corpus) hex(domain, k uint64, n int) string {
	var b []byte
	for x := uint64(0); len(b) < n; x++ {
		b = fmt.Appendf(b, "%016x", format.Mix64(c.seed^domain<<40^k*0x9e3779b97f4a7c15+x))
	}
	return string(b[:n])
}
