package guardduty

// family groups finding types that share a resource and service shape.
type family int

const (
	famPortProbe family = iota
	famNetwork
	famDNS
	famIAM
	famS3
	famKubernetes
	famRDS
	famRuntime
	famMalware
	famAttackSequence
	numFamilies
)

// familyWeights is the share of each family in a corpus, roughly what a
// busy account sees: network noise dominates, correlated findings are rare.
var familyWeights = [numFamilies]int{18, 17, 9, 16, 8, 8, 6, 9, 5, 4}

// actionTypes is service.action.actionType per family; "" means the family
// carries no service.action.
var actionTypes = [numFamilies]string{
	famPortProbe:      "PORT_PROBE",
	famNetwork:        "NETWORK_CONNECTION",
	famDNS:            "DNS_REQUEST",
	famIAM:            "AWS_API_CALL",
	famS3:             "AWS_API_CALL",
	famKubernetes:     "KUBERNETES_API_CALL",
	famRDS:            "RDS_LOGIN_ATTEMPT",
	famRuntime:        "",
	famMalware:        "",
	famAttackSequence: "",
}

var featureNames = [numFamilies]string{
	famPortProbe:      "FlowLogs",
	famNetwork:        "FlowLogs",
	famDNS:            "DnsLogs",
	famIAM:            "CloudTrail",
	famS3:             "S3DataEvents",
	famKubernetes:     "EksAuditLogs",
	famRDS:            "RdsLoginEvents",
	famRuntime:        "RuntimeMonitoring",
	famMalware:        "EbsMalwareProtection",
	famAttackSequence: "Correlation",
}

// findingType describes one GuardDuty finding type. Only the knobs that its
// family uses are set. Templates use {instance} {host} {ip} {user} {bucket}
// {cluster} {db} {port} {domain} {api} {process} {account} {n}.
type findingType struct {
	name     string
	severity float64
	title    string
	desc     string

	direction  string // NETWORK_CONNECTION
	localPort  int    // NETWORK_CONNECTION inbound / PORT_PROBE
	remotePort int    // NETWORK_CONNECTION outbound
	threat     string // threat list name, if the type comes from threat intel
	unusual    bool   // additionalInfo.unusual is set
	apis       []string
	apiService string
	userType   string // AccessKey resources: IAMUser, AssumedRole, Root
	domains    []string
	verb       string // KUBERNETES_API_CALL
	uri        string
	k8sUser    string
	failed     bool // RDS: failed logins only
	tor        bool
	process    string // runtime
	context    string // runtime: which RuntimeContext fields to write
}

var findingTypes = [numFamilies][]findingType{
	famPortProbe: {
		{name: "Recon:EC2/PortProbeUnprotectedPort", severity: 2,
			title:  "Unprotected port on EC2 instance {instance} is being probed.",
			desc:   "EC2 instance {instance} has an unprotected port {port} which is being probed by a known malicious host.",
			threat: "ProofPoint"},
		{name: "Recon:EC2/PortProbeUnprotectedPort", severity: 5,
			title:  "Unprotected port on EC2 instance {instance} is being probed.",
			desc:   "EC2 instance {instance} has an unprotected port {port} which is being probed by a known malicious host.",
			threat: "ProofPoint"},
		{name: "Recon:EC2/PortProbeEMRUnprotectedPort", severity: 8, localPort: 8088,
			title: "Unprotected EMR-related port on EC2 instance {instance} is being probed.",
			desc:  "EMR-related sensitive port {port} on EC2 instance {instance} is not blocked by a security group and is being actively probed by a known malicious host."},
	},
	famNetwork: {
		{name: "UnauthorizedAccess:EC2/SSHBruteForce", severity: 2, direction: "INBOUND", localPort: 22,
			title: "{ip} is performing SSH brute force attacks against {instance}.",
			desc:  "{ip} is performing SSH brute force attacks against {instance}. Brute force attacks are used to gain unauthorized access to your instance by guessing the SSH password."},
		{name: "UnauthorizedAccess:EC2/RDPBruteForce", severity: 2, direction: "INBOUND", localPort: 3389,
			title: "{ip} is performing RDP brute force attacks against {instance}.",
			desc:  "{ip} is performing RDP brute force attacks against {instance}. Brute force attacks are used to gain unauthorized access to your instance by guessing the RDP password."},
		{name: "Backdoor:EC2/C&CActivity.B", severity: 8, direction: "OUTBOUND", remotePort: 443, threat: "ProofPoint",
			title: "EC2 instance {instance} is communicating with a known command and control server.",
			desc:  "EC2 instance {instance} is communicating with {ip}, an IP address associated with a known command and control server."},
		{name: "UnauthorizedAccess:EC2/TorClient", severity: 8, direction: "OUTBOUND", remotePort: 9001, threat: "TorNodes",
			title: "EC2 instance {instance} is communicating with a Tor entry node.",
			desc:  "EC2 instance {instance} is making connections to {ip}, a Tor Guard or Authority node."},
		{name: "Trojan:EC2/BlackholeTraffic", severity: 5, direction: "OUTBOUND", remotePort: 80, threat: "ProofPoint",
			title: "EC2 instance {instance} is attempting to communicate with a black hole IP address.",
			desc:  "EC2 instance {instance} is attempting to communicate with {ip}, a remote host that is a known black hole."},
		{name: "Behavior:EC2/NetworkPortUnusual", severity: 5, direction: "OUTBOUND", remotePort: 5555, unusual: true,
			title: "Unusual outbound communication seen from EC2 instance {instance} on port {port}.",
			desc:  "EC2 instance {instance} is communicating with a remote host {ip} on an unusual server port {port}."},
		{name: "Recon:EC2/Portscan", severity: 5, direction: "OUTBOUND", remotePort: 22,
			title: "EC2 instance {instance} is performing outbound port scans against remote host {ip}.",
			desc:  "EC2 instance {instance} is being probed for open ports of remote host {ip}. This could indicate that it is compromised."},
		{name: "CryptoCurrency:EC2/BitcoinTool.B", severity: 8, direction: "OUTBOUND", remotePort: 3333, threat: "ProofPoint",
			title: "EC2 instance {instance} is communicating with a Bitcoin mining pool.",
			desc:  "EC2 instance {instance} is communicating with {ip}, an IP address associated with cryptocurrency-related activity."},
	},
	famDNS: {
		{name: "CryptoCurrency:EC2/BitcoinTool.B!DNS", severity: 8, threat: "ProofPoint",
			domains: []string{"pool.minexmr.com", "xmr-eu1.nanopool.org", "pool.supportxmr.com", "xmr.2miners.com", "gulf.moneroocean.stream"},
			title:   "EC2 instance {instance} is querying a domain name that is associated with Bitcoin-related activity.",
			desc:    "EC2 instance {instance} is querying {domain}, a domain name associated with cryptocurrency-related activity."},
		{name: "Backdoor:EC2/C&CActivity.B!DNS", severity: 8, threat: "ProofPoint",
			domains: []string{"guarddutyc2activityb.com", "update-check.servehttp.com", "cdn-telemetry.ddns.net"},
			title:   "EC2 instance {instance} is querying a domain name associated with a known command and control server.",
			desc:    "EC2 instance {instance} is querying {domain}, a domain name associated with a known command and control server."},
		{name: "Trojan:EC2/DNSDataExfiltration", severity: 8,
			domains: []string{"a3f9c2e17b5d4c08a1e6f7b2c9d3e4a5.exfil-tunnel.net", "ZXhmaWx0cmF0aW9uLWRhdGE.dnslog.cc"},
			title:   "Data exfiltration through DNS queries from EC2 instance {instance}.",
			desc:    "EC2 instance {instance} is attempting to query {domain}, suggesting it may be exfiltrating data through DNS queries."},
		{name: "Impact:EC2/AbusedDomainRequest.Reputation", severity: 5,
			domains: []string{"free-dyn-dns.duckdns.org", "files.000webhostapp.com", "pastebin-mirror.xyz"},
			title:   "EC2 instance {instance} is querying a low reputation domain name that is associated with known abused domains.",
			desc:    "EC2 instance {instance} is querying {domain}, a low reputation domain name that is associated with known abused domains."},
		{name: "Trojan:EC2/DGADomainRequest.B", severity: 8,
			domains: []string{"qxkzvjtrwplm.biz", "hfjwqzrtyopx.info", "mvbxnzlqkwer.net"},
			title:   "EC2 instance {instance} is querying algorithmically generated domains.",
			desc:    "EC2 instance {instance} is querying {domain}, an algorithmically generated domain name commonly used by malware for command and control."},
	},
	famIAM: {
		{name: "Recon:IAMUser/MaliciousIPCaller", severity: 5, threat: "ProofPoint", userType: "IAMUser",
			apis: []string{"ListRoles", "GetAccountAuthorizationDetails", "ListUsers"}, apiService: "iam.amazonaws.com",
			title: "Reconnaissance API {api} was invoked from a known malicious IP address.",
			desc:  "API {api}, commonly used in reconnaissance attacks, was invoked from a known malicious IP address {ip} by {user}."},
		{name: "Recon:IAMUser/MaliciousIPCaller.Custom", severity: 5, threat: "CorpBlockList", userType: "IAMUser",
			apis: []string{"DescribeInstances", "DescribeSecurityGroups"}, apiService: "ec2.amazonaws.com",
			title: "Reconnaissance API {api} was invoked from an IP address on a custom threat list.",
			desc:  "API {api}, commonly used in reconnaissance attacks, was invoked from IP address {ip} on the custom threat list CorpBlockList."},
		{name: "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", severity: 8, userType: "AssumedRole",
			apis: []string{"DescribeInstances", "ListBuckets", "GetCallerIdentity"}, apiService: "ec2.amazonaws.com",
			title: "Credentials for instance role {user} used from external IP address.",
			desc:  "Credentials created exclusively for an EC2 instance using instance role {user} have been used from external IP address {ip}."},
		{name: "Discovery:IAMUser/AnomalousBehavior", severity: 2, unusual: true, userType: "IAMUser",
			apis: []string{"ListAccessKeys", "GetBucketPolicy", "DescribeDBInstances"}, apiService: "iam.amazonaws.com",
			title: "The API {api} was invoked using an unusual combination of access key, user and ASN.",
			desc:  "APIs commonly used in Discovery tactics were invoked by user {user} under unusual circumstances from {ip}."},
		{name: "Policy:IAMUser/RootCredentialUsage", severity: 2, userType: "Root",
			apis: []string{"ListBuckets", "GetAccountSummary", "DescribeRegions"}, apiService: "s3.amazonaws.com",
			title: "API {api} was invoked using root credentials.",
			desc:  "API {api} was invoked using root credentials from IP address {ip}."},
		{name: "Stealth:IAMUser/CloudTrailLoggingDisabled", severity: 2, userType: "IAMUser",
			apis: []string{"StopLogging", "DeleteTrail"}, apiService: "cloudtrail.amazonaws.com",
			title: "AWS CloudTrail trail was disabled by {user}.",
			desc:  "AWS CloudTrail logging was disabled by {user} calling {api} from {ip}."},
		{name: "PenTest:IAMUser/KaliLinux", severity: 5, userType: "IAMUser",
			apis: []string{"ListBuckets", "DescribeInstances", "GetCallerIdentity"}, apiService: "sts.amazonaws.com",
			title: "API {api} was invoked from a Kali Linux computer.",
			desc:  "API {api} was invoked by {user} from a remote host with IP address {ip} that is potentially running the Kali Linux penetration testing tool."},
		{name: "UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B", severity: 5, unusual: true, userType: "IAMUser",
			apis: []string{"ConsoleLogin"}, apiService: "signin.amazonaws.com",
			title: "Unusual console login by {user}.",
			desc:  "Multiple worldwide successful console logins were observed for {user}, the latest from {ip}."},
		{name: "Persistence:IAMUser/AnomalousBehavior", severity: 5, unusual: true, userType: "IAMUser",
			apis: []string{"CreateAccessKey", "CreateUser", "AttachUserPolicy"}, apiService: "iam.amazonaws.com",
			title: "The API {api} was invoked using an unusual combination of access key, user and ASN.",
			desc:  "APIs commonly used in Persistence tactics were invoked by user {user} under unusual circumstances from {ip}."},
	},
	famS3: {
		{name: "Discovery:S3/MaliciousIPCaller", severity: 8, threat: "ProofPoint", userType: "IAMUser",
			apis: []string{"ListObjects", "GetBucketAcl", "GetBucketLocation"}, apiService: "s3.amazonaws.com",
			title: "S3 API {api} was invoked from a known malicious IP address.",
			desc:  "API {api} was used to access S3 bucket {bucket} from a known malicious IP address {ip}."},
		{name: "Exfiltration:S3/AnomalousBehavior", severity: 8, unusual: true, userType: "IAMUser",
			apis: []string{"GetObject"}, apiService: "s3.amazonaws.com",
			title: "Anomalous API {api} invoked on S3 bucket {bucket}.",
			desc:  "An IAM entity {user} invoked S3 API {api} on bucket {bucket} in a suspicious way from {ip}."},
		{name: "Policy:S3/BucketBlockPublicAccessDisabled", severity: 2, userType: "IAMUser",
			apis: []string{"PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock"}, apiService: "s3.amazonaws.com",
			title: "Amazon S3 Block Public Access was disabled for S3 bucket {bucket}.",
			desc:  "Amazon S3 Block Public Access was disabled for S3 bucket {bucket} by {user} calling {api}."},
		{name: "PenTest:S3/KaliLinux", severity: 5, userType: "IAMUser",
			apis: []string{"ListObjects", "GetObject"}, apiService: "s3.amazonaws.com",
			title: "API {api} was invoked from a Kali Linux computer.",
			desc:  "API {api} was used to access S3 bucket {bucket} from a remote host with IP address {ip} that is potentially running the Kali Linux penetration testing tool."},
		{name: "UnauthorizedAccess:S3/TorIPCaller", severity: 5, tor: true, threat: "TorNodes", userType: "IAMUser",
			apis: []string{"GetObject", "ListObjects"}, apiService: "s3.amazonaws.com",
			title: "The S3 API {api} was invoked from a Tor exit node IP address.",
			desc:  "API {api} was used to access S3 bucket {bucket} from Tor exit node IP address {ip}."},
		{name: "Impact:S3/AnomalousBehavior.Delete", severity: 8, unusual: true, userType: "AssumedRole",
			apis: []string{"DeleteObject", "DeleteObjects"}, apiService: "s3.amazonaws.com",
			title: "Anomalous API {api} invoked on S3 bucket {bucket}.",
			desc:  "An IAM entity {user} invoked S3 API {api} that attempts to delete data in bucket {bucket} in a suspicious way."},
	},
	famKubernetes: {
		{name: "Discovery:Kubernetes/SuccessfulAnonymousAccess", severity: 5, verb: "get",
			uri: "/api/v1/namespaces/kube-system/secrets", k8sUser: "system:anonymous",
			title: "Kubernetes API commonly used in Discovery tactics invoked by system:anonymous on EKS cluster {cluster}.",
			desc:  "An unauthenticated user invoked an API commonly used in Discovery tactics on Kubernetes cluster {cluster} from {ip}."},
		{name: "Discovery:Kubernetes/MaliciousIPCaller", severity: 5, verb: "list", threat: "ProofPoint",
			uri: "/api/v1/pods", k8sUser: "kubernetes-admin",
			title: "Kubernetes API commonly used in Discovery tactics invoked from a known malicious IP address.",
			desc:  "An API commonly used in Discovery tactics was invoked on Kubernetes cluster {cluster} from known malicious IP address {ip}."},
		{name: "Execution:Kubernetes/ExecInKubeSystemPod", severity: 5, verb: "create",
			uri: "/api/v1/namespaces/kube-system/pods/aws-node-7xkqp/exec?command=sh&stdin=true&tty=true", k8sUser: "eks-admin",
			title: "A command was executed inside a pod in the kube-system namespace on EKS cluster {cluster}.",
			desc:  "A command was executed inside pod aws-node-7xkqp in the kube-system namespace on EKS cluster {cluster}."},
		{name: "Policy:Kubernetes/AdminAccessToDefaultServiceAccount", severity: 2, verb: "create",
			uri: "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", k8sUser: "eks-admin",
			title: "The default service account was granted admin privileges on EKS cluster {cluster}.",
			desc:  "The default service account in namespace default was granted admin privileges on EKS cluster {cluster}."},
		{name: "PrivilegeEscalation:Kubernetes/PrivilegedContainer", severity: 5, verb: "create",
			uri: "/api/v1/namespaces/default/pods", k8sUser: "ci-deployer",
			title: "A privileged container with root level access was launched on EKS cluster {cluster}.",
			desc:  "A privileged container with root level access was launched on EKS cluster {cluster} from {ip}."},
		{name: "CredentialAccess:Kubernetes/MaliciousIPCaller", severity: 8, verb: "get", threat: "ProofPoint",
			uri: "/api/v1/namespaces/payments/secrets/db-credentials", k8sUser: "kubernetes-admin",
			title: "Kubernetes API commonly used to access secrets invoked from a known malicious IP address.",
			desc:  "An API commonly used to access secrets was invoked on Kubernetes cluster {cluster} from known malicious IP address {ip}."},
	},
	famRDS: {
		{name: "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce", severity: 8,
			title: "A user successfully logged in to RDS database {db} after a brute force attempt.",
			desc:  "An IP address {ip} successfully logged in to RDS database {db} after a large number of failed login attempts."},
		{name: "CredentialAccess:RDS/AnomalousBehavior.FailedBruteForce", severity: 5, failed: true,
			title: "Multiple failed logins from the same IP address to RDS database {db}.",
			desc:  "An IP address {ip} was involved in multiple unsuccessful login attempts to RDS database {db}."},
		{name: "CredentialAccess:RDS/MaliciousIPCaller.FailedLogin", severity: 5, failed: true, threat: "ProofPoint",
			title: "An IP address from a known malicious source unsuccessfully attempted to log in to RDS database {db}.",
			desc:  "Known malicious IP address {ip} unsuccessfully attempted to log in to RDS database {db}."},
		{name: "CredentialAccess:RDS/TorIPCaller.SuccessfulLogin", severity: 8, tor: true, threat: "TorNodes",
			title: "A Tor exit node IP address successfully logged in to RDS database {db}.",
			desc:  "Tor exit node IP address {ip} successfully logged in to RDS database {db}."},
		{name: "Discovery:RDS/MaliciousIPCaller", severity: 5, failed: true, threat: "ProofPoint",
			title: "An IP address from a known malicious source probed RDS database {db}.",
			desc:  "Known malicious IP address {ip} probed RDS database {db} with no login attempt."},
	},
	famRuntime: {
		{name: "Execution:Runtime/NewBinaryExecuted", severity: 2, process: "kdevtmpfsi", context: "modifying",
			title: "A newly created or recently modified binary file was executed on {host}.",
			desc:  "A newly created or recently modified binary file {process} was executed on {host}."},
		{name: "Execution:Runtime/ReverseShell", severity: 8, process: "bash", context: "command",
			title: "A process executed a reverse shell on {host}.",
			desc:  "Process {process} on {host} executed a reverse shell connecting to a remote host."},
		{name: "CryptoCurrency:Runtime/BitcoinTool.B", severity: 8, process: "xmrig", context: "none",
			title: "A process is querying a domain name associated with cryptocurrency-related activity on {host}.",
			desc:  "Process {process} on {host} is querying a domain name associated with cryptocurrency-related activity."},
		{name: "PrivilegeEscalation:Runtime/DockerSocketAccessed", severity: 5, process: "curl", context: "socket",
			title: "A process inside a container communicated with the Docker socket on {host}.",
			desc:  "Process {process} inside a container on {host} communicated with the Docker daemon socket."},
		{name: "DefenseEvasion:Runtime/ProcessInjection.Ptrace", severity: 8, process: "gdb", context: "target",
			title: "A process injection using the ptrace system call was detected on {host}.",
			desc:  "Process {process} on {host} injected code into another process using the ptrace system call."},
		{name: "Execution:Runtime/SuspiciousTool", severity: 5, process: "nmap", context: "tool",
			title: "A suspicious tool was executed on {host}.",
			desc:  "Process {process}, a tool commonly used for network scanning, was executed on {host}."},
		{name: "DefenseEvasion:Runtime/FilelessExecution", severity: 5, process: "python3", context: "memory",
			title: "A process executed code from memory on {host}.",
			desc:  "Process {process} on {host} is executing code from memory, a technique used to evade detection."},
	},
	famMalware: {
		{name: "Execution:EC2/MaliciousFile", severity: 8,
			title: "Malicious file detected on EC2 instance {instance}.",
			desc:  "A malicious file was detected on EBS volume attached to EC2 instance {instance}."},
		{name: "Execution:Container/MaliciousFile", severity: 8,
			title: "Malicious file detected in a container on EC2 instance {instance}.",
			desc:  "A malicious file was detected in a container running on EC2 instance {instance}."},
	},
	famAttackSequence: {
		{name: "AttackSequence:IAM/CompromisedCredentials", severity: 9,
			title: "Potential credential compromise of IAMUser/{user} indicated by a sequence of actions.",
			desc:  "A sequence of actions involving {n} signals indicating a possible credential compromise was observed for IAMUser/{user} in account {account}\nbetween eventFirstSeen and eventLastSeen with the following behaviors:\n  - Connected from a known Tor Exit Node: {ip}\n  - Sensitive APIs called: cloudtrail:DeleteTrail, iam:AttachRolePolicy, iam:CreateRole, iam:ListUsers\n"},
		{name: "AttackSequence:S3/CompromisedData", severity: 9,
			title: "Potential data compromise of one or more S3 buckets involving a sequence of actions associated with IAMUser/{user}.",
			desc:  "A sequence of actions involving {n} signals indicating a possible data compromise of one or more S3 bucket(s) was observed for IAMUser/{user} in account {account}\nbetween eventFirstSeen and eventLastSeen with the following behaviors:\n  - Connected from a known Tor Exit Node: {ip}\n  - Sensitive APIs called: s3:DeleteObject, s3:GetObject, s3:PutBucketPublicAccessBlock, s3:ListBuckets\n"},
		{name: "AttackSequence:EKS/CompromisedCluster", severity: 9,
			title: "Potential compromise of EKS cluster {cluster} indicated by a sequence of actions.",
			desc:  "A sequence of actions involving {n} signals indicating a possible compromise of EKS cluster {cluster} was observed in account {account}\nbetween eventFirstSeen and eventLastSeen with the following behaviors:\n  - Connected from a known malicious IP address: {ip}\n  - Privileged container launched, secrets accessed, cryptocurrency mining observed\n"},
	},
}

// place is one source location for remote IPs. Coordinates are the city's;
// ASNs and owners are the usual ones for attack traffic from there.
type place struct {
	city, country    string
	lat, lon         float64
	asn              int
	asnOrg, isp, org string
	ip               [2]byte // first two octets of generated addresses
}

var places = []place{
	{"Ashburn", "United States", 39.0438, -77.4874, 16509, "AMAZON-02", "Amazon.com", "Amazon.com", [2]byte{3, 80}},
	{"Clifton", "United States", 40.8584, -74.1638, 14061, "DIGITALOCEAN-ASN", "DigitalOcean", "DigitalOcean, LLC", [2]byte{167, 99}},
	{"Piscataway", "United States", 40.5549, -74.4643, 20473, "AS-CHOOPA", "The Constant Company", "Vultr Holdings", [2]byte{45, 77}},
	{"The Dalles", "United States", 45.5946, -121.1787, 396982, "GOOGLE-CLOUD-PLATFORM", "Google LLC", "Google Cloud", [2]byte{34, 82}},
	{"Amsterdam", "Netherlands", 52.3676, 4.9041, 14061, "DIGITALOCEAN-ASN", "DigitalOcean", "DigitalOcean, LLC", [2]byte{188, 166}},
	{"Falkenstein", "Germany", 50.4779, 12.3713, 24940, "Hetzner Online GmbH", "Hetzner Online GmbH", "Hetzner", [2]byte{116, 203}},
	{"Frankfurt am Main", "Germany", 50.1109, 8.6821, 3320, "Deutsche Telekom AG", "Deutsche Telekom AG", "Deutsche Telekom", [2]byte{87, 150}},
	{"Roubaix", "France", 50.6942, 3.1746, 16276, "OVH SAS", "OVH SAS", "OVH", [2]byte{51, 75}},
	{"Bucharest", "Romania", 44.4268, 26.1025, 9009, "M247 Europe SRL", "M247 Ltd", "M247 Europe", [2]byte{185, 156}},
	{"Moscow", "Russia", 55.7558, 37.6173, 12389, "PJSC Rostelecom", "Rostelecom", "Rostelecom", [2]byte{95, 165}},
	{"Kyiv", "Ukraine", 50.4501, 30.5234, 15895, "Kyivstar PJSC", "Kyivstar", "Kyivstar GSM", [2]byte{176, 36}},
	{"Beijing", "China", 39.9042, 116.4074, 4134, "CHINANET-BACKBONE", "Chinanet", "Chinanet", [2]byte{218, 92}},
	{"Shanghai", "China", 31.2304, 121.4737, 4812, "China Telecom Group", "China Telecom", "China Telecom Shanghai", [2]byte{101, 89}},
	{"Shenzhen", "China", 22.5431, 114.0579, 45090, "Shenzhen Tencent Computer Systems Company Limited", "Tencent cloud computing", "Tencent", [2]byte{43, 153}},
	{"Singapore", "Singapore", 1.3521, 103.8198, 45102, "Alibaba US Technology Co., Ltd.", "Alibaba", "Alibaba Cloud", [2]byte{47, 245}},
	{"Seoul", "South Korea", 37.5665, 126.978, 4766, "Korea Telecom", "Korea Telecom", "KT", [2]byte{211, 234}},
	{"Taipei", "Taiwan", 25.033, 121.5654, 3462, "Data Communication Business Group", "Chunghwa Telecom", "Chunghwa Telecom", [2]byte{114, 32}},
	{"Hanoi", "Vietnam", 21.0278, 105.8342, 7552, "Viettel Group", "Viettel Group", "Viettel", [2]byte{27, 72}},
	{"Jakarta", "Indonesia", -6.2088, 106.8456, 17974, "PT Telekomunikasi Indonesia", "Telkom Indonesia", "Telkom", [2]byte{36, 80}},
	{"Mumbai", "India", 19.076, 72.8777, 9829, "National Internet Backbone", "BSNL", "Bharat Sanchar Nigam", [2]byte{117, 200}},
	{"Sao Paulo", "Brazil", -23.5505, -46.6333, 28573, "Claro NXT Telecomunicacoes Ltda", "Claro S.A.", "Claro", [2]byte{177, 68}},
	{"Lagos", "Nigeria", 6.5244, 3.3792, 29465, "MTN NIGERIA Communication limited", "MTN Nigeria", "MTN", [2]byte{102, 89}},
	{"Tehran", "Iran", 35.6892, 51.389, 58224, "Iran Telecommunication Company PJS", "TCI", "Iran Telecommunication", [2]byte{5, 160}},
	{"Dublin", "Ireland", 53.3498, -6.2603, 8075, "MICROSOFT-CORP-MSN-AS-BLOCK", "Microsoft Corporation", "Microsoft Azure", [2]byte{20, 105}},
}

// torPlaces are the places used for Tor exit nodes.
var torPlaces = []place{
	{"Hamburg", "Germany", 53.5511, 9.9937, 60729, "Stiftung Erneuerbare Freiheit", "Stiftung Erneuerbare Freiheit", "Tor exit relay", [2]byte{185, 220}},
	{"Amsterdam", "Netherlands", 52.3676, 4.9041, 60404, "Liteserver", "Liteserver Holding B.V.", "Tor exit relay", [2]byte{192, 42}},
	{"Zurich", "Switzerland", 47.3769, 8.5417, 51852, "Private Layer INC", "Private Layer INC", "Tor exit relay", [2]byte{179, 43}},
}

type portInfo struct {
	port int
	name string
}

var probedPorts = []portInfo{
	{22, "SSH"}, {22, "SSH"}, {3389, "RDP"}, {80, "HTTP"}, {443, "HTTPS"}, {23, "Telnet"},
	{3306, "MYSQL"}, {5432, "POSTGRESQL"}, {6379, "Unknown"}, {8080, "Unknown"}, {9200, "Unknown"},
}

var emrPorts = []portInfo{{8088, "Unknown"}, {8890, "Unknown"}, {18080, "Unknown"}}

var instanceTypes = []string{"t3.micro", "t3.medium", "t3.large", "m5.large", "m6i.xlarge", "c5.2xlarge", "r6g.large", "t2.micro"}

type image struct {
	desc    string
	windows bool
}

var images = []image{
	{"Amazon Linux 2023 AMI 2023.6.20241010.0 x86_64 HVM kernel-6.1", false},
	{"Amazon Linux 2 Kernel 5.10 AMI 2.0.20240916.0 x86_64 HVM gp2", false},
	{"Canonical, Ubuntu, 22.04 LTS, amd64 jammy image build on 2024-09-27", false},
	{"Canonical, Ubuntu, 24.04 LTS, amd64 noble image", false},
	{"Microsoft Windows Server 2022 Full Locale English AMI provided by Amazon", true},
}

var hostRoles = []string{"web-prod", "api", "bastion", "batch-worker", "jenkins", "kafka", "nat", "grafana"}
var environments = []string{"prod", "prod", "staging", "dev"}
var teams = []string{"platform", "payments", "data", "growth", "security"}

var iamUsers = []string{"alice.smith", "bob.jones", "carol.white", "dave.ops", "ci-deploy", "terraform", "backup-svc", "data-eng", "erin.chen", "frank.miller", "grafana-reader", "legacy-app"}
var roleNames = []string{"app-instance-role", "eks-node-role", "batch-job-role", "AdminRole", "ReadOnlyRole"}

var bucketKinds = []string{"prod-data", "analytics-raw", "backups", "static-assets", "ml-datasets", "invoices"}

var clusterNames = []string{"prod-eks", "staging-eks", "data-platform", "ml-training"}
var k8sNamespaces = []string{"default", "kube-system", "payments", "monitoring"}
var userAgents = []string{
	"kubectl/v1.29.3 (linux/amd64) kubernetes/6813625",
	"kubectl/v1.30.1 (darwin/arm64) kubernetes/6911225",
	"python-requests/2.31.0",
	"Go-http-client/1.1",
}

type dbEngine struct {
	engine, version, app, user string
}

var dbEngines = []dbEngine{
	{"aurora-postgresql", "15.4", "psql", "postgres"},
	{"aurora-mysql", "8.0.mysql_aurora.3.05.2", "mysql", "admin"},
	{"postgres", "16.3", "pgAdmin 4", "postgres"},
	{"mysql", "8.0.35", "mysql", "root"},
}
var dbNames = []string{"orders", "users", "billing", "inventory", "analytics"}

type malware struct {
	name, file, severity string
}

var malwares = []malware{
	{"EICAR-Test-File (not a virus)", "/tmp/eicar.com", "HIGH"},
	{"Trojan.Linux.Mirai.A", "/usr/bin/.sshd", "HIGH"},
	{"Application.Linux.Miner.XMRig.B", "/var/tmp/.x/xmrig", "MEDIUM"},
	{"Backdoor.Linux.Tsunami.D", "/dev/shm/.kworker", "HIGH"},
}

var tactics = []string{"Initial Access", "Discovery", "Persistence", "Privilege Escalation", "Defense Evasion", "Exfiltration", "Impact"}
var techniques = []string{
	"T1078.004 - Valid Accounts: Cloud Accounts",
	"T1087.004 - Account Discovery: Cloud Account",
	"T1098 - Account Manipulation",
	"T1562.008 - Impair Defenses: Disable or Modify Cloud Logs",
	"T1530 - Data from Cloud Storage",
	"T1485 - Data Destruction",
}
