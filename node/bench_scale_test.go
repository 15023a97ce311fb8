package node_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/kademlia"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/stretchr/testify/require"
)

// BenchmarkBuildMem builds a mem network of k=20, alpha=3 nodes in two
// ways and then queries it in every mode: sequentially (node i joins
// through a random node among 0..i-1 once those are all joined) and in
// parallel (many joins at once, each through a random node whose own join
// has finished, as when nodes start together). It reports the build's wall
// and CPU time, heap per node, requests per join (over the last tenth of
// the joins), the mean table size and how many of a node's k true closest
// peers its table holds (over a sample of nodes); the sub-benchmarks then
// report lookup failures and costs per mode.
//
// By default it builds 1,000 nodes. DHTKIT_SCALE=1 builds 10,000, and
// DHTKIT_SCALE=N (a number, or 100k) builds N; sizes past 2,000 build only
// in parallel unless DHTKIT_SCALE_SEQ=1. DHTKIT_SCALE_INFLIGHT sets how
// many joins run at once in the parallel build (default 16); a join that
// fails is tried again through another joined node, at most 3 times in all.
func BenchmarkBuildMem(b *testing.B) {
	size := 1000
	switch s := os.Getenv("DHTKIT_SCALE"); s {
	case "":
	case "1":
		size = 10000
	default:
		s = strings.Replace(s, "k", "000", 1)
		n, err := strconv.Atoi(s)
		require.NoError(b, err, "DHTKIT_SCALE")
		size = n
	}
	inflight := 16
	if s := os.Getenv("DHTKIT_SCALE_INFLIGHT"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(b, err, "DHTKIT_SCALE_INFLIGHT")
		inflight = n
	}
	builds := []string{"parallel"}
	if size <= 2000 || os.Getenv("DHTKIT_SCALE_SEQ") == "1" {
		builds = append(builds, "sequential")
	}
	for _, build := range builds {
		b.Run(fmt.Sprintf("nodes=%d/build=%s", size, build), func(b *testing.B) {
			par := 1
			if build == "parallel" {
				par = inflight
			}
			btBuildAndQuery(b, size, par)
		})
	}
}

// btBuildAndQuery builds size nodes with par joins at once, reports what
// the build cost and how good the tables are, stores 100 values and runs
// the lookups of every mode.
func btBuildAndQuery(b *testing.B, size, par int) {
	rng := rand.New(rand.NewPCG(11, 12))
	net := mem.NewNetwork(mem.Options{QueueLen: 1024})
	b.Cleanup(func() { _ = net.Close() })
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()
	cpu := btCPU()
	s, q := btBuildParallel(b, net, size, par, rng)
	cpu = btCPU() - cpu
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := after.HeapAlloc - before.HeapAlloc
	b.Logf("%d mem nodes, %d joins at once: built in %v (%v CPU), heap %d KiB/node, goroutine stacks %d MiB, %.2f goroutines/node; %.1f requests/join (last tenth), %.1f requests/node; mean table %.1f peers, %.1f%% of the true k closest held (%d sampled), %.1f%% of nodes with all of them; %d joins retried, %d timeouts, %d unproven, dropped %v; %d frames lost at full inboxes; busiest node (joined %d-th) received %d frames",
		size, par, s.built.Round(time.Millisecond), cpu.Round(time.Millisecond), heap/uint64(size)>>10,
		(after.StackInuse-before.StackInuse)>>20, float64(runtime.NumGoroutine()-g0)/float64(size),
		q.reqsPerJoin, q.reqsPerNode, q.meanTable, 100*q.closestHeld, q.sampled, 100*q.allHeld, q.retries, q.timeouts, q.unproven, q.dropped, q.queueFull, q.busiestIdx, q.busiest)
	b.ReportMetric(s.built.Seconds(), "build-s")
	b.ReportMetric(cpu.Seconds(), "cpu-s")
	b.ReportMetric(float64(heap)/float64(size), "heap-B/node")
	b.ReportMetric(q.reqsPerJoin, "requests/join")
	b.ReportMetric(q.meanTable, "table-peers")
	b.ReportMetric(100*q.closestHeld, "%closest-held")
	ctx := context.Background()
	for i := range 100 {
		key := []byte(fmt.Sprint("scale-key-", i))
		_, err := s.nodes[rng.IntN(size)].Put(ctx, key, []byte("value"))
		require.NoError(b, err)
		s.keys = append(s.keys, key)
	}
	btLookups(b, s, rng)
}

// btJoinTries bounds the seeds a node of the parallel build tries.
const btJoinTries = 3

// btQuality is how good a built network's tables are, and what the joins
// cost.
type btQuality struct {
	reqsPerJoin, reqsPerNode float64
	meanTable                float64
	// closestHeld is the mean fraction of a sampled node's k true closest
	// peers its table holds; allHeld the fraction of sampled nodes that
	// hold all of them.
	closestHeld, allHeld float64
	sampled              int
	// timeouts, unproven and dropped sum the nodes' Stats over the build.
	timeouts, unproven uint64
	retries            int64 // joins tried again through another seed
	dropped            map[node.DropReason]uint64
	// queueFull counts frames the mem network lost at a full inbox;
	// busiest is the most frames one node received, and busiestIdx its
	// place in the join order.
	queueFull           uint64
	busiest, busiestIdx uint64
}

// btBuildParallel makes size nodes on net (k=20, alpha=3) and joins them
// with up to par joins at once, each through a random node whose join is
// over; par=1 is the sequential build. No more joins run at once than there
// are joined nodes, so that the network grows from its first node as a
// real one would.
func btBuildParallel(b *testing.B, net *mem.Network, size, par int, rng *rand.Rand) (*btScaleNet, btQuality) {
	const k = 20
	ctx := context.Background()
	tables := make([]route.Table, size)
	nodes := make([]*node.Node, size)
	for i := range size {
		ep, err := net.Listen(nil)
		require.NoError(b, err)
		n, err := node.NewBuilder().Transport(ep).K(k).Alpha(3).
			Table(func(self peer.ID, k int) (route.Table, error) {
				t, err := kademlia.New(self, kademlia.Options{K: k})
				tables[i] = t
				return t, err
			}).Build(ctx)
		require.NoError(b, err)
		nodes[i] = n
		b.Cleanup(func() { _ = n.Close() })
	}
	start := time.Now()
	var (
		mu      sync.Mutex
		cond    = sync.NewCond(&mu)
		joined  = []int{0} // nodes whose join is over
		running int
		failed  error
		reqs    = make([]uint64, 0, size) // requests of each join, in the order they ended
		wg      sync.WaitGroup
		retries atomic.Int64
	)
	seeds := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
	for i := 1; i < size; i++ {
		mu.Lock()
		for running >= min(par, len(joined)) && failed == nil {
			cond.Wait()
		}
		if failed != nil {
			mu.Unlock()
			break
		}
		seed := nodes[joined[seeds.IntN(len(joined))]]
		running++
		mu.Unlock()
		wg.Go(func() {
			err := nodes[i].Bootstrap(ctx, seed.Addrs()[0])
			for try := 1; err != nil && try < btJoinTries; try++ {
				// A seed swamped by joins may miss the ping's deadline, as
				// in a real network: the node tries another, as a real one
				// would.
				mu.Lock()
				seed = nodes[joined[seeds.IntN(len(joined))]]
				mu.Unlock()
				retries.Add(1)
				err = nodes[i].Bootstrap(ctx, seed.Addrs()[0])
			}
			r := nodes[i].Stats().Requests
			mu.Lock()
			defer mu.Unlock()
			running--
			if err != nil && failed == nil {
				failed = fmt.Errorf("node %d, after %d tries: %w", i, btJoinTries, err)
			}
			joined = append(joined, i)
			reqs = append(reqs, r)
			cond.Broadcast()
		})
	}
	wg.Wait()
	require.NoError(b, failed)
	s := &btScaleNet{nodes: nodes, built: time.Since(start)}

	q := btQuality{retries: retries.Load()}
	late := reqs[len(reqs)-max(len(reqs)/10, 1):]
	for _, r := range late {
		q.reqsPerJoin += float64(r)
	}
	q.reqsPerJoin /= float64(len(late))
	ids := make([]peer.ID, size)
	for i, n := range nodes {
		ids[i] = n.ID()
		st := n.Stats()
		q.reqsPerNode += float64(st.Requests)
		q.meanTable += float64(st.TableSize)
		q.timeouts += st.Timeouts
		if st.RPCsReceived > q.busiest {
			q.busiest, q.busiestIdx = st.RPCsReceived, uint64(i)
		}
		q.unproven += st.Unproven
		if q.dropped == nil {
			q.dropped = make(map[node.DropReason]uint64)
		}
		for r, c := range st.Dropped {
			q.dropped[r] += c
		}
	}
	q.reqsPerNode /= float64(size)
	q.queueFull = net.Stats().DroppedQueueFull
	q.meanTable /= float64(size)
	// The k true closest of a sample of nodes, by a scan of every ID.
	q.sampled = min(size, 300)
	sample := rand.New(rand.NewPCG(13, 14)).Perm(size)[:q.sampled]
	for _, i := range sample {
		self := ids[i]
		want := btClosest(self, ids, k)
		held := 0
		for _, id := range want {
			if _, ok := tables[i].Get(id); ok {
				held++
			}
		}
		q.closestHeld += float64(held) / float64(len(want))
		if held == len(want) {
			q.allHeld++
		}
	}
	q.closestHeld /= float64(q.sampled)
	q.allHeld /= float64(q.sampled)
	return s, q
}

// btClosest returns the n IDs of ids closest to self, self left out, by one
// pass that keeps the best n in order.
func btClosest(self peer.ID, ids []peer.ID, n int) []peer.ID {
	best := make([]peer.ID, 0, n+1)
	for _, id := range ids {
		if id == self || (len(best) == n && peer.CompareDistance(self, id, best[n-1]) >= 0) {
			continue
		}
		i, _ := slices.BinarySearchFunc(best, id, func(a, b peer.ID) int { return peer.CompareDistance(self, a, b) })
		best = slices.Insert(best, i, id)
		if len(best) > n {
			best = best[:n]
		}
	}
	return best
}
