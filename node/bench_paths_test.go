package node_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/stretchr/testify/require"
)

// BenchmarkDisjointLookup1000Mem measures direct lookups over 1, 2 and 4
// disjoint paths on 1,000 nodes over the mem network, k=20, alpha=3: RPCs
// and latency per lookup (ns/op is one lookup).
func BenchmarkDisjointLookup1000Mem(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	net := mem.NewNetwork(mem.Options{QueueLen: 1024})
	b.Cleanup(func() { _ = net.Close() })
	s := btBuildScale(b, 1000, 100, rng, btMemNodeMaker(b, net, 20, 3))
	b.Logf("built and bootstrapped 1000 mem nodes, stored 100 values, in %v", s.built)
	ctx := context.Background()
	for _, d := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("FindPeer/d=%d", d), func(b *testing.B) {
			var rpcs, hops, failed, count int
			var latency time.Duration
			cpu := btCPU()
			for b.Loop() {
				from, to := s.nodes[rng.IntN(len(s.nodes))], s.nodes[rng.IntN(len(s.nodes))]
				var tr node.Trace
				rec, err := from.FindPeer(ctx, to.ID(), node.WithDisjointPaths(d), node.WithTrace(&tr))
				if err != nil || rec.ID != to.ID() {
					failed++
				}
				rpcs, hops, count, latency = rpcs+tr.RPCs, hops+tr.Hops, count+1, latency+tr.Latency
			}
			btReport(b, rpcs, hops, failed, count, btCPU()-cpu)
			b.ReportMetric(float64(latency.Microseconds())/float64(count), "µs/lookup")
		})
		b.Run(fmt.Sprintf("Get/d=%d", d), func(b *testing.B) {
			var rpcs, hops, failed, count int
			var latency time.Duration
			cpu := btCPU()
			for b.Loop() {
				from, key := s.nodes[rng.IntN(len(s.nodes))], s.keys[rng.IntN(len(s.keys))]
				var tr node.Trace
				if _, err := from.Get(ctx, key, node.WithDisjointPaths(d), node.WithTrace(&tr)); err != nil {
					failed++
				}
				rpcs, hops, count, latency = rpcs+tr.RPCs, hops+tr.Hops, count+1, latency+tr.Latency
			}
			btReport(b, rpcs, hops, failed, count, btCPU()-cpu)
			b.ReportMetric(float64(latency.Microseconds())/float64(count), "µs/lookup")
		})
	}
}

// BenchmarkHopHiding measures what position hiding costs forwarded
// queries in hops and RPCs: 300 nodes over mem, proxied gets of stored
// keys and of missing ones (which walk until no nearer peer or the budget
// ends them), with hiding on (the default budget range and HopKeep) and
// off (a fixed budget of DefaultHopBudget, every hop spending one).
func BenchmarkHopHiding(b *testing.B) {
	for _, hiding := range []bool{true, false} {
		name := "on"
		configure := func(*node.Builder) {}
		if !hiding {
			name = "off"
			configure = func(nb *node.Builder) {
				nb.HopBudgetRange(node.DefaultHopBudget, node.DefaultHopBudget).HopKeep(node.NoHopKeep)
			}
		}
		rng := rand.New(rand.NewPCG(3, 4))
		net := mem.NewNetwork(mem.Options{QueueLen: 1024})
		s := btBuildScale(b, 300, 50, rng, func(int) *node.Node {
			ep, err := net.Listen(nil)
			require.NoError(b, err)
			nb := node.NewBuilder().Transport(ep)
			configure(nb)
			n, err := nb.Build(context.Background())
			require.NoError(b, err)
			return n
		})
		ctx := context.Background()
		for _, missing := range []bool{false, true} {
			what := "stored"
			if missing {
				what = "missing"
			}
			b.Run(fmt.Sprintf("hiding=%s/%s", name, what), func(b *testing.B) {
				var rpcs, hops, failed, count int
				cpu := btCPU()
				for b.Loop() {
					key := s.keys[rng.IntN(len(s.keys))]
					if missing {
						key = fmt.Appendf(nil, "missing-%d", rng.Uint64())
					}
					var tr node.Trace
					_, err := s.nodes[rng.IntN(len(s.nodes))].Get(ctx, key, node.WithMode(node.Proxied()), node.WithTrace(&tr))
					if err != nil && !missing {
						failed++
					}
					rpcs, hops, count = rpcs+tr.RPCs, hops+tr.Hops, count+1
				}
				btReport(b, rpcs, hops, failed, count, btCPU()-cpu)
			})
		}
		for _, n := range s.nodes {
			_ = n.Close()
		}
		_ = net.Close()
	}
}
