package backfill

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logtide/logtide/worker/format"
)

// Object is one object of the bucket to load.
type Object struct {
	// Bucket is the backfill's bucket when empty.
	Bucket, VersionID string
	Key               string
	Size              int64
	LastModified      time.Time
	ETag              string
}

// Lister is the part of the S3 client a backfill uses to find objects.
type Lister interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

// Router chooses the format of each object from its key, as for
// notifications.
type Router interface {
	Route(key string) (format.Format, format.Claim)
}

// Why an object listed is not loaded.
const (
	skipNotLog   = "not a log the worker reads"
	skipByFormat = "skipped by its format or a route rule (digests, test files)"
	skipDates    = "outside --since/--until"
	skipFolder   = "folder marker"
)

// Filter chooses the objects to load among those listed.
type Filter struct {
	Router Router
	// Since and Until bound the dates of the objects: an object whose key
	// holds a date (the date folders of the AWSLogs layouts, a Hive
	// partition, an S3 server access log's name) is kept when that day
	// overlaps [Since, Until); another object, when its last-modified time
	// lies in it. A zero bound is open.
	Since, Until time.Time
}

// skip says why o is not to be loaded, or "" to load it.
func (f Filter) skip(o Object) string {
	if strings.HasSuffix(o.Key, "/") {
		return skipFolder
	}
	if !f.Since.IsZero() || !f.Until.IsZero() {
		from, to := o.LastModified, o.LastModified.Add(time.Nanosecond)
		if day, ok := KeyDate(o.Key); ok {
			from, to = day, day.AddDate(0, 0, 1)
		}
		if (!f.Since.IsZero() && !to.After(f.Since)) || (!f.Until.IsZero() && !from.Before(f.Until)) {
			return skipDates
		}
	}
	switch _, c := f.Router.Route(o.Key); c {
	case format.NotMine:
		return skipNotLog
	case format.Skip:
		return skipByFormat
	}
	return ""
}

var (
	hiveDate   = regexp.MustCompile(`(?:^|/)year=(\d{4})/month=(\d{2})/day=(\d{2})(?:/|$)`)
	folderDate = regexp.MustCompile(`(?:^|/)(\d{4})/(\d{2})/(\d{2})(?:/|$)`)
	// An S3 server access log's name starts with its time:
	// YYYY-MM-DD-hh-mm-ss-<id>.
	nameDate = regexp.MustCompile(`(?:^|/)(\d{4})-(\d{2})-(\d{2})-\d{2}-\d{2}-\d{2}-[^/]*$`)
)

// KeyDate is the day (UTC) an object's key says it holds logs of, if its
// layout has one: a Hive partition (year=/month=/day=), date folders
// (YYYY/MM/DD/, every AWSLogs layout), or a name starting with its time (S3
// server access logs).
func KeyDate(key string) (time.Time, bool) {
	for _, re := range []*regexp.Regexp{hiveDate, folderDate, nameDate} {
		m := re.FindStringSubmatch(key)
		if m == nil {
			continue
		}
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		d, _ := strconv.Atoi(m[3])
		t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
		if t.Year() == y && int(t.Month()) == mo && t.Day() == d {
			return t, true
		}
	}
	return time.Time{}, false
}

// list walks the objects under prefix after the key startAfter, in key
// order, one page at a time: a bucket of millions of keys is never held in
// memory. It hands each object to load to keep and counts the others by
// reason in skipped; it returns the last key listed.
func list(ctx context.Context, l Lister, bucket, prefix, startAfter string, f Filter, keep func(Object) error, skipped func(reason string)) (last string, err error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
	if startAfter != "" {
		in.StartAfter = aws.String(startAfter)
	}
	for {
		out, err := l.ListObjectsV2(ctx, in)
		if err != nil {
			return last, fmt.Errorf("listing s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, c := range out.Contents {
			o := Object{Key: aws.ToString(c.Key), Size: aws.ToInt64(c.Size), LastModified: aws.ToTime(c.LastModified), ETag: strings.Trim(aws.ToString(c.ETag), `"`)}
			last = o.Key
			if why := f.skip(o); why != "" {
				skipped(why)
				continue
			}
			if err := keep(o); err != nil {
				return last, err
			}
		}
		if !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
			return last, nil
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}

// head reads what a listing would say of one key.
func head(ctx context.Context, l Lister, bucket, key string) (Object, error) {
	out, err := l.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return Object{}, err
	}
	return Object{Key: key, Size: aws.ToInt64(out.ContentLength), LastModified: aws.ToTime(out.LastModified), ETag: strings.Trim(aws.ToString(out.ETag), `"`)}, nil
}
