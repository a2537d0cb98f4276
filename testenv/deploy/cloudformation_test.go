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

// template reads deploy/cloudformation.yaml as a node tree (its !Sub and
// !Ref tags stay as tagged scalars).
func template(t *testing.T) *yaml.Node {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "deploy", "cloudformation.yaml"))
	if err != nil {
		t.Fatal(err)
	}
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
