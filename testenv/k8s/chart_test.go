// Package k8s checks the Helm chart of deploy/helm: helm's own lint, then
// its manifests rendered with helm's engine and decoded strictly against
// the Kubernetes API types (and the fields of KEDA's ScaledObject and the
// Prometheus operator's PodMonitor that it sets), for what the worker
// needs: a numeric non-root user, a read-only root file system, a grace
// period above the worker's shutdown grace, and scaling on the queue.
package k8s

import (
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

func chartDir(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "deploy", "helm", "logtide-worker")
}

// required are the values without which the chart refuses to render.
func required() map[string]any {
	return map[string]any{"worker": map[string]any{
		"queueURL": "https://sqs.eu-west-1.amazonaws.com/111122223333/security-logs",
		"esURL":    "https://search-logs.eu-west-1.es.amazonaws.com",
		"region":   "eu-west-1",
	}}
}

func TestHelmLint(t *testing.T) {
	res := lint.All(chartDir(t), required(), "logs", false)
	for _, m := range res.Messages {
		if m.Severity >= support.WarningSev {
			t.Errorf("helm lint: %s", m)
		}
	}
}

// manifests renders the chart with vals over the required values and
// returns its documents by kind.
func manifests(t *testing.T, vals map[string]any) map[string][]byte {
	t.Helper()
	ch, err := loader.Load(chartDir(t))
	if err != nil {
		t.Fatal(err)
	}
	all := required()
	for k, v := range vals {
		if m, ok := v.(map[string]any); ok {
			if base, ok := all[k].(map[string]any); ok {
				for kk, vv := range m {
					base[kk] = vv
				}
				continue
			}
		}
		all[k] = v
	}
	rv, err := chartutil.ToRenderValues(ch, all, chartutil.ReleaseOptions{Name: "sec", Namespace: "logs", IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	files, err := engine.Render(ch, rv)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for name, body := range files {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		for _, doc := range strings.Split(body, "\n---") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			var head struct{ Kind string }
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if head.Kind != "" {
				out[head.Kind] = []byte(doc)
			}
		}
	}
	return out
}

// strict decodes a manifest, refusing any field the type does not have.
func strict(t *testing.T, kind string, b []byte, v any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(b, v); err != nil {
		t.Fatalf("%s: %v\n%s", kind, err, b)
	}
}

func TestDeployment(t *testing.T) {
	m := manifests(t, map[string]any{"serviceAccount": map[string]any{"create": true, "roleARN": "arn:aws:iam::111122223333:role/logtide-worker"}})
	var d appsv1.Deployment
	strict(t, "Deployment", m["Deployment"], &d)
	p := d.Spec.Template.Spec
	c := p.Containers[0]
	sc, csc := p.SecurityContext, c.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != 65532 {
		t.Errorf("pod security context %+v: want runAsNonRoot and the image's uid 65532", sc)
	}
	if csc == nil || csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem || csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
		t.Errorf("container security context %+v: want a read-only root file system and no privilege escalation", csc)
	}
	grace := 0
	for _, e := range c.Env {
		if e.Name == "LOGTIDE_SHUTDOWN_GRACE" {
			fmt.Sscanf(e.Value, "%ds", &grace)
		}
	}
	if grace == 0 || p.TerminationGracePeriodSeconds == nil || *p.TerminationGracePeriodSeconds <= int64(grace) {
		t.Errorf("terminationGracePeriodSeconds %v, shutdown grace %ds: the pod must outlive the worker's grace", p.TerminationGracePeriodSeconds, grace)
	}
	if d.Spec.Replicas != nil {
		t.Errorf("replicas %d set while KEDA owns them", *d.Spec.Replicas)
	}
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("liveness probe %+v", c.LivenessProbe)
	}
	var sa corev1.ServiceAccount
	strict(t, "ServiceAccount", m["ServiceAccount"], &sa)
	if p.ServiceAccountName != sa.Name || sa.Annotations["eks.amazonaws.com/role-arn"] != "arn:aws:iam::111122223333:role/logtide-worker" {
		t.Errorf("service account %s (pod uses %s), annotations %v", sa.Name, p.ServiceAccountName, sa.Annotations)
	}
	// Without KEDA, a fixed replica count.
	m = manifests(t, map[string]any{"autoscaling": map[string]any{"enabled": false}, "replicas": 3})
	strict(t, "Deployment", m["Deployment"], &d)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 || m["ScaledObject"] != nil {
		t.Errorf("without autoscaling: replicas %v, ScaledObject %s", d.Spec.Replicas, m["ScaledObject"])
	}
}

// scaledObject holds the fields of KEDA's ScaledObject (keda.sh/v1alpha1)
// the chart sets.
type scaledObject struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   map[string]any `json:"metadata"`
	Spec       struct {
		ScaleTargetRef struct {
			Name string `json:"name"`
		} `json:"scaleTargetRef"`
		MinReplicaCount *int `json:"minReplicaCount"`
		MaxReplicaCount *int `json:"maxReplicaCount"`
		PollingInterval int  `json:"pollingInterval"`
		CooldownPeriod  int  `json:"cooldownPeriod"`
		Triggers        []struct {
			Type     string            `json:"type"`
			Metadata map[string]string `json:"metadata"`
		} `json:"triggers"`
	} `json:"spec"`
}

func TestScaledObject(t *testing.T) {
	m := manifests(t, nil)
	var so scaledObject
	strict(t, "ScaledObject", m["ScaledObject"], &so)
	var d appsv1.Deployment
	strict(t, "Deployment", m["Deployment"], &d)
	if so.APIVersion != "keda.sh/v1alpha1" || so.Spec.ScaleTargetRef.Name != d.Name {
		t.Errorf("ScaledObject %s targets %q, the Deployment is %q", so.APIVersion, so.Spec.ScaleTargetRef.Name, d.Name)
	}
	if so.Spec.MinReplicaCount == nil || *so.Spec.MinReplicaCount != 0 || so.Spec.MaxReplicaCount == nil || *so.Spec.MaxReplicaCount < 1 {
		t.Errorf("replicas %v..%v: want from zero", so.Spec.MinReplicaCount, so.Spec.MaxReplicaCount)
	}
	if len(so.Spec.Triggers) != 1 {
		t.Fatalf("triggers %+v", so.Spec.Triggers)
	}
	tr := so.Spec.Triggers[0]
	want := map[string]string{"queueURL": required()["worker"].(map[string]any)["queueURL"].(string), "awsRegion": "eu-west-1", "identityOwner": "pod", "scaleOnInFlight": "true"}
	for k, v := range want {
		if tr.Metadata[k] != v {
			t.Errorf("trigger %s: %s = %q, want %q", tr.Type, k, tr.Metadata[k], v)
		}
	}
	if tr.Type != "aws-sqs-queue" || tr.Metadata["queueLength"] == "" {
		t.Errorf("trigger %+v", tr)
	}
}

// podMonitor holds the fields of the Prometheus operator's PodMonitor the
// chart sets.
type podMonitor struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   map[string]any `json:"metadata"`
	Spec       struct {
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		PodMetricsEndpoints []struct {
			Port     string `json:"port"`
			Path     string `json:"path"`
			Interval string `json:"interval"`
		} `json:"podMetricsEndpoints"`
	} `json:"spec"`
}

func TestPodMonitor(t *testing.T) {
	if m := manifests(t, nil); m["PodMonitor"] != nil {
		t.Error("a PodMonitor without podMonitor.enabled")
	}
	m := manifests(t, map[string]any{"podMonitor": map[string]any{"enabled": true, "interval": "15s", "labels": map[string]any{"release": "kube-prometheus"}}})
	var pm podMonitor
	strict(t, "PodMonitor", m["PodMonitor"], &pm)
	var d appsv1.Deployment
	strict(t, "Deployment", m["Deployment"], &d)
	ports := []string{}
	for _, p := range d.Spec.Template.Spec.Containers[0].Ports {
		ports = append(ports, p.Name)
	}
	ep := pm.Spec.PodMetricsEndpoints
	if len(ep) != 1 || !slices.Contains(ports, ep[0].Port) || ep[0].Path != "/metrics" || ep[0].Interval != "15s" {
		t.Errorf("endpoints %+v, container ports %v", ep, ports)
	}
	for k, v := range pm.Spec.Selector.MatchLabels {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("selector %s=%s does not match the pods (%v)", k, v, d.Spec.Template.Labels)
		}
	}
	labels, _ := pm.Metadata["labels"].(map[string]any)
	if labels["release"] != "kube-prometheus" {
		t.Errorf("labels %v", labels)
	}
}

func TestRequiredValues(t *testing.T) {
	ch, err := loader.Load(chartDir(t))
	if err != nil {
		t.Fatal(err)
	}
	rv, err := chartutil.ToRenderValues(ch, map[string]any{"worker": map[string]any{"region": "eu-west-1"}}, chartutil.ReleaseOptions{Name: "x", Namespace: "n"}, chartutil.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := engine.Render(ch, rv); err == nil || !strings.Contains(err.Error(), "worker.queueURL is required") {
		t.Errorf("rendered without a queue: %v", err)
	}
}
