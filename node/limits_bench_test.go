package node

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
)

// benchSources are the request sources of the serving benchmarks: 1,024
// loopback addresses in 256 /24s, so that with default limits no source
// runs out of tokens and every request is served.
func benchSources(b testing.TB) []ma.Multiaddr {
	var out []ma.Multiaddr
	for i := range 256 {
		for j := range 4 {
			out = append(out, ma.StringCast(fmt.Sprintf("/ip4/127.1.%d.%d/udp/9", i, j+1)))
		}
	}
	return out
}

// benchServer builds a UDP node with limits l and 40 peers in its table,
// and the find-node frames of each source, each with its token so that
// the whole answer is sent.
func benchServer(b testing.TB, l RateLimits) (*Node, transport.Transport, []transport.Packet) {
	n, err := NewBuilder().RateLimits(l).Build(context.Background())
	require.NoError(b, err)
	b.Cleanup(func() { _ = n.Close() })
	for i := range 40 {
		id, err := peer.GenerateIdentity(nil)
		require.NoError(b, err)
		r, err := peer.NewRecord(id, n.cfg.hasher, 1, ma.StringCast(fmt.Sprintf("/ip4/127.2.0.%d/udp/4001", i+1)))
		require.NoError(b, err)
		n.table.Update(r, n.cfg.clock.Now())
	}
	var pkts []transport.Packet
	for i, src := range benchSources(b) {
		target := n.cfg.hasher.Sum([]byte(fmt.Sprint(i)))
		data, err := n.cfg.codec.Marshal(&msgenc.Message{
			Kind: msgenc.KindFindNode, TxID: uint64(i + 1), Token: n.amp.issue(src.Bytes()),
			FindNode: &msgenc.FindNode{Target: target.Bytes()},
		})
		require.NoError(b, err)
		pkts = append(pkts, transport.Packet{From: src, Data: data})
	}
	return n, n.transports[0], pkts
}

// BenchmarkServeFindNode measures find-node requests served, each decoded,
// answered with k peers and sent over UDP, with the rate limits on
// (defaults) and off. Run with -cpu 1 for requests per second per core.
func BenchmarkServeFindNode(b *testing.B) {
	for _, tc := range []struct {
		name   string
		limits RateLimits
	}{{"limits=off", NoRateLimits()}, {"limits=on", RateLimits{}}} {
		b.Run(tc.name, func(b *testing.B) {
			n, t, pkts := benchServer(b, tc.limits)
			before := n.stats.served.Load()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				n.handlePacket(t, pkts[i%len(pkts)])
			}
			b.StopTimer()
			served := n.stats.served.Load() - before
			require.Equal(b, uint64(b.N), served, "every request is served: %+v", n.Stats().Dropped)
			b.ReportMetric(float64(served)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// BenchmarkRateLimiter measures what the rate limits add to one request:
// naming its source, the unread-drop check, and the address, prefix and
// peer buckets.
func BenchmarkRateLimiter(b *testing.B) {
	var l RateLimits
	require.Empty(b, l.check())
	n, _, pkts := benchServer(b, NoRateLimits())
	lim := newLimiter(l, n.cfg.clock.Now)
	peers := make([]string, len(pkts))
	for i := range peers {
		peers[i] = string(n.cfg.hasher.Sum([]byte(fmt.Sprint("peer", i))).Bytes())
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		src := sourceOf(pkts[i%len(pkts)].From)
		if lim.blocked(src) || lim.admitAddr(src) != admit || lim.admitPeer(peers[i%len(peers)]) != admit {
			b.Fatal("a request was held back")
		}
	}
}

// TestServeFindNodeAllocs bounds what serving a find-node from a proven
// address allocates: the answer's wire form comes from a pool (closestWire)
// and the encoder keeps its own (msgenc/cbor), so that serving allocates
// about 1.3 KiB, not 7.9 KiB as when each answer built its own.
func TestServeFindNodeAllocs(t *testing.T) {
	if testing.Short() || raceDetector {
		t.Skip("allocation counts are for the normal run, without the race detector")
	}
	n, tr, pkts := benchServer(t, NoRateLimits())
	i := 0
	serve := func() {
		n.handlePacket(tr, pkts[i%len(pkts)])
		i++
	}
	for range 2 * len(pkts) {
		serve() // warm the pools and the token cache
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const runs = 2000
	for range runs {
		serve()
	}
	runtime.ReadMemStats(&after)
	allocs := float64(after.Mallocs-before.Mallocs) / runs
	bytes := float64(after.TotalAlloc-before.TotalAlloc) / runs
	t.Logf("%.1f allocations, %.0f bytes a request served", allocs, bytes)
	if allocs > 15 || bytes > 3000 {
		t.Errorf("serving a find-node allocates %.1f times, %.0f bytes; want at most 15 and 3000", allocs, bytes)
	}
}
