package s3access

// The values generated lines draw from. Addresses are in the ranges kept
// for documentation (RFC 5737, RFC 3849) and private networks.

// bucketNames are the source buckets; each is suffixed with the last four
// digits of its account.
var bucketNames = []string{"acme-web-assets", "acme-data-lake-prod", "acme-backups", "acme-static-site", "acme-ml-artifacts"}

// keys are object keys as stored, some with spaces and non-ASCII letters:
// the log writes them URL-encoded.
var keys = []string{
	"assets/img/logo.png",
	"assets/css/site.4f2a9c.css",
	"assets/js/app.91be07.js",
	"reports/2026/Q1 summary.pdf",
	"reports/2026/board deck (final).pptx",
	"uploads/café menu.jpg",
	"uploads/user-4411/avatar.webp",
	"exports/orders/dt=2026-01-04/part-00000.snappy.parquet",
	"exports/orders/dt=2026-01-04/part-00001.snappy.parquet",
	"backups/db/pg-main-2026-01-04T02:00:00Z.dump.zst",
	"models/churn/v12/model.tar.gz",
	"logs/app/2026/01/04/app+worker.log.gz",
	"data/raw/événements/2026-01-04.json",
	"docs/readme.txt",
}

// siteKeys are the pages of the static website.
var siteKeys = []string{"index.html", "about/index.html", "blog/2026/01/new-year.html", "favicon.ico", "img/hero.jpg", "robots.txt", "sitemap.xml"}

var roles = []string{
	"app-backend/i-0a1b2c3d4e5f60718",
	"etl-glue-job/GlueJobRunnerSession",
	"data-scientist/jane.doe@example.com",
	"AWSReservedSSO_AdministratorAccess_0123456789abcdef/ops.admin@example.com",
	"lambda-thumbnailer/thumbnailer-prod",
}

var users = []string{"ci-deployer", "backup-agent", "analytics-reader"}

// services are AWS services acting on the bucket on their own behalf.
var services = []string{"svc:config.amazonaws.com", "svc:access-analyzer.amazonaws.com", "svc:macie.amazonaws.com"}

var serviceAgents = []string{"AWS Config", "aws-internal/3 aws-sdk-java/1.12.765 Linux/5.10.225-191.878.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.412-b09 java/1.8.0_412 vendor/Oracle_Corporation cfg/retry-mode/standard"}

var accessPoints = []string{"analytics-ap", "partner-readonly"}

var clientIPs = []string{
	"198.51.100.23", "198.51.100.140", "203.0.113.9", "203.0.113.77", "192.0.2.44",
	"10.20.3.17", "10.20.7.201", "172.31.44.5",
}

var ipv6Clients = []string{"2001:db8:4006:812::200e", "2001:db8::8a2e:370:7334", "2001:db8:85a3::1"}

var agents = []string{
	"aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.58.2",
	"Boto3/1.34.131 md/Botocore#1.34.131 ua/2.0 os/linux#6.1.0-1018-aws md/arch#x86_64 lang/python#3.12.4 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.131",
	"aws-cli/2.17.5 md/awscrt#0.20.11 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.11.9 md/pyimpl#CPython exec-env/ command/s3.cp",
	"aws-sdk-java/2.25.60 Linux/5.10.218-208.862.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
	"S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750 Linux/5.10.219-186.866.amzn2int.x86_64",
	"rclone/v1.67.0",
}

var browsers = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
}
