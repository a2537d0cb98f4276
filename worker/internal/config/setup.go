package config

// Setup is the configuration of `worker setup`.
type Setup struct {
	// DashboardsURL is OpenSearch Dashboards, to import the saved objects
	// into; empty: not imported.
	DashboardsURL string
	// SavedObjectsFile receives the saved objects as NDJSON, for the
	// configured index names ("-": standard output).
	SavedObjectsFile string

	Index
}

// SetupFlags registers every option of `worker setup`.
func SetupFlags(c *Setup) *Flags {
	f := NewFlags("setup", "LOGTIDE_", "Install or update, idempotently, everything the search cluster needs: the index templates of every format\n"+
		"(and of the findings history with --findings-history), the dead-letter index, a retention policy per format\n"+
		"with --retention-days (ISM on OpenSearch, ILM on Elasticsearch), and, with --dashboards-url, the OpenSearch\n"+
		"Dashboards saved objects (index patterns, GuardDuty and CloudTrail overviews). Give it the index options the\n"+
		"workers run with. Exit status 0 only if every step succeeded.")
	*c = Setup{}
	IndexFlags(f, &c.Index)
	f.StringVar(&c.DashboardsURL, "dashboards-url", "", "OpenSearch Dashboards to import the saved objects into (e.g. https://DOMAIN/_dashboards), with the cluster's authentication")
	f.StringVar(&c.SavedObjectsFile, "saved-objects-file", "", "write the saved objects, for these index names, to this NDJSON file for a manual import (- for standard output)")
	return f
}
