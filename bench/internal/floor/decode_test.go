package floor

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
)

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestGunzipValid(t *testing.T) {
	read := GunzipValid()
	good := gz(t, `{"a":1}`+"\n"+`{"b":[2,3]}`+"\n\n"+`{"c":"`+strings.Repeat("x", 100_000)+`"}`)
	for i := range 2 { // the second object reuses the inflater
		n, err := read(bytes.NewReader(good))
		if err != nil || n != int64(len(good)) {
			t.Fatalf("object %d: read %d of %d bytes, %v", i, n, len(good), err)
		}
	}
	if _, err := read(bytes.NewReader(gz(t, "{\"a\":1}\n{not json}\n"))); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("a line that is not JSON: %v", err)
	}
	if _, err := read(bytes.NewReader([]byte("not gzip"))); err == nil {
		t.Error("a body that is not gzip: no error")
	}
	if _, err := read(bytes.NewReader(good)); err != nil {
		t.Errorf("after errors: %v", err)
	}
}
