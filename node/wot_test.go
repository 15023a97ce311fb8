package node_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/clock"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/dhtkit/dhtkit/trust"
	"github.com/dhtkit/dhtkit/trust/wot"
	"github.com/stretchr/testify/require"
)

// A web-of-trust network: honest nodes under three roots, each endorsed by
// a root, and sybils nobody endorsed that try to join, store and relay.
func TestWebOfTrustKeepsSybilsOutAndRevocationTakesEffect(t *testing.T) {
	if testing.Short() {
		t.Skip("80-node network")
	}
	const roots, honestN, sybilN = 3, 30, 50
	const cacheTTL = 10 * time.Minute
	h := peer.SHA256()
	clk := clock.NewManual(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC))
	// Frames are never dropped: on a clock that stands still a lost frame
	// would wait for its resend until the test moves time.
	net := mem.NewNetwork(mem.Options{QueueLen: 1 << 14})
	t.Cleanup(func() { _ = net.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	ids := make([]*peer.Identity, honestN)
	var rootKeys []ed25519.PublicKey
	for i := range ids {
		ids[i] = seedIdentity(t, 1000+i)
		if i < roots {
			rootKeys = append(rootKeys, ids[i].PublicKey())
		}
	}
	policies := make([]*wot.Policy, honestN)
	build := func(id *peer.Identity, policy trust.Policy) *node.Node {
		ep, err := net.Listen(nil)
		require.NoError(t, err)
		// Maintenance is driven by the test (Node.Refresh), round by
		// round, so its own timers are set out of the way.
		n, err := node.NewBuilder().Identity(id).Transport(ep).Clock(clk).Policy(policy).
			RPCTimeout(time.Second).K(8).RefreshInterval(365 * 24 * time.Hour).
			RepublishInterval(365 * 24 * time.Hour).Build(ctx)
		require.NoError(t, err)
		t.Cleanup(func() { _ = n.Close() })
		return n
	}
	honest := make([]*node.Node, honestN)
	for i := range honest {
		p, err := wot.New(wot.Options{
			Hasher: h, Clock: clk, CacheTTL: cacheTTL,
			Roots: append([]ed25519.PublicKey{ids[i].PublicKey()}, rootKeys...),
		})
		require.NoError(t, err)
		policies[i] = p
		honest[i] = build(ids[i], p)
	}
	// The roots join one another, then endorse every other honest peer.
	for _, r := range honest[1:roots] {
		require.NoError(t, r.Bootstrap(ctx, honest[0].Addrs()[0]))
	}
	endorse := func(i, level int, seq uint64) {
		root := i % roots
		v, err := wot.NewEndorsement(ids[root], h, honest[i].ID(), level, clk.Now().Add(30*24*time.Hour), seq)
		require.NoError(t, err)
		_, err = honest[root].PutValue(ctx, v)
		require.NoError(t, err, "root %d endorsing %d", root, i)
	}
	for i := roots; i < honestN; i++ {
		endorse(i, 1, 1)
	}
	for _, n := range honest[roots:] {
		require.NoError(t, n.Bootstrap(ctx, honest[0].Addrs()[0]))
	}
	// Sybils: an open policy, endorsing one another, joining through
	// honest peers.
	sybils := make([]*node.Node, sybilN)
	for i := range sybils {
		sybils[i] = build(seedIdentity(t, 5000+i), trust.Open())
		// Honest nodes answer anyone; they just never admit a sybil.
		require.NoError(t, sybils[i].Bootstrap(ctx, honest[i%honestN].Addrs()[0]))
		if i > 0 {
			require.NoError(t, sybils[i].Bootstrap(ctx, sybils[0].Addrs()[0]))
		}
	}
	for i := range sybils {
		v, err := wot.NewEndorsement(seedIdentity(t, 5000+i), h, sybils[(i+1)%sybilN].ID(), 3, clk.Now().Add(time.Hour), 1)
		require.NoError(t, err)
		_, _ = sybils[i].PutValue(ctx, v)
		_, _ = sybils[i].Put(ctx, []byte(fmt.Sprint("sybil-", i)), []byte("junk"))
	}
	// Maintenance rounds: every node resolves whom it met, and meets them
	// again. First contacts take a few rounds.
	round := func() {
		var wg sync.WaitGroup
		for _, n := range honest {
			wg.Go(func() { _ = n.Refresh(ctx) })
		}
		wg.Wait()
	}
	admitted := func() bool {
		for _, n := range honest {
			if n.Stats().TableSize < 6 {
				return false
			}
		}
		return true
	}
	start := time.Now()
	for r := 0; !admitted(); r++ {
		require.Less(t, r, 6, "honest nodes did not admit one another")
		round()
		t.Logf("round %d done at %v", r, time.Since(start))
	}
	// The endorsements were stored when only the roots were up: the roots
	// republish them to today's closest peers (as their republish timer
	// would), and once the cached levels age every node reads them again.
	for i := roots; i < honestN; i++ {
		endorse(i, 1, 1)
	}
	clk.Advance(cacheTTL)
	round()
	raw := btNewRaw(t, net)
	sybilIDs := make(map[peer.ID]bool)
	for _, s := range sybils {
		sybilIDs[s.ID()] = true
	}
	tableHas := func(n *node.Node, id peer.ID) bool {
		for _, got := range raw.tableOf(n.Addrs()[0], id) {
			if got == id {
				return true
			}
		}
		return false
	}
	for i, n := range honest {
		for _, s := range sybils {
			require.False(t, tableHas(n, s.ID()), "sybil %s entered honest node %d's table", s.ID().Short(), i)
		}
		// Sybils' stores were refused: none of their keys is held.
		for j := range sybils {
			require.Empty(t, heldValues(raw, n, n.KeyID([]byte(fmt.Sprint("sybil-", j)))), "honest node %d keeps a sybil's value", i)
		}
	}
	t.Logf("checks done at %v", time.Since(start))

	// Proxied queries between honest nodes relay only through trusted peers.
	key := []byte("honest value")
	_, err := honest[5].Put(ctx, key, []byte("v"))
	require.NoError(t, err)
	for i := roots; i < honestN; i++ {
		got, err := honest[i].Get(ctx, key, node.WithMode(node.Proxied()))
		require.NoError(t, err, "proxied get through node %d", i)
		require.Equal(t, []byte("v"), got)
	}
	for i, s := range sybils {
		require.Zero(t, s.Stats().Forwarded, "sybil %d relayed an honest query", i)
	}

	// A root revokes its endorsement of one peer. Once the policies' cache
	// has aged (CacheTTL, which the node's refresh interval should not
	// exceed), the next maintenance round leaves it in no honest table.
	victim := roots + 4
	require.True(t, anyTableHas(honest, victim, tableHas), "the victim was admitted before its revocation")
	endorse(victim, 0, 2)
	clk.Advance(cacheTTL)
	round()
	require.False(t, anyTableHas(honest, victim, tableHas), "a revoked peer is still in an honest table after one round")
	for i, p := range policies {
		if i != victim {
			require.Zero(t, p.Level(honest[victim].ID()), "node %d still trusts the revoked peer", i)
		}
	}
}

func anyTableHas(honest []*node.Node, victim int, has func(*node.Node, peer.ID) bool) bool {
	for i, n := range honest {
		if i != victim && has(n, honest[victim].ID()) {
			return true
		}
	}
	return false
}
