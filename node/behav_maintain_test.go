package node_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/clock"
	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/kvstore/memory"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/dhtkit/dhtkit/trust"
	"github.com/stretchr/testify/require"
)

// btNever is an interval the maintenance tests never reach.
const btNever = 10000 * time.Hour

// btClocked sets the manual clock and quiet maintenance; the test then
// shortens the one interval it studies. Peers on the lossless mem network
// answer at once, so RPC timers on the manual clock never need to fire.
func btClocked(clk *clock.Manual) func(*node.Builder) {
	return func(b *node.Builder) {
		b.Clock(clk).RefreshInterval(btNever).RepublishInterval(btNever).SweepInterval(btNever)
	}
}

func TestStoredRecordsExpireAfterTheirTTL(t *testing.T) {
	net := btNet(t)
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	const sweep = 10 * time.Minute
	cfg := func(b *node.Builder) {
		btClocked(clk)(b)
		b.RecordTTL(time.Hour).SweepInterval(sweep)
	}
	store := memory.New(memory.Options{Now: clk.Now})
	a := btNode(t, net, nil, cfg)
	b := btNode(t, net, nil, func(bb *node.Builder) { cfg(bb); bb.Store(store) })
	ctx := context.Background()
	require.NoError(t, b.Bootstrap(ctx, a.Addrs()[0]))
	acks, err := a.Put(ctx, []byte("k"), []byte("v"))
	require.NoError(t, err)
	require.Equal(t, 2, acks, "the put is held by b and by a itself")
	key := b.KeyID([]byte("k")).Bytes()
	require.Equal(t, 1, b.Stats().Records)

	clk.Advance(time.Hour - time.Minute)
	_, err = store.Get(ctx, key)
	require.NoError(t, err, "the record must live for its whole TTL")
	got, err := b.Get(ctx, []byte("k"))
	require.NoError(t, err)
	require.Equal(t, []byte("v"), got)

	clk.Advance(2 * time.Minute)
	_, err = store.Get(ctx, key)
	require.ErrorIs(t, err, kvstore.ErrNotFound, "the record outlived its TTL")
	// The sweep, on its interval, drops it from the store.
	btEventually(t, func() bool {
		clk.Advance(sweep)
		return b.Stats().Records == 0 && a.Stats().Records == 0
	}, "the sweep did not drop the expired record")
	_, err = b.Get(ctx, []byte("k"))
	require.ErrorIs(t, err, node.ErrNotFound)
}

func TestThePublisherRepublishesToANewlyJoinedClosePeer(t *testing.T) {
	net := btNet(t)
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	const k = 3
	quiet := func(b *node.Builder) { btClocked(clk)(b); b.K(k) }
	pub := btNode(t, net, nil, func(b *node.Builder) { quiet(b); b.RepublishInterval(time.Hour) })
	nodes := []*node.Node{pub}
	ctx := context.Background()
	for range 6 {
		n := btNode(t, net, nil, quiet)
		require.NoError(t, n.Bootstrap(ctx, pub.Addrs()[0]))
		nodes = append(nodes, n)
	}
	keyID := pub.KeyID([]byte("republished"))
	acks, err := pub.Put(ctx, []byte("republished"), []byte("v"))
	require.NoError(t, err)
	require.Equal(t, k, acks)

	// A newcomer closer to the key than every peer: one of the k closest.
	var id *peer.Identity
	for id == nil {
		c := btIdentity(t)
		closest := true
		for _, n := range nodes {
			if peer.CompareDistance(keyID, c.ID(peer.SHA256()), n.ID()) > 0 {
				closest = false
				break
			}
		}
		if closest {
			id = c
		}
	}
	late := btNode(t, net, id, quiet)
	require.NoError(t, late.Bootstrap(ctx, nodes[3].Addrs()[0]))
	require.Zero(t, late.Stats().Records, "joining alone stores nothing")

	before := pub.Stats().Requests
	clk.Advance(time.Hour)
	btEventually(t, func() bool { return late.Stats().Records == 1 }, "the republish did not reach the new close peer")
	require.Greater(t, pub.Stats().Requests, before, "the publisher republished")
	got, err := late.Get(ctx, []byte("republished"))
	require.NoError(t, err)
	require.Equal(t, []byte("v"), got)
}

func TestAStaleBucketRefreshLearnsAPeerThatJoinedLate(t *testing.T) {
	net := btNet(t)
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	lateID := btIdentity(t)
	// a refuses late until the gate opens, so that late's own joining does
	// not teach a about it: only the refresh can.
	gate := &btGate{blocked: lateID.ID(peer.SHA256())}
	a := btNode(t, net, nil, func(b *node.Builder) {
		btClocked(clk)(b)
		b.RefreshInterval(time.Hour).Policy(gate)
	})
	b := btNode(t, net, nil, btClocked(clk))
	late := btNode(t, net, lateID, btClocked(clk))
	ctx := context.Background()
	require.NoError(t, b.Bootstrap(ctx, a.Addrs()[0]))
	require.NoError(t, late.Bootstrap(ctx, b.Addrs()[0]))
	// a offers a sender to its table after answering it (a check that
	// waits for the answer), so the refusal may come after Bootstrap.
	btEventually(t, func() bool { return a.Stats().Dropped[node.DropPolicy] > 0 }, "late's joining reached a")
	require.Equal(t, 1, a.Stats().TableSize)
	gate.open.Store(true)

	before := a.Stats().Requests
	// The liveness check pings the quiet peer meanwhile: a refresh is
	// what sends lookups.
	lookups := a.Metrics().Sent[msgenc.KindFindNode]
	clk.Advance(59 * time.Minute)
	require.Equal(t, lookups, a.Metrics().Sent[msgenc.KindFindNode], "no refresh before the interval")
	clk.Advance(time.Minute)
	btEventually(t, func() bool { return a.Stats().TableSize == 2 }, "the refresh did not learn the late peer")
	require.Greater(t, a.Stats().Requests, before, "the refresh sent lookups")
}

// btLearning is a policy that learns from the DHT (trust.Refresher): it
// refuses the banned peer and counts its refreshes.
type btLearning struct {
	banned    atomic.Pointer[peer.ID]
	refreshes atomic.Int32
}

func (p *btLearning) AcceptPeer(r *peer.Record) error {
	if b := p.banned.Load(); b != nil && *b == r.ID {
		return trust.ErrRejected
	}
	return nil
}
func (p *btLearning) AcceptRelay(*peer.Record) error               { return nil }
func (p *btLearning) AcceptValue(*peer.Record, *trust.Value) error { return nil }
func (p *btLearning) Refresh(context.Context, trust.Fetcher) error {
	p.refreshes.Add(1)
	return nil
}

func TestAPeerThePolicyStopsAcceptingLeavesTheTableWithinOneRefreshInterval(t *testing.T) {
	net := btNet(t)
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	const refresh = 10 * time.Minute
	policy := &btLearning{}
	a := btNode(t, net, nil, func(b *node.Builder) { btClocked(clk)(b); b.RefreshInterval(refresh).Policy(policy) })
	b := btNode(t, net, nil, btClocked(clk))
	require.NoError(t, b.Bootstrap(context.Background(), a.Addrs()[0]))
	require.Equal(t, 1, a.Stats().TableSize)
	joined := policy.refreshes.Load()

	id := b.ID()
	policy.banned.Store(&id)
	clk.Advance(refresh - time.Second)
	require.Equal(t, 1, a.Stats().TableSize, "nothing happens before the interval")
	clk.Advance(time.Second)
	btEventually(t, func() bool { return a.Stats().TableSize == 0 && policy.refreshes.Load() > joined },
		"one refresh interval after its policy refused it, the peer is still in the table")
}

func TestASilentPeerIsQuestionedAndDroppedWhenItDoesNotAnswer(t *testing.T) {
	net := btNet(t)
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	const refresh = time.Hour // peers are questioned after a quarter of it
	cfg := func(b *node.Builder) { btClocked(clk)(b); b.RefreshInterval(refresh).RPCTimeout(time.Second) }
	a := btNode(t, net, nil, cfg)
	b := btNode(t, net, nil, cfg)
	c := btNode(t, net, nil, cfg)
	ctx := context.Background()
	require.NoError(t, b.Bootstrap(ctx, a.Addrs()[0]))
	require.NoError(t, c.Bootstrap(ctx, a.Addrs()[0]))
	require.Equal(t, 2, a.Stats().TableSize)
	require.NoError(t, net.Crash(b.Addrs()[0]))

	pings := a.Stats().Requests
	clk.Advance(refresh/4 - time.Minute)
	require.Equal(t, pings, a.Stats().Requests, "no peer is questioned before it has been quiet a while")
	// Quarter of an hour of silence: a pings b and c; c answers and stays,
	// b's ping times out (the clock moves its retries on) and b goes.
	clk.Advance(time.Minute)
	btEventually(t, func() bool {
		clk.Advance(250 * time.Millisecond)
		return a.Stats().TableSize == 1
	}, "a silent peer that does not answer is still in the table")
	// b was pinged (it is gone for not answering); c may have been too,
	// unless c's own liveness ping reached a first, which makes it heard.
	btEventually(t, func() bool { return a.Stats().Requests >= pings+1 }, "the silent peer was pinged")
	raw := btNewRaw(t, net)
	require.Equal(t, []peer.ID{c.ID()}, raw.tableOf(a.Addrs()[0], c.ID()), "the peer that answered stays")
}

// TestIdleNodeKeepsOneGoroutine: on a clock with AfterFunc (the system
// clock here) a node's periodic work waits on a timer, not in a goroutine
// of its own, so an idle node keeps only its receive loop.
func TestIdleNodeKeepsOneGoroutine(t *testing.T) {
	net := mem.NewNetwork(mem.Options{})
	t.Cleanup(func() { _ = net.Close() })
	before := runtime.NumGoroutine()
	const nodes = 10
	for range nodes {
		ep, err := net.Listen(nil)
		require.NoError(t, err)
		n, err := node.NewBuilder().Transport(ep).Build(context.Background())
		require.NoError(t, err)
		t.Cleanup(func() { _ = n.Close() })
	}
	// A goroutine of another test may still be ending: it can only lower
	// the count.
	if got := runtime.NumGoroutine() - before; got > nodes+2 {
		t.Errorf("%d nodes added %d goroutines, want about one each", nodes, got)
	}
}
