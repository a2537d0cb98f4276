package check

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/logtide/logtide/worker/internal/deadletter"
	"github.com/logtide/logtide/worker/internal/setup"
	"github.com/logtide/logtide/worker/internal/sink"
)

// Cluster is the part of the search cluster's client the check uses.
type Cluster interface {
	Cluster(ctx context.Context) (sink.Cluster, error)
	PutIndexTemplate(ctx context.Context, name, body string) error
	Bulk(ctx context.Context, items []sink.Item) ([]sink.Result, error)
	DeleteDocument(ctx context.Context, index, id string) error
}

// checkCluster checks that the cluster answers, who it is, that the
// worker's credentials may install templates and write a document (to the
// dead-letter index, removed right after).
func checkCluster(ctx context.Context, r *Report, c Cluster, o Options) {
	const part = "search cluster"
	info, err := c.Cluster(ctx)
	if err != nil {
		r.add(part, "reachable and signed in", Fail, err.Error(), clusterHint(err, o.Auth))
		return
	}
	r.add(part, "reachable and signed in", Pass, fmt.Sprintf("%s as %s", strings.Join(o.URLs, ", "), o.Auth), "")

	e := setup.EngineOf(info)
	name := info.Distribution + " " + info.Version
	switch {
	case e.Distribution == "opensearch" && e.Major >= 1 && e.Major <= 3,
		e.Distribution == "elasticsearch" && e.Major == 7 && e.Minor >= 8:
		r.add(part, "version", Pass, name, "")
	case e.Distribution == "elasticsearch" && (e.Major < 7 || e.Major == 7 && e.Minor < 8):
		r.add(part, "version", Fail, name, "the worker needs composable index templates: Elasticsearch 7.8 or later, or OpenSearch")
	default:
		r.add(part, "version", Pass, name+" (outside the tested matrix: OpenSearch 1–3, Elasticsearch 7.10)", "")
	}

	if !o.InstallTemplate {
		r.add(part, "install templates", Skip, "--install-template=false: the templates are installed by someone else", "")
	} else {
		tname, body := deadletter.IndexTemplate(o.DeadLetterIndex)
		if err := c.PutIndexTemplate(ctx, tname, body); err != nil {
			r.add(part, "install templates", Fail, err.Error(), permissionHint(err,
				"give the worker's role the cluster permission indices:admin/index_template/put (and cluster:admin/component_template/put), or install the templates once with an admin's credentials and run the workers with --install-template=false"))
		} else {
			r.add(part, "install templates", Pass, "index template "+tname+" installed (the same one the worker installs at start)", "")
		}
	}

	id := fmt.Sprintf("logtide-check-%d", time.Now().UnixNano())
	body := deadletter.Record{Bucket: "logtide-check", Key: id, Stage: "check", Reason: "written by worker check, removed right after"}.Body(time.Now())
	res, err := c.Bulk(ctx, []sink.Item{{Index: o.DeadLetterIndex, ID: id, Body: body}})
	writeHint := fmt.Sprintf("give the worker's role indices:data/write/bulk*, indices:data/write/index, indices:admin/create and indices:admin/mapping/put on %s and %s",
		strings.Join(o.IndexPatterns, ", "), o.DeadLetterIndex)
	switch {
	case err != nil:
		r.add(part, "bulk write", Fail, err.Error(), permissionHint(err, writeHint))
		return
	case len(res) != 1 || (res[0].Outcome != sink.Written && res[0].Outcome != sink.Stale):
		detail := "no answer for the document"
		st := 0
		if len(res) == 1 {
			detail, st = fmt.Sprintf("status %d: %s", res[0].Status, res[0].Reason), res[0].Status
		}
		hint := ""
		if st == http.StatusForbidden || st == http.StatusUnauthorized {
			hint = writeHint
		}
		r.add(part, "bulk write", Fail, detail, hint)
		return
	}
	if err := c.DeleteDocument(ctx, o.DeadLetterIndex, id); err != nil {
		r.add(part, "bulk write", Pass, fmt.Sprintf("a document written to %s; removing it failed (the worker needs no delete permission): %v", o.DeadLetterIndex, err), "")
		return
	}
	r.add(part, "bulk write", Pass, fmt.Sprintf("a document written to %s and removed", o.DeadLetterIndex), "")
}

// clusterHint says what to change when GET / fails.
func clusterHint(err error, auth string) string {
	msg := strings.ToLower(err.Error())
	switch st := sink.Status(err); {
	case st == http.StatusUnauthorized:
		if auth == "sigv4" {
			return "authentication refused: the domain's access policy must allow the worker's role (es:ESHttp*), and with fine-grained access control the role must be mapped to an OpenSearch role"
		}
		return "authentication refused: check --es-username and the password ($LOGTIDE_ES_PASSWORD or --es-password-file)"
	case st == http.StatusForbidden:
		return "signed in but refused: the worker's user or role needs cluster:monitor/main (GET /), or with SigV4 the domain's access policy must allow es:ESHttpGet"
	case st != 0:
		return fmt.Sprintf("the cluster answered %d: check --es-url (it is the cluster's endpoint, not OpenSearch Dashboards')", st)
	case strings.Contains(msg, "x509") || strings.Contains(msg, "certificate") || strings.Contains(msg, "tls"):
		return "TLS failed: give the cluster's CA with --es-ca-file (self-signed or private CA), or check the host name in --es-url"
	case strings.Contains(msg, "no such host"):
		return "the host in --es-url does not resolve: check it, and the DNS of the worker's network (a VPC domain resolves only inside its VPC)"
	}
	return "nothing answered at --es-url: check the URL and port, that the cluster is up, and the network path (security groups, VPC)"
}

// permissionHint is hint for a refusal (401/403), else a generic one.
func permissionHint(err error, hint string) string {
	if st := sink.Status(err); st == http.StatusForbidden || st == http.StatusUnauthorized {
		return hint
	}
	return clusterHint(err, "")
}
