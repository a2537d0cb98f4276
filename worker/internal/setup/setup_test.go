package setup

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/formats"
	"github.com/logtide/logtide/worker/internal/sink"
	"github.com/logtide/logtide/worker/savedobjects"
)

func allFormats(t *testing.T, history bool) []format.Format {
	t.Helper()
	fs, err := formats.New(func(string) format.Options { return format.Options{History: history} })
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestRetentionPolicies(t *testing.T) {
	fs := allFormats(t, true)
	r, err := ParseRetention("90, cloudtrail=365,vpcflow=0")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := r.Policies(fs)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range ps {
		got[p.What] = fmt.Sprintf("%s %s %d", p.Name, p.Pattern, p.Days)
	}
	want := map[string]string{
		"guardduty-history": "logtide-guardduty-history history-guardduty-* 90",
		"cloudtrail":        "logtide-cloudtrail cloudtrail-* 365",
		"elb":               "logtide-elb elb-* 90", "waf": "logtide-waf waf-* 90",
		"s3access": "logtide-s3access s3access-* 90", "resolver": "logtide-resolver resolver-* 90",
	}
	// GuardDuty's current state is spared unless named; vpcflow=0 keeps it.
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("policies\n%v\nwant\n%v", got, want)
	}
	r, _ = ParseRetention("guardduty=400")
	if ps, _ := r.Policies(fs); len(ps) != 1 || ps[0].Pattern != "guardduty-*" || ps[0].Days != 400 {
		t.Errorf("guardduty named: %+v", ps)
	}
	r, _ = ParseRetention("nosuch=3")
	if _, err := r.Policies(fs); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("unknown format: %v", err)
	}
	for _, bad := range []string{"x", "cloudtrail=-1", "cloudtrail=ten"} {
		if _, err := ParseRetention(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if r, _ := ParseRetention(""); !r.Off() {
		t.Error("empty retention is not off")
	}
}

// fakeCluster answers the ISM and ILM APIs from memory and records the
// calls.
type fakeCluster struct {
	calls    []string
	policies map[string]map[string]any
	seq      int64
}

func (f *fakeCluster) Do(_ context.Context, method, path string, params url.Values, body any) ([]byte, error) {
	call := method + " " + path
	if len(params) > 0 {
		call += "?" + params.Encode()
	}
	f.calls = append(f.calls, call)
	switch {
	case strings.HasPrefix(path, "/_plugins/_ism/policies/") && method == http.MethodGet:
		p, ok := f.policies[strings.TrimPrefix(path, "/_plugins/_ism/policies/")]
		if !ok {
			return nil, &sink.AnswerError{Status: 404, Msg: "policy not found"}
		}
		b, _ := json.Marshal(map[string]any{"_id": "x", "_seq_no": f.seq, "_primary_term": 1, "policy": p})
		return b, nil
	case strings.HasPrefix(path, "/_plugins/_ism/policies/") && method == http.MethodPut:
		var b struct {
			Policy map[string]any `json:"policy"`
		}
		raw, _ := json.Marshal(body)
		_ = json.Unmarshal(raw, &b)
		// The cluster adds its own members to what it stores.
		b.Policy["policy_id"], b.Policy["last_updated_time"], b.Policy["schema_version"] = "x", 123, 21
		f.policies[strings.TrimPrefix(path, "/_plugins/_ism/policies/")] = b.Policy
		f.seq++
		return []byte(`{}`), nil
	case strings.HasPrefix(path, "/_plugins/_ism/add/"):
		return []byte(`{"updated_indices":2,"failures":false,"failed_indices":[]}`), nil
	}
	return []byte(`{}`), nil
}

func TestISMIsIdempotent(t *testing.T) {
	f := &fakeCluster{policies: map[string]map[string]any{}}
	p := Policy{Name: "logtide-cloudtrail", What: "cloudtrail", Pattern: "cloudtrail-*", Days: 30}
	ctx := context.Background()
	for i, want := range []string{"created, attached to 2 existing indices", "unchanged, attached to 2 existing indices"} {
		did, err := installISM(ctx, f, p)
		if err != nil || did != want {
			t.Fatalf("run %d: %q %v", i+1, did, err)
		}
	}
	p.Days = 60
	if did, err := installISM(ctx, f, p); err != nil || !strings.HasPrefix(did, "updated") {
		t.Fatalf("changed days: %q %v", did, err)
	}
	if !slices.Contains(f.calls, "PUT /_plugins/_ism/policies/logtide-cloudtrail?if_primary_term=1&if_seq_no=1") {
		t.Errorf("the update did not name the sequence number it replaces: %v", f.calls)
	}
	st := f.policies["logtide-cloudtrail"]["states"].([]any)
	cond := st[0].(map[string]any)["transitions"].([]any)[0].(map[string]any)["conditions"].(map[string]any)
	if cond["min_index_age"] != "60d" || ismPatterns(f.policies["logtide-cloudtrail"])[0] != "cloudtrail-*" {
		t.Errorf("stored policy %v", f.policies["logtide-cloudtrail"])
	}
	if n := strings.Count(strings.Join(f.calls, "\n"), "POST /_plugins/_ism/add/cloudtrail-*"); n != 3 {
		t.Errorf("attached %d times, want once per run", n)
	}
}

func TestILM(t *testing.T) {
	f := &fakeCluster{policies: map[string]map[string]any{}}
	p := Policy{Name: "logtide-waf", What: "waf", Pattern: "waf-*", Days: 7}
	if _, err := installILM(context.Background(), f, p); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(f.calls) != "[PUT /_ilm/policy/logtide-waf PUT /waf-*/_settings?allow_no_indices=true&expand_wildcards=open]" {
		t.Errorf("calls %v", f.calls)
	}
	b, _ := json.Marshal(ilmPolicy(p))
	if !strings.Contains(string(b), `"delete":{"actions":{"delete":{}},"min_age":"7d"}`) {
		t.Errorf("ILM policy %s", b)
	}
	// New indices get it from their template, on Elasticsearch only.
	fs := allFormats(t, false)
	es := format.Engine{Distribution: "elasticsearch", Flavor: "default", Major: 7, Minor: 17}
	tpls, err := Templates(es, fs, "dl", ILMNames(es, []Policy{p}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range tpls {
		has := strings.Contains(tp.Body, `"index.lifecycle.name":"logtide-waf"`)
		if has != (tp.Name == "waf") {
			t.Errorf("template %s names the policy: %v", tp.Name, has)
		}
	}
	if ILMNames(format.Engine{Distribution: "opensearch", Major: 2}, []Policy{p}) != nil || ILMNames(format.Engine{Distribution: "elasticsearch", Flavor: "oss"}, []Policy{p}) != nil {
		t.Error("ILM names on an engine without ILM")
	}
}

func TestImport(t *testing.T) {
	objs := savedobjects.For(allFormats(t, false), "dl")
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_dashboards/api/saved_objects/_import" || r.URL.Query().Get("overwrite") != "true" || r.Header.Get("osd-xsrf") == "" {
			http.Error(w, "bad request "+r.URL.String(), http.StatusBadRequest)
			return
		}
		file, _, err := r.FormFile("file")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got, _ = io.ReadAll(file)
		n := bytes.Count(got, []byte("\n"))
		if strings.Contains(r.URL.RawQuery, "fail") {
			fmt.Fprint(w, `{"success":false,"successCount":0,"errors":[{"id":"x","type":"visualization","error":{"type":"missing_references"}}]}`)
			return
		}
		fmt.Fprintf(w, `{"success":true,"successCount":%d}`, n)
	}))
	defer srv.Close()
	n, err := Import(context.Background(), srv.Client(), srv.URL+"/_dashboards/", objs)
	if err != nil || n != len(objs) {
		t.Fatalf("import: %d of %d, %v", n, len(objs), err)
	}
	var want bytes.Buffer
	_ = savedobjects.WriteNDJSON(&want, objs)
	if !bytes.Equal(got, want.Bytes()) {
		t.Error("the file sent is not the saved objects")
	}
	if _, err := Import(context.Background(), srv.Client(), srv.URL+"/elsewhere", objs); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("refused import: %v", err)
	}
}
