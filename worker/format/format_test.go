package format

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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

// positionIDByHand is PositionID as its doc comment defines it, hashing the
// whole input for each record.
func positionIDByHand(o Object, n int) string {
	h := sha256.New()
	for _, s := range []string{o.Bucket, o.Key, o.VersionID} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	h.Write(b[:])
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:20])
}

// Ids are stored in the cluster: they must never change for a given object
// and position.
func TestPositionIDsAreStable(t *testing.T) {
	for _, c := range []struct {
		o    Object
		n    int
		want string
	}{
		{Object{Bucket: "bench", Key: "AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/03/14/123456789012_vpcflowlogs_eu-west-1_fl-0123456789abcdef0_20260314T0925Z_0a1b2c3d.log.gz"}, 1, "D37gaa3BNOhjc3_IIH2stw3YPEo"},
		{Object{Bucket: "b", Key: "k", VersionID: "v1"}, 7, "93XJpGQgqd9I4m8xkmZ6wmqr_8g"},
		{Object{}, 0, "cbbB1Tgy94mn8kNafGKSRfo3Ya0"},
	} {
		if got := PositionID(c.o, c.n); got != c.want {
			t.Errorf("PositionID(%q, %d) = %s, want %s", c.o, c.n, got, c.want)
		}
	}
	// Object parts of every length around the hash's 64-byte blocks, so
	// that the state kept ends a block and falls at each place within one.
	for size := range 200 {
		key := strings.Repeat("k", size)
		for _, o := range []Object{{Bucket: "b", Key: key}, {Bucket: "bucket", Key: key, VersionID: "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"}} {
			ids := NewPositionIDs(o)
			for _, n := range []int{0, 1, 2, 255, 256, 1 << 20, 1<<63 - 1, -1} {
				want := positionIDByHand(o, n)
				if got := ids.ID(n); got != want {
					t.Fatalf("key of %d bytes, n %d: PositionIDs gives %s, want %s", size, n, got, want)
				}
				if got := ids.Bytes(n); string(got) != want {
					t.Fatalf("key of %d bytes, n %d: PositionIDs.Bytes gives %s, want %s", size, n, got, want)
				}
				if got := PositionID(o, n); got != want {
					t.Fatalf("key of %d bytes, n %d: PositionID gives %s, want %s", size, n, got, want)
				}
			}
		}
	}
}

// BenchmarkPositionIDs makes the ids of an ELB object's records one by one
// (PositionID) and with the object's part hashed once (PositionIDs).
func BenchmarkPositionIDs(b *testing.B) {
	o := Object{Bucket: "my-log-bucket", Key: "AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/03/14/123456789012_elasticloadbalancing_eu-west-1_app.my-load-balancer.0123456789abcdef_20260314T0925Z_10.0.1.23_5f3k2l1m.log.gz"}
	b.Run("PositionID", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			n++
			_ = PositionID(o, n)
		}
	})
	b.Run("PositionIDs", func(b *testing.B) {
		b.ReportAllocs()
		ids := NewPositionIDs(o)
		n := 0
		for b.Loop() {
			n++
			_ = ids.ID(n)
		}
	})
}

func TestBodiesCopy(t *testing.T) {
	var b Bodies
	src := []byte(`{"a":1}`)
	x := b.Copy(src)
	y := b.Copy([]byte(`{"b":2}`))
	src[2] = 'z'
	if string(x) != `{"a":1}` || string(y) != `{"b":2}` {
		t.Fatalf("copies %s %s: want independent of their source", x, y)
	}
	// A copy cannot grow into the next one.
	if grown := append(x, "tail"...); string(grown) != `{"a":1}tail` || string(y) != `{"b":2}` {
		t.Errorf("appending to one copy changed the next: %s", y)
	}
	// Many bodies across blocks, and one too large to share a block.
	var all [][]byte
	for i := range 20000 {
		all = append(all, b.Copy(fmt.Appendf(nil, `{"n":%d}`, i)))
	}
	big := b.Copy(bytes.Repeat([]byte("x"), 1<<20))
	for i, c := range all {
		if string(c) != fmt.Sprintf(`{"n":%d}`, i) {
			t.Fatalf("body %d is %s", i, c)
		}
	}
	if len(big) != 1<<20 || cap(big) < 1<<20 {
		t.Errorf("large body: len %d", len(big))
	}
	if e := b.Copy(nil); len(e) != 0 {
		t.Errorf("empty body: %q", e)
	}
}

// Ids cut from the blocks keep their text whatever is written after them,
// in the scratch space they were copied from or in the blocks.
func TestBodiesString(t *testing.T) {
	var b Bodies
	ids := NewPositionIDs(Object{Bucket: "b", Key: "k"})
	var got []string
	for n := range 5000 {
		got = append(got, b.String(ids.Bytes(n)))
		b.Copy(bytes.Repeat([]byte{'x'}, n%300))
	}
	for n, id := range got {
		if want := ids.ID(n); id != want {
			t.Fatalf("id %d is %q, want %q", n, id, want)
		}
	}
	if s := b.String(nil); s != "" {
		t.Errorf("empty: %q", s)
	}
}
