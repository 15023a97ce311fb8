package node_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/kvstore/memory"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/dhtkit/dhtkit/trust"
	"github.com/stretchr/testify/require"
)

func sumKinds(m map[msgenc.Kind]uint64) uint64 {
	var s uint64
	for _, v := range m {
		s += v
	}
	return s
}

// requireHistogram checks a histogram snapshot's shape: ascending bounds,
// one more count than bounds, counts summing to Count.
func requireHistogram(t *testing.T, name string, h node.Histogram) {
	t.Helper()
	require.NotEmpty(t, h.Bounds, name)
	require.Len(t, h.Counts, len(h.Bounds)+1, "%s: one count per bucket and one above the last bound", name)
	for i := 1; i < len(h.Bounds); i++ {
		require.Less(t, h.Bounds[i-1], h.Bounds[i], "%s: bounds ascend", name)
	}
	var n uint64
	for _, c := range h.Counts {
		n += c
	}
	require.Equal(t, h.Count, n, "%s: Count is the sum of Counts", name)
}

func TestMetricsAgreeWithStatsAfterPutAndGet(t *testing.T) {
	tn := newTestNet(t, 3, mem.Options{}, nil)
	a, b := tn.nodes[1], tn.nodes[2]
	ctx := context.Background()
	value := []byte("counted value")
	_, err := a.Put(ctx, []byte("metrics"), value)
	require.NoError(t, err)
	got, err := a.Get(ctx, []byte("metrics"))
	require.NoError(t, err)
	require.Equal(t, value, got)

	// A reply counts once its Send returns, which may be after its
	// requester has moved on: wait for the last to be counted.
	var (
		s node.Stats
		m node.Metrics
	)
	btEventually(t, func() bool {
		s, m = a.Stats(), a.Metrics()
		return s.RPCsSent == sumKinds(m.Sent) && s.RPCsReceived-s.Dropped[node.DropDecode] == sumKinds(m.Received)
	}, "frames by kind must sum to RPCsSent, and to RPCsReceived less decode drops")
	require.NotZero(t, m.Sent[msgenc.KindPing], "bootstrap pings")
	require.NotZero(t, m.Sent[msgenc.KindStore], "put stores")
	require.NotZero(t, m.Received[msgenc.KindPong])
	require.NotZero(t, m.Received[msgenc.KindStoreAck])
	for _, k := range []msgenc.Kind{msgenc.KindPing, msgenc.KindStore, msgenc.KindFindNode} {
		requireHistogram(t, k.String(), m.RPCLatency[k])
		require.NotZero(t, m.RPCLatency[k].Count, "every answered %s is timed", k)
	}
	require.Len(t, m.RPCLatency, 5, "ping, find-node, find-value, store, forward")

	requireHistogram(t, "lookup latency", m.LookupLatency)
	requireHistogram(t, "lookup RPCs", m.LookupRPCs)
	requireHistogram(t, "lookup hops", m.LookupHops)
	require.Equal(t, s.Lookups.Count, m.LookupLatency.Count)
	require.Equal(t, s.Lookups.Count, m.LookupRPCs.Count)
	require.Equal(t, s.Lookups.Count, m.LookupHops.Count)
	require.Equal(t, float64(s.Lookups.RPCs), m.LookupRPCs.Sum)
	require.Equal(t, float64(s.Lookups.Hops), m.LookupHops.Sum)
	require.InDelta(t, s.Lookups.Latency.Seconds(), m.LookupLatency.Sum, 1e-9)

	fill := 0
	for _, c := range m.Buckets {
		fill += c
	}
	require.Equal(t, s.TableSize, fill, "the buckets hold the whole table")
	require.NotZero(t, m.Buckets[len(m.Buckets)-1], "Buckets ends at the deepest non-empty bucket")

	require.Len(t, m.Dropped, 10, "every drop reason is listed, zeros included")
	for code := msgenc.ErrorCode(0); code <= msgenc.CodeQuota; code++ { // 0: codes msgenc does not name
		v, ok := m.Refused[code]
		require.True(t, ok, "refusal code %s is listed", code)
		require.Zero(t, v, "nothing was refused")
	}

	// Three nodes and k=20: every node keeps a replica.
	require.Equal(t, int64(len(value)), b.Metrics().StoredBytes)
	require.NoError(t, b.Close())
	require.Equal(t, int64(-1), b.Metrics().StoredBytes, "a closed node's store cannot say")
}

// metricsNoRanger hides the memory store's Range.
type metricsNoRanger struct{ kvstore.Store }

// metricsRefuseValues stores nothing.
type metricsRefuseValues struct{}

func (metricsRefuseValues) AcceptPeer(*peer.Record) error  { return nil }
func (metricsRefuseValues) AcceptRelay(*peer.Record) error { return nil }
func (metricsRefuseValues) AcceptValue(*peer.Record, *trust.Value) error {
	return errors.New("metrics test: no values")
}

func TestMetricsCountRefusalsByCode(t *testing.T) {
	net := btNet(t)
	n := btNode(t, net, nil, func(b *node.Builder) {
		b.Policy(metricsRefuseValues{}).Store(metricsNoRanger{memory.New(memory.Options{})})
	})
	raw := btNewRaw(t, net)
	to := n.Addrs()[0]

	rep := raw.request(to, nil, &msgenc.Message{Kind: msgenc.KindFindNode, FindNode: &msgenc.FindNode{Target: []byte{1, 2, 3}}})
	require.Equal(t, msgenc.KindError, rep.Kind)
	v, err := trust.NewPlain(raw.id, btRandomID(t), 1, []byte("v"))
	require.NoError(t, err)
	rep = raw.request(to, &raw.wire, &msgenc.Message{Kind: msgenc.KindStore, Store: &msgenc.Store{Record: wireOf(v)}})
	require.Equal(t, msgenc.KindError, rep.Kind)
	require.Equal(t, msgenc.CodeRejected, rep.Error.Code)

	// A frame counts once its Send returns, which may be after the raw
	// peer has it.
	var m node.Metrics
	btEventually(t, func() bool { m = n.Metrics(); return m.Sent[msgenc.KindError] == 2 }, "two error replies sent")
	require.Equal(t, uint64(1), m.Refused[msgenc.CodeBadRequest])
	require.Equal(t, uint64(1), m.Refused[msgenc.CodeRejected])
	require.Equal(t, uint64(1), m.Received[msgenc.KindFindNode])
	require.Equal(t, uint64(1), m.Received[msgenc.KindStore])
	require.NotEmpty(t, m.Buckets)
	require.Equal(t, 1, m.Buckets[len(m.Buckets)-1], "the raw peer, the one peer in the table, fills the deepest bucket")
	require.Equal(t, 1, n.Stats().TableSize)
	require.Equal(t, int64(-1), m.StoredBytes, "a store without kvstore.Ranger cannot say")
}
