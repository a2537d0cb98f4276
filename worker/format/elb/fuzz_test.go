package elb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

// fuzzSeeds are near misses the fixtures do not hold; the fixtures' lines
// are seeds too.
var fuzzSeeds = []string{
	``,
	` `,
	`"`,
	`""`,
	`"\`,
	`"a\"" b`,
	`https`,
	`tls 2.0`,
	`2026-03-14T11:15:42Z`,
	`2026-02-30T11:15:42Z x 1.2.3.4:5 - 0 0 0 200 200 0 0 "GET / HTTP/1.1" "-" - -`,
	`0000-01-01T00:00:00Z x 1.2.3.4:5 - 0 0 0 200 200 0 0 "GET / HTTP/1.1" "-" - -`,
	`9999-12-31T23:59:59.9999999999Z x 1.2.3.4:5 - 0 0 0 200 200 0 0 "GET / HTTP/1.1" "-" - -`,
	`2026-03-14T11:15:42.1Z x [::1]:0 [fe80::1%eth0]:80 0 0 0 200 200 0 0 "x" "y" - -`,
	`2026-03-14T11:15:42Z x 1.2.3.4:65536 - 0 0 0 200 200 0 0 "x" "y" - -`,
	`2026-03-14T11:15:42Z x 1.2.3.4:1 - 99999999999.9 -0.5 . 200 200 0 0 "GET  http://[::1 HTTP/1.1" "y" - -`,
	`2026-03-14T11:15:42Z x 1.2.3.4:1 - 1 1 1 9999999999999999999 1 0 0 "GET ://x" "y" - -`,
	`h2 2026-03-14T11:15:42Z a 1.2.3.4:1 - 1 1 1 200 1 0 0 "GET http://u@h:1x/p#f?q HTTP/9" "\x00\u2028" - - - "t" "d" "c" x 2026-13-01T00:00:00Z "a,,b,-" "-" "e" "1.2.3.4:1 x [::2]:3" "1 x 2" "c" "r" t "h" "u" "s" "ex\"tra" -`,
	`tls 2.0 2026-03-14T11:15:42 n l 1.2.3.4:1 5.6.7.8:2 - 1.5 1 1 - - - - - - d - - "h2",,"x" 2026-03-14T11:15:41 more "fields"`,
	`Enable AccessLog for ELB: app/x/y at 2026-03-14T08:00:00.512Z`,
	"https\t2026-03-14T11:15:42Z",
	"http 2026-03-14T11:15:42Z a 1.2.3.4:1 - 1 1 1 200 1 0 0 \"GET /\xff HTTP/1.1\" \"\xfe\" - - - \"t\"",
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	for _, name := range []string{"alb.log", "nlb.log", "classic.log", "bad.log"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			f.Add(line)
		}
	}
	utc, err := New(format.Options{})
	if err != nil {
		f.Fatal(err)
	}
	// A time zone whose offset is not whole hours moves lines to another
	// day than UTC does.
	chatham, err := New(format.Options{IndexPrefix: "lb-fuzz", Location: time.FixedZone("CHAST", 13*3600+45*60)})
	if err != nil {
		f.Fatal(err)
	}
	o := format.Object{Bucket: "b", Key: albKey}
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, e := range []*ELB{utc, chatham} {
			dec := e.Decoder(o)
			in := bytes.Clone(line)
			d, err := dec.Decode(in, 7)
			if !bytes.Equal(in, line) {
				t.Fatal("Decode modified its input")
			}
			if errors.Is(err, format.ErrNotARecord) {
				continue
			}
			if err != nil {
				var re *format.RecordError
				if !errors.As(err, &re) || re.Reason == "" {
					t.Fatalf("error %T without a reason: %v", err, err)
				}
				continue
			}
			formattest.Check(t, e, d)
			checkNoDuplicateKeys(t, d.Body)
			if d.ID != format.PositionID(o, 7) {
				t.Fatalf("id %s is not the position id", d.ID)
			}
			// The decoder keeps state between lines (field slices, the last
			// index): a second line must not change what the first gave.
			again, err := dec.Decode(line, 7)
			if err != nil || again.Index != d.Index || !bytes.Equal(again.Body, d.Body) {
				t.Fatalf("Decode is not deterministic: %s then %s (%v)", d.Body, again.Body, err)
			}
		}
	})
}

// checkNoDuplicateKeys fails when an object of body has a member twice:
// the clusters refuse such a document.
func checkNoDuplicateKeys(t testing.TB, body []byte) {
	t.Helper()
	if err := duplicateKey(body); err != nil {
		t.Fatalf("%v in %s", err, body)
	}
}

// duplicateKey reports the first member found twice in one object of body.
func duplicateKey(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		keys    map[string]bool // nil in an array
		wantKey bool
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if k, isKey := tok.(string); isKey && len(stack) > 0 && stack[len(stack)-1].keys != nil && stack[len(stack)-1].wantKey {
			n := len(stack)
			if stack[n-1].keys[k] {
				return fmt.Errorf("member %q twice", k)
			}
			stack[n-1].keys[k], stack[n-1].wantKey = true, false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{keys: map[string]bool{}, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value ended: in an object, a key comes next.
		if n := len(stack); n > 0 && stack[n-1].keys != nil {
			stack[n-1].wantKey = true
		}
	}
}

// TestNoDuplicateKeys holds every fixture and generated document to it.
func TestNoDuplicateKeys(t *testing.T) {
	f := mustELB(t, format.Options{})
	for _, name := range []string{"alb.log", "nlb.log", "classic.log"} {
		res := formattest.Read(t, f, format.Object{Bucket: "b", Key: albKey}, fixture(t, name))
		for _, d := range res.Docs {
			checkNoDuplicateKeys(t, d.Body)
		}
	}
	for _, d := range formattest.CheckCorpus(t, Spec, format.GenerateOptions{Seed: 8, Objects: 7, RecordsPerObject: 200}) {
		checkNoDuplicateKeys(t, d.Body)
	}
	if err := duplicateKey([]byte(`{"a":{"b":1,"c":[{"b":1},{"b":[1,{"x":2}]}],"b":2}}`)); err == nil || !strings.Contains(err.Error(), `"b" twice`) {
		t.Errorf("a duplicate member went unnoticed: %v", err)
	}
	if err := duplicateKey([]byte(`{"a":{"b":1,"c":[{"b":1},{"b":[1,{"x":2}]}]},"b":2}`)); err != nil {
		t.Errorf("members of different objects: %v", err)
	}
}
