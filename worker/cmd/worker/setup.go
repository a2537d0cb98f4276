package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/logtide/logtide/worker/internal/config"
	"github.com/logtide/logtide/worker/internal/searchhttp"
	"github.com/logtide/logtide/worker/internal/setup"
	"github.com/logtide/logtide/worker/savedobjects"
)

func cmdSetup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config.Setup
	f := config.SetupFlags(&c)
	if err := parseFlags(f, args, stdout); err != nil {
		return err
	}
	_, fs, err := prepare(ctx, &c.Index)
	if err != nil {
		return err
	}
	if err := c.Index.Validate(); err != nil {
		return usageError{err}
	}
	if c.SavedObjectsFile != "" {
		objs := savedobjects.For(fs, c.Pipeline.DeadLetterIndex)
		w := stdout
		if c.SavedObjectsFile != "-" {
			file, err := os.Create(c.SavedObjectsFile)
			if err != nil {
				return err
			}
			defer file.Close()
			w = file
		}
		if err := savedobjects.WriteNDJSON(w, objs); err != nil {
			return err
		}
		if c.SavedObjectsFile != "-" {
			fmt.Fprintf(stderr, "wrote %d saved objects to %s\n", len(objs), c.SavedObjectsFile)
		}
	}
	log := newLogger(stderr, c.LogLevel)
	cluster, err := connect(ctx, log, c.Index)
	if err != nil {
		return err
	}
	httpClient, err := searchhttp.New(ctx, c.Search)
	if err != nil {
		return err
	}
	return setup.Run(ctx, cluster, setup.Options{
		Formats: fs, DeadLetterIndex: c.Pipeline.DeadLetterIndex, Retention: c.Retention,
		DashboardsURL: c.DashboardsURL, HTTP: httpClient,
	}, stdout)
}
