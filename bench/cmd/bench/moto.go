package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/logtide/logtide/bench/internal/backend"
	"github.com/logtide/logtide/bench/internal/corpus"
)

// motoStack is the reference backend: the moto server of `make services-up`,
// which other tests share, so everything here has run-unique names and is
// removed afterwards.
type motoStack struct {
	aws    *backend.AWS
	bucket string
	keys   []string
}

func (b *bench) motoSeed(ctx context.Context) (*motoStack, error) {
	hc := &http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get(b.c.motoURL + "/moto-api/")
	if err != nil {
		return nil, fmt.Errorf("moto not answering at %s (make services-up): %w", b.c.motoURL, err)
	}
	resp.Body.Close()
	a, err := backend.Connect("moto", b.c.motoURL, b.c.motoURL)
	if err != nil {
		return nil, err
	}
	m := &motoStack{aws: a, bucket: "bench-" + b.runID}
	if err := a.CreateBucket(ctx, m.bucket); err != nil {
		return nil, err
	}
	t0 := time.Now()
	for _, s := range []*corpus.Set{b.tiny.Subset("tiny", b.c.motoObjects), b.typical} {
		for _, o := range s.Objects {
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			_, err := a.S3.PutObject(cctx, &s3.PutObjectInput{Bucket: aws.String(m.bucket), Key: aws.String(o.Key), Body: bytes.NewReader(o.Gz), ContentLength: aws.Int64(int64(len(o.Gz)))})
			cancel()
			if err != nil {
				b.motoCleanup(m)
				return nil, fmt.Errorf("upload to moto: %w", err)
			}
			m.keys = append(m.keys, o.Key)
		}
	}
	logf("moto: %d objects uploaded in %s", len(m.keys), time.Since(t0).Round(100*time.Millisecond))
	return m, nil
}

func (b *bench) motoCleanup(m *motoStack) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := 0; i < len(m.keys); i += 1000 {
		var ids []s3types.ObjectIdentifier
		for _, k := range m.keys[i:min(i+1000, len(m.keys))] {
			ids = append(ids, s3types.ObjectIdentifier{Key: aws.String(k)})
		}
		_, _ = m.aws.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(m.bucket), Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
	}
	_, _ = m.aws.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(m.bucket)})
}
