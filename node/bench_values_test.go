package node_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/stretchr/testify/require"
)

// BenchmarkMutableQuorum1000Mem compares, on 1,000 nodes over the mem
// network (k=20, alpha=3, direct mode), a plain Get with a mutable Get at
// quorum 1 and quorum 3: latency per get (ns/op), RPCs and hops. Every get
// verifies every value it receives.
func BenchmarkMutableQuorum1000Mem(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	net := mem.NewNetwork(mem.Options{QueueLen: 1024})
	b.Cleanup(func() { _ = net.Close() })
	s := btBuildScale(b, 1000, 100, rng, btMemNodeMaker(b, net, 20, 3))
	ctx := context.Background()
	type mutable struct {
		pub  *node.Node
		salt []byte
	}
	var muts []mutable
	for i := range 100 {
		m := mutable{pub: s.nodes[rng.IntN(len(s.nodes))], salt: []byte(fmt.Sprint("salt-", i))}
		_, err := m.pub.PutMutable(ctx, m.salt, 1, []byte("value"))
		require.NoError(b, err)
		muts = append(muts, m)
	}
	b.Logf("built 1000 mem nodes with 100 plain and 100 mutable values in %v", s.built)
	run := func(name string, get func(from *node.Node, tr *node.Trace) error) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var rpcs, hops, failed, count int
			cpu := btCPU()
			for b.Loop() {
				var tr node.Trace
				if err := get(s.nodes[rng.IntN(len(s.nodes))], &tr); err != nil {
					failed++
				}
				rpcs, hops, count = rpcs+tr.RPCs, hops+tr.Hops, count+1
			}
			btReport(b, rpcs, hops, failed, count, btCPU()-cpu)
		})
	}
	run("Get/plain", func(from *node.Node, tr *node.Trace) error {
		_, err := from.Get(ctx, s.keys[rng.IntN(len(s.keys))], node.WithTrace(tr))
		return err
	})
	for _, q := range []int{1, 3} {
		run(fmt.Sprintf("GetMutable/quorum=%d", q), func(from *node.Node, tr *node.Trace) error {
			m := muts[rng.IntN(len(muts))]
			_, err := from.GetMutable(ctx, m.pub.Record().PublicKey, m.salt, node.WithQuorum(q), node.WithTrace(tr))
			return err
		})
	}
}
