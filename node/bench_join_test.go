package node_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/stretchr/testify/require"
)

// BenchmarkJoinMem builds mem networks of growing size one join at a time
// and reports what a join costs once the network is that large: the
// requests the joining node sends during Bootstrap, averaged over the last
// tenth of the joins, and the build time per node. Flat requests/join as
// the size grows is the point. Sizes past 2,000 run only with DHTKIT_SCALE=1.
func BenchmarkJoinMem(b *testing.B) {
	sizes := []int{1000, 2000}
	if os.Getenv("DHTKIT_SCALE") == "1" {
		sizes = append(sizes, 5000, 10000)
	}
	for _, size := range sizes {
		b.Run(fmt.Sprintf("nodes=%d", size), func(b *testing.B) {
			for b.Loop() {
				btJoin(b, size)
			}
		})
	}
}

// btJoin builds size nodes, each bootstrapping from a random earlier one,
// and reports the cost of the last tenth of the joins.
func btJoin(b *testing.B, size int) {
	rng := rand.New(rand.NewPCG(7, 8))
	net := mem.NewNetwork(mem.Options{QueueLen: 1024})
	defer func() { _ = net.Close() }()
	mk := btMemNodeMaker(b, net, 20, 3)
	ctx := context.Background()
	nodes := make([]*node.Node, 0, size)
	defer func() {
		for _, n := range nodes {
			_ = n.Close()
		}
	}()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start, cpu0 := time.Now(), btCPU()
	var lateReqs, late uint64
	for i := range size {
		n := mk(i)
		nodes = append(nodes, n)
		if i == 0 {
			continue
		}
		require.NoError(b, n.Bootstrap(ctx, nodes[rng.IntN(i)].Addrs()[0]), "node %d", i)
		if i >= size-size/10 {
			lateReqs += n.Stats().Requests
			late++
		}
	}
	built, cpu := time.Since(start), btCPU()-cpu0
	runtime.GC()
	runtime.ReadMemStats(&after)
	var total uint64
	for _, n := range nodes {
		total += n.Stats().Requests
	}
	b.ReportMetric(float64(lateReqs)/float64(late), "requests/join")
	b.ReportMetric(float64(total)/float64(size), "requests/node")
	b.ReportMetric(built.Seconds(), "build-s")
	b.ReportMetric(cpu.Seconds(), "cpu-s")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(size), "heap-B/node")
}
