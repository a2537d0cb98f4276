package s3access

import (
	"fmt"
	"strings"
	"time"
)

// The fields of a log line, in the order S3 writes them.
const (
	fBucketOwner = iota
	fBucket
	fTime
	fRemoteIP
	fRequester
	fRequestID
	fOperation
	fKey
	fRequestURI
	fHTTPStatus
	fErrorCode
	fBytesSent
	fObjectSize
	fTotalTime
	fTurnAround
	fReferrer
	fUserAgent
	fVersionID
	fHostID
	fSignatureVersion
	fCipherSuite
	fAuthType
	fHostHeader
	fTLSVersion
	fAccessPointARN
	fACLRequired
	// numKnown is the number of fields this version knows; later ones are
	// kept as extra_fields.
	numKnown
)

// minFields is the fewest fields a line may have: older logs end after the
// user agent (the fields from version_id on were added over the years).
const minFields = fUserAgent + 1

// fieldNames are the document's names of the fields.
var fieldNames = [numKnown]string{
	"bucket_owner", "bucket", "time", "remote_ip", "requester", "request_id",
	"operation", "key", "request_uri", "http_status", "error_code",
	"bytes_sent", "object_size", "total_time", "turn_around_time", "referrer",
	"user_agent", "version_id", "host_id", "signature_version",
	"cipher_suite", "authentication_type", "host_header", "tls_version",
	"access_point_arn", "acl_required",
}

// numFields are the fields written as numbers; numIndex is the place of
// each in numFields.
var (
	numFields = [...]int{fHTTPStatus, fBytesSent, fObjectSize, fTotalTime, fTurnAround}
	numIndex  = [numKnown]int{fHTTPStatus: 0, fBytesSent: 1, fObjectSize: 2, fTotalTime: 3, fTurnAround: 4}
)

// split appends the fields of line to dst, each as written: a field in
// double quotes or brackets keeps them (value and unquote take them off).
// Fields are separated by one or more spaces. A quoted field ends at the
// first '"' followed by a space or the end of the line, so that a quote
// inside it (a user agent may hold one) does not cut it; likewise ']' for a
// bracketed field. A quote or bracket that is never closed is an error: the
// line was cut short.
func split(dst []string, line string) ([]string, error) {
	i, n := 0, len(line)
	for i < n {
		c := line[i]
		if c == ' ' {
			i++
			continue
		}
		end := -1
		switch c {
		case '"', '[':
			closer := byte('"')
			if c == '[' {
				closer = ']'
			}
			end = closing(line, i+1, closer)
			if end < 0 {
				return dst, fmt.Errorf("%s: %c not closed: the line is cut short", fieldName(len(dst)), c)
			}
			end++
		default:
			end = strings.IndexByte(line[i:], ' ')
			if end < 0 {
				end = n
			} else {
				end += i
			}
		}
		dst = append(dst, line[i:end])
		i = end
	}
	return dst, nil
}

// closing returns the place of the first c at or after from that is
// followed by a space or ends the line, or -1.
func closing(line string, from int, c byte) int {
	for {
		j := strings.IndexByte(line[from:], c)
		if j < 0 {
			return -1
		}
		j += from
		if j+1 == len(line) || line[j+1] == ' ' {
			return j
		}
		from = j + 1
	}
}

// fieldName names field i for error messages.
func fieldName(i int) string {
	if i < numKnown {
		return fieldNames[i]
	}
	return fmt.Sprintf("field %d", i+1)
}

// unquote takes the double quotes off a quoted field.
func unquote(tok string) string {
	if len(tok) >= 2 && tok[0] == '"' && tok[len(tok)-1] == '"' {
		return tok[1 : len(tok)-1]
	}
	return tok
}

// value is a field's value: unquoted, and "" where S3 wrote "-" (absent).
func value(tok string) string {
	v := unquote(tok)
	if v == "-" {
		return ""
	}
	return v
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// parseTime reads the time of a record without its brackets, as
// time.Parse("02/Jan/2006:15:04:05 -0700") does but without allocating a
// zone for each line: the instant in UTC. Years outside 1970-9998 and zone
// offsets beyond ±14:59 are refused, so that the instant always prints as
// a four-digit year.
func parseTime(s string) (time.Time, bool) {
	if len(s) != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' || s[20] != ' ' {
		return time.Time{}, false
	}
	day, ok1 := digits(s[0:2])
	year, ok2 := digits(s[7:11])
	hour, ok3 := digits(s[12:14])
	minute, ok4 := digits(s[15:17])
	sec, ok5 := digits(s[18:20])
	zh, ok6 := digits(s[22:24])
	zm, ok7 := digits(s[24:26])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) {
		return time.Time{}, false
	}
	month := 0
	for i, m := range months {
		if s[3:6] == m {
			month = i + 1
			break
		}
	}
	sign := s[21]
	if month == 0 || year < 1970 || year > 9998 || hour > 23 || minute > 59 || sec > 59 ||
		zh > 14 || zm > 59 || (sign != '+' && sign != '-') {
		return time.Time{}, false
	}
	if day < 1 || day > daysIn(time.Month(month), year) {
		return time.Time{}, false
	}
	offset := time.Duration(zh)*time.Hour + time.Duration(zm)*time.Minute
	if sign == '-' {
		offset = -offset
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC).Add(-offset), true
}

// digits reads s, made only of ASCII digits.
func digits(s string) (int, bool) {
	n := 0
	for i := range len(s) {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// unescape appends key, as the log writes it (URL-encoded: %XX escapes,
// '+' for a space), decoded to dst. It is false for a '%' that does not
// start an escape.
func unescape(dst []byte, key string) ([]byte, bool) {
	for i := 0; i < len(key); i++ {
		switch c := key[i]; c {
		case '%':
			if i+2 >= len(key) {
				return dst, false
			}
			hi, ok1 := unhex(key[i+1])
			lo, ok2 := unhex(key[i+2])
			if !ok1 || !ok2 {
				return dst, false
			}
			dst = append(dst, hi<<4|lo)
			i += 2
		case '+':
			dst = append(dst, ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// nameLen is the length of a log object's name: YYYY-MM-DD-hh-mm-ss- and a
// unique string of 16 characters.
const nameLen = len("2006-01-02-15-04-05-") + 16

// logName returns the date (YYYY-MM-DD) of key's log object name and
// whether key ends in one: the last segment of the key ends in
// YYYY-MM-DD-hh-mm-ss-<16 of A-Z0-9>, a valid date and time.
func logName(key string) (date string, ok bool) {
	name := key[strings.LastIndexByte(key, '/')+1:]
	if len(name) < nameLen {
		return "", false
	}
	name = name[len(name)-nameLen:]
	for i := range 19 {
		c := name[i]
		switch i {
		case 4, 7, 10, 13, 16:
			if c != '-' {
				return "", false
			}
		default:
			if c < '0' || c > '9' {
				return "", false
			}
		}
	}
	if name[19] != '-' {
		return "", false
	}
	for i := 20; i < nameLen; i++ {
		if c := name[i]; (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return "", false
		}
	}
	year, _ := digits(name[0:4])
	month, _ := digits(name[5:7])
	day, _ := digits(name[8:10])
	hour, _ := digits(name[11:13])
	minute, _ := digits(name[14:16])
	sec, _ := digits(name[17:19])
	if month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) || hour > 23 || minute > 59 || sec > 59 {
		return "", false
	}
	return name[0:10], true
}

// partition returns the source account and region of a key in the
// partitioned layout,
// <prefix><SourceAccountId>/<SourceRegion>/<SourceBucket>/YYYY/MM/DD/YYYY-MM-DD-hh-mm-ss-<unique>,
// whose folders name the same day as the object's name; "" for other keys.
func partition(key string) (account, region string) {
	date, ok := logName(key)
	if !ok {
		return "", ""
	}
	// Seven segments from the end: account, region, bucket, YYYY, MM, DD, name.
	var seg [7]string
	rest := key
	for i := 6; i >= 0; i-- {
		j := strings.LastIndexByte(rest, '/')
		if i == 0 {
			seg[0] = rest[j+1:] // the account may start the key
			break
		}
		if j < 0 {
			return "", ""
		}
		seg[i], rest = rest[j+1:], rest[:j]
	}
	// S3 writes the target prefix as it is: without a trailing slash it
	// runs into the account ("logs123456789012").
	account = seg[0][max(0, len(seg[0])-12):]
	if len(seg[6]) != nameLen || seg[3]+"-"+seg[4]+"-"+seg[5] != date || !isAccount(account) || !isRegion(seg[1]) || seg[2] == "" {
		return "", ""
	}
	return account, seg[1]
}

func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	_, ok := digits(s)
	return ok
}

// isRegion reports whether s looks like an AWS region name
// (us-east-1, eu-central-2, us-gov-west-1, cn-north-1...).
func isRegion(s string) bool {
	if len(s) < 6 || len(s) > 25 || strings.Count(s, "-") < 2 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return s[0] != '-' && s[len(s)-1] >= '0' && s[len(s)-1] <= '9'
}
