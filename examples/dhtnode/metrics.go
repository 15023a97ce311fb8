package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	dhtprom "github.com/dhtkit/dhtkit/metrics/prometheus"
	"github.com/dhtkit/dhtkit/node"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsShutdown bounds how long stopping the metrics server waits for
// requests in progress (a CPU profile runs for as long as it was asked to)
// before it cuts them off.
const metricsShutdown = 5 * time.Second

// metricsServer serves a node's Prometheus metrics at /metrics and Go's
// profiles at /debug/pprof/, on a mux of its own: importing net/http/pprof
// also fills http.DefaultServeMux, which nothing here serves.
type metricsServer struct {
	addr string // host:port it listens on, the port resolved
	srv  *http.Server
	done chan error // Serve's result

	once sync.Once
	err  error
}

// startMetrics listens on addr (host:port; port 0 picks a free one) and
// serves n's metrics, with the Go runtime's and the process's, from a
// registry of their own.
func startMetrics(addr string, n *node.Node) (*metricsServer, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		dhtprom.NewCollector(n),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/debug/pprof/", pprof.Index) // and the named profiles under it
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	m := &metricsServer{
		addr: ln.Addr().String(),
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		done: make(chan error, 1),
	}
	go func() { m.done <- m.srv.Serve(ln) }()
	return m, nil
}

// close stops the server: it stops listening, lets requests in progress
// finish for up to metricsShutdown, cuts off the rest, and returns once
// the server is done. Later calls return the first call's result.
func (m *metricsServer) close() error {
	m.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), metricsShutdown)
		defer cancel()
		err := m.srv.Shutdown(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			err = m.srv.Close()
		}
		if serr := <-m.done; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		if err != nil {
			m.err = fmt.Errorf("metrics: %w", err)
		}
	})
	return m.err
}
