// Package deploy tests the deployment files against what the worker does.
package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// readRepoFile reads the repository's file name (a slash-separated path
// from its root).
func readRepoFile(t *testing.T, name string) []byte {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// template reads deploy/cloudformation.yaml as a node tree (its !Sub and
// !Ref tags stay as tagged scalars).
func template(t *testing.T) *yaml.Node {
	t.Helper()
	b := readRepoFile(t, "deploy/cloudformation.yaml")
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Content[0]
}

// get follows mapping keys from n.
func get(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

// strings lists a scalar or a sequence of scalars.
func scalars(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	var out []string
	for _, c := range n.Content {
		out = append(out, c.Value)
	}
	return out
}

// TestTaskRoleOnTheClusterIsLeastPrivilege: the task role may make only the
// requests the worker makes to the domain: bulk writes, GET / and the
// template installs, nothing on any other path.
func TestTaskRoleOnTheClusterIsLeastPrivilege(t *testing.T) {
	policies := get(template(t), "Resources", "TaskRole", "Properties", "Policies")
	if policies == nil {
		t.Fatal("no TaskRole policies")
	}
	var got []string
	for _, p := range policies.Content {
		for _, st := range get(p, "PolicyDocument", "Statement").Content {
			if st.Tag == "!If" && len(st.Content) == 3 {
				// Conditional statements: the domain's only with SigV4.
				isES := strings.HasPrefix(fmt.Sprint(scalars(get(st.Content[1], "Action"))), "[es:")
				if isES != (st.Content[0].Value == "SignsWithSigV4") {
					t.Errorf("statement %s under condition %s", get(st.Content[1], "Sid").Value, st.Content[0].Value)
				}
				st = st.Content[1]
			}
			actions := scalars(get(st, "Action"))
			var es []string
			for _, a := range actions {
				if strings.HasPrefix(a, "es:") {
					es = append(es, a)
				}
			}
			if len(es) == 0 {
				continue
			}
			if len(es) != len(actions) {
				t.Errorf("statement %s mixes es: actions with others: %v", get(st, "Sid").Value, actions)
			}
			for _, a := range es {
				for _, r := range scalars(get(st, "Resource")) {
					got = append(got, a+" "+r)
				}
			}
		}
	}
	sort.Strings(got)
	want := []string{
		"es:ESHttpGet ${OpenSearchDomainArn}/",
		"es:ESHttpPost ${OpenSearchDomainArn}/_bulk",
		"es:ESHttpPut ${OpenSearchDomainArn}/_component_template/*",
		"es:ESHttpPut ${OpenSearchDomainArn}/_index_template/*",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the task role may call %v on the domain, want exactly %v", got, want)
	}
}

// TestObjectReadRole: with ObjectReadRoleArn the tasks read the objects as
// that role (LOGTIDE_ASSUME_ROLE_ARN), and the task role may assume exactly
// it instead of reading S3 or decrypting with KMS itself.
func TestObjectReadRole(t *testing.T) {
	tpl := template(t)
	conditional := map[string][]*yaml.Node{} // condition → [then, else]
	for _, p := range get(tpl, "Resources", "TaskRole", "Properties", "Policies").Content {
		for _, st := range get(p, "PolicyDocument", "Statement").Content {
			if st.Tag == "!If" && len(st.Content) == 3 {
				conditional[st.Content[0].Value] = st.Content[1:]
			}
		}
	}
	reads := conditional["ReadsItself"]
	if reads == nil || fmt.Sprint(scalars(get(reads[0], "Action"))) != "[s3:GetObject s3:GetObjectVersion]" {
		t.Fatalf("the task role's S3 reads are not conditioned on ReadsItself: %v", conditional)
	}
	assume := reads[1]
	if fmt.Sprint(scalars(get(assume, "Action"))) != "[sts:AssumeRole]" || get(assume, "Resource").Tag != "!Ref" || get(assume, "Resource").Value != "ObjectReadRoleArn" {
		t.Errorf("with a read role the task role may: %v on %v", scalars(get(assume, "Action")), get(assume, "Resource").Value)
	}
	if kms := conditional["DecryptsItself"]; kms == nil || fmt.Sprint(scalars(get(kms[0], "Action"))) != "[kms:Decrypt]" {
		t.Errorf("kms:Decrypt is not conditioned on DecryptsItself")
	}
	envs := map[string]string{}
	for _, c := range get(tpl, "Resources", "TaskDefinition", "Properties", "ContainerDefinitions").Content {
		if get(c, "Environment") == nil {
			continue // the collector, under its !If
		}
		for _, e := range get(c, "Environment").Content {
			if e.Tag == "!If" && len(e.Content) == 3 {
				envs[get(e.Content[1], "Name").Value] = e.Content[0].Value + " " + get(e.Content[1], "Value").Value
			}
		}
	}
	if envs["LOGTIDE_ASSUME_ROLE_ARN"] != "ReadsThroughRole ObjectReadRoleArn" || envs["LOGTIDE_EXTERNAL_ID"] != "HasExternalId ObjectReadExternalId" {
		t.Errorf("conditional environment: %v", envs)
	}
}

// TestImageUser: the image runs as a numeric non-root user, which
// Kubernetes' runAsNonRoot can verify (a user name it cannot), and both
// ignore files (the root one for any builder, BuildKit's beside the
// Dockerfile) send the same files.
func TestImageUser(t *testing.T) {
	b := readRepoFile(t, "deploy/Dockerfile")
	var user string
	for _, l := range strings.Split(string(b), "\n") {
		if u, ok := strings.CutPrefix(l, "USER "); ok {
			user = strings.TrimSpace(u)
		}
	}
	uid, gid, _ := strings.Cut(user, ":")
	if uid == "" || uid == "0" || strings.Trim(uid, "0123456789") != "" || strings.Trim(gid, "0123456789") != "" {
		t.Errorf("USER %q: want a numeric uid:gid other than root", user)
	}
	rules := func(name string) []string {
		var out []string
		for _, l := range strings.Split(string(readRepoFile(t, name)), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				out = append(out, l)
			}
		}
		return out
	}
	if a, b := rules(".dockerignore"), rules("deploy/Dockerfile.dockerignore"); fmt.Sprint(a) != fmt.Sprint(b) || len(a) == 0 {
		t.Errorf("ignore files differ: .dockerignore %v, deploy/Dockerfile.dockerignore %v", a, b)
	}
}

// TestImageGoVersion: the image builds with the Go release go.mod names,
// not whatever a floating tag gives on the day.
func TestImageGoVersion(t *testing.T) {
	read := func(name, prefix string) string {
		for _, l := range strings.Split(string(readRepoFile(t, name)), "\n") {
			if v, ok := strings.CutPrefix(l, prefix); ok {
				return strings.TrimSpace(v)
			}
		}
		t.Fatalf("%s: no line starting %q", name, prefix)
		return ""
	}
	if img, mod := read("deploy/Dockerfile", "ARG GO_VERSION="), read("go.mod", "go "); img != mod || strings.Count(img, ".") != 2 {
		t.Errorf("deploy/Dockerfile builds with Go %q, go.mod names %q: want the same x.y.z", img, mod)
	}
}

// ifBranches returns the then and else of a !If node with condition cond.
func ifBranches(t *testing.T, n *yaml.Node, cond string) (then, els *yaml.Node) {
	t.Helper()
	if n == nil || n.Tag != "!If" || len(n.Content) != 3 || n.Content[0].Value != cond {
		t.Fatalf("not an !If on %s: %+v", cond, n)
	}
	return n.Content[1], n.Content[2]
}

// statements lists the statements of a role's policies, !If ones by their
// condition.
func statements(tpl *yaml.Node, role string) (plain map[string]*yaml.Node, conditional map[string]*yaml.Node) {
	plain, conditional = map[string]*yaml.Node{}, map[string]*yaml.Node{}
	for _, p := range get(tpl, "Resources", role, "Properties", "Policies").Content {
		for _, st := range get(p, "PolicyDocument", "Statement").Content {
			if st.Tag == "!If" && len(st.Content) == 3 {
				conditional[st.Content[0].Value] = st.Content[1]
				continue
			}
			plain[get(st, "Sid").Value] = st
		}
	}
	return plain, conditional
}

// TestSearchSecrets: with basic auth or an API key, ECS hands the secret
// (Secrets Manager or SSM) to the worker as the variable it reads, and the
// execution role may read exactly that secret.
func TestSearchSecrets(t *testing.T) {
	tpl := template(t)
	var worker *yaml.Node
	for _, c := range get(tpl, "Resources", "TaskDefinition", "Properties", "ContainerDefinitions").Content {
		if get(c, "Name") != nil && get(c, "Name").Value == "worker" {
			worker = c
		}
	}
	then, _ := ifBranches(t, get(worker, "Secrets"), "UsesSecret")
	secret := then.Content[0]
	name, _ := ifBranches(t, get(secret, "Name"), "UsesBasicAuth")
	if fmt.Sprint(scalars(get(secret, "Name"))[1:]) != "[LOGTIDE_ES_PASSWORD LOGTIDE_ES_API_KEY]" || name.Value != "LOGTIDE_ES_PASSWORD" || get(secret, "ValueFrom").Value != "SearchSecretArn" {
		t.Errorf("secret %v from %s", scalars(get(secret, "Name")), get(secret, "ValueFrom").Value)
	}
	_, cond := statements(tpl, "ExecutionRole")
	for c, action := range map[string]string{"SecretInSecretsManager": "secretsmanager:GetSecretValue", "SecretInSSM": "ssm:GetParameters"} {
		st := cond[c]
		if st == nil || fmt.Sprint(scalars(get(st, "Action"))) != "["+action+"]" || get(st, "Resource").Value != "SearchSecretArn" {
			t.Errorf("execution role under %s: %v", c, st)
		}
	}
}

// TestMetricsCollector: with a Prometheus workspace each task runs the
// collector, which scrapes the worker's metrics port (one series per task)
// and may only remote-write to that workspace.
func TestMetricsCollector(t *testing.T) {
	tpl := template(t)
	defs := get(tpl, "Resources", "TaskDefinition", "Properties", "ContainerDefinitions").Content
	port := get(defs[0], "PortMappings").Content[0]
	collector, _ := ifBranches(t, defs[1], "CollectsMetrics")
	if get(collector, "Essential").Value != "false" {
		t.Error("the collector is essential: its failure would stop the worker")
	}
	var config string
	for _, e := range get(collector, "Environment").Content {
		if get(e, "Name").Value == "AOT_CONFIG_CONTENT" {
			config = get(e, "Value").Value
		}
	}
	var cfg struct {
		Receivers struct {
			Prometheus struct {
				Config struct {
					ScrapeConfigs []struct {
						StaticConfigs []struct{ Targets []string } `yaml:"static_configs"`
						Relabel       []struct {
							Target      string `yaml:"target_label"`
							Replacement string
						} `yaml:"relabel_configs"`
					} `yaml:"scrape_configs"`
				}
			}
		}
		Exporters struct {
			PRW struct {
				Endpoint string
				Auth     struct{ Authenticator string }
			} `yaml:"prometheusremotewrite"`
		}
	}
	if err := yaml.Unmarshal([]byte(config), &cfg); err != nil {
		t.Fatalf("collector config: %v\n%s", err, config)
	}
	sc := cfg.Receivers.Prometheus.Config.ScrapeConfigs
	if len(sc) != 1 || fmt.Sprint(sc[0].StaticConfigs[0].Targets) != "[localhost:"+get(port, "ContainerPort").Value+"]" {
		t.Errorf("the collector scrapes %+v, not the worker's port %s", sc, get(port, "ContainerPort").Value)
	}
	if len(sc) == 1 && (len(sc[0].Relabel) == 0 || sc[0].Relabel[0].Target != "instance" || !strings.Contains(sc[0].Relabel[0].Replacement, "HOSTNAME")) {
		t.Errorf("tasks' series are not told apart by instance: %+v", sc[0].Relabel)
	}
	if cfg.Exporters.PRW.Endpoint != "${PrometheusRemoteWriteUrl}" || cfg.Exporters.PRW.Auth.Authenticator != "sigv4auth" {
		t.Errorf("remote write %+v", cfg.Exporters.PRW)
	}
	_, cond := statements(tpl, "TaskRole")
	if st := cond["CollectsMetrics"]; st == nil || fmt.Sprint(scalars(get(st, "Action"))) != "[aps:RemoteWrite]" || get(st, "Resource").Value != "PrometheusWorkspaceArn" {
		t.Errorf("task role for the collector: %v", st)
	}
}

// TestTaskAlarms: an alarm on fewer running tasks than desired, and every
// task stopped by its worker's exit sent to the alarm topic.
func TestTaskAlarms(t *testing.T) {
	tpl := template(t)
	alarm := get(tpl, "Resources", "TasksBelowDesiredAlarm", "Properties")
	names := map[string]string{}
	for _, m := range get(alarm, "Metrics").Content {
		if ms := get(m, "MetricStat", "Metric"); ms != nil {
			names[get(m, "Id").Value] = get(ms, "MetricName").Value
		}
	}
	if names["desired"] != "DesiredTaskCount" || names["running"] != "RunningTaskCount" {
		t.Errorf("tasks alarm metrics %v", names)
	}
	rule := get(tpl, "Resources", "WorkerStoppedRule", "Properties")
	if codes := scalars(get(rule, "EventPattern", "detail", "stopCode")); fmt.Sprint(codes) != "[EssentialContainerExited TaskFailedToStart]" {
		t.Errorf("stopped-task rule matches %v", codes)
	}
	if get(rule, "Targets").Content[0] == nil || get(get(rule, "Targets").Content[0], "Arn").Value != "AlarmTopicArn" {
		t.Error("stopped tasks do not go to the alarm topic")
	}
}

// TestScaleFromZero: MinTasks may be 0, and then messages waiting with no
// task running start one (target tracking cannot scale out from zero).
func TestScaleFromZero(t *testing.T) {
	tpl := template(t)
	if v := get(tpl, "Parameters", "MinTasks", "MinValue").Value; v != "0" {
		t.Errorf("MinTasks MinValue %s", v)
	}
	alarm := get(tpl, "Resources", "ScaleFromZeroAlarm", "Properties")
	if a := get(alarm, "AlarmActions").Content[0]; a.Tag != "!Ref" || a.Value != "ScaleFromZeroPolicy" {
		t.Errorf("the from-zero alarm acts on %s %s", a.Tag, a.Value)
	}
	var expr string
	for _, m := range get(alarm, "Metrics").Content {
		if get(m, "Expression") != nil {
			expr = get(m, "Expression").Value
		}
	}
	if !strings.Contains(expr, "FILL(tasks, 0) == 0") || !strings.Contains(expr, "visible > 0") {
		t.Errorf("from-zero alarm expression %q", expr)
	}
	policy := get(tpl, "Resources", "ScaleFromZeroPolicy", "Properties")
	step := get(policy, "StepScalingPolicyConfiguration")
	if get(policy, "PolicyType").Value != "StepScaling" || get(step, "AdjustmentType").Value != "ChangeInCapacity" || get(step.Content[len(step.Content)-1].Content[0], "ScalingAdjustment").Value != "1" {
		t.Errorf("from-zero policy %v", step)
	}
	// The backlog ratio has a value at zero tasks.
	for _, m := range get(tpl, "Resources", "BacklogPerTaskPolicy", "Properties", "TargetTrackingScalingPolicyConfiguration", "CustomizedMetricSpecification", "Metrics").Content {
		if e := get(m, "Expression"); e != nil && !strings.Contains(e.Value, "IF(FILL(tasks, 0) > 0") {
			t.Errorf("backlog per task %q divides by zero tasks", e.Value)
		}
	}
}
