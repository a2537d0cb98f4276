package format

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestParseKey(t *testing.T) {
	for raw, want := range map[string]string{
		"AWSLogs/123456789012/GuardDuty/us-east-1/2026/01/05/x.jsonl.gz":                  "123456789012 GuardDuty us-east-1/2026/01/05/x.jsonl.gz",
		"security exports/AWSLogs/123456789012/GuardDuty/eu-west-1/x.jsonl.gz":            "123456789012 GuardDuty eu-west-1/x.jsonl.gz",
		"AWSLogs/o-exampleorg1/111122223333/CloudTrail/us-east-1/2025/x.json.gz":          "111122223333 CloudTrail us-east-1/2025/x.json.gz",
		"logs/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=x/y": "123456789012 vpcflowlogs aws-region=x/y",
		"AWSLogs/123456789012/ELBAccessLogTestFile":                                       "  ",
		"AWSLogs/123456789012/ELBAccessLogTestFile/":                                      "123456789012 ELBAccessLogTestFile ",
		"NotAWSLogs/123456789012/GuardDuty/x":                                             "  ",
		"a/NotAWSLogs/b/AWSLogs/123456789012/GuardDuty/x":                                 "123456789012 GuardDuty x",
		"AWSLogs/12345678901/GuardDuty/x":                                                 "  ",
		"AWSLogs/aws-account-id=123456789012/GuardDuty/x":                                 "  ",
		"2026-01-05-10-00-00-ABCDEF0123456789":                                            "  ",
		"":                                                                                "  ",
	} {
		k := ParseKey(raw)
		if got := fmt.Sprintf("%s %s %s", k.Account, k.Service, k.Rest); got != want || k.Raw != raw {
			t.Errorf("ParseKey(%q) = %q, want %q", raw, got, want)
		}
	}
}

// fakeCorpus holds its objects' content.
type fakeCorpus struct {
	keys   []string
	bodies []string
}

func (c fakeCorpus) Objects() []CorpusObject {
	out := make([]CorpusObject, len(c.keys))
	for i, k := range c.keys {
		out[i] = CorpusObject{Key: k, Records: 1}
	}
	return out
}

func (c fakeCorpus) WriteObject(w io.Writer, i int) error {
	_, err := io.WriteString(w, c.bodies[i])
	return err
}

func (c fakeCorpus) Records() int { return len(c.keys) }

func TestWriteDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	c := fakeCorpus{keys: []string{"exports/AWSLogs/1/a.gz", "exports/AWSLogs/1/b.gz", "top.gz"}, bodies: []string{"a", "b", "top"}}
	if err := WriteDir(c, dir); err != nil {
		t.Fatal(err)
	}
	for i, k := range c.keys {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(k)))
		if err != nil || string(got) != c.bodies[i] {
			t.Errorf("%s: %q, %v", k, got, err)
		}
	}
	bad := fakeCorpus{keys: []string{"../escape.gz"}, bodies: []string{"x"}}
	if err := WriteDir(bad, dir); err == nil {
		t.Error("WriteDir wrote outside its folder")
	}
	if _, err := os.Stat(filepath.Join(dir, "..", "escape.gz")); err == nil {
		t.Error("a file was written outside the folder")
	}
}
