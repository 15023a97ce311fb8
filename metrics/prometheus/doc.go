// Package dhtprom exports a dhtkit node's counters to Prometheus. Its import
// path ends in prometheus but its name is dhtprom, so that it sits beside
// the client library's own prometheus package without a rename:
//
//	import (
//		dhtprom "github.com/dhtkit/dhtkit/metrics/prometheus"
//		"github.com/prometheus/client_golang/prometheus"
//		"github.com/prometheus/client_golang/prometheus/promhttp"
//	)
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(dhtprom.NewCollector(n))
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// NewCollector returns a prometheus.Collector; the package registers nothing
// itself. At each scrape the collector reads node.Node.Stats and
// node.Node.Metrics, so it costs nothing between scrapes and a scrape sees
// the node as it is. Metrics walks the routing table and the store (see its
// doc): scrape every few seconds, not in a loop. A closed node still
// answers, with its last counts. Several nodes may share a registry when
// each collector has its own constant labels (WithLabels), such as the
// node's ID.
//
// # Metrics
//
// Counters:
//
//	dhtkit_messages_sent_total{kind}            frames sent, resends included
//	dhtkit_frames_received_total                frames received, valid or not
//	dhtkit_messages_received_total{kind}        frames received that decoded
//	dhtkit_requests_sent_total                  requests originated (a resend is not a new request)
//	dhtkit_requests_served_total                requests answered
//	dhtkit_forwarded_queries_handled_total      forwarded queries handled as a hop
//	dhtkit_requests_refused_total{reason}       requests answered with an error, by error code
//	dhtkit_frames_dropped_total{reason}         incoming frames dropped, by reason
//	dhtkit_request_timeouts_total               waits for an answer that ran out
//	dhtkit_send_errors_total                    frames the transport failed to send
//	dhtkit_eviction_pings_total                 pings of full buckets' eviction candidates
//	dhtkit_lookups_failed_total                 lookups originated that failed
//
// Gauges:
//
//	dhtkit_table_peers                          peers in the routing table
//	dhtkit_table_bucket_peers{bucket}           peers sharing exactly "bucket" leading ID bits with the node
//	dhtkit_store_records                        records in the store, expired ones not yet swept included
//	dhtkit_store_value_bytes                    bytes of the stored values (absent when the store cannot say)
//	dhtkit_lookup_max_hops                      the most hops any lookup took
//
// Histograms:
//
//	dhtkit_rpc_duration_seconds{kind}           time from a request's first send to its answer
//	dhtkit_lookup_duration_seconds              time a lookup took
//	dhtkit_lookup_rpcs                          requests a lookup sent
//	dhtkit_lookup_hops                          the longest chain of peers a lookup went through
//
// kind is a message kind as msgenc names it ("ping", "find-node",
// "find-value", "store", "forward", and the replies). Every kind and
// reason is present from the first scrape, zeros included; buckets run from
// 0 to the deepest non-empty one. The lookup histograms' _count and _sum give the number of
// lookups and their total time, RPCs and hops. The node keeps its
// histograms in fixed buckets: latencies from 100µs to 10s, hops up to 32,
// RPCs up to 64.
package dhtprom
