package decode

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"
)

type rec struct {
	line int
	text string
	err  string
}

func scanAll(t *testing.T, r io.Reader, maxLine int) []rec {
	t.Helper()
	in, err := Open(r)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s := NewScanner(in, maxLine)
	var out []rec
	for {
		b, n, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		var le *LineError
		if errors.As(err, &le) {
			out = append(out, rec{line: n, err: le.Error()})
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, rec{line: n, text: string(b)})
	}
}

func gz(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.Bytes()
}

func TestScanner(t *testing.T) {
	long := strings.Repeat("x", 100)
	cases := []struct {
		name    string
		in      string
		maxLine int
		want    []rec
	}{
		{"empty", "", 0, nil},
		{"one line no newline", `{"a":1}`, 0, []rec{{1, `{"a":1}`, ""}}},
		{"blank lines skipped, numbering kept", "{\"a\":1}\n\n  \n{\"b\":2}\n", 0, []rec{{1, `{"a":1}`, ""}, {4, `{"b":2}`, ""}}},
		{"crlf", "{\"a\":1}\r\n{\"b\":2}\r\n", 0, []rec{{1, `{"a":1}`, ""}, {2, `{"b":2}`, ""}}},
		{"too long then fine", long + "\n{\"b\":2}\n", 50, []rec{{1, "", "line 1: longer than 50 bytes"}, {2, `{"b":2}`, ""}}},
		{"too long at end without newline", "{\"b\":2}\n" + long, 50, []rec{{1, `{"b":2}`, ""}, {2, "", "line 2: longer than 50 bytes"}}},
	}
	for _, c := range cases {
		for _, compressed := range []bool{false, true} {
			in := []byte(c.in)
			if compressed {
				in = gz(c.in)
			}
			got := scanAll(t, bytes.NewReader(in), c.maxLine)
			if len(got) != len(c.want) {
				t.Fatalf("%s (gzip=%v): got %+v, want %+v", c.name, compressed, got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("%s (gzip=%v) #%d: got %+v, want %+v", c.name, compressed, i, got[i], c.want[i])
				}
			}
		}
	}
}

func TestLongLinesAcrossBufferBoundary(t *testing.T) {
	// Lines larger than the internal 64 KiB buffer but within the limit are whole.
	big := `{"x":"` + strings.Repeat("y", 200<<10) + `"}`
	got := scanAll(t, bytes.NewReader(gz(big+"\n"+big)), 1<<20)
	if len(got) != 2 || got[0].text != big || got[1].text != big || got[1].line != 2 {
		t.Fatalf("got %d records", len(got))
	}
}

func TestCorruptGzip(t *testing.T) {
	b := gz(strings.Repeat("{\"a\":1}\n", 1000))
	b = b[:len(b)/2]
	in, err := Open(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	s := NewScanner(in, 0)
	for {
		_, _, err := s.Next()
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) {
			t.Fatal("truncated gzip read as a clean end of stream")
		}
		var le *LineError
		if errors.As(err, &le) {
			t.Fatalf("truncation reported as a line error: %v", err)
		}
		return
	}
}

func FuzzScanner(f *testing.F) {
	f.Add([]byte("{\"a\":1}\n\n{\"b\":2}"), 16)
	f.Add(gz("{\"a\":1}\r\n"), 4)
	f.Add([]byte{0x1f, 0x8b, 0, 0}, 8)
	f.Fuzz(func(t *testing.T, data []byte, maxLine int) {
		if maxLine < 0 || maxLine > 1<<16 {
			return
		}
		in, err := Open(bytes.NewReader(data))
		if err != nil {
			return
		}
		s := NewScanner(in, maxLine)
		last := 0
		for i := 0; i < 1<<16; i++ {
			b, n, err := s.Next()
			var le *LineError
			if errors.As(err, &le) {
				continue
			}
			if err != nil {
				return
			}
			if n <= last {
				t.Fatalf("line numbers not increasing: %d after %d", n, last)
			}
			last = n
			if len(bytes.TrimSpace(b)) == 0 {
				t.Fatal("blank record returned")
			}
		}
	})
}

func TestLineErrorKeepsHead(t *testing.T) {
	line := strings.Repeat("z", 300<<10) // spans many 64 KiB reads
	in, _ := Open(bytes.NewReader(gz("{\"a\":1}\n" + line + "\n{\"b\":2}\n")))
	s := NewScanner(in, 100<<10)
	if _, _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	_, n, err := s.Next()
	var le *LineError
	if !errors.As(err, &le) || n != 2 {
		t.Fatalf("got %v at %d", err, n)
	}
	if len(le.Head) != HeadBytes || string(le.Head) != line[:HeadBytes] || le.Size != len(line)+1 {
		t.Errorf("head %d bytes, size %d", len(le.Head), le.Size)
	}
	if b, n, err := s.Next(); err != nil || n != 3 || string(b) != `{"b":2}` {
		t.Errorf("after the long line: %q %d %v", b, n, err)
	}
}
