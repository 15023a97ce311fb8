package node_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/transport"
	"github.com/dhtkit/dhtkit/transport/mem"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
)

// Disjoint lookups against hostile routers: a fifth of the nodes answer
// every find with the records of their accomplices nearest the target and
// never with a value, as an eclipse attack would.

// djRouters is the set of hostile routers, shared by their transports.
type djRouters struct {
	on      atomic.Bool
	forged  atomic.Int64 // answers rewritten
	mu      sync.Mutex
	records []*peer.Record
}

// closest returns the k hostile records nearest target, in wire form.
func (h *djRouters) closest(target peer.ID, k int) []msgenc.PeerRecord {
	h.mu.Lock()
	rs := slices.Clone(h.records)
	h.mu.Unlock()
	slices.SortFunc(rs, func(a, b *peer.Record) int { return peer.CompareDistance(target, a.ID, b.ID) })
	var out []msgenc.PeerRecord
	for _, r := range rs[:min(k, len(rs))] {
		out = append(out, msgenc.FromRecord(r))
	}
	return out
}

// djHostile is a hostile router's transport: once the routers are on, it
// rewrites every answer to a find-node or find-value.
type djHostile struct {
	transport.Transport
	routers *djRouters
	k       int
	codec   msgenc.Codec
	mu      sync.Mutex
	asked   map[uint64]peer.ID // by transaction ID: what a find asked for
}

func (h *djHostile) Receive(ctx context.Context) (transport.Packet, error) {
	p, err := h.Transport.Receive(ctx)
	if err != nil || !h.routers.on.Load() {
		return p, err
	}
	m, err := h.codec.Unmarshal(p.Data)
	if err != nil {
		return p, nil
	}
	var target []byte
	switch {
	case m.FindNode != nil:
		target = m.FindNode.Target
	case m.FindValue != nil:
		target = m.FindValue.Key
	}
	if id, err := peer.IDFromBytes(target); err == nil {
		h.mu.Lock()
		h.asked[m.TxID] = id
		h.mu.Unlock()
	}
	return p, nil
}

func (h *djHostile) Send(ctx context.Context, to ma.Multiaddr, frame []byte) error {
	if !h.routers.on.Load() {
		return h.Transport.Send(ctx, to, frame)
	}
	m, err := h.codec.Unmarshal(frame)
	if err != nil || (m.Kind != msgenc.KindPeers && m.Kind != msgenc.KindValue) {
		return h.Transport.Send(ctx, to, frame)
	}
	h.mu.Lock()
	target, ok := h.asked[m.TxID]
	delete(h.asked, m.TxID)
	h.mu.Unlock()
	if !ok {
		return h.Transport.Send(ctx, to, frame)
	}
	forged := &msgenc.Message{Kind: msgenc.KindPeers, TxID: m.TxID, Sender: m.Sender,
		Peers: &msgenc.Peers{Peers: h.routers.closest(target, h.k)}}
	if m.Kind == msgenc.KindValue { // withhold the value, name accomplices
		forged = &msgenc.Message{Kind: msgenc.KindValue, TxID: m.TxID, Sender: m.Sender,
			Value: &msgenc.Value{Peers: h.routers.closest(target, h.k)}}
	}
	h.routers.forged.Add(1)
	data, err := h.codec.Marshal(forged)
	if err != nil {
		return err
	}
	return h.Transport.Send(ctx, to, data)
}

// djNet is a network with hostile routers among its nodes.
type djNet struct {
	nodes   []*node.Node
	hostile []bool
	routers *djRouters
	keys    [][]byte
}

// djBuild builds size nodes, every fifth a hostile router, with k and
// alpha small so that routing, not a full table, finds peers (with k=20
// and alpha=3 a single path already shrugs a fifth of hostile routers off); it joins them,
// stores keys values, then lets the routers turn hostile.
func djBuild(tb testing.TB, size, keys, k, alpha int, rng *rand.Rand) *djNet {
	tb.Helper()
	net := mem.NewNetwork(mem.Options{QueueLen: 1024})
	tb.Cleanup(func() { _ = net.Close() })
	d := &djNet{routers: &djRouters{}}
	ctx := context.Background()
	for i := range size {
		ep, err := net.Listen(nil)
		require.NoError(tb, err)
		hostile := i%5 == 4
		var t transport.Transport = ep
		if hostile {
			t = &djHostile{Transport: ep, routers: d.routers, k: k, codec: cbor.New(), asked: make(map[uint64]peer.ID)}
		}
		n, err := node.NewBuilder().Identity(seedIdentity(tb, 5000+i)).Transport(t).K(k).Alpha(alpha).RPCTimeout(time.Second).Build(ctx)
		require.NoError(tb, err)
		tb.Cleanup(func() { _ = n.Close() })
		if i > 0 {
			require.NoError(tb, n.Bootstrap(ctx, d.nodes[rng.IntN(i)].Addrs()[0]), "node %d", i)
		}
		d.nodes = append(d.nodes, n)
		d.hostile = append(d.hostile, hostile)
		if hostile {
			d.routers.records = append(d.routers.records, n.Record())
		}
	}
	for i := range keys {
		key := fmt.Appendf(nil, "disjoint-%d", i)
		_, err := d.honest(rng).Put(ctx, key, key)
		require.NoError(tb, err)
		d.keys = append(d.keys, key)
	}
	d.routers.on.Store(true)
	return d
}

// honest returns a random honest node.
func (d *djNet) honest(rng *rand.Rand) *node.Node {
	for {
		if i := rng.IntN(len(d.nodes)); !d.hostile[i] {
			return d.nodes[i]
		}
	}
}

// djScore is how often lookups over d paths found the right peer or value.
type djScore struct {
	ok, total, rpcs int
	latency         time.Duration
}

func (s djScore) rate() float64 { return float64(s.ok) / float64(s.total) }

// run looks up trials random honest peers and trials stored values from
// random honest nodes, over paths disjoint paths.
func (d *djNet) run(trials, paths int, rng *rand.Rand) djScore {
	ctx := context.Background()
	var s djScore
	for range trials {
		from, to := d.honest(rng), d.honest(rng)
		for from == to {
			to = d.honest(rng)
		}
		var tr node.Trace
		rec, err := from.FindPeer(ctx, to.ID(), node.WithDisjointPaths(paths), node.WithTrace(&tr))
		if err == nil && rec.ID == to.ID() {
			s.ok++
		}
		s.total, s.rpcs, s.latency = s.total+1, s.rpcs+tr.RPCs, s.latency+tr.Latency

		key := d.keys[rng.IntN(len(d.keys))]
		got, err := d.honest(rng).Get(ctx, key, node.WithDisjointPaths(paths), node.WithTrace(&tr))
		if err == nil && string(got) == string(key) {
			s.ok++
		}
		s.total, s.rpcs, s.latency = s.total+1, s.rpcs+tr.RPCs, s.latency+tr.Latency
	}
	return s
}

// djSize reads the network size from DHTKIT_HOSTILE_NODES, for a longer
// run; the default keeps the test to a few seconds under -race.
func djSize(t *testing.T, def int) int {
	if v, err := strconv.Atoi(os.Getenv("DHTKIT_HOSTILE_NODES")); err == nil && v >= 20 {
		return v
	}
	return def
}

func TestDisjointPathsSurviveHostileRouters(t *testing.T) {
	size := djSize(t, 60)
	const trials = 40
	rng := rand.New(rand.NewPCG(13, 4))
	d := djBuild(t, size, 20, 3, 1, rng)
	one := d.run(trials, 1, rand.New(rand.NewPCG(1, 1)))
	four := d.run(trials, 4, rand.New(rand.NewPCG(1, 1)))
	t.Logf("%d nodes, a fifth hostile routers, k=6, alpha=2, %d finds and %d gets each:", size, trials, trials)
	t.Logf("  d=1: %d/%d right (%.1f%%), %.1f RPCs/lookup", one.ok, one.total, 100*one.rate(), float64(one.rpcs)/float64(one.total))
	t.Logf("  d=4: %d/%d right (%.1f%%), %.1f RPCs/lookup", four.ok, four.total, 100*four.rate(), float64(four.rpcs)/float64(four.total))
	require.Positive(t, d.routers.forged.Load(), "the hostile routers were asked and lied")
	require.GreaterOrEqual(t, four.rate(), 0.95, "lookups over 4 disjoint paths find the right peer or value at least 95%% of the time")
}

// djCounter counts the find-node requests for one target a node receives,
// a resend (same transaction ID) once.
type djCounter struct {
	transport.Transport
	codec  msgenc.Codec
	target atomic.Pointer[peer.ID]
	mu     sync.Mutex
	txs    map[uint64]bool
}

// reset starts counting the requests for target.
func (c *djCounter) reset(target peer.ID) {
	c.mu.Lock()
	c.txs = make(map[uint64]bool)
	c.mu.Unlock()
	c.target.Store(&target)
}

// finds is how many requests for the target arrived.
func (c *djCounter) finds() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.txs)
}

func (c *djCounter) Receive(ctx context.Context) (transport.Packet, error) {
	p, err := c.Transport.Receive(ctx)
	if err == nil {
		if m, derr := c.codec.Unmarshal(p.Data); derr == nil && m.FindNode != nil {
			if t := c.target.Load(); t != nil && string(m.FindNode.Target) == string(t.Bytes()) {
				c.mu.Lock()
				c.txs[m.TxID] = true
				c.mu.Unlock()
			}
		}
	}
	return p, err
}

func TestDisjointPathsNeverAskAPeerTwice(t *testing.T) {
	const size = 40
	net := mem.NewNetwork(mem.Options{QueueLen: 1024})
	t.Cleanup(func() { _ = net.Close() })
	ctx := context.Background()
	var nodes []*node.Node
	var counters []*djCounter
	for i := range size {
		ep, err := net.Listen(nil)
		require.NoError(t, err)
		c := &djCounter{Transport: ep, codec: cbor.New(), txs: make(map[uint64]bool)}
		n, err := node.NewBuilder().Identity(seedIdentity(t, 7000+i)).Transport(c).K(4).Alpha(2).Build(ctx)
		require.NoError(t, err)
		t.Cleanup(func() { _ = n.Close() })
		if i > 0 {
			require.NoError(t, n.Bootstrap(ctx, nodes[0].Addrs()[0]))
		}
		nodes, counters = append(nodes, n), append(counters, c)
	}
	for trial := range 10 {
		from, to := nodes[trial], nodes[size-1-trial]
		id := to.ID()
		for _, c := range counters {
			c.reset(id)
		}
		var tr node.Trace
		rec, err := from.FindPeer(ctx, id, node.WithDisjointPaths(4), node.WithTrace(&tr))
		require.NoError(t, err)
		require.Equal(t, id, rec.ID)
		// The counters see what arrived: a request the trace counts may be
		// cancelled before it leaves when the lookup ends, so the peers
		// may see fewer than the trace, never more.
		asked := 0
		for _, c := range counters {
			asked += c.finds()
		}
		require.Positive(t, asked, "trial %d: the counters saw the lookup", trial)
		require.LessOrEqual(t, asked, tr.RPCs, "trial %d: no request the trace does not count", trial)
		for i, c := range counters {
			if nodes[i] != to {
				require.LessOrEqual(t, c.finds(), 1, "trial %d: node %d was asked by two paths", trial, i)
			}
		}
	}
}

func TestPathAgreementIsCappedAtThePathsThatStarted(t *testing.T) {
	// Two nodes: the originator knows only the target, so one path alone
	// can reach it, and an agreement of two paths cannot be met.
	net := mem.NewNetwork(mem.Options{})
	t.Cleanup(func() { _ = net.Close() })
	a := newMemNode(t, net, 8001, nil)
	b := newMemNode(t, net, 8002, nil)
	ctx := context.Background()
	require.NoError(t, a.Bootstrap(ctx, b.Addrs()[0]))
	rec, err := a.FindPeer(ctx, b.ID(), node.WithDisjointPaths(2))
	require.NoError(t, err, "one path is all there is: agreement is capped at the paths that started")
	require.Equal(t, b.ID(), rec.ID)
}
