package backfill

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Notification is the body of the SQS message S3 would have sent when o was
// written to bucket: one ObjectCreated:Put record, its key URL-encoded as
// S3 encodes it. The fleet cannot tell it from a real one. The object's
// own bucket, where it has one, wins over bucket.
func Notification(region, bucket string, o Object, now time.Time) []byte {
	if o.Bucket != "" {
		bucket = o.Bucket
	}
	type object struct {
		Key       string `json:"key"`
		Size      int64  `json:"size"`
		VersionID string `json:"versionId,omitempty"`
		ETag      string `json:"eTag,omitempty"`
		Sequencer string `json:"sequencer"`
	}
	type bucketEntity struct {
		Name          string            `json:"name"`
		OwnerIdentity map[string]string `json:"ownerIdentity"`
		ARN           string            `json:"arn"`
	}
	type s3Entity struct {
		SchemaVersion   string       `json:"s3SchemaVersion"`
		ConfigurationID string       `json:"configurationId"`
		Bucket          bucketEntity `json:"bucket"`
		Object          object       `json:"object"`
	}
	type record struct {
		EventVersion      string            `json:"eventVersion"`
		EventSource       string            `json:"eventSource"`
		AWSRegion         string            `json:"awsRegion"`
		EventTime         string            `json:"eventTime"`
		EventName         string            `json:"eventName"`
		UserIdentity      map[string]string `json:"userIdentity"`
		RequestParameters map[string]string `json:"requestParameters"`
		ResponseElements  map[string]string `json:"responseElements"`
		S3                s3Entity          `json:"s3"`
	}
	body := struct {
		Records []record `json:"Records"`
	}{[]record{{
		EventVersion:      "2.1",
		EventSource:       "aws:s3",
		AWSRegion:         region,
		EventTime:         now.UTC().Format("2006-01-02T15:04:05.000Z"),
		EventName:         "ObjectCreated:Put",
		UserIdentity:      map[string]string{"principalId": "logtide-backfill"},
		RequestParameters: map[string]string{"sourceIPAddress": "127.0.0.1"},
		ResponseElements:  map[string]string{},
		S3: s3Entity{
			SchemaVersion:   "1.0",
			ConfigurationID: "logtide-backfill",
			Bucket:          bucketEntity{Name: bucket, OwnerIdentity: map[string]string{"principalId": "logtide-backfill"}, ARN: "arn:aws:s3:::" + bucket},
			Object: object{
				Key:       EncodeKey(o.Key),
				Size:      o.Size,
				VersionID: o.VersionID,
				ETag:      o.ETag,
				Sequencer: fmt.Sprintf("%016X", uint64(o.LastModified.UnixNano())),
			},
		},
	}}}
	b, err := json.Marshal(body)
	if err != nil {
		panic(err) // strings and numbers only
	}
	return b
}

// EncodeKey writes a key as S3 notifications do: URL form encoding (a space
// is '+'), with '/' left as it is.
func EncodeKey(key string) string {
	return strings.ReplaceAll(url.QueryEscape(key), "%2F", "/")
}
