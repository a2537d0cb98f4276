// Package elb reads Elastic Load Balancing access logs: the request logs of
// Application Load Balancers, the TLS connection logs of Network Load
// Balancers and the request logs of Classic Load Balancers, which ELB writes
// to S3 every five minutes per load balancer node under
//
//	[prefix/]AWSLogs/<account>/elasticloadbalancing/<region>/YYYY/MM/DD/
//	    <account>_elasticloadbalancing_<region>_<lb-id>_<YYYYMMDDTHHmmZ>_<node-ip>_<random>.log[.gz]
//
// (gzip for Application and Network Load Balancers, plain text for Classic
// ones). One line is one request (or, for a Network Load Balancer, one TLS
// connection): space-separated fields, some of them double-quoted. The three
// kinds of lines are told apart by their first field. Each line becomes one
// document holding the line's own fields under their AWS names, typed, and
// the Elastic Common Schema fields; lines have no natural id, so a
// document's _id is its position in its object. The package also generates
// realistic sample objects of all three kinds (generate*.go).
package elb

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/logtide/logtide/worker/format"
)

// Name is the format's name.
const Name = "elb"

// service is the folder ELB writes its logs under, after the account.
const service = "elasticloadbalancing"

// Spec registers the format with the worker.
var Spec = format.Spec{
	Name:    Name,
	Summary: "Elastic Load Balancing access logs: Application, Network (TLS) and Classic (AWSLogs/<account>/elasticloadbalancing/...)",
	New:     func(o format.Options) (format.Format, error) { return New(o) },
	Generate: func(o format.GenerateOptions) (format.Corpus, error) {
		return NewCorpus(o)
	},
	Floor: floor,
}

// ELB is the format of Elastic Load Balancing access logs.
type ELB struct {
	prefix string
	loc    *time.Location
}

// New returns the format for a run. The index prefix defaults to "elb".
func New(o format.Options) (*ELB, error) {
	o, err := o.WithDefaults(Name)
	if err != nil {
		return nil, err
	}
	return &ELB{prefix: o.IndexPrefix, loc: o.Location}, nil
}

// Name is "elb".
func (f *ELB) Name() string { return Name }

// testFile is the object ELB writes when access logging is turned on, to
// check that it may write to the bucket: AWSLogs/<account>/ELBAccessLogTestFile.
const testFile = "ELBAccessLogTestFile"

// Claim reads the objects under AWSLogs/<account>/elasticloadbalancing/ and
// skips ELB's test object. Connection logs of Application Load Balancers
// share the folder but are another log (their names start with conn_log):
// they are not this format's.
func (f *ELB) Claim(k format.Key) format.Claim {
	if isTestFile(k.Raw) {
		return format.Skip
	}
	if k.Service != service {
		return format.NotMine
	}
	name := k.Rest[strings.LastIndexByte(k.Rest, '/')+1:]
	if strings.HasPrefix(name, "conn_log") {
		return format.NotMine
	}
	return format.Read
}

// isTestFile reports whether key is [prefix/]AWSLogs/<account>/ELBAccessLogTestFile.
// format.ParseKey gives it no service (nothing follows the file name), so
// it is recognised from the key itself.
func isTestFile(key string) bool {
	rest, ok := strings.CutSuffix(key, "/"+testFile)
	if !ok {
		return false
	}
	i := strings.LastIndexByte(rest, '/')
	account := rest[i+1:]
	if i < 0 || !isDigits(account) || len(account) != 12 {
		return false
	}
	logs := rest[:i]
	return logs == "AWSLogs" || strings.HasSuffix(logs, "/AWSLogs")
}

// Framing is one request per line.
func (f *ELB) Framing() format.Framing { return format.Lines }

// IndexPattern matches every index the format writes to.
func (f *ELB) IndexPattern() string { return f.prefix + "-*" }

// Decoder returns the decoder of object o. The lines do not name the
// account or the region: both come from the object's key, read once here.
func (f *ELB) Decoder(o format.Object) format.Decoder {
	d := &decoder{f: f, ids: format.NewPositionIDs(o)}
	k := format.ParseKey(o.Key)
	d.account = k.Account
	if region, _, _ := strings.Cut(k.Rest, "/"); isRegion(region) {
		d.region = region
	}
	return d
}

// isRegion reports whether s looks like an AWS region name (eu-west-1,
// us-gov-west-1): lower-case letters and digits joined by hyphens.
func isRegion(s string) bool {
	if len(s) < 4 || len(s) > 32 || !strings.Contains(s, "-") {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return s[0] != '-' && s[len(s)-1] != '-'
}

// floor reads decompressed content the cheapest way a consumer that looks
// inside every line could: cut into lines, each line into its fields
// (quotes honoured), and the numbers of the line's kind read with strconv.
// The benchmark sets the worker's CPU per GB against it.
func floor(content io.Reader) (int, error) {
	sc := bufio.NewScanner(content)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var fields []field
	n := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var err error
		fields, err = splitFields(line, fields[:0])
		if err != nil {
			return n, fmt.Errorf("line %d: %w", n+1, err)
		}
		// Positions of the seconds and of the integers of each kind.
		floats, ints := [2]int{5, 8}, [2]int{8, 12}
		switch {
		case fields[0].val(line) == "tls":
			floats, ints = [2]int{7, 9}, [2]int{9, 11}
		case !albTypes[fields[0].val(line)]:
			floats, ints = [2]int{4, 7}, [2]int{7, 11}
		}
		for i := floats[0]; i < floats[1] && i < len(fields); i++ {
			_, _ = strconv.ParseFloat(fields[i].val(line), 64)
		}
		for i := ints[0]; i < ints[1] && i < len(fields); i++ {
			_, _ = strconv.ParseInt(fields[i].val(line), 10, 64)
		}
		n++
	}
	return n, sc.Err()
}
