package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// serveHTTP answers h on addr until ctx is done. ready is called with the
// bound address once listening (useful with port 0). writeTimeout bounds the
// writing of one answer (0: none, for profiles that take their time).
func serveHTTP(ctx context.Context, addr string, h http.Handler, writeTimeout time.Duration, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr())
	}
	// A client that sends slowly or keeps connections open cannot hold the
	// server's goroutines.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: writeTimeout, IdleTimeout: 60 * time.Second}
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
	defer stop()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
