package main

import (
	"net/http"
	"net/http/pprof"
)

// pprofHandler answers Go's profiling endpoints. They get a listener of their
// own, off the metrics address that the scraper reaches: a profile exposes
// internals and costs CPU while it is taken.
func pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
