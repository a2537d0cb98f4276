package vpcflow

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// layout is a flow log's record format.
type layout uint8

const (
	// layoutDefault is the default format (version 2).
	layoutDefault layout = iota
	// layoutCustom is a custom format of version 3 to 5 fields, in an order
	// of its own.
	layoutCustom
	// layoutTransit is a transit gateway flow log (version 6).
	layoutTransit
)

// genField is a field the generator writes.
type genField uint8

const (
	gVersion genField = iota
	gAccount
	gInterface
	gSrcAddr
	gDstAddr
	gSrcPort
	gDstPort
	gProtocol
	gPackets
	gBytes
	gStart
	gEnd
	gAction
	gStatus
	gVPC
	gSubnet
	gInstance
	gTCPFlags
	gType
	gPktSrcAddr
	gPktDstAddr
	gRegion
	gAZ
	gSublocationType
	gSublocationID
	gPktSrcService
	gPktDstService
	gDirection
	gTrafficPath
	gResourceType
	gTGW
	gTGWAttachment
	gTGWSrcAccount
	gTGWDstAccount
	gTGWSrcVPC
	gTGWDstVPC
	gTGWSrcSubnet
	gTGWDstSubnet
	gTGWSrcENI
	gTGWDstENI
	gTGWSrcAZ
	gTGWDstAZ
	gTGWPair
	gLostNoRoute
	gLostBlackhole
	gLostMTU
	gLostTTL
)

var genNames = [...]string{
	gVersion: "version", gAccount: "account-id", gInterface: "interface-id", gSrcAddr: "srcaddr", gDstAddr: "dstaddr",
	gSrcPort: "srcport", gDstPort: "dstport", gProtocol: "protocol", gPackets: "packets", gBytes: "bytes",
	gStart: "start", gEnd: "end", gAction: "action", gStatus: "log-status",
	gVPC: "vpc-id", gSubnet: "subnet-id", gInstance: "instance-id", gTCPFlags: "tcp-flags", gType: "type",
	gPktSrcAddr: "pkt-srcaddr", gPktDstAddr: "pkt-dstaddr", gRegion: "region", gAZ: "az-id",
	gSublocationType: "sublocation-type", gSublocationID: "sublocation-id",
	gPktSrcService: "pkt-src-aws-service", gPktDstService: "pkt-dst-aws-service", gDirection: "flow-direction", gTrafficPath: "traffic-path",
	gResourceType: "resource-type", gTGW: "tgw-id", gTGWAttachment: "tgw-attachment-id",
	gTGWSrcAccount: "tgw-src-vpc-account-id", gTGWDstAccount: "tgw-dst-vpc-account-id",
	gTGWSrcVPC: "tgw-src-vpc-id", gTGWDstVPC: "tgw-dst-vpc-id", gTGWSrcSubnet: "tgw-src-subnet-id", gTGWDstSubnet: "tgw-dst-subnet-id",
	gTGWSrcENI: "tgw-src-eni", gTGWDstENI: "tgw-dst-eni", gTGWSrcAZ: "tgw-src-az-id", gTGWDstAZ: "tgw-dst-az-id",
	gTGWPair: "tgw-pair-attachment-id", gLostNoRoute: "packets-lost-no-route", gLostBlackhole: "packets-lost-blackhole",
	gLostMTU: "packets-lost-mtu-exceeded", gLostTTL: "packets-lost-ttl-expired",
}

// layouts are the fields of each record format, in order.
var layouts = [...][]genField{
	layoutDefault: {gVersion, gAccount, gInterface, gSrcAddr, gDstAddr, gSrcPort, gDstPort, gProtocol, gPackets, gBytes, gStart, gEnd, gAction, gStatus},
	layoutCustom: {gVersion, gVPC, gSubnet, gInstance, gInterface, gAccount, gType, gSrcAddr, gDstAddr, gSrcPort, gDstPort,
		gPktSrcAddr, gPktDstAddr, gProtocol, gBytes, gPackets, gStart, gEnd, gAction, gTCPFlags, gStatus,
		gRegion, gAZ, gSublocationType, gSublocationID, gPktSrcService, gPktDstService, gDirection, gTrafficPath},
	layoutTransit: {gVersion, gResourceType, gAccount, gTGW, gTGWAttachment, gTGWSrcAccount, gTGWDstAccount, gTGWSrcVPC, gTGWDstVPC,
		gTGWSrcSubnet, gTGWDstSubnet, gTGWSrcENI, gTGWDstENI, gTGWSrcAZ, gTGWDstAZ, gTGWPair, gSrcAddr, gDstAddr, gSrcPort, gDstPort,
		gProtocol, gPackets, gBytes, gStart, gEnd, gStatus, gType, gLostNoRoute, gLostBlackhole, gLostMTU, gLostTTL, gTCPFlags,
		gRegion, gDirection, gPktSrcService, gPktDstService},
}

var versions = [...]string{layoutDefault: "2", layoutCustom: "5", layoutTransit: "6"}

func headerOf(fs []genField) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = genNames[f]
	}
	return strings.Join(names, " ")
}

// iface is a network interface of the flow log's VPC (or, for a transit
// gateway, an attachment's interface in a VPC).
type iface struct {
	id, subnet, instance, az, vpc, attachment string
	ip4, ip6                                  string
}

// gen renders the records of one object.
type gen struct {
	p      *plan
	r      *rand.Rand
	b      []byte
	ifaces []iface
	tgw    string
	azs    []string
}

// newGen sets up the network of p's flow log: the same for every object of
// that flow log, drawn from its id.
func newGen(c *Corpus, p *plan, r *rand.Rand) *gen {
	g := &gen{p: p, r: r, b: make([]byte, 0, 512)}
	nr := rand.New(rand.NewPCG(hashString(p.log.id), c.seed))
	hex := func(n int) string {
		const digits = "0123456789abcdef"
		b := make([]byte, n)
		for i := range b {
			b[i] = digits[nr.IntN(16)]
		}
		return string(b)
	}
	g.azs = []string{zoneID(p.region) + "-az1", zoneID(p.region) + "-az2", zoneID(p.region) + "-az4"}
	vpcs := []string{"vpc-" + hex(17)}
	if p.log.transitGateway {
		g.tgw = "tgw-" + hex(17)
		vpcs = append(vpcs, "vpc-"+hex(17), "vpc-"+hex(17))
	}
	// Each VPC has a /16 of 10.0.0.0/8 and a /56 of Amazon's IPv6 space;
	// each zone a /18 and a /64 of them.
	base := nr.IntN(200)
	prefix6 := 0x4000 + nr.IntN(0x1000)
	for i := range 8 {
		v := i % len(vpcs)
		az := nr.IntN(len(g.azs))
		f := iface{
			id: "eni-" + hex(17), subnet: "subnet-" + hex(17), az: g.azs[az], vpc: vpcs[v],
			ip4: fmt.Sprintf("10.%d.%d.%d", base+v*10, 64*az+nr.IntN(64), 4+nr.IntN(250)),
		}
		if nr.IntN(3) > 0 {
			f.instance = "i-" + hex(17)
		}
		if nr.IntN(2) == 0 {
			f.ip6 = fmt.Sprintf("2600:1f18:%x:%x:%x:%x:%x:%x", prefix6+v, az<<8, 1+nr.IntN(0xffff), nr.IntN(0x10000), nr.IntN(0x10000), 1+nr.IntN(0xffff))
		}
		if p.log.transitGateway {
			f.attachment = "tgw-attach-" + hex(17)
		}
		g.ifaces = append(g.ifaces, f)
	}
	return g
}

// flow is one record's values; "" and -1 are '-'.
type flow struct {
	status, action, typ, direction, srcService, dstService string
	local, peer                                            *iface
	// from and to are the interfaces on either side of a transit gateway.
	from, to                                          *iface
	src, dst                                          string
	srcPort, dstPort, protocol, tcpFlags, trafficPath int
	packets, bytes, start, end, lostNoRoute           int64
}

var (
	tcpPorts  = []int{443, 443, 443, 80, 22, 5432, 3306, 6379, 8080, 9200, 3389, 8443}
	udpPorts  = []int{53, 53, 123, 500, 4500, 51820, 1194}
	tcpFlags  = []int{19, 19, 3, 2, 18, 27, 1, 4, 23}
	awsRanges = []struct{ prefix, service string }{{"52.216.", "S3"}, {"54.239.", "AMAZON"}, {"3.5.", "S3"}, {"35.71.", "EC2"}}
)

// record renders the next record of the object.
func (g *gen) record() []byte {
	r := g.r
	f := flow{srcPort: -1, dstPort: -1, protocol: -1, tcpFlags: -1, trafficPath: -1, packets: -1, bytes: -1, lostNoRoute: -1}
	f.local = &g.ifaces[r.IntN(len(g.ifaces))]
	f.start = g.p.from.Unix() + int64(r.IntN(240))
	f.end = f.start + 60
	if r.IntN(2) == 0 {
		f.end = f.start + int64(r.IntN(60))
	}
	switch n := r.IntN(100); {
	case n < 3:
		f.status = "NODATA"
	case n < 4:
		f.status = "SKIPDATA"
	default:
		f.status = "OK"
		g.traffic(&f)
	}
	b := g.b[:0]
	for i, id := range g.p.log.fields {
		if i > 0 {
			b = append(b, ' ')
		}
		b = g.value(b, id, &f)
	}
	g.b = b
	return b
}

// traffic fills in the values of a flow that carried packets.
func (g *gen) traffic(f *flow) {
	r := g.r
	f.typ = "IPv4"
	v6 := f.local.ip6 != "" && r.IntN(6) == 0
	if v6 {
		f.typ = "IPv6"
	}
	var service int
	switch n := r.IntN(100); {
	case n < 75:
		f.protocol, service = 6, tcpPorts[r.IntN(len(tcpPorts))]
	case n < 95:
		f.protocol, service = 17, udpPorts[r.IntN(len(udpPorts))]
	default:
		f.protocol = 1
		if v6 {
			f.protocol = 58
		}
	}
	ingress := r.IntN(2) == 0
	local, peer := f.local.ip4, ""
	if v6 {
		local = f.local.ip6
	}
	// A transit gateway carries traffic between VPCs; an interface's
	// flows are with the internet, AWS services and its own VPC.
	external := !g.p.log.transitGateway && r.IntN(10) < 6
	switch {
	case !external:
		f.peer = g.peerOf(f.local)
		peer = f.peer.ip4
		if v6 {
			peer = f.peer.ip6
			if peer == "" {
				peer = fmt.Sprintf("2600:1f18:%x:%x::%x", 0x4000+r.IntN(0x1000), r.IntN(3)<<8, 1+r.IntN(0xffff))
			}
		}
	case v6:
		peer = fmt.Sprintf("2001:db8:%x:%x::%x", r.IntN(0x10000), r.IntN(0x10000), 1+r.IntN(0xffff))
	case r.IntN(4) == 0:
		a := awsRanges[r.IntN(len(awsRanges))]
		peer = a.prefix + strconv.Itoa(r.IntN(256)) + "." + strconv.Itoa(1+r.IntN(254))
		if ingress {
			f.srcService = a.service
		} else {
			f.dstService = a.service
		}
	default:
		nets := [...]string{"192.0.2.", "198.51.100.", "203.0.113."}
		peer = nets[r.IntN(len(nets))] + strconv.Itoa(1+r.IntN(254))
	}
	ephemeral := 32768 + r.IntN(28232)
	if ingress {
		f.src, f.dst, f.direction = peer, local, "ingress"
		f.srcPort, f.dstPort = ephemeral, service
		f.from, f.to = f.peer, f.local
	} else {
		f.src, f.dst, f.direction = local, peer, "egress"
		f.from, f.to = f.local, f.peer
		f.srcPort, f.dstPort = ephemeral, service
		f.trafficPath = 1
		if external {
			f.trafficPath = []int{2, 8, 7}[r.IntN(3)]
		}
	}
	if f.protocol == 1 || f.protocol == 58 {
		f.srcPort, f.dstPort = 0, 0
	}
	f.action = "ACCEPT"
	if (ingress && external && r.IntN(100) < 35) || r.IntN(100) < 5 {
		f.action = "REJECT"
	}
	if f.action == "REJECT" {
		f.packets = 1 + int64(r.IntN(3))
		f.bytes = f.packets * int64(40+r.IntN(40))
	} else {
		f.packets = 1 + int64(r.ExpFloat64()*200)
		f.bytes = f.packets * int64(52+r.IntN(1448))
	}
	if f.protocol == 6 {
		f.tcpFlags = tcpFlags[r.IntN(len(tcpFlags))]
		if f.action == "REJECT" {
			f.tcpFlags = 2
		}
	} else {
		f.tcpFlags = 0
	}
	if g.p.log.transitGateway {
		f.lostNoRoute = 0
		if r.IntN(50) == 0 {
			f.lostNoRoute = f.packets
		}
	}
}

// peerOf picks another interface than local: in another VPC for a transit
// gateway, else in the same VPC.
func (g *gen) peerOf(local *iface) *iface {
	for {
		p := &g.ifaces[g.r.IntN(len(g.ifaces))]
		if p != local && (p.vpc == local.vpc) != g.p.log.transitGateway {
			return p
		}
	}
}

// value appends field id of flow f, or '-'.
func (g *gen) value(b []byte, id genField, f *flow) []byte {
	str := func(s string) []byte {
		if s == "" {
			return append(b, '-')
		}
		return append(b, s...)
	}
	num := func(n int64) []byte {
		if n < 0 {
			return append(b, '-')
		}
		return strconv.AppendInt(b, n, 10)
	}
	ok := f.status == "OK"
	switch id {
	case gVersion:
		return str(versions[g.p.log.layout])
	case gAccount, gTGWSrcAccount, gTGWDstAccount:
		return str(g.p.account)
	case gInterface:
		return str(f.local.id)
	case gSrcAddr, gPktSrcAddr:
		return str(f.src)
	case gDstAddr, gPktDstAddr:
		return str(f.dst)
	case gSrcPort:
		return num(int64(f.srcPort))
	case gDstPort:
		return num(int64(f.dstPort))
	case gProtocol:
		return num(int64(f.protocol))
	case gPackets:
		return num(f.packets)
	case gBytes:
		return num(f.bytes)
	case gStart:
		return num(f.start)
	case gEnd:
		return num(f.end)
	case gAction:
		return str(f.action)
	case gStatus:
		return str(f.status)
	case gVPC:
		return str(f.local.vpc)
	case gSubnet:
		return str(f.local.subnet)
	case gInstance:
		return str(f.local.instance)
	case gTCPFlags:
		return num(int64(f.tcpFlags))
	case gType:
		return str(f.typ)
	case gRegion:
		return str(g.p.region)
	case gAZ:
		return str(f.local.az)
	case gPktSrcService:
		return str(f.srcService)
	case gPktDstService:
		return str(f.dstService)
	case gDirection:
		return str(f.direction)
	case gTrafficPath:
		return num(int64(f.trafficPath))
	case gResourceType:
		return str("TransitGateway")
	case gTGW:
		return str(g.tgw)
	case gTGWAttachment:
		if f.from != nil {
			return str(f.from.attachment)
		}
		return str(f.local.attachment)
	case gTGWSrcVPC, gTGWSrcSubnet, gTGWSrcENI, gTGWSrcAZ, gTGWDstVPC, gTGWDstSubnet, gTGWDstENI, gTGWDstAZ, gTGWPair:
		if f.from == nil {
			return str("")
		}
		switch id {
		case gTGWSrcVPC:
			return str(f.from.vpc)
		case gTGWSrcSubnet:
			return str(f.from.subnet)
		case gTGWSrcENI:
			return str(f.from.id)
		case gTGWSrcAZ:
			return str(f.from.az)
		case gTGWDstVPC:
			return str(f.to.vpc)
		case gTGWDstSubnet:
			return str(f.to.subnet)
		case gTGWDstENI:
			return str(f.to.id)
		case gTGWDstAZ:
			return str(f.to.az)
		}
		return str(f.to.attachment)
	case gLostNoRoute:
		return num(f.lostNoRoute)
	case gLostBlackhole, gLostMTU, gLostTTL:
		if ok {
			return num(0)
		}
	}
	return str("") // sublocations: none in this network
}

// zoneID is the prefix of a region's availability zone ids: use1 for
// us-east-1, apse2 for ap-southeast-2.
func zoneID(region string) string {
	parts := strings.Split(region, "-")
	var b strings.Builder
	for i, p := range parts {
		if i == 0 || i == len(parts)-1 {
			b.WriteString(p)
			continue
		}
		for _, w := range []string{"north", "south", "east", "west", "central"} {
			p = strings.ReplaceAll(p, w, w[:1])
		}
		b.WriteString(p)
	}
	return b.String()
}
