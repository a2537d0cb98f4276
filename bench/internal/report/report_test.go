package report

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 0.1234: "0.123", 3.14159: "3.14", 42.42: "42.4", 1234567: "1,234,567", -1500: "-1,500", math.NaN(): "–"} {
		if got := Num(v); got != want {
			t.Errorf("Num(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestTableAligns(t *testing.T) {
	tb := Table{Head: []string{"a", "bb"}, Right: []bool{false, true}}
	tb.Add("x×y", "1")
	lines := strings.Split(strings.TrimSpace(tb.String()), "\n")
	if len(lines) != 3 || lines[1] != "| --- | --: |" || lines[2] != "| x×y |   1 |" {
		t.Fatalf("table:\n%s", tb.String())
	}
}

func TestRecord(t *testing.T) {
	p := filepath.Join(t.TempDir(), "doc.md")
	if err := os.WriteFile(p, []byte("intro\n"+BeginMarker+"\nold\n"+EndMarker+"\nafter\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Record(p, "new\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if want := "intro\n" + BeginMarker + "\nnew\n" + EndMarker + "\nafter\n"; string(b) != want {
		t.Fatalf("got %q", b)
	}
	if err := Record(filepath.Join(t.TempDir(), "none.md"), "x"); err == nil {
		t.Fatal("a missing file was accepted")
	}
}
