package floor

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"syscall"
	"time"

	"github.com/logtide/logtide/bench/internal/bulksink"
)

// Send is the result of a send floor.
type Send struct {
	Requests int
	Bytes    int64 // request bodies sent
	CPU      time.Duration
	Wall     time.Duration
}

// CPUPerGB is the CPU-seconds the sending took per GB (1e9 bytes) of raw,
// the uncompressed size of the objects whose documents the requests carry.
func (s Send) CPUPerGB(raw int64) float64 { return s.CPU.Seconds() / (float64(raw) / 1e9) }

// rusageThread is Linux's RUSAGE_THREAD: the calling thread's times.
const rusageThread = 1

// RunSend is the send floor of a worker row: what writing the row's bulk
// requests costs a client that does nothing else. The requests (the first
// ones a worker sent, as the sink kept them) go one after the other, over
// one HTTP/1.1 connection to the sink at target, each in one writev of its
// head and its body, the answer read and dropped, until total bytes of
// body were sent (the row's). Its CPU is the sending thread's own, user and
// system (a loopback write also runs the receiving side's TCP stack, as the
// worker's do), so the sink serving in the same process is not counted.
func RunSend(target string, reqs []bulksink.Request, total int64) (Send, error) {
	var s Send
	if len(reqs) == 0 {
		return s, errors.New("no request to send")
	}
	u, err := url.Parse(target)
	if err != nil {
		return s, err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		return s, err
	}
	defer conn.Close()
	br := bufio.NewReaderSize(conn, 64<<10)
	var head []byte
	c0, err := threadCPU()
	if err != nil {
		return s, err
	}
	w0 := time.Now()
	for s.Bytes < total {
		for _, r := range reqs {
			head = fmt.Appendf(head[:0], "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-ndjson\r\nContent-Length: %d\r\n\r\n", r.URI, u.Host, len(r.Body))
			bufs := net.Buffers{head, r.Body}
			if _, err := bufs.WriteTo(conn); err != nil {
				return s, err
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				return s, err
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil {
				return s, err
			}
			if resp.StatusCode != http.StatusOK {
				return s, fmt.Errorf("bulk request answered %s", resp.Status)
			}
			s.Requests++
			s.Bytes += int64(len(r.Body))
			if s.Bytes >= total {
				break
			}
		}
	}
	c1, err := threadCPU()
	if err != nil {
		return s, err
	}
	s.CPU, s.Wall = c1-c0, time.Since(w0)
	return s, nil
}

// threadCPU is user plus system time of the calling thread so far.
func threadCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, err
	}
	return RusageCPU(&ru), nil
}
