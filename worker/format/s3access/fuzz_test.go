package s3access

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/formattest"
)

// FuzzDecode: no input makes the decoder panic or change its input; a
// refused line is a *format.RecordError with a reason; an accepted one is a
// document the bulk layer and the template take, the same every time.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"access.log", "partitioned.log", "bad.log"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			f.Add([]byte(l))
		}
	}
	for _, s := range []string{
		``, `-`, `"`, `[`, `[]`, `""`, `a b c`, `[ ] "" - - - - - "" - - - - - - "" ""`,
		`o b [06/Feb/2019:00:00:38 +0000] 1.2.3.4 - R REST.GET.OBJECT k%ZZ "GET" 99999999999999999999 - - - - - "-" "-"`,
		`o b [06/Feb/2019:00:00:38 +0000] [::1] - R OP k "GET /a b?c d HTTP/1.1" 200 - 1 2 3 4 "\"x" "y\"" v h s c a host t ap Yes "more" [x]`,
		`o b [31/Dec/9998:23:59:59 -1459] 1.2.3.4 - R OP k "X" 1 - 1 1 9223372036854775807 1 "-" "-"`,
		"o b [06/Feb/2019:00:00:38 +0000] 1.2.3.4 \xff\xfe R OP k \"GET /\xe2\x80\xa8 HTTP/1.1\" 200 - 1 1 1 1 \"-\" \"\x00\"",
	} {
		f.Add([]byte(s))
	}
	utc := mustNew(f, format.Options{})
	kolkata := mustNew(f, format.Options{IndexPrefix: "s3-fuzz", Location: time.FixedZone("IST", 5*3600+1800)})
	o := format.Object{Bucket: "logs", Key: partitionedKey}
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, fm := range []*S3Access{utc, kolkata} {
			in := bytes.Clone(line)
			dec := fm.Decoder(o)
			d, err := dec.Decode(in, 7)
			if !bytes.Equal(in, line) {
				t.Fatal("Decode changed its input")
			}
			if err != nil {
				var re *format.RecordError
				if !errors.As(err, &re) || re.Reason == "" {
					t.Fatalf("error %T %v is not a *format.RecordError with a reason", err, err)
				}
				continue
			}
			formattest.Check(t, fm, d)
			again, err := fm.Decoder(o).Decode(line, 7)
			if err != nil || again.ID != d.ID || again.Index != d.Index || !bytes.Equal(again.Body, d.Body) {
				t.Fatalf("Decode is not deterministic: %+v then %+v (%v)", d, again, err)
			}
		}
	})
}

// FuzzParseTime: the time parser reads what time.Parse reads, as the same
// instant, or refuses it.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"06/Feb/2019:00:00:38 +0000", "29/Feb/2024:23:59:59 -0930", "31/Apr/2026:00:00:00 +0000", "01/Jan/1970:00:00:00 +1400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseTime(s)
		if !ok {
			return
		}
		ref, err := time.Parse("02/Jan/2006:15:04:05 -0700", s)
		if err != nil || !got.Equal(ref) {
			t.Fatalf("%q: read as %v; time.Parse gives %v, %v", s, got, ref, err)
		}
	})
}

// FuzzKey: no key makes Claim or the reading of the partitioned layout
// panic, and a key whose account and region are read is claimed.
func FuzzKey(f *testing.F) {
	for _, k := range []string{simpleKey, partitionedKey, "logs2026-03-14-09-15-42-7D3A91C04B2E58F6", "/", "", "AWSLogs/123456789012/CloudTrail/x"} {
		f.Add(k)
	}
	fm := mustNew(f, format.Options{})
	f.Fuzz(func(t *testing.T, key string) {
		claim := fm.Claim(format.ParseKey(key))
		account, region := partition(key)
		if (account == "") != (region == "") || account != "" && !isAccount(account) {
			t.Fatalf("partition(%q) = %q, %q", key, account, region)
		}
		if account != "" && claim != format.Read && format.ParseKey(key).Service == "" {
			t.Fatalf("%q: partitioned but not claimed", key)
		}
	})
}
