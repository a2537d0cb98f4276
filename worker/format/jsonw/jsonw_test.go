package jsonw

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uo\te`, "tab\tnl\ncr\r", "\x00\x1f\x7f", "é✓𝄞", "bad\xffutf8", "\u2028\u2029", "<&>"} {
		got := String(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%q: %s is not JSON: %v", s, got, err)
			continue
		}
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("%q: reads back %q, encoding/json's reads %q", s, back, wantBack)
		}
	}
}

// byRune is String without its word-at-a-time start: every byte looked at
// on its own.
func byRune(s string) []byte {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c < 0x20:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		case r == '\u2028':
			b.WriteString(`\u2028`)
		case r == '\u2029':
			b.WriteString(`\u2029`)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
	return []byte(b.String())
}

// TestStringFastPath sets String against byRune on strings with a byte
// that needs an escape (or none) at every place of the first words.
func TestStringFastPath(t *testing.T) {
	specials := []string{"", `"`, `\`, "\x00", "\x1f", "\n", "\x7f", "\x80", "\xff", "é", "\u2028", "𝄞", " ", "~"}
	rng := rand.New(rand.NewPCG(1, 2))
	const plain = "abcdefghijklmnopqrstuvwxyz0123456789 !#$%&'()*+,-./:;<=>?@[]^_`{|}~"
	for pre := range 26 {
		for _, sp := range specials {
			for post := range 10 {
				var s strings.Builder
				for range pre {
					s.WriteByte(plain[rng.IntN(len(plain))])
				}
				s.WriteString(sp)
				for range post {
					s.WriteByte(plain[rng.IntN(len(plain))])
				}
				in := s.String()
				if got, want := String(nil, in), byRune(in); string(got) != string(want) {
					t.Fatalf("String(%q) = %s, want %s", in, got, want)
				}
				if got, want := Bytes(nil, []byte(in)), byRune(in); string(got) != string(want) {
					t.Fatalf("Bytes(%q) = %s, want %s", in, got, want)
				}
			}
		}
	}
	for _, in := range []string{"", "plain ascii text", "12345678", "1234567\"", "\\abcdefgh", "tab\there", "ünïcode",
		"\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f", "        ", "!!!!!!!!", "\x1f!!!!!!!", "!!!!!!!\x80", "x\u2028y and more text", "\xff"} {
		if got, want := Bytes(nil, []byte(in)), byRune(in); string(got) != string(want) {
			t.Fatalf("Bytes(%q) = %s, want %s", in, got, want)
		}
	}
	// Every single byte, alone and in a word.
	for c := range 256 {
		for _, in := range []string{string([]byte{byte(c)}), "abcdefg" + string([]byte{byte(c)}) + "hijklmno"} {
			if got, want := String(nil, in), byRune(in); string(got) != string(want) {
				t.Fatalf("String(%q) = %s, want %s", in, got, want)
			}
		}
	}
}

func TestTimeMatchesFormat(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	zones := []*time.Location{time.UTC, time.FixedZone("east", 5*3600+30*60), time.FixedZone("west", -8*3600)}
	times := []time.Time{
		{},
		time.Unix(0, 0),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2024, 2, 29, 12, 0, 0, 999_999, time.UTC),
		time.Date(2026, 3, 14, 9, 26, 53, 589_999_999, time.FixedZone("x", 3600)),
	}
	for range 100_000 {
		sec := rng.Int64N(400_000_000_000) - 100_000_000_000 // years -1200 to 14600
		times = append(times, time.Unix(sec, rng.Int64N(1e9)).In(zones[rng.IntN(len(zones))]))
	}
	for range 100_000 {
		sec := rng.Int64N(253402300800) // 1970 to 9999
		times = append(times, time.Unix(sec, rng.Int64N(1e9)))
	}
	for _, tm := range times {
		want := `"` + tm.UTC().Format("2006-01-02T15:04:05.000Z") + `"`
		if got := Time([]byte("x"), tm); string(got) != "x"+want {
			t.Fatalf("Time(%v) = %s, want x%s", tm, got, want)
		}
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\xff", "\u2028", "abcdefgh\x00ijklmnop"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, first := plainPrefix(s), len(s)
		for i := range len(s) {
			if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
				first = i
				break
			}
		}
		if p > first || first-p >= 8 {
			t.Fatalf("%q: plain prefix of %d, first byte to escape at %d", s, p, first)
		}
		got := String(nil, s)
		if want := byRune(s); string(got) != string(want) {
			t.Fatalf("%q: %s, byte by byte %s", s, got, want)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q: %s is not JSON: %v", s, got, err)
		}
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Fatalf("%q: reads back %q, want %q", s, back, wantBack)
		}
	})
}

func BenchmarkString(b *testing.B) {
	for _, c := range []struct{ name, s string }{
		{"short", "eu-west-1"},
		{"ip", "198.51.100.84"},
		{"time", "2026-01-05T00:05:00.350083Z"},
		{"arn", "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef"},
		{"ua", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"},
	} {
		b.Run(c.name, func(b *testing.B) {
			buf := make([]byte, 0, 256)
			for b.Loop() {
				buf = String(buf[:0], c.s)
			}
		})
	}
}

func BenchmarkTime(b *testing.B) {
	t := time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.UTC)
	buf := make([]byte, 0, 64)
	b.Run("Time", func(b *testing.B) {
		for b.Loop() {
			buf = Time(buf[:0], t)
		}
	})
	b.Run("AppendFormat", func(b *testing.B) {
		for b.Loop() {
			buf = t.UTC().AppendFormat(buf[:0], "2006-01-02T15:04:05.000Z")
		}
	})
}
