package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/logtide/logtide/worker/formats"
)

// Docker cannot run where the tests run, so docker-compose.yml is checked
// for what would break `docker compose up` or make it drift from the repo:
// services, pinned images, ports, files it mounts or builds from, and the
// wiring between worker, Prometheus and Grafana.

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	Build       *composeBuild     `yaml:"build"`
	Command     []string          `yaml:"command"`
	Entrypoint  []string          `yaml:"entrypoint"`
	Environment map[string]string `yaml:"environment"`
	Ports       []string          `yaml:"ports"`
	Volumes     []string          `yaml:"volumes"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	Deploy struct {
		Replicas int `yaml:"replicas"`
	} `yaml:"deploy"`
}

type composeBuild struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

func loadYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func loadCompose(t *testing.T) (root string, c composeFile) {
	t.Helper()
	root = repoRoot(t)
	loadYAML(t, filepath.Join(root, "docker-compose.yml"), &c)
	return root, c
}

// namedVolumeAt is the named volume svc mounts at target ("" if none).
func namedVolumeAt(svc composeService, target string) string {
	for _, v := range svc.Volumes {
		if m := parseMount(v); !m.Bind && m.Target == target {
			return m.Source
		}
	}
	return ""
}

// mount is one short-syntax volume entry: a bind mount (Source is a host
// path relative to the compose file) or a named volume.
type mount struct {
	Source, Target string
	Bind           bool
}

func parseMount(s string) mount {
	parts := strings.Split(s, ":")
	m := mount{Source: parts[0]}
	if len(parts) > 1 {
		m.Target = parts[1]
	}
	m.Bind = strings.HasPrefix(m.Source, ".") || strings.HasPrefix(m.Source, "/")
	return m
}

// hostPath maps a path inside svc's container back to the repository through
// its bind mounts ("" if no bind mount covers it).
func hostPath(root string, svc composeService, inContainer string) string {
	for _, v := range svc.Volumes {
		m := parseMount(v)
		if !m.Bind {
			continue
		}
		if inContainer == m.Target || strings.HasPrefix(inContainer, m.Target+"/") {
			return filepath.Join(root, m.Source, strings.TrimPrefix(inContainer, m.Target))
		}
	}
	return ""
}

var portRE = regexp.MustCompile(`^(?:([0-9.]+):)?([0-9]+(?:-[0-9]+)?):([0-9]+)(?:/tcp)?$`)

func TestComposeServicesAndImages(t *testing.T) {
	_, c := loadCompose(t)
	var names []string
	for n := range c.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, want := range []string{"moto", "init", "opensearch", "opensearch-dashboards", "prometheus", "grafana-dashboards", "grafana", "worker", "seeder"} {
		if _, ok := c.Services[want]; !ok {
			t.Errorf("no service %q (have %v)", want, names)
		}
	}
	wantImage := map[string]string{
		"moto":                  "motoserver/moto:5.2.5",
		"opensearch":            "opensearchproject/opensearch:2.19.1",
		"opensearch-dashboards": "opensearchproject/opensearch-dashboards:2.19.1",
	}
	for _, n := range names {
		s := c.Services[n]
		if s.Image == "" && s.Build == nil {
			t.Errorf("%s: neither image nor build", n)
			continue
		}
		if s.Image != "" {
			name, tag, ok := strings.Cut(s.Image[strings.LastIndex(s.Image, "/")+1:], ":")
			if !ok || tag == "" || tag == "latest" || strings.Contains(tag, "${") {
				t.Errorf("%s: image %q is not pinned to a version tag (%s)", n, s.Image, name)
			}
		}
		if w, ok := wantImage[n]; ok && s.Image != w {
			t.Errorf("%s: image %q, want %q", n, s.Image, w)
		}
	}
	for n, prefix := range map[string]string{"init": "amazon/aws-cli:", "prometheus": "prom/prometheus:", "grafana": "grafana/grafana:"} {
		if !strings.HasPrefix(c.Services[n].Image, prefix) {
			t.Errorf("%s: image %q, want %s<version>", n, c.Services[n].Image, prefix)
		}
	}
	// Rendering the dashboards needs a shell and sed, nothing to pull twice.
	if got, want := c.Services["grafana-dashboards"].Image, c.Services["init"].Image; got != want {
		t.Errorf("grafana-dashboards: image %q, want init's %q", got, want)
	}
}

func TestComposePorts(t *testing.T) {
	_, c := loadCompose(t)
	// host ports → container port; everything else stays on the compose
	// network. The worker publishes one host port per replica.
	want := map[string]string{
		"moto":                  "5000→5000",
		"opensearch":            "9200→9200",
		"opensearch-dashboards": "5601→5601",
		"prometheus":            "9090→9090",
		"grafana":               "3000→3000",
		"worker":                "9108-9109→9108",
	}
	for n, s := range c.Services {
		var got []string
		for _, p := range s.Ports {
			m := portRE.FindStringSubmatch(p)
			if m == nil {
				t.Errorf("%s: port %q: want [127.0.0.1:]HOST:CONTAINER", n, p)
				continue
			}
			// Security plugin off, anonymous Grafana: nothing may listen
			// beyond this machine.
			if m[1] != "127.0.0.1" {
				t.Errorf("%s: port %q is published on all interfaces; bind it to 127.0.0.1", n, p)
			}
			got = append(got, m[2]+"→"+m[3])
		}
		if strings.Join(got, ",") != want[n] {
			t.Errorf("%s publishes %v, want %q", n, got, want[n])
		}
	}
}

func TestComposeFilesExist(t *testing.T) {
	root, c := loadCompose(t)
	for n, s := range c.Services {
		for _, v := range s.Volumes {
			m := parseMount(v)
			if m.Target == "" {
				t.Errorf("%s: volume %q has no target", n, v)
				continue
			}
			if !m.Bind {
				if _, ok := c.Volumes[m.Source]; !ok {
					t.Errorf("%s: named volume %q is not declared under volumes:", n, m.Source)
				}
				continue
			}
			if filepath.IsAbs(m.Source) {
				t.Errorf("%s: %q mounts an absolute host path; only the repository's files may be mounted", n, v)
				continue
			}
			if _, err := os.Stat(filepath.Join(root, m.Source)); err != nil {
				t.Errorf("%s: bind mount %q: %v", n, v, err)
			}
		}
		if b := s.Build; b != nil {
			ctx := filepath.Join(root, b.Context)
			if st, err := os.Stat(ctx); err != nil || !st.IsDir() {
				t.Errorf("%s: build context %q: %v", n, b.Context, err)
			}
			df := b.Dockerfile
			if df == "" {
				df = "Dockerfile"
			}
			if _, err := os.Stat(filepath.Join(ctx, df)); err != nil {
				t.Errorf("%s: dockerfile %q: %v", n, df, err)
			}
		}
	}
	// The init container runs the provisioning script from its mount.
	in := c.Services["init"]
	if len(in.Entrypoint) < 2 {
		t.Fatalf("init: entrypoint %v: want a shell and the provisioning script", in.Entrypoint)
	}
	script := hostPath(root, in, in.Entrypoint[len(in.Entrypoint)-1])
	if script == "" || !strings.HasPrefix(script, filepath.Join(root, "compose", "init")+string(filepath.Separator)) {
		t.Errorf("init: script %s is not under compose/init/ (host path %q)", in.Entrypoint[len(in.Entrypoint)-1], script)
	} else if _, err := os.Stat(script); err != nil {
		t.Errorf("init: %v", err)
	}
}

func TestComposeWiring(t *testing.T) {
	root, c := loadCompose(t)
	w, seeder, in := c.Services["worker"], c.Services["seeder"], c.Services["init"]

	if w.Deploy.Replicas != 2 {
		t.Errorf("worker: deploy.replicas %d, want 2", w.Deploy.Replicas)
	}
	if w.Build == nil || w.Build.Dockerfile != "deploy/Dockerfile" || w.Build.Context != "." {
		t.Errorf("worker: build %+v, want context . and dockerfile deploy/Dockerfile", w.Build)
	}
	if seeder.Build == nil || *seeder.Build != *w.Build || seeder.Image != w.Image {
		t.Errorf("seeder: build %+v image %q: want the worker's image", seeder.Build, seeder.Image)
	}
	for _, n := range []string{"worker", "seeder", "init"} {
		env := c.Services[n].Environment
		if env["AWS_ENDPOINT_URL"] != "http://moto:5000" || env["AWS_ACCESS_KEY_ID"] == "" || env["AWS_SECRET_ACCESS_KEY"] == "" || env["AWS_REGION"] == "" {
			t.Errorf("%s: AWS environment %v: want moto's endpoint, a region and dummy credentials", n, env)
		}
	}
	bucket, queue := in.Environment["BUCKET"], in.Environment["QUEUE"]
	if in.Environment["MAX_RECEIVE_COUNT"] != "5" {
		t.Errorf("init: MAX_RECEIVE_COUNT %q, want 5", in.Environment["MAX_RECEIVE_COUNT"])
	}
	if got, want := w.Environment["LOGTIDE_QUEUE_URL"], "http://moto:5000/123456789012/"+queue; got != want || queue == "" {
		t.Errorf("worker: LOGTIDE_QUEUE_URL %q, want %q (moto's default account, init's QUEUE)", got, want)
	}
	if w.Environment["LOGTIDE_ES_URL"] != "http://opensearch:9200" {
		t.Errorf("worker: LOGTIDE_ES_URL %q", w.Environment["LOGTIDE_ES_URL"])
	}
	if len(seeder.Command) == 0 || seeder.Command[0] != "generate" || !slices.Contains(seeder.Command, bucket) ||
		slices.Index(seeder.Command, bucket) != slices.Index(seeder.Command, "--bucket")+1 {
		t.Errorf("seeder: command %v: want `generate --bucket %s`", seeder.Command, bucket)
	}
	_, metricsPort, ok := strings.Cut(w.Environment["LOGTIDE_METRICS_ADDR"], ":")
	if !ok || metricsPort == "" {
		t.Fatalf("worker: LOGTIDE_METRICS_ADDR %q", w.Environment["LOGTIDE_METRICS_ADDR"])
	}

	deps := map[string]map[string]string{
		"init":                  {"moto": "service_healthy"},
		"worker":                {"init": "service_completed_successfully", "opensearch": "service_healthy"},
		"seeder":                {"init": "service_completed_successfully"},
		"opensearch-dashboards": {"opensearch": "service_healthy"},
		"grafana":               {"opensearch": "service_healthy", "grafana-dashboards": "service_completed_successfully"},
	}
	for n, want := range deps {
		for dep, cond := range want {
			if got := c.Services[n].DependsOn[dep].Condition; got != cond {
				t.Errorf("%s: depends_on %s condition %q, want %q", n, dep, got, cond)
			}
		}
	}
	for n, s := range c.Services {
		for dep, d := range s.DependsOn {
			if _, ok := c.Services[dep]; !ok {
				t.Errorf("%s depends on unknown service %s", n, dep)
			}
			if d.Condition == "service_healthy" && c.Services[dep].Healthcheck == nil {
				t.Errorf("%s waits for %s to be healthy, which has no healthcheck", n, dep)
			}
		}
	}

	// Prometheus scrapes every worker replica on the worker's metrics port.
	prom := c.Services["prometheus"]
	cfgPath := hostPath(root, prom, "/etc/prometheus/prometheus.yml")
	if cfgPath == "" {
		t.Fatal("prometheus: /etc/prometheus/prometheus.yml is not mounted from the repository")
	}
	var pc struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName      string `yaml:"job_name"`
			DNSSDConfigs []struct {
				Names []string `yaml:"names"`
				Type  string   `yaml:"type"`
				Port  int      `yaml:"port"`
			} `yaml:"dns_sd_configs"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	loadYAML(t, cfgPath, &pc)
	scraped := false
	for _, sc := range pc.ScrapeConfigs {
		for _, d := range sc.DNSSDConfigs {
			if slices.Contains(d.Names, "worker") && d.Type == "A" && strconv.Itoa(d.Port) == metricsPort {
				scraped = true
			}
		}
		for _, s := range sc.StaticConfigs {
			scraped = scraped || slices.Contains(s.Targets, "worker:"+metricsPort)
		}
	}
	if !scraped {
		t.Errorf("%s scrapes no worker replica on port %s", cfgPath, metricsPort)
	}

	// It loads the fleet's alerting rules, mounted from the repository.
	const rulesIn = "/etc/prometheus/rules/logtide-alerts.yml"
	loaded := slices.ContainsFunc(pc.RuleFiles, func(glob string) bool { ok, _ := filepath.Match(glob, rulesIn); return ok })
	if !loaded {
		t.Errorf("%s: rule_files %v do not load %s", cfgPath, pc.RuleFiles, rulesIn)
	}
	if got, want := hostPath(root, prom, rulesIn), filepath.Join(root, "dashboards", "logtide-alerts.yml"); got != want {
		t.Errorf("prometheus: %s is mounted from %q, want %q", rulesIn, got, want)
	}
}

type grafanaDatasource struct {
	Name     string         `yaml:"name"`
	UID      string         `yaml:"uid"`
	Type     string         `yaml:"type"`
	URL      string         `yaml:"url"`
	JSONData map[string]any `yaml:"jsonData"`
}

func TestComposeGrafanaProvisioning(t *testing.T) {
	root, c := loadCompose(t)
	g, r := c.Services["grafana"], c.Services["grafana-dashboards"]
	m := regexp.MustCompile(`(?:^|,)` + opensearchPlugin + `@([0-9]+\.[0-9]+\.[0-9]+)(?:,|$)`).FindStringSubmatch(g.Environment["GF_PLUGINS_PREINSTALL_SYNC"])
	if m == nil {
		t.Fatalf("grafana: GF_PLUGINS_PREINSTALL_SYNC %q: want %s@<version>", g.Environment["GF_PLUGINS_PREINSTALL_SYNC"], opensearchPlugin)
	}
	pluginVersion := m[1]
	_, grafanaVersion, _ := strings.Cut(g.Image, ":")
	prov := hostPath(root, g, "/etc/grafana/provisioning")
	if prov == "" {
		t.Fatal("grafana: /etc/grafana/provisioning is not mounted from the repository")
	}

	// The dashboards name their datasources as import inputs, which file
	// provisioning leaves as they are: grafana-dashboards runs
	// `sh render-dashboards.sh SRC DST` with SRC the repository's dashboards/
	// and DST a volume Grafana provisions from. The script runs here as
	// compose runs it, and what it writes is what is checked below.
	if len(r.Entrypoint) != 4 || r.Entrypoint[0] != "/bin/sh" {
		t.Fatalf("grafana-dashboards: entrypoint %v: want /bin/sh SCRIPT SRC DST", r.Entrypoint)
	}
	script, src := hostPath(root, r, r.Entrypoint[1]), hostPath(root, r, r.Entrypoint[2])
	if want := filepath.Join(root, "compose", "grafana", "render-dashboards.sh"); script != want {
		t.Errorf("grafana-dashboards: script %s is %q on the host, want %s", r.Entrypoint[1], script, want)
	}
	if want := filepath.Join(root, "dashboards"); src != want {
		t.Errorf("grafana-dashboards: dashboards %s are %q on the host, want %s", r.Entrypoint[2], src, want)
	}
	volume := namedVolumeAt(r, r.Entrypoint[3])
	renderedIn := ""
	for _, v := range g.Volumes {
		if mt := parseMount(v); !mt.Bind && mt.Source == volume && volume != "" {
			renderedIn = mt.Target
		}
	}
	if renderedIn == "" {
		t.Fatalf("grafana does not mount the volume %q grafana-dashboards writes to %s", volume, r.Entrypoint[3])
	}
	rendered := t.TempDir()
	out, err := exec.Command("sh", script, src, rendered).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	// A dashboard removed from dashboards/ leaves the volume on the next run.
	if err := os.WriteFile(filepath.Join(rendered, "removed.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("sh", script, src, rendered).CombinedOutput(); err != nil {
		t.Fatalf("%s, second run: %v\n%s", script, err, out)
	}
	if _, err := os.Stat(filepath.Join(rendered, "removed.json")); err == nil {
		t.Error("render-dashboards.sh keeps a dashboard that is no longer in dashboards/")
	}

	// Dashboards: the provider's folder holds every dashboard, rendered.
	files, _ := filepath.Glob(filepath.Join(prov, "dashboards", "*.yaml"))
	var dashDirs []string
	for _, f := range files {
		var p struct {
			Providers []struct {
				Type    string `yaml:"type"`
				Options struct {
					Path string `yaml:"path"`
				} `yaml:"options"`
			} `yaml:"providers"`
		}
		loadYAML(t, f, &p)
		for _, pr := range p.Providers {
			if pr.Type != "file" || pr.Options.Path != renderedIn {
				t.Errorf("%s: provider %+v does not read the rendered dashboards in %s", f, pr, renderedIn)
				continue
			}
			dashDirs = append(dashDirs, rendered)
		}
	}
	fds := formatDashboards(t)
	names := []string{fleetFile}
	for _, fd := range fds {
		names = append(names, fd.File)
	}
	for _, name := range names {
		found := slices.ContainsFunc(dashDirs, func(dir string) bool {
			_, err := os.Stat(filepath.Join(dir, name))
			return err == nil
		})
		if !found {
			t.Errorf("provisioned dashboard folders %v lack %s", dashDirs, name)
		}
		b, err := os.ReadFile(filepath.Join(rendered, name))
		if err != nil {
			continue
		}
		if i := strings.Index(string(b), "${DS_"); i >= 0 {
			t.Errorf("rendered %s still has an input: %.40s", name, b[i:])
		}
		// What the dashboards say they need is what compose runs.
		var imp importable
		if err := json.Unmarshal(b, &imp); err != nil {
			t.Errorf("rendered %s: %v", name, err)
			continue
		}
		for _, req := range imp.Requires {
			if (req.ID == "grafana" && req.Version != grafanaVersion) || (req.ID == opensearchPlugin && req.Version != pluginVersion) {
				t.Errorf("%s: __requires %s %s, compose runs %s (Grafana %s, %s %s)", name, req.ID, req.Version, g.Image, grafanaVersion, opensearchPlugin, pluginVersion)
			}
		}
	}
	if home, want := g.Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"], renderedIn+"/"+fleetFile; home != want {
		t.Errorf("grafana: home dashboard %q, want the rendered fleet dashboard %s", home, want)
	}

	// Datasources: what the dashboards' datasource variables select.
	var dss []grafanaDatasource
	files, _ = filepath.Glob(filepath.Join(prov, "datasources", "*.yaml"))
	for _, f := range files {
		var p struct {
			Datasources []grafanaDatasource `yaml:"datasources"`
		}
		loadYAML(t, f, &p)
		dss = append(dss, p.Datasources...)
	}
	byUID := map[string]grafanaDatasource{}
	for _, ds := range dss {
		if ds.UID == "" || byUID[ds.UID].UID != "" {
			t.Errorf("datasource %q: empty or duplicate uid %q", ds.Name, ds.UID)
		}
		byUID[ds.UID] = ds
	}
	wantDS := map[string]string{
		"logtide-prometheus":  "prometheus http://prometheus:9090 ",
		"logtide-findings":    opensearchPlugin + " http://opensearch:9200 guardduty-*",
		"logtide-deadletters": opensearchPlugin + " http://opensearch:9200 logtide-deadletter",
	}
	for uid, want := range wantDS {
		ds := byUID[uid]
		db, _ := ds.JSONData["database"].(string)
		if got := ds.Type + " " + ds.URL + " " + db; got != want {
			t.Errorf("datasource %s: %q, want %q", uid, got, want)
		}
	}
	for uid, ds := range byUID {
		if ds.Type == opensearchPlugin && (ds.JSONData["timeField"] != "@timestamp" || ds.JSONData["flavor"] != "opensearch" || ds.URL != "http://opensearch:9200") {
			t.Errorf("datasource %s: url %s, jsonData %v: want http://opensearch:9200, timeField @timestamp, flavor opensearch", uid, ds.URL, ds.JSONData)
		}
	}
	// The datasource variable of each log type's dashboard defaults to a
	// datasource on exactly the indices the format writes with its default
	// prefix (the worker's and the compose stack's).
	wantDB := map[string]string{} // dashboard file + variable → database
	for _, fd := range fds {
		wantDB[fd.File+" "+fd.DataVar] = newFormat(t, fd.Spec).IndexPattern()
		wantDB[fd.File+" "+deadLetterVar] = "logtide-deadletter"
	}
	for _, name := range names {
		d := loadDashboardFile(t, filepath.Join(rendered, name))
		for _, v := range d.Templating.List {
			if v.Type != "datasource" {
				continue
			}
			uid := fmt.Sprint(v.Current.Value)
			ds, ok := byUID[uid]
			if !ok || ds.Type != v.queryString() {
				t.Errorf("%s: variable %s defaults to datasource %q, which is not a provisioned %s datasource", name, v.Name, uid, v.queryString())
				continue
			}
			if want, ok := wantDB[name+" "+v.Name]; ok {
				if db, _ := ds.JSONData["database"].(string); db != want {
					t.Errorf("%s: variable %s defaults to datasource %s on %q, want the indices %q", name, v.Name, uid, db, want)
				}
			}
		}
	}
}

// TestComposeProvisioningJSON: provisioning cannot load a dashboard file that
// is not one JSON object, and loads only one of two dashboards with the same
// uid or title.
func TestComposeProvisioningJSON(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(repoRoot(t), "dashboards", "*.json"))
	if len(files) != 1+len(formats.All) {
		t.Errorf("dashboards/ holds %v, want the fleet's and one per log type (%v)", files, formats.Names())
	}
	uids, titles := map[string]string{}, map[string]string{}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		uid, title := fmt.Sprint(m["uid"]), fmt.Sprint(m["title"])
		if prev, dup := uids[uid]; dup {
			t.Errorf("%s and %s share uid %q", prev, f, uid)
		}
		if prev, dup := titles[title]; dup {
			t.Errorf("%s and %s share title %q", prev, f, title)
		}
		uids[uid], titles[title] = f, f
	}
}
