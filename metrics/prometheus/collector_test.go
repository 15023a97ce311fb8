package dhtprom_test

import (
	"context"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/kvstore/memory"
	dhtprom "github.com/dhtkit/dhtkit/metrics/prometheus"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
)

// memPair returns two nodes over a fresh mem network, the second joined
// through the first.
func memPair(t *testing.T) (seed, joiner *node.Node) {
	t.Helper()
	net := mem.NewNetwork(mem.Options{})
	t.Cleanup(func() { _ = net.Close() })
	build := func() *node.Node {
		ep, err := net.Listen(nil)
		require.NoError(t, err)
		n, err := node.NewBuilder().Transport(ep).Store(memory.New(memory.Options{})).
			RPCTimeout(time.Second).Build(context.Background())
		require.NoError(t, err)
		t.Cleanup(func() { _ = n.Close() })
		return n
	}
	seed, joiner = build(), build()
	require.NoError(t, joiner.Bootstrap(context.Background(), seed.Addrs()...))
	return seed, joiner
}

// gather registers c in a fresh pedantic registry, which checks that what
// Collect sends matches what Describe declared, and gathers it by name.
func gather(t *testing.T, cs ...prometheus.Collector) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	for _, c := range cs {
		require.NoError(t, reg.Register(c))
	}
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := make(map[string]*dto.MetricFamily, len(mfs))
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// valueOf returns the value of the series of mf whose labels include want:
// a histogram's value is its count.
func valueOf(t *testing.T, mf *dto.MetricFamily, want ...string) float64 {
	t.Helper()
	require.NotNil(t, mf)
series:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(want); i += 2 {
			if have[want[i]] != want[i+1] {
				continue series
			}
		}
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue()
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue()
		case dto.MetricType_HISTOGRAM:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	t.Fatalf("%s has no series with labels %v", mf.GetName(), want)
	return 0
}

// wantTypes is every metric the collector exports, with its type.
var wantTypes = map[string]dto.MetricType{
	"dhtkit_messages_sent_total":             dto.MetricType_COUNTER,
	"dhtkit_frames_received_total":           dto.MetricType_COUNTER,
	"dhtkit_messages_received_total":         dto.MetricType_COUNTER,
	"dhtkit_requests_sent_total":             dto.MetricType_COUNTER,
	"dhtkit_requests_served_total":           dto.MetricType_COUNTER,
	"dhtkit_forwarded_queries_handled_total": dto.MetricType_COUNTER,
	"dhtkit_requests_refused_total":          dto.MetricType_COUNTER,
	"dhtkit_frames_dropped_total":            dto.MetricType_COUNTER,
	"dhtkit_request_timeouts_total":          dto.MetricType_COUNTER,
	"dhtkit_send_errors_total":               dto.MetricType_COUNTER,
	"dhtkit_eviction_pings_total":            dto.MetricType_COUNTER,
	"dhtkit_lookups_failed_total":            dto.MetricType_COUNTER,
	"dhtkit_table_peers":                     dto.MetricType_GAUGE,
	"dhtkit_table_bucket_peers":              dto.MetricType_GAUGE,
	"dhtkit_store_records":                   dto.MetricType_GAUGE,
	"dhtkit_store_value_bytes":               dto.MetricType_GAUGE,
	"dhtkit_lookup_max_hops":                 dto.MetricType_GAUGE,
	"dhtkit_rpc_duration_seconds":            dto.MetricType_HISTOGRAM,
	"dhtkit_lookup_duration_seconds":         dto.MetricType_HISTOGRAM,
	"dhtkit_lookup_rpcs":                     dto.MetricType_HISTOGRAM,
	"dhtkit_lookup_hops":                     dto.MetricType_HISTOGRAM,
}

func TestCollectorExportsEveryMetricWithItsTypeAfterPutAndGet(t *testing.T) {
	seed, joiner := memPair(t)
	ctx := context.Background()
	value := []byte("scraped")
	_, err := joiner.Put(ctx, []byte("metrics"), value, node.WithMode(node.Direct()))
	require.NoError(t, err)
	_, err = seed.Get(ctx, []byte("metrics"), node.WithMode(node.Proxied()))
	require.NoError(t, err)

	mfs := gather(t, dhtprom.NewCollector(joiner))
	for name, typ := range wantTypes {
		mf, ok := mfs[name]
		require.True(t, ok, "%s is exported", name)
		require.Equal(t, typ, mf.GetType(), "%s is a %s", name, typ)
		require.NotEmpty(t, mf.GetHelp(), "%s has help text", name)
	}
	for name := range mfs {
		require.Contains(t, wantTypes, name, "an exported metric this test does not know")
	}
	got := func(name string, labels ...string) float64 { return valueOf(t, mfs[name], labels...) }

	// The joiner pinged the seed, looked itself up and stored the value.
	require.NotZero(t, got("dhtkit_messages_sent_total", "kind", "ping"))
	require.NotZero(t, got("dhtkit_messages_sent_total", "kind", "store"))
	require.NotZero(t, got("dhtkit_messages_received_total", "kind", "pong"))
	require.NotZero(t, got("dhtkit_messages_received_total", "kind", "store-ack"))
	require.NotZero(t, got("dhtkit_frames_received_total"))
	require.NotZero(t, got("dhtkit_requests_sent_total"))
	require.NotZero(t, got("dhtkit_rpc_duration_seconds", "kind", "ping"), "answered pings are timed")
	require.NotZero(t, got("dhtkit_rpc_duration_seconds", "kind", "store"))
	require.NotZero(t, got("dhtkit_lookup_duration_seconds"), "bootstrap and put each ran a lookup")
	require.NotZero(t, got("dhtkit_lookup_rpcs"))
	require.NotZero(t, got("dhtkit_lookup_hops"))
	require.Equal(t, 1.0, got("dhtkit_table_peers"))
	require.Equal(t, 1.0, got("dhtkit_store_records"), "the joiner keeps a replica of its own put")
	require.Equal(t, float64(len(value)), got("dhtkit_store_value_bytes"))
	require.Zero(t, got("dhtkit_frames_dropped_total", "reason", "decode"), "every reason is exported, zeros included")
	require.Zero(t, got("dhtkit_requests_refused_total", "reason", "rejected"))
	require.Zero(t, got("dhtkit_lookups_failed_total"))

	// The seed answered and, as the first hop of the proxied get, handled a
	// forwarded query; its answer came back in a forward-reply.
	mfs = gather(t, dhtprom.NewCollector(seed))
	require.NotZero(t, valueOf(t, mfs["dhtkit_requests_served_total"]))
	require.NotZero(t, valueOf(t, mfs["dhtkit_messages_sent_total"], "kind", "pong"))
	require.NotZero(t, valueOf(t, mfs["dhtkit_messages_received_total"], "kind", "store"))

	// Histograms are cumulative, end at +Inf with the count, and the
	// lookups' count matches what Stats says.
	h := mfs["dhtkit_lookup_duration_seconds"].GetMetric()[0].GetHistogram()
	require.Equal(t, seed.Stats().Lookups.Count, h.GetSampleCount())
	var last uint64
	for _, b := range h.GetBucket() {
		require.GreaterOrEqual(t, b.GetCumulativeCount(), last, "buckets are cumulative")
		last = b.GetCumulativeCount()
	}
	require.LessOrEqual(t, last, h.GetSampleCount())
}

func TestCollectorPassesPrometheusLint(t *testing.T) {
	seed, _ := memPair(t)
	problems, err := testutil.CollectAndLint(dhtprom.NewCollector(seed))
	require.NoError(t, err)
	require.Empty(t, problems, "metric names and help must follow Prometheus conventions")
}

func TestCollectorsOfSeveralNodesShareARegistryByTheirLabels(t *testing.T) {
	seed, joiner := memPair(t)
	labels := prometheus.Labels{"node": "seed"}
	c := dhtprom.WithLabels(labels)
	labels["node"] = "changed" // WithLabels copies its map
	mfs := gather(t,
		dhtprom.NewCollector(seed, c),
		dhtprom.NewCollector(joiner, dhtprom.WithLabels(prometheus.Labels{"node": "joiner"})))
	require.Equal(t, 1.0, valueOf(t, mfs["dhtkit_table_peers"], "node", "seed"))
	require.Equal(t, 1.0, valueOf(t, mfs["dhtkit_table_peers"], "node", "joiner"))

	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(dhtprom.NewCollector(seed)))
	require.Error(t, reg.Register(dhtprom.NewCollector(joiner)), "without labels two nodes collide")
	require.Error(t, prometheus.NewRegistry().Register(dhtprom.NewCollector(seed, dhtprom.WithLabels(prometheus.Labels{"kind": "x"}))),
		"a label the collector uses itself fails at registration")
}

func TestCollectorOfAClosedNodeStillAnswers(t *testing.T) {
	seed, _ := memPair(t)
	require.NoError(t, seed.Close())
	mfs := gather(t, dhtprom.NewCollector(seed))
	require.NotZero(t, valueOf(t, mfs["dhtkit_messages_sent_total"], "kind", "pong"), "the last counts remain")
	require.NotContains(t, mfs, "dhtkit_store_value_bytes", "a closed store cannot say its size")
	require.Equal(t, 1.0, valueOf(t, mfs["dhtkit_table_peers"]), "the table outlives Close")
}
