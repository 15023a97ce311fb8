package main

import (
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// metricsBase returns the http://HOST:PORT that serve printed on stderr
// for its metrics.
func metricsBase(t *testing.T, s *served) string {
	t.Helper()
	for _, line := range strings.Split(s.stderr.String(), "\n") {
		if u, ok := strings.CutPrefix(line, "metrics "); ok {
			base, ok := strings.CutSuffix(u, "/metrics")
			require.True(t, ok, "metrics URL %q does not end in /metrics", u)
			return base
		}
	}
	t.Fatalf("serve printed no metrics URL before ready; stderr:\n%s", s.stderr)
	return ""
}

// httpGet fetches url and returns its status and body.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: waitFor}
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestServeMetricsServesPrometheusAndProfilesUntilItStops(t *testing.T) {
	s := startServe(t, "--metrics", "127.0.0.1:0")
	base := metricsBase(t, s)
	require.True(t, strings.HasPrefix(base, "http://127.0.0.1:"), base)
	require.Contains(t, s.stderr.String(), "profiles "+base+"/debug/pprof/\n")
	code, _, errOut := runCmd(t, "put", "--bootstrap", s.addrs[0], "scraped", "value")
	require.Equal(t, 0, code, errOut)

	status, body := httpGet(t, base+"/metrics")
	require.Equal(t, http.StatusOK, status, body)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err, "the exposition parses")
	want := map[string]dto.MetricType{
		"dhtkit_messages_sent_total":     dto.MetricType_COUNTER,
		"dhtkit_messages_received_total": dto.MetricType_COUNTER,
		"dhtkit_requests_served_total":   dto.MetricType_COUNTER,
		"dhtkit_frames_dropped_total":    dto.MetricType_COUNTER,
		"dhtkit_table_peers":             dto.MetricType_GAUGE,
		"dhtkit_store_records":           dto.MetricType_GAUGE,
		"dhtkit_store_value_bytes":       dto.MetricType_GAUGE,
		"dhtkit_rpc_duration_seconds":    dto.MetricType_HISTOGRAM,
		"dhtkit_lookup_duration_seconds": dto.MetricType_HISTOGRAM,
		"go_goroutines":                  dto.MetricType_GAUGE,
	}
	if runtime.GOOS == "linux" {
		want["process_cpu_seconds_total"] = dto.MetricType_COUNTER
	}
	for name, typ := range want {
		mf, ok := mfs[name]
		require.True(t, ok, "%s is served", name)
		require.Equal(t, typ, mf.GetType(), "%s is a %s", name, typ)
	}
	// The client's put reached the node: it answered, and holds the value.
	require.NotZero(t, mfs["dhtkit_requests_served_total"].GetMetric()[0].GetCounter().GetValue())
	require.Equal(t, 1.0, mfs["dhtkit_store_records"].GetMetric()[0].GetGauge().GetValue())
	require.Equal(t, float64(len("value")), mfs["dhtkit_store_value_bytes"].GetMetric()[0].GetGauge().GetValue())

	status, body = httpGet(t, base+"/debug/pprof/")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "goroutine", "the profile index lists the profiles")
	status, body = httpGet(t, base+"/debug/pprof/goroutine?debug=1")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "goroutine profile:")
	status, _ = httpGet(t, base+"/")
	require.Equal(t, http.StatusNotFound, status, "only /metrics and /debug/pprof/ are served")

	require.Equal(t, 0, s.stop(t))
	_, err = (&http.Client{Timeout: waitFor}).Get(base + "/metrics")
	require.Error(t, err, "the metrics server stops with the node")
}

func TestServeMetricsOnABusyAddressExitsOne(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	code, out, errOut := runCmd(t, "serve", "--metrics", ln.Addr().String())
	require.Equal(t, 1, code)
	require.Empty(t, out, "no node is announced")
	require.Contains(t, errOut, "dhtnode serve: metrics: listen tcp "+ln.Addr().String())
}
