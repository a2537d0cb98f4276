package cloudtrail

import (
	"strconv"
	"time"

	"github.com/logtide/logtide/worker/format"
)

// The records are written by hand, members in CloudTrail's order. The
// parts that differ between APIs (the parameters, the response, the
// identity) are JSON fragments built from this file's tables, account
// numbers, regions and generated ids: none of them needs escaping.

// call is one record being rendered.
type call struct {
	source, name   string
	id             identity
	readOnly, data bool
	// eventType is AwsApiCall unless set.
	eventType string
	// sourceIP and userAgent default to the identity's.
	sourceIP, userAgent string
	// errCode and errMsg: the error the call fails with now and then
	// (never if empty). failed: it has failed (a sign-in, whose failure
	// has a message but no errorCode).
	errCode, errMsg string
	failed          bool
	// request and response are the JSON of requestParameters and
	// responseElements ("" for null; no response when the call fails);
	// extra of additionalEventData, details of serviceEventDetails.
	request, response, extra, details string
	resources                         [][2]string // type, ARN
	vpce                              bool
}

// Identity kinds.
const (
	iamUser = iota
	assumedRole
	awsService
	root
	awsInternal // a service event: no type, invokedBy "AWS Internal"
)

// identity is who made a call.
type identity struct {
	kind int
	// name is the user name, the role name or the service's host name;
	// session is an assumed role's session name.
	name, session string
	// console: a session of the console (temporary key, session
	// context); signin: the sign-in itself (no key).
	console, signin bool
}

var (
	users    = []string{"alice", "bob", "carol.ops", "ci-deployer", "dana.sec"}
	roles    = []string{"Admin", "ReadOnly", "DevOps", "OrganizationAccountAccessRole"}
	sessions = []string{"alice", "bob", "terraform", "botocore-session-1767571200", "i-0a1b2c3d4e5f60718"}
	buckets  = []string{"orders-archive", "web-assets", "data-lake-raw", "cloudtrail-logs"}
	keys     = []string{"invoices/2026/01/inv-20417.pdf", "assets/css/site.min.css", "raw/events/part-00017.parquet", "exports/customers.csv"}
	funcs    = []string{"orders-api", "thumbnailer", "nightly-report"}
	agents   = []string{
		"aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79-99.164.amzn2023.x86_64 exe/x86_64.amzn.2023 prompt/off command/ec2.describe-instances",
		"Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1.79 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69",
		"aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.151.0",
		"APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.42.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go/1.51.6 (go1.22.1; linux; amd64)",
		"console.amazonaws.com",
	}
	browser = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36"
)

// event fills in one kind of call; weight is how often it happens. A
// global service's events are logged in us-east-1 only.
type event struct {
	weight int
	fill   func(g *gen, c *call)
	global bool
}

const globalRegion = "us-east-1"

var (
	events = []event{
		{10, describeInstances, false}, {3, changeInstances, false}, {1, authorizeIngress, false},
		{4, listBuckets, false}, {2, bucketPolicy, false}, {12, objectEvent, false},
		{4, iamCall, true}, {9, assumeRole, false}, {4, callerIdentity, false}, {2, signIn, false},
		{9, kmsData, false}, {1, keyPolicy, false}, {1, rotateKey, false}, {3, lambdaInvoke, false},
		{5, createLogStream, false}, {1, lookupEvents, false}, {2, describeDB, false},
	}
	totalWeight = func() (n int) {
		for _, e := range events {
			n += e.weight
		}
		return n
	}()
)

// one picks an element of list.
func one[T any](g *gen, list []T) T { return list[g.r.IntN(len(list))] }

// chance is true with probability pct percent.
func (g *gen) chance(pct int) bool { return g.r.IntN(100) < pct }

// id is a 20-character access key or principal id, stable for (account,
// what).
func (g *gen) id(prefix, what string) string {
	return prefix + randomString(g.c.seed^0x6964, hashString(what)^format.Mix64(hashString(g.acct)), 16, upperAlnum)
}

func hashString(s string) uint64 {
	h := uint64(0)
	for i := range len(s) {
		h = format.Mix64(h ^ uint64(s[i]))
	}
	return h
}

func (g *gen) uuid() string { return string(format.AppendUUID(nil, g.r.Uint64(), g.r.Uint64())) }

// record renders record r of file i (the first delivery of it, when it
// is delivered again).
func (g *gen) record(i, r int) {
	if si, sr, again := g.c.redelivered(i, r); again {
		i, r = si, sr
	}
	g.pcg.Seed(g.c.seed^uint64(i)*0x9e3779b97f4a7c15, uint64(r))
	g.obj, g.acct, g.region = i, g.c.account(i), g.c.region(i)
	g.t = g.c.delivered(i).Add(-slot + time.Duration(g.r.IntN(int(slot/time.Second)))*time.Second)
	g.eventID = string(format.AppendUUID(nil, format.Mix64(g.c.seed^uint64(i)<<24^uint64(r)), format.Mix64(^g.c.seed^uint64(i)<<20^uint64(r))))
	g.comma = false
	if g.c.isInsight(i) {
		g.insight(r)
		return
	}
	n := g.r.IntN(totalWeight)
	for _, e := range events {
		if n < e.weight {
			if e.global && g.region != globalRegion {
				e = events[0]
			}
			c := call{eventType: "AwsApiCall"}
			e.fill(g, &c)
			g.write(&c)
			return
		}
		n -= e.weight
	}
}

// someone is a user (now and then in the console) or a role session, the
// usual callers.
func (g *gen) someone() identity {
	if g.chance(35) {
		return identity{kind: iamUser, name: one(g, users), console: g.chance(20)}
	}
	return identity{kind: assumedRole, name: one(g, roles), session: one(g, sessions)}
}

// identityJSON is the userIdentity of id.
func (g *gen) identityJSON(id identity) string {
	acct := `"accountId":"` + g.acct + `"`
	created := func(ago int) string {
		return `"creationDate":"` + g.t.Add(-time.Duration(g.r.IntN(ago))*time.Second).Format("2006-01-02T15:04:05Z") + `"`
	}
	switch id.kind {
	case iamUser:
		s := `{"type":"IAMUser","principalId":"` + g.id("AIDA", id.name) + `","arn":"arn:aws:iam::` + g.acct + `:user/` + id.name + `",` + acct
		switch {
		case id.console:
			s += `,"accessKeyId":"` + g.id("ASIA", id.name+g.eventID[:4]) + `"`
		case !id.signin:
			s += `,"accessKeyId":"` + g.id("AKIA", id.name) + `"`
		}
		s += `,"userName":"` + id.name + `"`
		if id.console {
			s += `,"sessionContext":{"sessionIssuer":{},"webIdFederationData":{},"attributes":{` + created(7200) + `,"mfaAuthenticated":"true"}}`
		}
		return s + "}"
	case assumedRole:
		roleID := g.id("AROA", id.name)
		return `{"type":"AssumedRole","principalId":"` + roleID + ":" + id.session + `","arn":"arn:aws:sts::` + g.acct + `:assumed-role/` + id.name + "/" + id.session +
			`",` + acct + `,"accessKeyId":"` + g.id("ASIA", id.name+id.session+g.eventID[:3]) + `","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"` + roleID +
			`","arn":"arn:aws:iam::` + g.acct + `:role/` + id.name + `",` + acct + `,"userName":"` + id.name + `"},"webIdFederationData":{},"attributes":{` +
			created(3600) + `,"mfaAuthenticated":"false"}}}`
	case awsService:
		return `{"type":"AWSService","invokedBy":"` + id.name + `"}`
	case root:
		return `{"type":"Root","principalId":"` + g.acct + `","arn":"arn:aws:iam::` + g.acct + `:root",` + acct + `,"accessKeyId":""}`
	}
	return `{` + acct + `,"invokedBy":"AWS Internal"}`
}

// sourceIP is a caller's address: mostly public (documentation ranges),
// some IPv6, some private through a VPC endpoint.
func (g *gen) sourceIP() (ip string, vpce bool) {
	switch n := g.r.IntN(100); {
	case n < 10:
		return "2001:db8:" + strconv.FormatInt(int64(g.r.IntN(0x10000)), 16) + "::" + strconv.FormatInt(int64(g.r.IntN(0x10000)), 16), false
	case n < 20:
		return "10.0." + strconv.Itoa(g.r.IntN(16)) + "." + strconv.Itoa(1+g.r.IntN(254)), true
	}
	return one(g, []string{"192.0.2.", "198.51.100.", "203.0.113."}) + strconv.Itoa(1+g.r.IntN(254)), false
}

// write renders c; now and then a call that can fail does.
func (g *gen) write(c *call) {
	switch {
	case c.sourceIP != "":
	case c.id.kind == awsService:
		c.sourceIP, c.userAgent = c.id.name, c.id.name
	case c.id.kind == awsInternal:
		c.sourceIP, c.userAgent = "AWS Internal", "AWS Internal"
	default:
		c.sourceIP, c.vpce = g.sourceIP()
	}
	if c.userAgent == "" {
		c.userAgent = one(g, agents)
	}
	failed := c.failed || c.errMsg != "" && g.chance(6)
	g.sep()
	g.b = append(g.b, '{')
	g.comma = false
	g.str("eventVersion", "1.10")
	g.lit("userIdentity", g.identityJSON(c.id))
	g.ts("eventTime", g.t)
	g.str("eventSource", c.source)
	g.str("eventName", c.name)
	g.str("awsRegion", g.region)
	g.str("sourceIPAddress", c.sourceIP)
	g.str("userAgent", c.userAgent)
	if failed {
		if c.errCode != "" {
			// A failed API call has no response.
			g.str("errorCode", c.errCode)
			c.response = ""
		}
		g.str("errorMessage", c.errMsg)
	}
	g.lit("requestParameters", orNull(c.request))
	g.lit("responseElements", orNull(c.response))
	if c.extra != "" {
		g.lit("additionalEventData", c.extra)
	}
	if c.eventType == "AwsApiCall" {
		g.str("requestID", g.uuid())
	}
	g.str("eventID", g.eventID)
	g.lit("readOnly", strconv.FormatBool(c.readOnly))
	if len(c.resources) > 0 {
		g.key("resources")
		g.b = append(g.b, '[')
		for i, r := range c.resources {
			if i > 0 {
				g.b = append(g.b, ',')
			}
			g.b = append(g.b, `{"accountId":"`+g.acct+`","type":"`+r[0]+`","ARN":"`+r[1]+`"}`...)
		}
		g.b = append(g.b, ']')
		g.comma = true
	}
	g.str("eventType", c.eventType)
	g.lit("managementEvent", strconv.FormatBool(!c.data))
	g.str("recipientAccountId", g.acct)
	if c.details != "" {
		g.lit("serviceEventDetails", c.details)
	}
	if c.vpce {
		g.str("vpcEndpointId", "vpce-0"+randomString(g.c.seed, hashString(g.acct+g.region), 16, hexDigits))
		g.str("vpcEndpointAccountId", g.acct)
	}
	g.str("eventCategory", map[bool]string{true: "Data", false: "Management"}[c.data])
	if c.eventType == "AwsApiCall" && c.id.kind != awsService {
		g.lit("tlsDetails", `{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"`+host(c.source, g.region)+`"}`)
	}
	if c.id.console {
		g.str("sessionCredentialFromConsole", "true")
	}
	g.b = append(g.b, '}')
	g.comma = true
}

func orNull(fragment string) string {
	if fragment == "" {
		return "null"
	}
	return fragment
}

// host is the endpoint a service is called at.
func host(source, region string) string {
	svc := source[:len(source)-len(".amazonaws.com")]
	switch svc {
	case "iam", "sts":
		return svc + ".amazonaws.com"
	case "signin":
		return "signin.aws.amazon.com"
	}
	return svc + "." + region + ".amazonaws.com"
}

// kmsKey is the account's KMS key in the region.
func (g *gen) kmsKey() string {
	return "arn:aws:kms:" + g.region + ":" + g.acct + ":key/" + string(format.AppendUUID(nil, format.Mix64(hashString(g.acct+g.region)), format.Mix64(g.c.seed)))
}

func (g *gen) hexID(prefix string, k uint64) string {
	return prefix + randomString(g.c.seed^0x68, k^hashString(g.acct), 16, hexDigits)
}

// s3Extra is the additionalEventData of S3 calls.
func (g *gen) s3Extra(in, out int) string {
	return `{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":` + strconv.Itoa(in) +
		`,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"` + randomString(g.c.seed, g.r.Uint64(), 56, alnum) + `","bytesTransferredOut":` + strconv.Itoa(out) + `}`
}

func describeInstances(g *gen, c *call) {
	c.source, c.name, c.readOnly, c.id = "ec2.amazonaws.com", "DescribeInstances", true, g.someone()
	c.errCode, c.errMsg = "Client.UnauthorizedOperation", "You are not authorized to perform this operation. User is not authorized to perform: ec2:DescribeInstances because no identity-based policy allows the ec2:DescribeInstances action"
	c.request = `{"instancesSet":{},"filterSet":{"items":[{"name":"tag:team","valueSet":{"items":[{"value":"` + one(g, []string{"payments", "platform", "data"}) + `"}]}}]}}`
}

func changeInstances(g *gen, c *call) {
	c.source, c.name, c.id = "ec2.amazonaws.com", one(g, []string{"StartInstances", "StopInstances", "TerminateInstances", "RunInstances"}), g.someone()
	c.errCode, c.errMsg = "Client.UnauthorizedOperation", "You are not authorized to perform this operation. Encoded authorization failure message: 4Zb0Xq-EXAMPLE"
	id := g.hexID("i-0", uint64(g.r.IntN(40)))
	state := map[string]string{"StartInstances": `0,"name":"pending"`, "RunInstances": `0,"name":"pending"`, "StopInstances": `64,"name":"stopping"`, "TerminateInstances": `32,"name":"shutting-down"`}[c.name]
	if c.name == "RunInstances" {
		c.request = `{"instancesSet":{"items":[{"imageId":"` + g.hexID("ami-0", 7) + `","minCount":1,"maxCount":1}]},"instanceType":"` + one(g, []string{"t3.micro", "m7g.large", "c7i.xlarge"}) + `"}`
	} else {
		c.request = `{"instancesSet":{"items":[{"instanceId":"` + id + `"}]}}`
	}
	c.response = `{"requestId":"` + g.uuid() + `","instancesSet":{"items":[{"instanceId":"` + id + `","currentState":{"code":` + state + `}}]}}`
}

func authorizeIngress(g *gen, c *call) {
	c.source, c.name, c.id = "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", g.someone()
	c.errCode, c.errMsg = "Client.InvalidPermission.Duplicate", `the specified rule "peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW" already exists`
	port := strconv.Itoa(one(g, []int{22, 443, 3389, 5432}))
	c.request = `{"groupId":"` + g.hexID("sg-0", uint64(len(port))) + `","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":` + port + `,"toPort":` + port +
		`,"ipRanges":{"items":[{"cidrIp":"` + one(g, []string{"0.0.0.0/0", "10.0.0.0/16", "203.0.113.0/24"}) + `"}]}}]}}`
	c.response = `{"requestId":"` + g.uuid() + `","_return":true}`
}

func listBuckets(g *gen, c *call) {
	c.source, c.name, c.readOnly, c.id = "s3.amazonaws.com", "ListBuckets", true, g.someone()
	c.request, c.extra = `{"Host":"s3.amazonaws.com"}`, g.s3Extra(0, 0)
}

// bucketPolicy: requestParameters.policy is an object here, a string in
// KMS's PutKeyPolicy.
func bucketPolicy(g *gen, c *call) {
	c.source, c.name, c.id = "s3.amazonaws.com", "PutBucketPolicy", g.someone()
	c.errCode, c.errMsg = "AccessDenied", "Access Denied"
	b := one(g, buckets) + "-" + g.acct
	c.resources = [][2]string{{"AWS::S3::Bucket", "arn:aws:s3:::" + b}}
	c.request = `{"bucketName":"` + b + `","Host":"` + b + `.s3.` + g.region + `.amazonaws.com","policy":{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::` + b + `/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}}`
	c.extra = g.s3Extra(0, 0)
}

// objectEvent is an S3 data event.
func objectEvent(g *gen, c *call) {
	get := g.chance(70)
	c.source, c.name, c.readOnly, c.data, c.id = "s3.amazonaws.com", "PutObject", get, true, g.someone()
	c.errCode, c.errMsg = "AccessDenied", "Access Denied"
	b, k := one(g, buckets)+"-"+g.acct, one(g, keys)
	c.resources = [][2]string{{"AWS::S3::Object", "arn:aws:s3:::" + b + "/" + k}, {"AWS::S3::Bucket", "arn:aws:s3:::" + b}}
	c.request = `{"bucketName":"` + b + `","Host":"` + b + `.s3.` + g.region + `.amazonaws.com","key":"` + k + `"}`
	size := 200 + g.r.IntN(2<<20)
	if get {
		c.name, c.extra = "GetObject", g.s3Extra(0, size)
		return
	}
	c.response = `{"x-amz-server-side-encryption":"aws:kms","x-amz-server-side-encryption-aws-kms-key-id":"` + g.kmsKey() + `"}`
	c.extra = g.s3Extra(size, 0)
}

func iamCall(g *gen, c *call) {
	c.source, c.name = "iam.amazonaws.com", one(g, []string{"CreateUser", "AttachUserPolicy", "CreateAccessKey", "ListUsers", "GetRole", "DeleteAccessKey"})
	c.readOnly = c.name[0] == 'L' || c.name[0] == 'G'
	c.id = identity{kind: assumedRole, name: "Admin", session: one(g, sessions[:3])}
	c.errCode, c.errMsg = "NoSuchEntityException", "The user with name dev-temp cannot be found."
	target := one(g, []string{"dev-temp", "svc-backup", "eve"})
	created := g.t.Format("Jan 2, 2006, 3:04:05 PM")
	switch c.name {
	case "ListUsers":
	case "GetRole":
		c.request = `{"roleName":"` + one(g, roles) + `"}`
	case "AttachUserPolicy":
		c.request = `{"userName":"` + target + `","policyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`
	case "DeleteAccessKey":
		c.request = `{"userName":"` + target + `","accessKeyId":"` + g.id("AKIA", target) + `"}`
	case "CreateUser":
		c.request = `{"userName":"` + target + `"}`
		c.response = `{"user":{"path":"/","userName":"` + target + `","userId":"` + g.id("AIDA", target) + `","arn":"arn:aws:iam::` + g.acct + `:user/` + target + `","createDate":"` + created + `"}}`
	case "CreateAccessKey":
		c.request = `{"userName":"` + target + `"}`
		c.response = `{"accessKey":{"userName":"` + target + `","accessKeyId":"` + g.id("AKIA", target+g.eventID) + `","status":"Active","createDate":"` + created + `"}}`
	}
}

// assumeRole: a service (sourceIPAddress is then its name) or a user
// takes a role.
func assumeRole(g *gen, c *call) {
	c.source, c.name, c.readOnly = "sts.amazonaws.com", "AssumeRole", true
	role, session := one(g, roles), one(g, sessions)
	if g.chance(60) {
		svc := one(g, [][2]string{{"lambda.amazonaws.com", "lambda-orders-exec"}, {"ec2.amazonaws.com", "ec2-app"}, {"ecs-tasks.amazonaws.com", "ecs-task-web"}})
		c.id, role, session = identity{kind: awsService, name: svc[0]}, svc[1], one(g, funcs)
	} else {
		c.id = g.someone()
	}
	arn := "arn:aws:iam::" + g.acct + ":role/" + role
	c.errCode, c.errMsg = "AccessDenied", "User is not authorized to perform: sts:AssumeRole on resource: "+arn
	c.resources = [][2]string{{"AWS::IAM::Role", arn}}
	c.request = `{"roleArn":"` + arn + `","roleSessionName":"` + session + `","durationSeconds":3600}`
	c.response = `{"credentials":{"accessKeyId":"` + g.id("ASIA", role+session+g.eventID) + `","sessionToken":"` + randomString(g.c.seed, g.r.Uint64(), 120, alnum) +
		`","expiration":"` + g.t.Add(time.Hour).Format("Jan 2, 2006, 3:04:05 PM") + `"},"assumedRoleUser":{"assumedRoleId":"` + g.id("AROA", role) + ":" + session +
		`","arn":"arn:aws:sts::` + g.acct + `:assumed-role/` + role + "/" + session + `"}}`
}

func callerIdentity(g *gen, c *call) {
	c.source, c.name, c.readOnly, c.id = "sts.amazonaws.com", "GetCallerIdentity", true, g.someone()
}

// signIn: a user or the root user signs in; a failed sign-in has an
// errorMessage but no errorCode.
func signIn(g *gen, c *call) {
	c.source, c.name, c.eventType, c.userAgent = "signin.amazonaws.com", "ConsoleLogin", "AwsConsoleSignIn", browser
	c.id = identity{kind: iamUser, name: one(g, users), signin: true}
	mfa := "No"
	if g.chance(15) {
		c.id, mfa = identity{kind: root}, "Yes"
	}
	c.response = `{"ConsoleLogin":"Success"}`
	if g.chance(10) {
		c.failed, c.errMsg, c.response = true, "Failed authentication", `{"ConsoleLogin":"Failure"}`
	}
	c.extra = `{"LoginTo":"https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true","MobileVersion":"No","MFAUsed":"` + mfa + `"}`
}

// kmsData: a key used, now and then by S3 on a caller's behalf (the
// source is then S3's name).
func kmsData(g *gen, c *call) {
	c.source, c.name, c.readOnly, c.id = "kms.amazonaws.com", one(g, []string{"Decrypt", "GenerateDataKey"}), true, g.someone()
	if g.chance(50) {
		c.sourceIP, c.userAgent = "s3.amazonaws.com", "s3.amazonaws.com"
	}
	c.errCode, c.errMsg = "AccessDeniedException", "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access."
	key := g.kmsKey()
	c.resources = [][2]string{{"AWS::KMS::Key", key}}
	c.request = `{"encryptionContext":{"aws:s3:arn":"arn:aws:s3:::` + one(g, buckets) + "-" + g.acct + "/" + one(g, keys) + `"},"encryptionAlgorithm":"SYMMETRIC_DEFAULT"`
	if c.name == "GenerateDataKey" {
		c.request += `,"keyId":"` + key + `","keySpec":"AES_256"`
	}
	c.request += "}"
}

// keyPolicy: requestParameters.policy is a string here, an object in S3's
// PutBucketPolicy.
func keyPolicy(g *gen, c *call) {
	c.source, c.name, c.id = "kms.amazonaws.com", "PutKeyPolicy", identity{kind: assumedRole, name: "Admin", session: "terraform"}
	c.errCode, c.errMsg = "MalformedPolicyDocumentException", "The new key policy will not allow you to update the key policy in the future."
	key := g.kmsKey()
	c.resources = [][2]string{{"AWS::KMS::Key", key}}
	c.request = `{"keyId":"` + key + `","policyName":"default","policy":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Enable IAM policies\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::` +
		g.acct + `:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}","bypassPolicyLockoutSafetyCheck":false}`
}

// rotateKey is a service event: its identity has no type.
func rotateKey(g *gen, c *call) {
	c.source, c.name, c.eventType, c.id = "kms.amazonaws.com", "RotateKey", "AwsServiceEvent", identity{kind: awsInternal}
	key := g.kmsKey()
	c.resources = [][2]string{{"AWS::KMS::Key", key}}
	c.details = `{"rotationType":"AUTOMATIC","keyId":"` + key[len(key)-36:] + `"}`
}

// lambdaInvoke is a Lambda data event.
func lambdaInvoke(g *gen, c *call) {
	c.source, c.name, c.data, c.id = "lambda.amazonaws.com", "Invoke", true, g.someone()
	c.errCode, c.errMsg = "TooManyRequestsException", "Rate Exceeded."
	arn := "arn:aws:lambda:" + g.region + ":" + g.acct + ":function:" + one(g, funcs)
	c.resources = [][2]string{{"AWS::Lambda::Function", arn}}
	c.request = `{"functionName":"` + arn + `","invocationType":"` + one(g, []string{"RequestResponse", "Event"}) + `"}`
	c.extra = `{"functionVersion":"` + arn + `:$LATEST"}`
}

func createLogStream(g *gen, c *call) {
	fn := one(g, funcs)
	c.source, c.name, c.id = "logs.amazonaws.com", "CreateLogStream", identity{kind: assumedRole, name: "lambda-orders-exec", session: fn}
	c.sourceIP, c.userAgent = "10.0.3."+strconv.Itoa(1+g.r.IntN(254)), "awslambda-worker/1.0 rust-aws-sdk-cloudwatchlogs/1.2.0"
	c.errCode, c.errMsg = "ResourceAlreadyExistsException", "The specified log stream already exists"
	c.request = `{"logGroupName":"/aws/lambda/` + fn + `","logStreamName":"` + g.t.Format("2006/01/02") + "/[$LATEST]" + randomString(g.c.seed, g.r.Uint64(), 32, hexDigits) + `"}`
}

func lookupEvents(g *gen, c *call) {
	c.source, c.name, c.readOnly, c.id = "cloudtrail.amazonaws.com", "LookupEvents", true, identity{kind: iamUser, name: "dana.sec"}
	c.errCode, c.errMsg = "ThrottlingException", "Rate exceeded"
	c.request = `{"maxResults":50,"lookupAttributes":[{"attributeKey":"EventName","attributeValue":"ConsoleLogin"}]}`
	if g.chance(10) {
		c.name, c.readOnly = "StopLogging", false
		c.request = `{"name":"arn:aws:cloudtrail:` + g.region + ":" + g.acct + `:trail/management-trail"}`
	}
}

func describeDB(g *gen, c *call) {
	c.source, c.name, c.readOnly, c.id = "rds.amazonaws.com", "DescribeDBInstances", true, g.someone()
	c.errCode, c.errMsg = "AccessDenied", "User: arn:aws:sts::"+g.acct+":assumed-role/ReadOnly/bob is not authorized to perform: rds:DescribeDBInstances"
}

// insight renders record r of an Insights file: Start and End events in
// pairs sharing a sharedEventID.
func (g *gen) insight(r int) {
	g.pcg.Seed(g.c.seed^uint64(g.obj)*0x9e3779b97f4a7c15^0x696e, uint64(r/2))
	start := g.c.delivered(g.obj).Add(-slot + time.Duration(g.r.IntN(60))*time.Second)
	api := one(g, [][2]string{{"ec2.amazonaws.com", "DescribeInstances"}, {"ssm.amazonaws.com", "UpdateInstanceInformation"}, {"iam.amazonaws.com", "GetUser"}})
	typ := one(g, []string{"ApiCallRateInsight", "ApiErrorRateInsight"})
	baseline := 1 + g.r.Float64()*100
	seen := baseline * (5 + g.r.Float64()*20)
	minutes := 1 + g.r.IntN(4)
	shared := g.uuid()
	state, statistics := "Start", ""
	if r%2 == 1 {
		state, statistics = "End", `,"insightDuration":`+strconv.Itoa(minutes)+`,"baselineDuration":10080`
		start = start.Add(time.Duration(minutes) * time.Minute)
	}
	g.sep()
	g.b = append(g.b, '{')
	g.comma = false
	g.str("eventVersion", "1.08")
	g.ts("eventTime", start)
	g.str("awsRegion", g.region)
	g.str("eventID", g.eventID)
	g.str("eventType", "AwsCloudTrailInsight")
	g.str("recipientAccountId", g.acct)
	g.str("sharedEventID", shared)
	g.lit("insightDetails", `{"state":"`+state+`","eventSource":"`+api[0]+`","eventName":"`+api[1]+`","insightType":"`+typ+
		`","insightContext":{"statistics":{"baseline":{"average":`+strconv.FormatFloat(baseline, 'f', 9, 64)+`},"insight":{"average":`+
		strconv.FormatFloat(seen, 'f', 1, 64)+`}`+statistics+`}}}`)
	g.str("eventCategory", "Insight")
	g.b = append(g.b, '}')
	g.comma = true
}
