package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/formats"
	"github.com/logtide/logtide/worker/internal/config"
)

func cmdGenerate(ctx context.Context, args []string, stdout, _ io.Writer) error {
	var (
		o                           format.GenerateOptions
		seed, parallel              int
		name, outDir, bucket, start string
	)
	f := config.NewFlags("generate", "LOGTIDE_GEN_", "Write seeded, deterministic sample objects of log types, under the keys and in the encoding\n"+
		"their services write to S3, to a folder or an S3 bucket. Formats: "+strings.Join(formats.Names(), ", ")+".\n"+
		"Uploading uses the SDK's standard AWS configuration, like `worker run`.")
	o.Accounts, o.Regions = []string{"123456789012"}, []string{"us-east-1"}
	f.StringVar(&name, "format", formats.All[0].Name, "log types to generate: names, comma-separated, or all")
	f.IntVar(&seed, "seed", 1, "seed; the same options (and --start) give byte-identical objects")
	f.IntVar(&o.Objects, "objects", 10, "number of objects")
	f.IntVar(&o.RecordsPerObject, "records-per-object", 50, "new records per object (newer versions come on top)")
	f.IntVar(&o.UpdatePercent, "update-percent", 20, "for records that change (GuardDuty findings): share written again later as a newer version (negative: none)")
	f.BoolVar(&o.OutOfOrder, "out-of-order", false, "place some newer versions before the older copy")
	f.Var(config.NewList(&o.Accounts), "accounts", "account ids of the records")
	f.Var(config.NewList(&o.Regions), "regions", "regions, assigned to objects round-robin")
	f.StringVar(&o.Prefix, "prefix", "", "key prefix before AWSLogs/")
	f.StringVar(&start, "start", "", "time of the first object (RFC 3339); default: the start of yesterday (UTC), so the data falls in the dashboards' default time ranges (give it for byte-identical objects on another day)")
	f.StringVar(&outDir, "out-dir", "", "write objects under this folder")
	f.StringVar(&bucket, "bucket", "", "upload objects to this S3 bucket")
	f.IntVar(&parallel, "parallel", 4, "uploads at once")
	if err := parseFlags(f, args, stdout); err != nil {
		return err
	}
	specs, err := chooseFormats(name)
	if err != nil {
		return usageError{err}
	}
	if (outDir == "") == (bucket == "") {
		return usageError{errors.New("give exactly one of --out-dir or --bucket")}
	}
	if seed < 0 || parallel < 1 {
		return usageError{errors.New("--seed must be ≥ 0 and --parallel ≥ 1")}
	}
	st := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	if start != "" {
		if st, err = time.Parse(time.RFC3339, start); err != nil {
			return usageError{fmt.Errorf("--start: %w", err)}
		}
	}
	o.Seed, o.Start = uint64(seed), st
	for _, spec := range specs {
		corpus, err := spec.Generate(o)
		if err != nil {
			return usageError{fmt.Errorf("%s: %w", spec.Name, err)}
		}
		where := outDir
		if outDir != "" {
			err = format.WriteDir(corpus, outDir)
		} else {
			where = "s3://" + bucket
			err = upload(ctx, corpus, bucket, parallel)
		}
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(stdout, "wrote %d %s objects, %d records to %s\n", len(corpus.Objects()), spec.Name, corpus.Records(), where); err != nil {
			return err
		}
	}
	return nil
}

// chooseFormats reads --format: names, comma-separated, or all.
func chooseFormats(names string) ([]format.Spec, error) {
	if names == "all" {
		return formats.All, nil
	}
	var out []format.Spec
	for _, n := range strings.Split(names, ",") {
		spec, ok := formats.Find(strings.TrimSpace(n))
		if !ok {
			return nil, fmt.Errorf("--format %q: want all, or some of %s", n, strings.Join(formats.Names(), ", "))
		}
		out = append(out, spec)
	}
	return out, nil
}

// upload puts every object in order of the corpus, a few at a time.
func upload(ctx context.Context, corpus format.Corpus, bucket string, parallel int) error {
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
				ContentType:   aws.String(o.ContentType),
			})
			if err != nil {
				return fmt.Errorf("upload s3://%s/%s: %w", bucket, o.Key, err)
			}
			return nil
		})
	}
	return g.Wait()
}
