package format

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestUnfit(t *testing.T) {
	long := strings.Repeat("x", TermLimit)
	cases := []struct {
		name  string
		block string
		unfit bool
	}{
		{"absent", ``, false},
		{"null", `null`, false},
		{"empty object", `{}`, false},
		{"small object", `{"a":{"b":[1,"two",{"c":true}]}}`, false},
		{"string", `"text"`, true},
		{"number", `42`, true},
		{"array", `[{"a":1}]`, true},
		{"long leaf", `{"a":"` + long + `"}`, true},
		{"long leaf deep in arrays", `{"a":[{"b":[1,"` + long + `"]}]}`, true},
		// Long as a whole, every leaf short: it fits.
		{"many short leaves", `{"a":[` + strings.Repeat(`"`+strings.Repeat("y", 1000)+`",`, 40) + `1]}`, false},
		// A leaf just under the limit with a path that takes it over.
		{"long path", `{"` + strings.Repeat("p", 600) + `":"` + strings.Repeat("z", LeafLimit-600) + `"}`, true},
		// "a" and a separator take 2 bytes of the path, the quotes 2 of the leaf.
		{"leaf at the limit", `{"a":"` + strings.Repeat("z", LeafLimit-5) + `"}`, false},
	}
	for _, c := range cases {
		if got := Unfit([]byte(c.block)); got != c.unfit {
			t.Errorf("%s: Unfit = %v, want %v", c.name, got, c.unfit)
		}
	}
}

func TestMoveUnfit(t *testing.T) {
	long := strings.Repeat("x", TermLimit)
	paths := [][]string{{"service", "additionalInfo"}, {"requestParameters"}}
	cases := []struct {
		name, record string
		moved        bool
		want         string // the record after the move, when moved
	}{
		{
			name:   "fit blocks stay",
			record: `{"service":{"additionalInfo":{"a":1}},"requestParameters":null}`,
		},
		{
			name:   "scalar block",
			record: `{"id":"1", "requestParameters" : "bucket=b" ,"x":[1, 2]}`,
			moved:  true,
			want:   `{"id":"1","requestParameters":null,"x":[1,2],"logtide":{"unindexed":{"requestParameters":"bucket=b"}}}`,
		},
		{
			name:   "nested path and long leaf",
			record: `{"service":{"count":3,"additionalInfo":{"value":"` + long + `"}},"z":1}`,
			moved:  true,
			want:   `{"service":{"count":3,"additionalInfo":null},"z":1,"logtide":{"unindexed":{"service.additionalInfo":{"value":"` + long + `"}}}}`,
		},
		{
			name:   "two blocks",
			record: `{"requestParameters":[1],"service":{"additionalInfo":true}}`,
			moved:  true,
			want:   `{"requestParameters":null,"service":{"additionalInfo":null},"logtide":{"unindexed":{"requestParameters":[1],"service.additionalInfo":true}}}`,
		},
		{
			name:   "a path through a scalar",
			record: `{"service":"guardduty","requestParameters":7}`,
			moved:  true,
			want:   `{"service":"guardduty","requestParameters":null,"logtide":{"unindexed":{"requestParameters":7}}}`,
		},
		{
			name:   "names with escapes keep their meaning",
			record: `{"a\"b":"\u00e9","requestParameters":"s"}`,
			moved:  true,
			want:   `{"a\"b":"é","requestParameters":null,"logtide":{"unindexed":{"requestParameters":"s"}}}`,
		},
		{
			name:   "the record has its own logtide member",
			record: `{"logtide":1,"requestParameters":"s"}`,
		},
		{
			name:   "invalid JSON",
			record: `{"requestParameters":"s",}`,
		},
	}
	for _, c := range cases {
		out, moved := MoveUnfit([]byte(c.record), paths...)
		if moved != c.moved {
			t.Errorf("%s: moved = %v, want %v", c.name, moved, c.moved)
			continue
		}
		if !moved {
			if string(out) != c.record {
				t.Errorf("%s: not moved, yet the record changed:\n%s", c.name, out)
			}
			continue
		}
		if !json.Valid(out) {
			t.Errorf("%s: not valid JSON:\n%s", c.name, out)
		}
		if !jsonEqual(t, out, []byte(c.want)) {
			t.Errorf("%s:\n got %.300s\nwant %.300s", c.name, out, c.want)
		}
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}
