package node

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/transport/mem"
)

// BenchmarkLookupChecks reports the signature checks of a join and of a
// lookup, summed over every node and split by reason (checkReason), in
// the network of BenchmarkLookupAllocs: 128 nodes on the mem network,
// k=8, alpha=3, FindPeer of random IDs in direct mode. A figure that
// grows names the check to look at. Eviction pings (of a full bucket's
// least recently seen peer, when a newcomer would take its place) are
// reported per lookup too.
func BenchmarkLookupChecks(b *testing.B) {
	ctx := context.Background()
	net := mem.NewNetwork(mem.Options{QueueLen: 1024})
	b.Cleanup(func() { _ = net.Close() })
	var nodes []*Node
	pings := func() (p uint64) {
		for _, n := range nodes {
			p += n.stats.evictionPings.Load()
		}
		return p
	}
	sum := func() (s [numCheckReasons]uint64) {
		for _, n := range nodes {
			for i := range s {
				s[i] += n.checks.load(checkReason(i))
			}
		}
		return s
	}
	for i := range 128 {
		ep, err := net.Listen(nil)
		if err != nil {
			b.Fatal(err)
		}
		n, err := NewBuilder().Transport(ep).K(8).Alpha(3).Build(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = n.Close() })
		nodes = append(nodes, n)
		if i > 0 {
			if err := n.Bootstrap(ctx, nodes[0].Addrs()...); err != nil {
				b.Fatalf("node %d: %v", i, err)
			}
		}
	}
	joins, joinPings := sum(), pings()
	rng := rand.New(rand.NewPCG(1, 2))
	target := make([]byte, nodes[0].ID().Len())
	count := 0
	for b.Loop() {
		for i := range target {
			target[i] = byte(rng.Uint32())
		}
		id, err := peer.IDFromBytes(target)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := nodes[rng.IntN(len(nodes))].FindPeer(ctx, id); !errors.Is(err, ErrNotFound) {
			b.Fatalf("FindPeer of a random ID: %v, want ErrNotFound", err)
		}
		count++
	}
	after, afterPings := sum(), pings()
	var total, totalJoin uint64
	for i := range after {
		total += after[i] - joins[i]
		totalJoin += joins[i]
		if d := after[i] - joins[i]; d > 0 {
			b.ReportMetric(float64(d)/float64(count), checkReason(i).String()+"/lookup")
		}
		if joins[i] > 0 {
			b.ReportMetric(float64(joins[i])/float64(len(nodes)-1), checkReason(i).String()+"/join")
		}
	}
	b.ReportMetric(float64(total)/float64(count), "checks/lookup")
	b.ReportMetric(float64(totalJoin)/float64(len(nodes)-1), "checks/join")
	// Each eviction ping costs about what a lookup's request does.
	b.ReportMetric(float64(afterPings-joinPings)/float64(count), "evictpings/lookup")
}
