package elb

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/logtide/logtide/worker/format"
)

// lineGen renders the lines of one object into b, one at a time.
type lineGen struct {
	r *rand.Rand
	p *objectPlan
	b []byte
}

// Sample values. Client addresses come from the documentation ranges.
var (
	clientNets  = []string{"198.51.100.", "203.0.113.", "192.0.2."}
	userAgents  = []string{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148", "curl/8.5.0", "python-requests/2.32.3", "Go-http-client/2.0", "okhttp/4.12.0", "grpc-go/1.68.0", "Amazon CloudFront"}
	oddAgents   = []string{`Mozilla/5.0 (compatible; \"scanner\" v2; +https://scan.example.invalid/bot)`, `say \"hi\" \\ bye`, "-"}
	paths       = []string{"/", "/index.html", "/login", "/api/v1/orders", "/api/v1/orders/8812", "/api/v1/cart", "/static/app.3f9c1e.js", "/health", "/search", "/images/logo.png"}
	queries     = []string{"", "", "", "?q=shoes&page=2", "?session=abc123", "?utm_source=mail&utm_medium=email"}
	ciphers12   = []string{"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256"}
	ciphers13   = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}
	classReason = []string{"UndefinedContentLengthSemantics", "NonCompliantHeader", "AmbiguousUri", "SpaceInUri", "BadHeader"}
	lambdaErrs  = []string{"LambdaUnhandled", "LambdaInvalidResponse", "LambdaTimeout"}
)

// pick returns one of s.
func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func (g *lineGen) str(s string) { g.b = append(g.b, s...) }
func (g *lineGen) sp()          { g.b = append(g.b, ' ') }
func (g *lineGen) quoted(s string) {
	g.b = append(g.b, '"')
	g.b = append(g.b, s...)
	g.b = append(g.b, '"')
}
func (g *lineGen) int(n int) { g.b = strconv.AppendInt(g.b, int64(n), 10) }
func (g *lineGen) hex(n int) {
	for range n {
		g.b = append(g.b, "0123456789abcdef"[g.r.IntN(16)])
	}
}

// secs writes a processing time with d decimals, or -1.
func (g *lineGen) secs(t time.Duration, d int) {
	if t < 0 {
		g.str("-1")
		return
	}
	g.b = strconv.AppendFloat(g.b, t.Seconds(), 'f', d, 64)
}

// client writes a client address: IPv6 for one in twelve.
func (g *lineGen) client() {
	if g.r.IntN(12) == 0 {
		g.b = fmt.Appendf(g.b, "[2001:db8:%x::%x]:%d", g.r.IntN(0xffff), 1+g.r.IntN(0xfffe), 1024+g.r.IntN(64000))
		return
	}
	g.b = fmt.Appendf(g.b, "%s%d:%d", pick(g.r, clientNets), 1+g.r.IntN(254), 1024+g.r.IntN(64000))
}

// certificate is the ARN of the ACM certificate of host: the same on every
// line.
func certificate(p *objectPlan, host string) string {
	h, l := hash(p.account+host), format.Mix64(hash(p.region+host))
	return fmt.Sprintf("arn:aws:acm:%s:%s:certificate/%08x-%04x-4%03x-8%03x-%012x", p.region, p.account,
		uint32(h), uint16(h>>32), h>>48&0xfff, l&0xfff, l>>16&0xffffffffffff)
}

func (g *lineGen) targetAddr(port int) string {
	return fmt.Sprintf("10.0.%d.%d:%d", g.r.IntN(4), 10+g.r.IntN(200), port)
}

// line renders one line of the object's kind at time t, newline included.
func (g *lineGen) line(t time.Time) {
	g.b = g.b[:0]
	switch g.p.kind {
	case nlb:
		g.nlbLine(t)
	case classic:
		g.classicLine(t)
	default:
		g.albLine(t)
	}
	g.b = append(g.b, '\n')
}

// albLine renders an Application Load Balancer request.
func (g *lineGen) albLine(t time.Time) {
	r, p, lb := g.r, g.p, &g.p.lb
	typ := []string{"http", "https", "https", "https", "h2", "h2", "https", "http", "h2", "https", "https", "h2", "grpcs", "ws", "wss", "https"}[r.IntN(16)]
	tls := typ != "http" && typ != "ws"
	scheme, port, proto := "https", 443, "HTTP/1.1"
	if !tls {
		scheme, port = "http", 80
	}
	if typ == "h2" || typ == "grpcs" {
		proto = "HTTP/2.0"
	}
	method, path := "GET", pick(r, paths)+pick(r, queries)
	switch {
	case typ == "grpcs":
		method, path = "POST", "/orders.v1.OrderService/"+pick(r, []string{"GetOrder", "ListOrders", "PlaceOrder"})
	case typ == "ws" || typ == "wss":
		path = "/socket/updates"
	case r.IntN(5) == 0:
		method = pick(r, []string{"POST", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"})
	}
	lambda := typ != "ws" && typ != "wss" && r.IntN(100) < lb.lambda

	// What happened to the request.
	targetPort := 8080
	target, tgName := g.targetAddr(targetPort), lb.name+"-tg"
	if lambda {
		target, tgName = "-", lb.name+"-fn"
	}
	reqT := time.Duration(r.IntN(3)) * time.Millisecond
	tgtT := time.Duration(1+r.ExpFloat64()*40) * time.Millisecond
	respT := time.Duration(0)
	status, tstatus := 200, "200"
	actions, redirect, errReason := "forward", "-", "-"
	if lb.waf {
		actions = "waf,forward"
	}
	switch roll := r.IntN(100); {
	case typ == "ws" || typ == "wss":
		status, tstatus = 101, "101"
		tgtT = time.Duration(1+r.IntN(900)) * time.Second // WebSocket lines are written when the connection closes
	case roll < 80:
		switch method {
		case "POST":
			status = 201
		case "DELETE":
			status = 204
		}
		tstatus = strconv.Itoa(status)
	case roll < 84 && !lambda:
		status, tstatus = 304, "304"
	case roll < 88:
		// A listener rule redirecting to HTTPS or elsewhere: no target.
		status, tstatus, target, tgName, actions = 301+r.IntN(2), "-", "-", "", "redirect"
		redirect = "https://" + lb.host + ":443" + path
		tgtT = 0
	case roll < 91 && lb.waf:
		status, tstatus, target, tgName, actions, tgtT = 403, "-", "-", "", "waf", 0
	case roll < 94:
		status = pick(r, []int{400, 401, 404, 404, 404, 429})
		tstatus = strconv.Itoa(status)
	case roll < 95:
		// The client went away before the answer: no target status.
		status, tstatus, tgtT, respT = 460, "-", -1, -1
	case lambda:
		status, tstatus, errReason = 502, "-", pick(r, lambdaErrs)
	default:
		switch r.IntN(4) {
		case 0:
			status, tstatus, tgtT, respT = 502, "-", -1, -1
		case 1:
			status, tstatus, target, reqT, tgtT, respT = 503, "-", "-", -1, -1, -1
		case 2:
			status, tstatus, tgtT, respT = 504, "-", -1, -1
		default:
			status, tstatus = 500, "500"
		}
	}
	if status == 503 && !lambda {
		actions = "forward"
	}

	g.str(typ)
	g.sp()
	g.str(t.UTC().Format("2006-01-02T15:04:05.000000Z"))
	g.sp()
	g.str(lb.id)
	g.sp()
	g.client()
	g.sp()
	g.str(target)
	g.sp()
	g.secs(reqT, 3)
	g.sp()
	g.secs(tgtT, 3)
	g.sp()
	g.secs(respT, 3)
	g.sp()
	g.int(status)
	g.sp()
	g.str(tstatus)
	g.sp()
	g.int(80 + r.IntN(2400))
	g.sp()
	sent := 150 + r.IntN(3000)
	if r.IntN(4) == 0 {
		sent += r.IntN(200000)
	}
	g.int(sent)
	g.sp()
	g.quoted(method + " " + scheme + "://" + lb.host + ":" + strconv.Itoa(port) + path + " " + proto)
	g.sp()
	ua := pick(r, userAgents)
	if r.IntN(40) == 0 {
		ua = pick(r, oddAgents)
	}
	g.quoted(ua)
	g.sp()
	if tls {
		if r.IntN(3) == 0 {
			g.str(pick(r, ciphers12) + " TLSv1.2 ")
		} else {
			g.str(pick(r, ciphers13) + " TLSv1.3 ")
		}
	} else {
		g.str("- - ")
	}
	if tgName == "" {
		g.str("-")
	} else {
		g.b = fmt.Appendf(g.b, "arn:aws:elasticloadbalancing:%s:%s:targetgroup/%s/%016x", p.region, p.account, tgName, hash(lb.id+tgName))
	}
	created := t.Add(-max(reqT, 0) - max(tgtT, 0) - max(respT, 0)).Truncate(time.Millisecond)
	g.b = fmt.Appendf(g.b, ` "Root=1-%08x-`, created.Unix())
	g.hex(24)
	g.str(`" `)
	if tls {
		g.quoted(lb.host)
		g.str(" ")
		g.quoted(certificate(p, lb.host))
		g.str(" ")
	} else {
		g.str(`"-" "-" `)
	}
	if actions == "redirect" || actions == "waf" {
		g.str("0")
	} else {
		g.int([]int{0, 1, 2, 5, 10, 10, 20}[r.IntN(7)])
	}
	g.sp()
	g.str(created.Format("2006-01-02T15:04:05.000000Z"))
	g.sp()
	g.quoted(actions)
	g.sp()
	g.quoted(redirect)
	g.sp()
	g.quoted(errReason)
	g.sp()
	switch {
	case target == "-":
		g.str(`"-" "-"`)
	default:
		g.quoted(target)
		g.sp()
		g.quoted(tstatus)
	}
	g.sp()
	if r.IntN(40) == 0 {
		g.quoted(pick(r, []string{"Acceptable", "Ambiguous"}))
		g.sp()
		g.quoted(pick(r, classReason))
	} else {
		g.str(`"-" "-"`)
	}
	if p.albFields >= 30 {
		g.str(" TID_")
		g.hex(32)
	}
	if p.albFields >= 33 {
		g.str(` "-" "-" "-"`)
	}
	if p.albFields >= 36 {
		g.sp()
		g.str(p.node)
		g.str(` "-" "-"`)
	}
}

// nlbLine renders a Network Load Balancer TLS connection.
func (g *lineGen) nlbLine(t time.Time) {
	r, p, lb := g.r, g.p, &g.p.lb
	conn := time.Duration(5+r.ExpFloat64()*20000) * time.Millisecond
	g.str("tls 2.0 ")
	g.str(t.UTC().Format("2006-01-02T15:04:05"))
	g.sp()
	g.str(lb.id)
	g.b = fmt.Appendf(g.b, " %016x ", hash(lb.id))
	g.client()
	g.sp()
	g.str(g.targetAddr(443))
	g.sp()
	g.int(int(conn / time.Millisecond))
	g.sp()
	if r.IntN(16) == 0 {
		// A handshake that did not complete: no cipher, nothing sent.
		g.b = fmt.Appendf(g.b, "- %d 0 %s - - - - - %s - - - ", 100+r.IntN(400), pick(r, []string{"-", "46", "48"}), lb.host)
	} else {
		g.b = fmt.Appendf(g.b, "%d %d %d - %s %x ", 1+r.IntN(30), 200+r.IntN(20000), 500+r.IntN(500000),
			certificate(p, lb.host), format.Mix64(hash(lb.host+"serial")))
		if r.IntN(3) == 0 {
			g.str(pick(r, ciphers12) + " tlsv12 ")
		} else {
			g.str(pick(r, ciphers13) + " tlsv13 ")
		}
		g.str(pick(r, []string{"x25519", "secp256r1", "-"}))
		g.sp()
		g.str(lb.host)
		if p.alpn {
			g.str(` h2 h2 "h2","http/1.1" `)
		} else {
			g.str(" - - - ")
		}
	}
	g.str(t.Add(-conn).UTC().Format("2006-01-02T15:04:05"))
}

// classicLine renders a Classic Load Balancer request, or a connection of
// a TCP listener.
func (g *lineGen) classicLine(t time.Time) {
	r, lb := g.r, &g.p.lb
	g.str(t.UTC().Format("2006-01-02T15:04:05.000000Z"))
	g.sp()
	g.str(lb.id)
	g.sp()
	g.client()
	g.sp()
	reqT := time.Duration(20+r.IntN(80)) * time.Microsecond
	backT := time.Duration(300+r.ExpFloat64()*30000) * time.Microsecond
	respT := time.Duration(20+r.IntN(60)) * time.Microsecond
	switch roll := r.IntN(100); {
	case roll < 15:
		// A TCP listener: no HTTP, no status codes.
		g.str(g.targetAddr(5432))
		g.sp()
		g.secs(reqT, 6)
		g.sp()
		g.secs(backT, 6)
		g.sp()
		g.secs(respT, 6)
		g.b = fmt.Appendf(g.b, ` - - %d %d "- - - " "-" - -`, r.IntN(4000), r.IntN(40000))
		return
	case roll < 19:
		// No healthy backend.
		g.b = fmt.Appendf(g.b, "- -1 -1 -1 503 0 0 0")
	default:
		status := pick(r, []int{200, 200, 200, 200, 200, 302, 304, 404, 500})
		g.str(g.targetAddr(80))
		g.sp()
		g.secs(reqT, 6)
		g.sp()
		g.secs(backT, 6)
		g.sp()
		g.secs(respT, 6)
		g.b = fmt.Appendf(g.b, " %d %d %d %d", status, status, r.IntN(900), 200+r.IntN(90000))
	}
	https := r.IntN(2) == 0
	scheme, port := "http", 80
	if https {
		scheme, port = "https", 443
	}
	g.b = fmt.Appendf(g.b, ` "%s %s://%s:%d%s%s HTTP/1.1" `, pick(r, []string{"GET", "GET", "GET", "POST"}), scheme, lb.host, port, pick(r, paths), pick(r, queries))
	g.quoted(pick(r, userAgents))
	if https {
		g.str(" " + pick(r, ciphers12) + " TLSv1.2")
	} else {
		g.str(" - -")
	}
}
