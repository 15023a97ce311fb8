package node_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/stretchr/testify/require"
)

// btScaleNet is a network built for the scale benchmarks, with values
// stored in it.
type btScaleNet struct {
	nodes []*node.Node
	keys  [][]byte
	built time.Duration
}

// btBuildScale makes size nodes with mk and bootstraps node i from a random
// earlier node, as peers join a real network one by one; then it stores
// keys values from random nodes. Nodes close at cleanup.
func btBuildScale(tb testing.TB, size, keys int, rng *rand.Rand, mk func(i int) *node.Node) *btScaleNet {
	tb.Helper()
	start := time.Now()
	s := &btScaleNet{}
	ctx := context.Background()
	for i := range size {
		n := mk(i)
		tb.Cleanup(func() { _ = n.Close() })
		if i > 0 {
			require.NoError(tb, n.Bootstrap(ctx, s.nodes[rng.IntN(i)].Addrs()[0]), "node %d", i)
		}
		s.nodes = append(s.nodes, n)
	}
	for i := range keys {
		key := []byte(fmt.Sprint("scale-key-", i))
		_, err := s.nodes[rng.IntN(size)].Put(ctx, key, []byte("value"))
		require.NoError(tb, err)
		s.keys = append(s.keys, key)
	}
	s.built = time.Since(start)
	return s
}

// btMemNodeMaker returns a maker of nodes on net with k and alpha.
func btMemNodeMaker(tb testing.TB, net *mem.Network, k, alpha int) func(int) *node.Node {
	return func(int) *node.Node {
		ep, err := net.Listen(nil)
		require.NoError(tb, err)
		n, err := node.NewBuilder().Transport(ep).K(k).Alpha(alpha).Build(context.Background())
		require.NoError(tb, err)
		return n
	}
}

func btUDPNodeMaker(tb testing.TB, k, alpha int) func(int) *node.Node {
	return func(int) *node.Node {
		n, err := node.NewBuilder().ListenString("/ip4/127.0.0.1/udp/0").K(k).Alpha(alpha).Build(context.Background())
		require.NoError(tb, err)
		return n
	}
}

// btLookups runs FindPeer of a random node's ID and Get of a random stored
// key, from random nodes, in every mode, reporting the cost per lookup.
func btLookups(b *testing.B, s *btScaleNet, rng *rand.Rand) {
	ctx := context.Background()
	for _, mode := range node.Modes() {
		b.Run("FindPeer/"+mode.String(), func(b *testing.B) {
			b.ReportAllocs()
			var rpcs, hops, failed, count int
			checks, unchecked := btSigChecks(s)
			cpu := btCPU()
			for b.Loop() {
				from, to := s.nodes[rng.IntN(len(s.nodes))], s.nodes[rng.IntN(len(s.nodes))]
				var tr node.Trace
				rec, err := from.FindPeer(ctx, to.ID(), node.WithMode(mode), node.WithTrace(&tr))
				if err != nil || rec.ID != to.ID() {
					failed++
				}
				rpcs, hops, count = rpcs+tr.RPCs, hops+tr.Hops, count+1
			}
			btReport(b, rpcs, hops, failed, count, btCPU()-cpu)
			checks2, unchecked2 := btSigChecks(s)
			b.ReportMetric(float64(checks2-checks)/float64(count), "sigchecks/lookup")
			b.ReportMetric(float64(unchecked2-unchecked)/float64(count), "unchecked/lookup")
		})
		b.Run("Get/"+mode.String(), func(b *testing.B) {
			b.ReportAllocs()
			var rpcs, hops, failed, count int
			checks, unchecked := btSigChecks(s)
			cpu := btCPU()
			for b.Loop() {
				from, key := s.nodes[rng.IntN(len(s.nodes))], s.keys[rng.IntN(len(s.keys))]
				var tr node.Trace
				if _, err := from.Get(ctx, key, node.WithMode(mode), node.WithTrace(&tr)); err != nil {
					failed++
				}
				rpcs, hops, count = rpcs+tr.RPCs, hops+tr.Hops, count+1
			}
			btReport(b, rpcs, hops, failed, count, btCPU()-cpu)
			checks2, unchecked2 := btSigChecks(s)
			b.ReportMetric(float64(checks2-checks)/float64(count), "sigchecks/lookup")
			b.ReportMetric(float64(unchecked2-unchecked)/float64(count), "unchecked/lookup")
		})
	}
}

// btSigChecks sums the signature checks of every node in s, and the
// senders of queries answered without one.
func btSigChecks(s *btScaleNet) (checks, unchecked uint64) {
	for _, n := range s.nodes {
		st := n.Stats()
		checks, unchecked = checks+st.SignatureChecks, unchecked+st.UnverifiedSenders
	}
	return checks, unchecked
}

// btReport reports the cost of count lookups, cpu the process's CPU time
// over them (all nodes' work, on a shared machine steadier than ns/op).
func btReport(b *testing.B, rpcs, hops, failed, count int, cpu time.Duration) {
	b.ReportMetric(float64(cpu.Microseconds())/float64(count), "cpu-µs/lookup")
	b.ReportMetric(float64(rpcs)/float64(count), "RPCs/lookup")
	b.ReportMetric(float64(hops)/float64(count), "hops/lookup")
	b.ReportMetric(100*float64(failed)/float64(count), "%failed")
}

// BenchmarkLookup1000Mem measures lookups on 1,000 nodes over the mem
// network, k=20, alpha=3.
func BenchmarkLookup1000Mem(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	net := mem.NewNetwork(mem.Options{QueueLen: 1024})
	b.Cleanup(func() { _ = net.Close() })
	s := btBuildScale(b, 1000, 100, rng, btMemNodeMaker(b, net, 20, 3))
	b.Logf("built and bootstrapped 1000 mem nodes, stored 100 values, in %v", s.built)
	btLookups(b, s, rng)
}

// BenchmarkLookup1000UDP is BenchmarkLookup1000Mem over loopback UDP: 1,000
// real sockets.
func BenchmarkLookup1000UDP(b *testing.B) {
	btRaiseFDLimit(b, 1000+256)
	rng := rand.New(rand.NewPCG(1, 2))
	s := btBuildScale(b, 1000, 100, rng, btUDPNodeMaker(b, 20, 3))
	b.Logf("built and bootstrapped 1000 UDP nodes, stored 100 values, in %v", s.built)
	btLookups(b, s, rng)
}

// BenchmarkIdleNodeMemory reports the heap an idle UDP node holds once it
// has joined a network of 200, or of DHTKIT_IDLE_NODES (1000 to compare
// with the harness).
func BenchmarkIdleNodeMemory(b *testing.B) {
	size := 200
	if s := os.Getenv("DHTKIT_IDLE_NODES"); s != "" {
		var err error
		size, err = strconv.Atoi(s)
		require.NoError(b, err, "DHTKIT_IDLE_NODES")
	}
	btRaiseFDLimit(b, uint64(size)+256)
	// DHTKIT_HEAPPROFILE=file writes the heap while the nodes are alive
	// (the -memprofile flag writes it after they are closed).
	profile := os.Getenv("DHTKIT_HEAPPROFILE")
	if profile != "" {
		defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
		runtime.MemProfileRate = 1
	}
	b.ReportAllocs()
	var perNode float64
	runs := 0
	for b.Loop() {
		before := btHeap()
		s := btBuildScale(b, size, 0, rand.New(rand.NewPCG(3, 4)), btUDPNodeMaker(b, 20, 3))
		after := btHeap()
		perNode += float64(int64(after)-int64(before)) / float64(size)
		runs++
		if profile != "" {
			f, err := os.Create(profile)
			require.NoError(b, err)
			require.NoError(b, pprof.WriteHeapProfile(f))
			require.NoError(b, f.Close())
		}
		for _, n := range s.nodes {
			_ = n.Close()
		}
	}
	b.ReportMetric(perNode/float64(runs), "B/node")
}

// BenchmarkNetwork10kMem builds 10,000 nodes over mem one join at a time
// and queries them. It takes minutes and gigabytes, so it runs only with
// DHTKIT_SCALE=1; BenchmarkBuildMem builds the same network many joins at
// once.
func BenchmarkNetwork10kMem(b *testing.B) {
	if os.Getenv("DHTKIT_SCALE") != "1" {
		b.Skip("set DHTKIT_SCALE=1 to build a 10,000-node network")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	net := mem.NewNetwork(mem.Options{QueueLen: 1024})
	b.Cleanup(func() { _ = net.Close() })
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	cpu := btCPU()
	s := btBuildScale(b, 10000, 100, rng, btMemNodeMaker(b, net, 20, 3))
	cpu = btCPU() - cpu
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap, stacks := after.HeapAlloc-before.HeapAlloc, after.StackInuse-before.StackInuse
	var reqs uint64
	for _, n := range s.nodes {
		reqs += n.Stats().Requests
	}
	b.Logf("built and bootstrapped 10000 mem nodes, stored 100 values, in %v (%v CPU); heap %d MiB (%d KiB/node), goroutine stacks %d MiB; %.1f requests/node",
		s.built, cpu.Round(time.Millisecond), heap>>20, heap/10000>>10, stacks>>20, float64(reqs)/10000)
	btLookups(b, s, rng)
}

func btHeap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
