package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// arrayAll reads every element, as text, with errors as "!reason".
func arrayAll(r io.Reader, maxRec int) ([]string, error) {
	s := NewArrayScanner(r, "Records", maxRec)
	defer s.Close()
	var out []string
	for {
		rec, n, err := s.Next()
		var le *LineError
		switch {
		case errors.Is(err, io.EOF):
			return out, nil
		case errors.As(err, &le):
			out = append(out, fmt.Sprintf("%d!%s", n, le.Reason))
		case err != nil:
			return out, err
		default:
			out = append(out, fmt.Sprintf("%d:%s", n, rec))
		}
	}
}

func TestArrayScanner(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     string // elements joined by " | ", or "error: ..." for an error
	}{
		{"two records", `{"Records":[{"a":1},{"b":[2,3]}]}`, `1:{"a":1} | 2:{"b":[2,3]}`},
		{"spaces and lines", "\ufeff {\n \"Records\" : [\n  {\"a\" : 1} ,\n {\"b\":2}\n ]\n}\n", `1:{"a" : 1} | 2:{"b":2}`},
		{"other members around", `{"x":{"Records":[9]},"Records":[{"s":"]},\"["}],"y":[1,{"z":"}"}],"w":null}`, `1:{"s":"]},\"["}`},
		{"scalars", `{"Records":[1,"a",null,true,-2.5e3]}`, `1:1 | 2:"a" | 3:null | 4:true | 5:-2.5e3`},
		{"empty array", `{"Records":[]}`, ``},
		{"empty input", ``, ``},
		{"white space only", " \n ", ``},
		{"no records array", `{"digest":"x","logFiles":[]}`, `error: the document has no Records array`},
		{"records not an array", `{"Records":{}}`, `error: unexpected '{', expecting the Records array`},
		{"not an object", `[{"Records":[]}]`, `error: unexpected '[', expecting a JSON object`},
		{"truncated in an element", `{"Records":[{"a":"b`, `error: unexpected end of the document inside a value`},
		{"truncated after an element", `{"Records":[{"a":1}`, `error: unexpected end of the document, expecting ',' or ']'`},
		{"missing comma", `{"Records":[{"a":1} {"b":2}]}`, `error: unexpected '{', expecting ',' or ']'`},
		{"trailing garbage", `{"Records":[]} x`, `error: unexpected 'x' after the document`},
		{"too long element", `{"Records":[{"a":"` + strings.Repeat("x", 100) + `"},{"b":1}]}`, `1!record longer than 64 bytes | 2:{"b":1}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(c.in), iotest.OneByteReader(strings.NewReader(c.in))} {
				got, err := arrayAll(r, 64)
				s := strings.Join(got, " | ")
				if err != nil {
					var se *SyntaxError
					if !errors.As(err, &se) {
						t.Fatalf("error %v is not a *SyntaxError", err)
					}
					s = "error: " + se.Reason
				}
				if s != c.want {
					t.Errorf("got  %s\nwant %s", s, c.want)
				}
			}
		})
	}
}

// TestArrayScannerStreams: a document far larger than the read buffer is
// read element by element with the memory of one element.
func TestArrayScannerStreams(t *testing.T) {
	const n = 20000
	pr, pw := io.Pipe()
	go func() {
		fmt.Fprint(pw, `{"Records":[`)
		for i := range n {
			if i > 0 {
				fmt.Fprint(pw, ",")
			}
			fmt.Fprintf(pw, `{"eventID":"%d","requestParameters":{"k":"%s"}}`, i, strings.Repeat("v", 200))
		}
		fmt.Fprint(pw, `]}`)
		pw.Close()
	}()
	s := NewArrayScanner(pr, "Records", 1<<20)
	defer s.Close()
	count := 0
	for {
		rec, pos, err := s.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		count++
		if pos != count || !bytes.HasPrefix(rec, []byte(fmt.Sprintf(`{"eventID":"%d"`, count-1))) {
			t.Fatalf("element %d at position %d: %.40s", count, pos, rec)
		}
	}
	if count != n || cap(s.rec) > 4<<10 {
		t.Errorf("%d elements, element buffer %d bytes", count, cap(s.rec))
	}
}

// FuzzArrayScanner: on any valid document whose Records member is an
// array, the scanner returns exactly the elements encoding/json sees.
func FuzzArrayScanner(f *testing.F) {
	for _, s := range []string{`{"Records":[{"a":1},2]}`, `{"x":[1,{"y":"]"}],"Records":["\"",{}]}`, `{"Records":[]}`, ``, `{}`, `{"Records":[1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := arrayAll(bytes.NewReader(in), 1<<20)
		var top map[string]json.RawMessage
		if !json.Valid(in) || json.Unmarshal(in, &top) != nil || bytes.Count(in, []byte(`"Records"`)) != 1 {
			return
		}
		var want []json.RawMessage
		if json.Unmarshal(top["Records"], &want) != nil || top["Records"] == nil {
			return
		}
		if err != nil {
			t.Fatalf("valid document refused: %v\n%s", err, in)
		}
		if len(got) != len(want) {
			t.Fatalf("%d elements, encoding/json sees %d\n%s", len(got), len(want), in)
		}
		for i, w := range want {
			if g := got[i][strings.IndexByte(got[i], ':')+1:]; g != string(w) {
				t.Fatalf("element %d: %s, encoding/json: %s", i+1, g, w)
			}
		}
	})
}

// BenchmarkArrayScanner measures the scanner alone over CloudTrail-like
// records.
func BenchmarkArrayScanner(b *testing.B) {
	var doc bytes.Buffer
	doc.WriteString(`{"Records":[`)
	for i := range 2000 {
		if i > 0 {
			doc.WriteByte(',')
		}
		fmt.Fprintf(&doc, `{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:session-%d","arn":"arn:aws:sts::123456789012:assumed-role/app/session","accountId":"123456789012"},"eventTime":"2026-01-05T10:%02d:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"10.0.%d.%d","userAgent":"aws-sdk-go-v2/1.30.0 os/linux","requestParameters":{"bucketName":"data","key":"path/to/object-%d.json"},"responseElements":null,"eventID":"%08d-0000-4000-8000-000000000000","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"123456789012"}`, i, i%60, i/256%256, i%256, i, i)
	}
	doc.WriteString(`]}`)
	b.SetBytes(int64(doc.Len()))
	for b.Loop() {
		s := NewArrayScanner(bytes.NewReader(doc.Bytes()), "Records", 1<<20)
		for {
			if _, _, err := s.Next(); err != nil {
				break
			}
		}
		s.Close()
	}
}
