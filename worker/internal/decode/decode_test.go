package decode

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
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

// TestUnsupportedEncodings: an object in another compression, an archive or
// a binary format fails at once, naming what it holds, instead of yielding
// garbage line by line.
func TestUnsupportedEncodings(t *testing.T) {
	for _, c := range []struct {
		name string
		in   []byte
		want string
	}{
		{"zstd", []byte("\x28\xb5\x2f\xfd\x24\x05\x29\x00\x00hello"), "zstd-compressed data"},
		{"bzip2", []byte("BZh91AY&SY\x00\x00\x00"), "bzip2-compressed data"},
		{"xz", []byte("\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4\x46"), "xz-compressed data"},
		{"zip", []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00"), "a zip archive"},
		{"parquet", []byte("PAR1\x15\x04\x15\x10"), "Parquet"},
		{"lz4", []byte("\x04\x22\x4d\x18\x64\x40\xa7"), "LZ4-compressed data"},
		{"binary", []byte("\x7fELF\x02\x01\x01\x00\x00"), "binary data (byte 0x02 at offset 4)"},
		{"nul in text", []byte(`{"a":1}` + "\n\x00\x00"), "binary data (byte 0x00 at offset 8)"},
		{"zstd inside gzip", gz("\x28\xb5\x2f\xfd\x24\x05"), "inside gzip: unsupported encoding: zstd-compressed data"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Open(bytes.NewReader(c.in))
			var ue *UnsupportedError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an unsupported encoding naming %q", err, c.want)
			}
		})
	}
	// Text, compressed or not, still reads.
	for _, in := range [][]byte{[]byte("2 123456789012 eni-0a1b c 10.0.0.1 10.0.0.2 443 49152 6 10 840 1620000000 1620000060 ACCEPT OK\n"), gz(`{"a":1}` + "\n"), nil} {
		if _, err := Open(bytes.NewReader(in)); err != nil {
			t.Errorf("%q: %v", in, err)
		}
	}
}

// TestByteOrderMarks: a UTF-8 byte order mark at the start of an object or
// of a line is not part of the record.
func TestByteOrderMarks(t *testing.T) {
	in := "\xef\xbb\xbf{\"a\":1}\n{\"b\":2}\n\xef\xbb\xbf  {\"c\":3}\r\n\xef\xbb\xbf\n"
	for _, r := range []io.Reader{strings.NewReader(in), bytes.NewReader(gz(in))} {
		got := scanAll(t, r, 0)
		want := []rec{{1, `{"a":1}`, ""}, {2, `{"b":2}`, ""}, {3, `{"c":3}`, ""}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got %v, want %v", got, want)
		}
	}
}
