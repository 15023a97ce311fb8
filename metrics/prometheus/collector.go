package dhtprom

import (
	"maps"
	"slices"
	"strconv"

	"github.com/dhtkit/dhtkit/node"
	"github.com/prometheus/client_golang/prometheus"
)

// Collector is a prometheus.Collector of one node's counters. Make it with
// NewCollector and register it in a registry of your own. It is safe for
// concurrent use.
type Collector struct {
	n *node.Node
	d descs
}

var _ prometheus.Collector = (*Collector)(nil)

// Option adjusts a Collector.
type Option func(*options)

type options struct {
	labels prometheus.Labels
}

// WithLabels adds constant labels to every metric of the collector, so that
// the collectors of several nodes can share a registry:
//
//	dhtprom.WithLabels(prometheus.Labels{"node": n.ID().Short()})
//
// The labels are copied. An invalid label name, or one the collector uses
// itself (kind, reason, bucket), makes registering the collector fail.
func WithLabels(l prometheus.Labels) Option {
	l = maps.Clone(l)
	return func(o *options) {
		if o.labels == nil {
			o.labels = prometheus.Labels{}
		}
		maps.Copy(o.labels, l)
	}
}

// NewCollector returns a collector that reads n at every scrape.
func NewCollector(n *node.Node, opts ...Option) *Collector {
	var o options
	for _, f := range opts {
		f(&o)
	}
	return &Collector{n: n, d: newDescs(o.labels)}
}

// descs describes every metric the collector exports.
type descs struct {
	sent, framesReceived, received, requests, served, forwarded *prometheus.Desc
	refused, dropped, timeouts, sendErrors, evictionPings       *prometheus.Desc
	lookupsFailed                                               *prometheus.Desc

	tablePeers, bucketPeers, records, valueBytes, maxHops *prometheus.Desc

	rpcDuration, lookupDuration, lookupRPCs, lookupHops *prometheus.Desc
}

func newDescs(l prometheus.Labels) descs {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("dhtkit_"+name, help, labels, l)
	}
	return descs{
		sent:           d("messages_sent_total", "Frames sent, by message kind; resends included.", "kind"),
		framesReceived: d("frames_received_total", "Frames received, valid or not."),
		received:       d("messages_received_total", "Frames received that decoded, by message kind.", "kind"),
		requests:       d("requests_sent_total", "Requests this node originated; a resend is not a new request."),
		served:         d("requests_served_total", "Requests this node answered."),
		forwarded:      d("forwarded_queries_handled_total", "Forwarded queries this node handled as a hop."),
		refused:        d("requests_refused_total", "Requests this node answered with an error, by error code.", "reason"),
		dropped:        d("frames_dropped_total", "Incoming frames dropped, by reason.", "reason"),
		timeouts:       d("request_timeouts_total", "Waits for an answer to a request that ran out; each resend waits anew."),
		sendErrors:     d("send_errors_total", "Frames the transport failed to send."),
		evictionPings:  d("eviction_pings_total", "Pings sent to full buckets' eviction candidates."),
		lookupsFailed:  d("lookups_failed_total", "Lookups this node originated that failed."),

		tablePeers:  d("table_peers", "Peers in the routing table, replacement caches excluded."),
		bucketPeers: d("table_bucket_peers", "Peers in the routing table sharing exactly bucket leading ID bits with the node.", "bucket"),
		records:     d("store_records", "Records in the store, expired ones not yet swept included."),
		valueBytes:  d("store_value_bytes", "Bytes of the values in the store, keys and metadata excluded."),
		maxHops:     d("lookup_max_hops", "The most hops any lookup this node originated took."),

		rpcDuration:    d("rpc_duration_seconds", "Time from a request's first send to its answer, by request kind; unanswered requests are not observed.", "kind"),
		lookupDuration: d("lookup_duration_seconds", "Time a lookup this node originated took."),
		lookupRPCs:     d("lookup_rpcs", "Requests a lookup this node originated sent."),
		lookupHops:     d("lookup_hops", "The longest chain of peers a lookup this node originated went through."),
	}
}

// Describe sends the descriptors of every metric the collector exports.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.d.sent, c.d.framesReceived, c.d.received, c.d.requests, c.d.served, c.d.forwarded,
		c.d.refused, c.d.dropped, c.d.timeouts, c.d.sendErrors, c.d.evictionPings, c.d.lookupsFailed,
		c.d.tablePeers, c.d.bucketPeers, c.d.records, c.d.valueBytes, c.d.maxHops,
		c.d.rpcDuration, c.d.lookupDuration, c.d.lookupRPCs, c.d.lookupHops,
	} {
		ch <- d
	}
}

// Collect reads the node and sends its metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s, m := c.n.Stats(), c.n.Metrics()
	d := &c.d
	counter := func(desc *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	}

	for _, k := range slices.Sorted(maps.Keys(m.Sent)) {
		counter(d.sent, m.Sent[k], k.String())
	}
	counter(d.framesReceived, s.RPCsReceived)
	for _, k := range slices.Sorted(maps.Keys(m.Received)) {
		counter(d.received, m.Received[k], k.String())
	}
	counter(d.requests, s.Requests)
	counter(d.served, s.Served)
	counter(d.forwarded, s.Forwarded)
	for _, r := range slices.Sorted(maps.Keys(m.Refused)) {
		counter(d.refused, m.Refused[r], r.String())
	}
	for _, r := range slices.Sorted(maps.Keys(m.Dropped)) {
		counter(d.dropped, m.Dropped[r], r.String())
	}
	counter(d.timeouts, s.Timeouts)
	counter(d.sendErrors, s.SendErrors)
	counter(d.evictionPings, s.EvictionPings)
	counter(d.lookupsFailed, s.Lookups.Failed)

	gauge(d.tablePeers, float64(s.TableSize))
	for i, v := range m.Buckets {
		gauge(d.bucketPeers, float64(v), strconv.Itoa(i))
	}
	gauge(d.records, float64(s.Records))
	if m.StoredBytes >= 0 {
		gauge(d.valueBytes, float64(m.StoredBytes))
	}
	gauge(d.maxHops, float64(s.Lookups.MaxHops))

	for _, k := range slices.Sorted(maps.Keys(m.RPCLatency)) {
		ch <- histogram(d.rpcDuration, m.RPCLatency[k], k.String())
	}
	ch <- histogram(d.lookupDuration, m.LookupLatency)
	ch <- histogram(d.lookupRPCs, m.LookupRPCs)
	ch <- histogram(d.lookupHops, m.LookupHops)
}

// histogram converts the node's per-bucket counts into Prometheus's
// cumulative ones; the bucket above the last bound is +Inf, which Prometheus
// derives from the count.
func histogram(desc *prometheus.Desc, h node.Histogram, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.Bounds))
	var cum uint64
	for i, b := range h.Bounds {
		cum += h.Counts[i]
		buckets[b] = cum
	}
	return prometheus.MustNewConstHistogram(desc, h.Count, h.Sum, buckets, labels...)
}
