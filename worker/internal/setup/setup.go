// Package setup installs, idempotently, what the cluster needs before the
// workers write to it: the index templates of every format (and of the
// findings history), the dead-letter index, a retention policy per format
// where the engine has a lifecycle API, and the OpenSearch Dashboards saved
// objects. The worker installs the templates itself at start (Templates);
// `worker setup` does all of it once, with an operator's credentials.
//
// Files: setup.go (templates and the run of every step), retention.go
// (ISM and ILM policies), dashboards.go (the import of the saved objects of
// package savedobjects).
package setup

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/ecs"
	"github.com/logtide/logtide/worker/internal/deadletter"
	"github.com/logtide/logtide/worker/internal/sink"
	"github.com/logtide/logtide/worker/savedobjects"
)

// Template is one template to install.
type Template struct {
	// What names it in logs and reports.
	What string
	// Component marks a component template (else an index template).
	Component  bool
	Name, Body string
}

// Templates are the templates the formats' indices need on engine e, in
// the order they must be installed: the ECS component first, then each
// format's index template (and its history's), then the dead-letter
// index's. ilm names, by index pattern, the lifecycle policy new indices
// get on an engine with Index Lifecycle Management (nil: none).
func Templates(e format.Engine, fs []format.Format, deadLetterIndex string, ilm map[string]string) ([]Template, error) {
	out := []Template{{What: "component template " + ecs.TemplateName, Component: true, Name: ecs.TemplateName, Body: ecs.ComponentTemplate()}}
	add := func(what, pattern, name, body string) error {
		if policy := ilm[pattern]; policy != "" {
			var err error
			if body, err = LifecycleSetting(body, policy); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
		out = append(out, Template{What: what, Name: name, Body: body})
		return nil
	}
	for _, f := range fs {
		name, body := f.IndexTemplate(e)
		if err := add("index template of "+f.Name(), f.IndexPattern(), name, body); err != nil {
			return nil, err
		}
		if h, ok := f.(format.History); ok && h.HistoryPattern() != "" {
			name, body := h.HistoryTemplate(e)
			if err := add("index template of the "+f.Name()+" history", h.HistoryPattern(), name, body); err != nil {
				return nil, err
			}
		}
	}
	name, body := deadletter.IndexTemplate(deadLetterIndex)
	out = append(out, Template{What: "index template of " + deadLetterIndex, Name: name, Body: body})
	return out, nil
}

// ILMNames names, by index pattern, the policies new indices get on an
// engine with Index Lifecycle Management; nil on others (OpenSearch's
// policies reach new indices by their own ism_template).
func ILMNames(e format.Engine, policies []Policy) map[string]string {
	if !e.XPack() || len(policies) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, p := range policies {
		m[p.Pattern] = p.Name
	}
	return m
}

// EngineOf reads what the cluster says of itself.
func EngineOf(c sink.Cluster) format.Engine {
	e := format.Engine{Distribution: c.Distribution, Flavor: c.Flavor}
	parts := strings.SplitN(c.Version, ".", 3)
	if len(parts) >= 2 {
		e.Major, _ = strconv.Atoi(parts[0])
		e.Minor, _ = strconv.Atoi(parts[1])
	}
	return e
}

// Cluster is the part of the search cluster's client setup uses.
type Cluster interface {
	Requester
	Cluster(ctx context.Context) (sink.Cluster, error)
	PutComponentTemplate(ctx context.Context, name, body string) error
	PutIndexTemplate(ctx context.Context, name, body string) error
}

// Options say what to set up.
type Options struct {
	Formats         []format.Format
	DeadLetterIndex string
	Retention       Retention
	// DashboardsURL, when set, is OpenSearch Dashboards, where the saved
	// objects are imported with HTTP (the cluster's client: the same
	// authentication).
	DashboardsURL string
	HTTP          *http.Client
}

// Run installs everything, one step after the other, saying what each did
// on out; it goes on after a failure and returns an error naming them.
func Run(ctx context.Context, c Cluster, o Options, out io.Writer) error {
	failed := 0
	say := func(what, result string, err error) {
		if err != nil {
			failed++
			fmt.Fprintf(out, "FAILED     %s: %v\n", what, err)
			return
		}
		fmt.Fprintf(out, "%-10s %s\n", result, what)
	}
	info, err := c.Cluster(ctx)
	if err != nil {
		say("search cluster", "", err)
		return fmt.Errorf("the search cluster does not answer: %w", err)
	}
	e := EngineOf(info)
	fmt.Fprintf(out, "search cluster: %s %s\n", info.Distribution, info.Version)

	policies, err := o.Retention.Policies(o.Formats)
	if err != nil {
		return err
	}
	templates, err := Templates(e, o.Formats, o.DeadLetterIndex, ILMNames(e, policies))
	if err != nil {
		return err
	}
	for _, t := range templates {
		var err error
		if t.Component {
			err = c.PutComponentTemplate(ctx, t.Name, t.Body)
		} else {
			err = c.PutIndexTemplate(ctx, t.Name, t.Body)
		}
		say(t.What, "installed", err)
	}
	did, err := createIndex(ctx, c, o.DeadLetterIndex)
	say("dead-letter index "+o.DeadLetterIndex, did, err)

	if len(policies) == 0 {
		fmt.Fprintf(out, "%-10s retention: none asked for (--retention-days): indices are kept until deleted\n", "skipped")
	} else if api, why := lifecycleAPI(ctx, c, e); api == "" {
		failed++
		fmt.Fprintf(out, "FAILED     retention: %s; %d policies not installed (delete old indices by their date instead)\n", why, len(policies))
	} else {
		for _, p := range policies {
			what := fmt.Sprintf("retention of %s (%s): %s, %d days", p.What, p.Pattern, p.Name, p.Days)
			var did string
			var err error
			if api == "ism" {
				did, err = installISM(ctx, c, p)
			} else {
				did, err = installILM(ctx, c, p)
			}
			say(what+" ("+did+")", strings.ToUpper(api), err)
		}
	}

	if o.DashboardsURL != "" {
		objs := savedobjects.For(o.Formats, o.DeadLetterIndex)
		n, err := Import(ctx, o.HTTP, o.DashboardsURL, objs)
		say(fmt.Sprintf("OpenSearch Dashboards saved objects at %s (%d of %d)", o.DashboardsURL, n, len(objs)), "imported", err)
	}
	if failed > 0 {
		return fmt.Errorf("%d steps failed", failed)
	}
	return nil
}

// createIndex creates index with its template's settings unless it exists.
func createIndex(ctx context.Context, r Requester, index string) (string, error) {
	_, err := r.Do(ctx, http.MethodPut, "/"+index, nil, nil)
	if err != nil && sink.Status(err) == http.StatusBadRequest && strings.Contains(err.Error(), "resource_already_exists_exception") {
		return "exists", nil
	}
	if err != nil {
		return "", err
	}
	return "created", nil
}
