package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/logtide/logtide/shared/gdexport"
	"github.com/logtide/logtide/worker/internal/config"
)

func cmdGenerate(ctx context.Context, args []string, stdout, _ io.Writer) error {
	var (
		seed, objects, perObject, reexport, parallel int
		outOfOrder                                   bool
		accounts, regions                            []string
		prefix, outDir, bucket, start                string
	)
	f := config.NewFlags("generate", "Write seeded, deterministic GuardDuty findings exports (gzip JSON Lines under\n"+
		"AWSLogs/<account>/GuardDuty/<region>/YYYY/MM/DD/<uuid>.jsonl.gz) to a folder or an S3 bucket.\n"+
		"Uploading uses the SDK's standard AWS configuration, like `worker run`.")
	f.Int(&seed, "seed", "LOGTIDE_GEN_SEED", 1, "seed; the same options give byte-identical objects")
	f.Int(&objects, "objects", "LOGTIDE_GEN_OBJECTS", 10, "number of export objects")
	f.Int(&perObject, "findings-per-object", "LOGTIDE_GEN_FINDINGS_PER_OBJECT", 50, "new findings per object (re-exports come on top)")
	f.Int(&reexport, "reexport-percent", "LOGTIDE_GEN_REEXPORT_PERCENT", 20, "share of findings exported again later with a higher service.count (negative: none)")
	f.Bool(&outOfOrder, "out-of-order", "LOGTIDE_GEN_OUT_OF_ORDER", false, "place some re-exports before the older copy")
	f.Strings(&accounts, "accounts", "LOGTIDE_GEN_ACCOUNTS", []string{"123456789012"}, "account ids of the findings")
	f.Strings(&regions, "regions", "LOGTIDE_GEN_REGIONS", []string{"us-east-1"}, "regions, assigned to objects round-robin")
	f.String(&prefix, "prefix", "LOGTIDE_GEN_PREFIX", "", "key prefix before AWSLogs/")
	f.String(&start, "start", "LOGTIDE_GEN_START", "2026-01-05T00:00:00Z", "export time of the first object (RFC 3339)")
	f.String(&outDir, "out-dir", "LOGTIDE_GEN_OUT_DIR", "", "write objects under this folder")
	f.String(&bucket, "bucket", "LOGTIDE_GEN_BUCKET", "", "upload objects to this S3 bucket")
	f.Int(&parallel, "parallel", "LOGTIDE_GEN_PARALLEL", 4, "uploads at once")
	if err := parseFlags(f, args, stdout); err != nil {
		return err
	}
	if (outDir == "") == (bucket == "") {
		return usageError{errors.New("give exactly one of --out-dir or --bucket")}
	}
	if seed < 0 || parallel < 1 {
		return usageError{errors.New("--seed must be ≥ 0 and --parallel ≥ 1")}
	}
	st, err := time.Parse(time.RFC3339, start)
	if err != nil {
		return usageError{fmt.Errorf("--start: %w", err)}
	}
	corpus, err := gdexport.New(gdexport.Options{
		Seed: uint64(seed), Objects: objects, FindingsPerObject: perObject, ReexportPercent: reexport,
		OutOfOrder: outOfOrder, Accounts: accounts, Regions: regions, Prefix: prefix, Start: st,
	})
	if err != nil {
		return usageError{err}
	}
	where := outDir
	if outDir != "" {
		if err := corpus.WriteDir(outDir); err != nil {
			return err
		}
	} else {
		where = "s3://" + bucket
		if err := upload(ctx, corpus, bucket, parallel); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintf(stdout, "wrote %d objects, %d lines, %d distinct findings to %s\n",
		len(corpus.Objects()), corpus.Lines(), len(corpus.Findings()), where)
	return err
}

// upload puts every object in order of the corpus, a few at a time.
func upload(ctx context.Context, corpus *gdexport.Corpus, bucket string, parallel int) error {
	cfg, err := awsConfig(ctx)
	if err != nil {
		return err
	}
	client := newS3(cfg)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for i, o := range corpus.Objects() {
		g.Go(func() error {
			var buf bytes.Buffer
			if err := corpus.WriteObject(&buf, i); err != nil {
				return err
			}
			pctx, cancel := context.WithTimeout(gctx, time.Minute)
			defer cancel()
			_, err := client.PutObject(pctx, &s3.PutObjectInput{
				Bucket:        aws.String(bucket),
				Key:           aws.String(o.Key),
				Body:          bytes.NewReader(buf.Bytes()),
				ContentLength: aws.Int64(int64(buf.Len())),
				ContentType:   aws.String("application/x-ndjson"),
			})
			if err != nil {
				return fmt.Errorf("upload s3://%s/%s: %w", bucket, o.Key, err)
			}
			return nil
		})
	}
	return g.Wait()
}
