package backend

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/logtide/logtide/bench/internal/sysinfo"
)

// FakeS3 is a gofakes3 server in this process, keeping objects in memory.
type FakeS3 struct {
	URL     string
	backend *s3mem.Backend
	srv     *http.Server
}

// StartFakeS3 serves the S3 API on a free port of 127.0.0.1.
func StartFakeS3() (*FakeS3, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := s3mem.New()
	// Without versioning: the worker reads the current object, as it does
	// from a GuardDuty export bucket.
	faker := gofakes3.New(b, gofakes3.WithoutVersioning())
	f := &FakeS3{URL: "http://" + ln.Addr().String(), backend: b, srv: &http.Server{Handler: faker.Server(), ReadHeaderTimeout: 10 * time.Second}}
	// Every goroutine of the server carries the profile label part=s3, so a
	// CPU profile of this process tells the S3 server from its clients.
	go pprof.Do(context.Background(), pprof.Labels("part", "s3"), func(context.Context) { _ = f.srv.Serve(ln) })
	return f, nil
}

// Put stores an object directly in the backend (no HTTP: seeding is not
// what is measured).
func (f *FakeS3) Put(bucket, key string, data []byte) error {
	if err := f.backend.CreateBucket(bucket); err != nil && !gofakes3.IsAlreadyExists(err) {
		return err
	}
	_, err := f.backend.PutObject(bucket, key, map[string]string{"Content-Type": "application/gzip"}, bytes.NewReader(data), int64(len(data)), nil)
	return err
}

// Close stops the server.
func (f *FakeS3) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = f.srv.Shutdown(ctx)
}

// ElasticMQ is an ElasticMQ server started as a child process.
type ElasticMQ struct {
	URL    string
	Pid    int
	cmd    *exec.Cmd
	log    *os.File
	exited chan struct{}
}

// elasticMQMain is the server's entry point in the jars of bench/elasticmq/pom.xml.
const elasticMQMain = "org.elasticmq.server.Main"

// InstallElasticMQ fetches ElasticMQ's jars with Maven into
// <root>/.cache/elasticmq/lib unless the jars for the current pom are there
// already (a stamp holds the pom's hash), and returns that folder.
func InstallElasticMQ(ctx context.Context, root string, logw io.Writer) (string, error) {
	pom := filepath.Join(root, "bench", "elasticmq", "pom.xml")
	dir := filepath.Join(root, ".cache", "elasticmq")
	lib := filepath.Join(dir, "lib")
	stamp := filepath.Join(lib, ".bench-installed")
	pb, err := os.ReadFile(pom)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(pb)
	want := hex.EncodeToString(sum[:])
	if got, err := os.ReadFile(stamp); err == nil && strings.TrimSpace(string(got)) == want {
		return lib, nil
	}
	if _, err := exec.LookPath("mvn"); err != nil {
		return "", errors.New("fetching ElasticMQ needs Maven (mvn not found; apt-get install maven)")
	}
	tmp := lib + ".tmp"
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(filepath.Join(dir, "m2"), 0o755); err != nil {
		return "", err
	}
	fmt.Fprintf(logw, "bench: fetching ElasticMQ jars with Maven into %s\n", lib)
	logPath := filepath.Join(root, ".cache", "logs", "elasticmq-install.log")
	_ = os.MkdirAll(filepath.Dir(logPath), 0o755)
	lf, err := os.Create(logPath)
	if err != nil {
		return "", err
	}
	defer lf.Close()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, "mvn", "-B", "-q", "-Dstyle.color=never", "-f", pom,
		"-Dmaven.repo.local="+filepath.Join(dir, "m2"), "dependency:copy-dependencies",
		"-DincludeScope=runtime", "-DoutputDirectory="+tmp)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("maven could not fetch ElasticMQ (see %s): %w", logPath, err)
	}
	if m, _ := filepath.Glob(filepath.Join(tmp, "elasticmq-server_*.jar")); len(m) == 0 {
		return "", fmt.Errorf("maven finished but %s has no elasticmq-server jar", tmp)
	}
	_ = os.RemoveAll(lib)
	if err := os.Rename(tmp, lib); err != nil {
		return "", err
	}
	return lib, os.WriteFile(stamp, []byte(want+"\n"), 0o644)
}

// StartElasticMQ runs ElasticMQ on a free port of 127.0.0.1 and waits until
// it answers. The process gets SIGKILL if this one dies first.
func StartElasticMQ(ctx context.Context, root, lib string) (*ElasticMQ, error) {
	port, err := sysinfo.FreePort()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, ".cache", "elasticmq")
	conf := filepath.Join(dir, "bench.conf")
	// The defaults bind 0.0.0.0; everything here stays on 127.0.0.1.
	cfg := fmt.Sprintf(`include classpath("application.conf")
node-address { protocol = "http", host = "127.0.0.1", port = %d, context-path = "" }
rest-sqs { enabled = true, bind-port = %d, bind-hostname = "127.0.0.1", sqs-limits = strict }
aws { region = %q, accountId = "000000000000" }
`, port, port, Region)
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	logPath := filepath.Join(root, ".cache", "logs", "elasticmq.log")
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("java", "-Xms256m", "-Xmx512m", "-Djava.awt.headless=true", "-Dconfig.file="+conf,
		"-cp", filepath.Join(lib, "*"), elasticMQMain)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("starting ElasticMQ: %w", err)
	}
	exited := make(chan struct{})
	e := &ElasticMQ{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Pid: cmd.Process.Pid, cmd: cmd, log: lf, exited: exited}
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			lf.Close()
			return nil, fmt.Errorf("ElasticMQ exited during startup (see %s)", logPath)
		case <-ctx.Done():
			e.Stop()
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			c.Close()
			return e, nil
		}
	}
	e.Stop()
	return nil, fmt.Errorf("ElasticMQ did not listen within 90s (see %s)", logPath)
}

// Stop terminates the server (SIGTERM, then SIGKILL after 10 s).
func (e *ElasticMQ) Stop() {
	if e == nil || e.cmd.Process == nil {
		return
	}
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
	case <-time.After(10 * time.Second):
		_ = e.cmd.Process.Kill()
		<-e.exited
	}
	e.log.Close()
}
