package node_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/transport/mem"
)

// BenchmarkLookupAllocs reports the heap allocations of one lookup, as in
// bench/anacrolix: FindPeer of a random ID, in direct mode, from a random
// node of 128 on the mem network, k=8 and alpha=3, signatures verified.
// Every node runs in this process, so B/op and allocs/op count the
// serving nodes' work for the lookup too. Building 128 nodes takes about
// a second, so the benchmark is cheap at its default benchtime.
func BenchmarkLookupAllocs(b *testing.B) {
	ctx := context.Background()
	net := mem.NewNetwork(mem.Options{QueueLen: 1024})
	b.Cleanup(func() { _ = net.Close() })
	var nodes []*node.Node
	for i := range 128 {
		ep, err := net.Listen(nil)
		if err != nil {
			b.Fatal(err)
		}
		n, err := node.NewBuilder().Transport(ep).K(8).Alpha(3).Build(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = n.Close() })
		if i > 0 {
			if err := n.Bootstrap(ctx, nodes[0].Addrs()...); err != nil {
				b.Fatalf("node %d: %v", i, err)
			}
		}
		nodes = append(nodes, n)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	target := make([]byte, nodes[0].ID().Len())
	var rpcs, count int
	b.ReportAllocs()
	for b.Loop() {
		for i := range target {
			target[i] = byte(rng.Uint32())
		}
		id, err := peer.IDFromBytes(target)
		if err != nil {
			b.Fatal(err)
		}
		var tr node.Trace
		// No peer has a random ID: the lookup runs to the k closest.
		if _, err := nodes[rng.IntN(len(nodes))].FindPeer(ctx, id, node.WithTrace(&tr)); !errors.Is(err, node.ErrNotFound) {
			b.Fatalf("FindPeer of a random ID: %v, want ErrNotFound", err)
		}
		rpcs, count = rpcs+tr.RPCs, count+1
	}
	b.ReportMetric(float64(rpcs)/float64(count), "RPCs/lookup")
}
