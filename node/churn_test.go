package node_test

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dhtkit/dhtkit/kvstore/memory"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/stretchr/testify/require"
)

// The churn simulations run a whole network inside a testing/synctest
// bubble: every node keeps the system clock, which inside the bubble is
// fake and jumps ahead whenever every goroutine waits, so refresh,
// republish, liveness pings, expiry and every RPC timeout run on simulated
// time and a day passes as fast as the CPU allows. The mem network is made
// inside the bubble too, so its latency timer is fake as well.

// churnSim describes one simulated stretch of churn.
type churnSim struct {
	Nodes   int           // network size, the same at the end as at the start
	Replace int           // original nodes that leave abruptly, each replaced by a newcomer
	Values  int           // values put at the start, each from a random node
	Loss    float64       // loss rate of every link
	Latency time.Duration // one-way latency of every link
	// Span is the simulated time from the puts to the gets; departures
	// and joins fall at random times within it.
	Span                    time.Duration
	TTL, Refresh, Republish time.Duration
	Seed                    uint64
}

// churnNode is one node of the simulation and its fate.
type churnNode struct {
	n        *node.Node
	ep       *churnEndpoint
	store    *memory.Store
	original bool
	started  time.Time // when it was built: its maintenance timers count from here
	left     time.Time // when it left; zero while alive
}

func (c *churnNode) gone() bool { return !c.left.IsZero() }

// churnEndpoint is a mem endpoint whose node can die as a host does: once
// dead, closing the node leaves the endpoint crashed in place, so frames
// to its address are lost silently (peers time out) rather than refused
// as by a closed port.
type churnEndpoint struct {
	*mem.Endpoint
	dead atomic.Bool
}

func (e *churnEndpoint) Close() error {
	if e.dead.Load() {
		return nil // the network closes it at the end
	}
	return e.Endpoint.Close()
}

// churnValue is one value put at the start and what became of it.
type churnValue struct {
	key       []byte
	id        peer.ID
	publisher *churnNode
	put       time.Time // when its put returned
	asked     time.Time // when its first get began
	found     []bool    // by mode, in node.Modes() order
	rpcs      []int     // by mode: requests the asker sent
	hops      []int     // by mode: the longest chain of peers
	// At the end: live nodes holding it, how many of the k closest live
	// nodes hold it, and the latest expiry any of them holds.
	holders, closestHolders int
	expiry                  time.Time
}

// churnReport is what a simulation measured.
type churnReport struct {
	sim      churnSim
	modes    []node.Mode
	values   []*churnValue
	k        int
	built    time.Duration // simulated time from the first node to the last join
	ran      time.Duration // simulated time from the first node to the last get
	puts     time.Time     // when the puts began; the span counts from here
	peakHeap uint64
	requests uint64 // requests originated by every node over the run
	timeouts uint64
	netStats mem.Stats
	sent     map[msgenc.Kind]uint64 // frames sent by every node, by kind
	// newcomerSlots counts, over every value, the newcomers among its k
	// closest live nodes that joined more than a republish interval
	// (and a round's work) before the end, when every replica has
	// republished since; newcomerHeld those of them holding the value.
	// lateSlots and lateHeld count the newcomers that joined later.
	newcomerSlots, newcomerHeld int
	lateSlots, lateHeld         int
}

// runChurn builds s.Nodes nodes, puts s.Values values, replaces s.Replace
// of the original nodes at random times during s.Span under loss, then
// gets every value in every mode from random live nodes other than its
// publisher. It must run inside a synctest bubble.
func runChurn(t *testing.T, s churnSim) *churnReport {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(s.Seed, s.Seed^0x5eed))
	net := mem.NewNetwork(mem.Options{Seed: s.Seed, Loss: s.Loss, Latency: s.Latency, QueueLen: 1024})
	rep := &churnReport{sim: s, modes: node.Modes(), k: node.DefaultK, sent: map[msgenc.Kind]uint64{}}
	var all, live []*churnNode
	sampleHeap := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		rep.peakHeap = max(rep.peakHeap, m.HeapAlloc)
	}
	defer func() {
		for _, c := range all {
			for k, v := range c.n.Metrics().Sent {
				rep.sent[k] += v
			}
			_ = c.n.Close()
			rep.requests += c.n.Stats().Requests
			rep.timeouts += c.n.Stats().Timeouts
		}
		rep.netStats = net.Stats()
		_ = net.Close()
	}()

	newNode := func(original bool) *churnNode {
		ep, err := net.Listen(nil)
		require.NoError(t, err)
		c := &churnNode{ep: &churnEndpoint{Endpoint: ep}, store: memory.New(memory.Options{}), original: original, started: time.Now()}
		idSeed := make([]byte, 32)
		for i := range idSeed {
			idSeed[i] = byte(rng.Uint32())
		}
		id, err := peer.IdentityFromSeed(idSeed)
		require.NoError(t, err)
		c.n, err = node.NewBuilder().Identity(id).Transport(c.ep).Store(c.store).
			RecordTTL(s.TTL).RefreshInterval(s.Refresh).RepublishInterval(s.Republish).
			Build(ctx)
		require.NoError(t, err)
		all = append(all, c)
		return c
	}
	// join bootstraps c from random nodes of from, trying another if the
	// loss ate every ping.
	join := func(c *churnNode, from []*churnNode) {
		var err error
		for range 5 {
			seed := from[rng.IntN(len(from))]
			if err = c.n.Bootstrap(ctx, seed.n.Addrs()[0]); err == nil {
				return
			}
		}
		t.Fatalf("node %s could not join: %v", c.n.ID().Short(), err)
	}

	// The network grows over one refresh interval before the puts, as
	// peers join a real one: each node at a random time, from a random
	// node already in. Every node's maintenance then runs at its own
	// phase, not all at once.
	start := time.Now()
	first := newNode(true)
	live = append(live, first)
	in := []*churnNode{first}
	var (
		inMu    sync.Mutex
		joining sync.WaitGroup
		failed  atomic.Int32
	)
	offsets := make([]time.Duration, s.Nodes-1)
	for i := range offsets {
		offsets[i] = time.Duration(rng.Int64N(int64(s.Refresh)))
	}
	slices.Sort(offsets)
	for _, off := range offsets {
		churnUntil(start.Add(off))
		c := newNode(true)
		live = append(live, c)
		inMu.Lock()
		var seeds []*churnNode
		for range 5 {
			seeds = append(seeds, in[rng.IntN(len(in))])
		}
		inMu.Unlock()
		joining.Go(func() {
			for _, seed := range seeds {
				if c.n.Bootstrap(ctx, seed.n.Addrs()[0]) == nil {
					inMu.Lock()
					in = append(in, c)
					inMu.Unlock()
					return
				}
			}
			failed.Add(1)
		})
	}
	joining.Wait()
	require.Zero(t, failed.Load(), "nodes that could not join")
	rep.built = time.Since(start)
	churnUntil(start.Add(s.Refresh))
	sampleHeap()

	// The values, from random nodes, in the default (direct) mode.
	puts := time.Now()
	rep.puts = puts
	for i := range s.Values {
		pub := live[rng.IntN(len(live))]
		v := &churnValue{key: fmt.Appendf(nil, "churn-value-%d", i), publisher: pub}
		v.id = pub.n.KeyID(v.key)
		var err error
		for range 3 {
			if _, err = pub.n.Put(ctx, v.key, []byte("value")); err == nil {
				break
			}
		}
		require.NoError(t, err, "put %d", i)
		v.put = time.Now()
		rep.values = append(rep.values, v)
	}

	// The churn: Replace departures of original nodes and as many joins,
	// each at a random time within the span.
	type event struct {
		at    time.Duration
		leave bool
	}
	var events []event
	for range s.Replace {
		events = append(events, event{time.Duration(rng.Int64N(int64(s.Span))), true},
			event{time.Duration(rng.Int64N(int64(s.Span))), false})
	}
	slices.SortFunc(events, func(a, b event) int { return cmp.Compare(a.at, b.at) })
	for i, e := range events {
		if len(events) >= 10 && i%(len(events)/10) == 0 {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			t.Logf("churn: %d of %d departures and joins done, %v simulated, heap %d MiB", i, len(events), e.at.Round(time.Minute), m.HeapAlloc>>20)
		}
		churnUntil(puts.Add(e.at))
		if e.leave {
			var originals []int
			for i, c := range live {
				if c.original {
					originals = append(originals, i)
				}
			}
			i := originals[rng.IntN(len(originals))]
			c := live[i]
			live = slices.Delete(live, i, i+1)
			// Abrupt: the host goes silent, then the node's goroutines
			// stop without a word to anyone.
			require.NoError(t, net.Crash(c.ep.Addr()))
			c.ep.dead.Store(true)
			c.left = time.Now()
			_ = c.n.Close()
		} else {
			c := newNode(false)
			join(c, live)
			live = append(live, c)
		}
		sampleHeap()
	}
	churnUntil(puts.Add(s.Span))
	sampleHeap()

	// Where the replicas are now: holders among the live nodes, and among
	// the k closest live nodes to each key.
	settled := time.Now().Add(-s.Republish - churnRound)
	for _, v := range rep.values {
		byDistance := slices.Clone(live)
		slices.SortFunc(byDistance, func(a, b *churnNode) int { return peer.CompareDistance(v.id, a.n.ID(), b.n.ID()) })
		for i, c := range byDistance {
			rec, err := c.store.Get(ctx, v.id.Bytes())
			held := err == nil
			if held {
				v.holders++
				if rec.Expires.After(v.expiry) {
					v.expiry = rec.Expires
				}
			}
			if i < rep.k {
				if held {
					v.closestHolders++
				}
				switch {
				case c.original:
				case c.started.Before(settled):
					rep.newcomerSlots++
					if held {
						rep.newcomerHeld++
					}
				default:
					rep.lateSlots++
					if held {
						rep.lateHeld++
					}
				}
			}
		}
	}

	// The gets, every value in every mode, from random live nodes other
	// than the publisher.
	for _, v := range rep.values {
		v.asked = time.Now()
		for _, m := range rep.modes {
			i := rng.IntN(len(live))
			if live[i] == v.publisher {
				i = (i + 1) % len(live)
			}
			from := live[i]
			var tr node.Trace
			got, err := from.n.Get(ctx, v.key, node.WithMode(m), node.WithTrace(&tr))
			v.found = append(v.found, err == nil && string(got) == "value")
			v.rpcs, v.hops = append(v.rpcs, tr.RPCs), append(v.hops, tr.Hops)
		}
	}
	rep.ran = time.Since(start)
	sampleHeap()
	return rep
}

// churnRound bounds the simulated time a maintenance round's lookups
// take, under loss, before its republish stores go out.
const churnRound = 10 * time.Minute

// churnUntil waits for the simulated time at. Inside the bubble the wait
// costs no wall time: the clock jumps as soon as every goroutine waits.
func churnUntil(at time.Time) {
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		<-t.C
	}
}

// orphaned reports whether v's publisher left before republishing it.
// Its republish rounds come every Republish interval from its start, a
// little later in fact (each round's work delays the next), so one that
// left before the first round after the put surely did not republish it.
// An orphaned value lives TTL from its put: replicas pass on only what is
// left of a lifetime.
func (r *churnReport) orphaned(v *churnValue) bool {
	p, every := v.publisher, r.sim.Republish
	if !p.gone() {
		return false
	}
	first := p.started.Add((v.put.Sub(p.started)/every + 1) * every)
	return p.left.Before(first)
}

// expired reports whether v's lifetime ran out, by design, before it was
// asked for: orphaned, and asked for TTL or more after its put.
func (r *churnReport) expired(v *churnValue) bool {
	return r.orphaned(v) && !v.put.Add(r.sim.TTL).After(v.asked)
}

// found returns how many of the values keep selects (all if nil) mode i
// found, and the mean RPCs and hops per get.
func (r *churnReport) found(i int, keep func(*churnValue) bool) (ok, total int, rpcs, hops float64) {
	sumRPCs, sumHops := 0, 0
	for _, v := range r.values {
		if keep != nil && !keep(v) {
			continue
		}
		total++
		sumRPCs += v.rpcs[i]
		sumHops += v.hops[i]
		if v.found[i] {
			ok++
		}
	}
	if total > 0 {
		rpcs, hops = float64(sumRPCs)/float64(total), float64(sumHops)/float64(total)
	}
	return ok, total, rpcs, hops
}

// String reports the figures per mode, split by the publisher's fate, and
// describes every value some mode could not find.
func (r *churnReport) String() string {
	var b strings.Builder
	s := r.sim
	departed := func(v *churnValue) bool { return v.publisher.gone() }
	stayed := func(v *churnValue) bool { return !v.publisher.gone() }
	live := func(v *churnValue) bool { return !r.expired(v) }
	nExpired := 0
	for _, v := range r.values {
		if r.expired(v) {
			nExpired++
		}
	}
	nDeparted := 0
	for _, v := range r.values {
		if departed(v) {
			nDeparted++
		}
	}
	fmt.Fprintf(&b, "%d nodes, %d replaced over %v, %d values, loss %.0f%%, latency %v, TTL %v, refresh %v, republish %v (joins over %v of simulated time)\n",
		s.Nodes, s.Replace, s.Span, s.Values, 100*s.Loss, s.Latency, s.TTL, s.Refresh, s.Republish, r.built.Round(time.Second))
	fmt.Fprintf(&b, "publishers: %d values from publishers still alive, %d from publishers that left, %d of them before republishing it and asked for past its lifetime (TTL from the put): expired by design\n",
		len(r.values)-nDeparted, nDeparted, nExpired)
	for i, m := range r.modes {
		ok, total, rpcs, hops := r.found(i, nil)
		okS, totalS, _, _ := r.found(i, stayed)
		okD, totalD, _, _ := r.found(i, departed)
		okL, totalL, _, _ := r.found(i, live)
		local := 0
		for _, v := range r.values {
			if v.found[i] && v.rpcs[i] == 0 {
				local++
			}
		}
		fmt.Fprintf(&b, "  %-12s %d/%d found (%.1f%%), %.1f RPCs and %.1f hops per get (%d answered from the asker's own store); publisher alive %d/%d, publisher left %d/%d; not expired by design %d/%d (%.1f%%)\n",
			m, ok, total, 100*float64(ok)/float64(max(total, 1)), rpcs, hops, local, okS, totalS, okD, totalD,
			okL, totalL, 100*float64(okL)/float64(max(totalL, 1)))
	}
	var holders, closest int
	for _, v := range r.values {
		holders += v.holders
		closest += v.closestHolders
	}
	fmt.Fprintf(&b, "replicas at the end: %.1f live holders per value, %.1f of the %d closest live nodes hold it; among the closest, newcomers that joined over %v ago hold %d of %d, later ones %d of %d\n",
		float64(holders)/float64(len(r.values)), float64(closest)/float64(len(r.values)), r.k,
		s.Republish+churnRound, r.newcomerHeld, r.newcomerSlots, r.lateHeld, r.lateSlots)
	fmt.Fprintf(&b, "traffic: %d requests originated (%.0f per node-hour), %d timeouts; network: %+v\n",
		r.requests, float64(r.requests)/float64(s.Nodes)/r.ran.Hours(), r.timeouts, r.netStats)
	fmt.Fprintf(&b, "frames sent by kind:")
	for _, k := range slices.Sorted(maps.Keys(r.sent)) {
		if r.sent[k] > 0 {
			fmt.Fprintf(&b, " %s %d", k, r.sent[k])
		}
	}
	fmt.Fprintf(&b, "\n")
	fmt.Fprintf(&b, "peak heap %d MiB\n", r.peakHeap>>20)
	for _, v := range r.values {
		if r.orphaned(v) && !v.expiry.IsZero() {
			fmt.Fprintf(&b, "  orphaned: the publisher of %s left %v after its put, before republishing it: its lifetime ends %v after the puts, replicas hold it until %v after the puts (%v more)\n",
				v.key, v.publisher.left.Sub(v.put).Round(time.Second), v.put.Add(r.sim.TTL).Sub(r.puts).Round(time.Second),
				v.expiry.Sub(r.puts).Round(time.Second), v.expiry.Sub(v.put.Add(r.sim.TTL)).Round(time.Second))
		}
	}
	for _, v := range r.values {
		if !slices.Contains(v.found, false) {
			continue
		}
		pub := "alive"
		if v.publisher.gone() {
			pub = fmt.Sprintf("left %v after the puts, orphaned %v; asked for %v after its put",
				v.publisher.left.Sub(r.puts).Round(time.Minute), r.orphaned(v), v.asked.Sub(v.put).Round(time.Second))
		}
		fmt.Fprintf(&b, "  not found: %s (publisher %s) found by mode %v, %d live holders, %d of the %d closest\n",
			v.key, pub, v.found, v.holders, v.closestHolders, r.k)
	}
	return b.String()
}

// TestChurnValuesSurviveAThirdOfTheNodesReplaced is the small churn
// simulation that always runs: 100 nodes, a third of them replaced over
// three simulated hours with 5% loss and the default intervals, then every
// value got in every mode. Gets alone would not prove republish (two thirds
// of the first replicas are still there), so the newcomers that became
// the closest to a key must hold it too: only republish tells them.
// Under the race detector the network is smaller: 40 nodes, 2 hours.
func TestChurnValuesSurviveAThirdOfTheNodesReplaced(t *testing.T) {
	sim := churnSim{
		Nodes: 100, Replace: 33, Values: 20, Loss: 0.05, Latency: 10 * time.Millisecond,
		Span: 3 * time.Hour, TTL: node.DefaultRecordTTL,
		Refresh: node.DefaultRefreshInterval, Republish: node.DefaultRepublishInterval, Seed: 1,
	}
	if churnRace {
		sim.Nodes, sim.Replace, sim.Values, sim.Span = 40, 13, 10, 2*time.Hour
	}
	var rep *churnReport
	synctest.Test(t, func(t *testing.T) { rep = runChurn(t, sim) })
	t.Log(rep)
	for i, m := range rep.modes {
		ok, total, _, _ := rep.found(i, nil)
		require.GreaterOrEqual(t, 100*ok, 99*total, "%s found %d of %d values", m, ok, total)
	}
	require.Greater(t, rep.newcomerSlots, 0, "no newcomer became one of a value's closest nodes: the test proves nothing")
	require.GreaterOrEqual(t, 10*rep.newcomerHeld, 9*rep.newcomerSlots,
		"republish did not reach the newcomers that became a value's closest nodes")
}

// TestChurnDay is the full simulation of the churn issue: 1,000 nodes
// through a simulated day in which 30% of them are replaced, with 5%
// loss. It takes minutes, so it runs only with DHTKIT_CHURN=1.
func TestChurnDay(t *testing.T) {
	if os.Getenv("DHTKIT_CHURN") != "1" {
		t.Skip("set DHTKIT_CHURN=1 to simulate 1,000 nodes through a day of churn (minutes of CPU)")
	}
	sim := churnSim{
		Nodes: 1000, Replace: 300, Values: 200, Loss: 0.05, Latency: 10 * time.Millisecond,
		Span: 24 * time.Hour, TTL: node.DefaultRecordTTL,
		Refresh: node.DefaultRefreshInterval, Republish: node.DefaultRepublishInterval, Seed: 1,
	}
	// DHTKIT_CHURN_TTL sets another record TTL: with the default 24h, a
	// value whose publisher left before republishing it dies with the day.
	if ttl := os.Getenv("DHTKIT_CHURN_TTL"); ttl != "" {
		d, err := time.ParseDuration(ttl)
		require.NoError(t, err, "DHTKIT_CHURN_TTL")
		sim.TTL = d
	}
	var rep *churnReport
	wall := time.Now()
	synctest.Test(t, func(t *testing.T) { rep = runChurn(t, sim) })
	t.Logf("wall time %v\n%v", time.Since(wall).Round(time.Second), rep)
}
