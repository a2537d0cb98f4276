package searchhttp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func get(t *testing.T, c *http.Client, url string) (*http.Response, error) {
	t.Helper()
	resp, err := c.Get(url)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

func basicServer(t *testing.T, user, pass string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != pass {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, "{}")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestBasicAuth(t *testing.T) {
	srv := basicServer(t, "logtide", "p@ss:word")
	c, err := New(context.Background(), Options{Username: "logtide", Password: "p@ss:word"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := get(t, c, srv.URL+"/_cluster/health")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func TestBasicAuthPasswordFile(t *testing.T) {
	srv := basicServer(t, "logtide", " s3cret ")
	f := filepath.Join(t.TempDir(), "password")
	// Secrets mounted from files or written by `echo` end with a line break;
	// spaces are part of the password.
	if err := os.WriteFile(f, []byte(" s3cret \r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := New(context.Background(), Options{Username: "logtide", PasswordFile: f})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := get(t, c, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Errorf("status %d", resp.StatusCode)
	}

	if err := os.WriteFile(f, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(context.Background(), Options{Username: "logtide", PasswordFile: f}); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty password file: %v", err)
	}
	if _, err := New(context.Background(), Options{Username: "logtide", PasswordFile: f + ".missing"}); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing password file: %v", err)
	}
}

func TestBasicAuthKeepsExistingAuthorization(t *testing.T) {
	srv := basicServer(t, "other", "creds")
	c, err := New(context.Background(), Options{Username: "logtide", Password: "x"})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.SetBasicAuth("other", "creds")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func writeCertPEM(t *testing.T, certs ...*x509.Certificate) string {
	t.Helper()
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	f := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "{}") }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the rejected handshake is expected
	srv.StartTLS()
	defer srv.Close()

	c, err := New(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = get(t, c, srv.URL)
	var verr *tls.CertificateVerificationError
	if !errors.As(err, &verr) {
		t.Errorf("an unknown CA was accepted, or failed otherwise: %v", err)
	}

	c, err = New(context.Background(), Options{CAFile: writeCertPEM(t, srv.Certificate())})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := get(t, c, srv.URL); err != nil {
		t.Errorf("with the CA file: %v", err)
	}

	c, err = New(context.Background(), Options{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := get(t, c, srv.URL); err != nil {
		t.Errorf("skipping verification: %v", err)
	}
}

// The CA bundle adds to the system roots instead of replacing them.
func TestCAFileAppendsToSystemRoots(t *testing.T) {
	sys, err := x509.SystemCertPool()
	if err != nil {
		t.Skip("no system roots on this machine")
	}
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	o := Options{CAFile: writeCertPEM(t, srv.Certificate())}
	tc, err := o.tlsConfig()
	if err != nil {
		t.Fatal(err)
	}
	want := sys.Clone()
	want.AddCert(srv.Certificate())
	if !tc.RootCAs.Equal(want) {
		t.Error("the trusted roots are not the system roots plus the bundle")
	}
	if tc.RootCAs.Equal(sys) {
		t.Error("the bundle was not added")
	}
}

func TestTransportSettings(t *testing.T) {
	tr, err := Options{}.transport()
	if err != nil {
		t.Fatal(err)
	}
	if tr.TLSClientConfig.MinVersion != tls.VersionTLS12 || tr.TLSClientConfig.InsecureSkipVerify {
		t.Errorf("TLS config %+v", tr.TLSClientConfig)
	}
	if tr.MaxIdleConnsPerHost != DefaultMaxIdleConnsPerHost || tr.TLSHandshakeTimeout != DefaultTLSHandshakeTimeout || tr.ResponseHeaderTimeout != DefaultResponseHeaderTimeout {
		t.Errorf("transport %+v", tr)
	}
}

func TestValidation(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	unreadable := filepath.Join(dir, "unreadable.pem")
	if err := os.WriteFile(unreadable, nil, 0o000); err != nil {
		t.Fatal(err)
	}
	creds := aws.Config{Credentials: staticCreds("")}
	for _, c := range []struct {
		name string
		o    Options
		want string
	}{
		{"sigv4 and basic", Options{SigV4: true, Region: "eu-west-1", AWS: creds, Username: "u", Password: "hunter2-secret"}, "mutually exclusive"},
		{"sigv4 and password file", Options{SigV4: true, Region: "eu-west-1", AWS: creds, PasswordFile: "/run/secrets/pw"}, "mutually exclusive"},
		{"sigv4 without region", Options{SigV4: true, AWS: creds}, "needs a region"},
		{"sigv4 without credentials", Options{SigV4: true, Region: "eu-west-1"}, "needs AWS credentials"},
		{"sigv4 unknown service", Options{SigV4: true, SigV4Service: "s3", Region: "eu-west-1", AWS: creds}, `service "s3"`},
		{"username only", Options{Username: "u"}, "without a password"},
		{"password only", Options{Password: "hunter2-secret"}, "without a username"},
		{"password and file", Options{Username: "u", Password: "hunter2-secret", PasswordFile: "/f"}, "both a password and a password file"},
		{"missing CA file", Options{CAFile: filepath.Join(dir, "missing.pem")}, "no such file"},
		{"CA file without certificates", Options{CAFile: notPEM}, "no PEM certificate"},
		{"CA file and skip verify", Options{CAFile: notPEM, InsecureSkipVerify: true}, "contradict"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(context.Background(), c.o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want %q", err, c.want)
			}
			if err != nil && c.o.Password != "" && strings.Contains(err.Error(), string(c.o.Password)) {
				t.Errorf("the error repeats the password: %v", err)
			}
		})
	}
	if os.Geteuid() != 0 { // root reads any file
		if _, err := New(context.Background(), Options{CAFile: unreadable}); err == nil || !errors.Is(err, os.ErrPermission) {
			t.Errorf("unreadable CA file: %v", err)
		}
	}
}

func TestAuthMode(t *testing.T) {
	for o, want := range map[*Options]string{
		{}:                             "none",
		{Username: "u", Password: "p"}: "basic",
		{SigV4: true}:                  "sigv4",
	} {
		if got := o.AuthMode(); got != want {
			t.Errorf("%+v: %s, want %s", *o, got, want)
		}
	}
}

// TestAPIKey: an Elasticsearch API key from the options or a file, encoded
// as the create API returns it or given as id:key, is sent as
// "Authorization: ApiKey <base64 of id:key>" on every request.
func TestAPIKey(t *testing.T) {
	const id, key = "VuaCfGcBCdbkQm-e5aOx", "ui2lp2axTNmsyakw9tvNnw"
	encoded := base64.StdEncoding.EncodeToString([]byte(id + ":" + key))
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("Authorization"))
		if r.Header.Get("Authorization") != "ApiKey "+encoded {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, "{}")
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, []byte(encoded+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, o := range map[string]Options{
		"encoded":  {APIKey: Secret(encoded)},
		"id:key":   {APIKey: Secret(id + ":" + key)},
		"key file": {APIKeyFile: file},
	} {
		c, err := New(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := get(t, c, srv.URL+"/")
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("%s: %v %v (sent %q)", name, resp, err, seen)
		}
		if o.AuthMode() != "apikey" {
			t.Errorf("%s: auth mode %s", name, o.AuthMode())
		}
	}
	for _, o := range []Options{
		{APIKey: "k", Username: "u", Password: "p"},
		{APIKey: "k", SigV4: true, Region: "eu-west-1"},
		{APIKey: "k", APIKeyFile: file},
	} {
		if err := o.Validate(); err == nil || strings.Contains(err.Error(), "k\"") {
			t.Errorf("%+v accepted (or the key shows in %v)", o, err)
		}
	}
	if s := (Options{APIKey: Secret(encoded)}).APIKey.String(); strings.Contains(s, encoded) {
		t.Errorf("the key prints as %s", s)
	}
}
