package node_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/clock"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/stretchr/testify/require"
)

// btBucketScene is a node whose bucket 0 (IDs that differ from its own in
// the first bit) holds k=2 peers, with more peers ready to land there.
// Its RPC timeout is rpc: short where a test waits for a ping to fail,
// long where a live peer must answer in time on a loaded machine. Every
// node runs on clk, so that a test decides when the bucket's peers were
// last heard from.
type btBucketScene struct {
	net    *mem.Network
	clk    *clock.Manual
	a      *node.Node
	lrs    *node.Node // least recently seen of the full bucket
	mru    *node.Node // most recently seen
	extra  []*node.Node
	client *btRaw // reads a's table anonymously
}

func btFullBucket(t *testing.T, extra int, rpc time.Duration) *btBucketScene {
	t.Helper()
	net := btNet(t)
	clk := clock.NewManual(time.Now())
	cfg := func(b *node.Builder) {
		b.K(2).RPCTimeout(rpc).Retries(node.NoRetries).Clock(clk).RefreshInterval(btEvictRefresh)
	}
	aID := btIdentity(t)
	self := aID.ID(peer.SHA256())
	// inBucket0 returns a fresh identity whose ID lands in a's bucket 0.
	inBucket0 := func() *peer.Identity {
		for {
			id := btIdentity(t)
			if self.CommonPrefixLen(id.ID(peer.SHA256())) == 0 {
				return id
			}
		}
	}
	s := &btBucketScene{net: net, clk: clk, a: btNode(t, net, aID, cfg), client: btNewRaw(t, net)}
	s.lrs = btNode(t, net, inBucket0(), cfg)
	s.mru = btNode(t, net, inBucket0(), cfg)
	for range extra {
		s.extra = append(s.extra, btNode(t, net, inBucket0(), cfg))
	}
	ctx := context.Background()
	for _, n := range []*node.Node{s.lrs, s.mru} {
		_, err := n.Ping(ctx, s.a.Addrs()[0]) // a learns n from the request
		require.NoError(t, err)
	}
	require.ElementsMatch(t, []peer.ID{s.lrs.ID(), s.mru.ID()}, s.table(t))
	return s
}

// btEvictRefresh is the scene's refresh interval: its liveness checks
// come every quarter of it, and a peer heard from within half of that
// keeps its place without an eviction ping.
const btEvictRefresh = time.Hour

// quiet lets the bucket's peers go unheard long enough that a newcomer
// puts the least recently seen on trial, and not so long that a's
// liveness check runs.
func (s *btBucketScene) quiet() { s.clk.Advance(btEvictRefresh/8 + time.Minute) }

// timeOut advances the clock a little at a time, for a condition that
// waits on a ping's timeout.
func (s *btBucketScene) timeOut(cond func() bool) func() bool {
	return func() bool {
		s.clk.Advance(5 * time.Millisecond)
		return cond()
	}
}

// table returns the IDs in a's table (it has few enough to see them all).
func (s *btBucketScene) table(t *testing.T) []peer.ID {
	return s.client.tableOf(s.a.Addrs()[0], s.a.ID())
}

func TestAFullBucketKeepsItsLeastRecentlySeenPeerWhenItAnswers(t *testing.T) {
	s := btFullBucket(t, 2, 30*time.Second)
	ctx := context.Background()
	newcomer := s.extra[0]
	sent, checks := s.lrs.Stats().RPCsSent, s.a.Stats().SignatureChecks
	pongs := func() uint64 { return s.a.Metrics().Received[msgenc.KindPong] }
	before := pongs()
	s.quiet()
	_, err := newcomer.Ping(ctx, s.a.Addrs()[0])
	require.NoError(t, err)
	// The eviction ping reached lrs, and lrs's pong reached a.
	btEventually(t, func() bool { return s.lrs.Stats().RPCsSent == sent+1 }, "least recently seen peer was not pinged")
	btEventually(t, func() bool { return pongs() == before+1 }, "the pinged peer's answer did not arrive")
	require.Equal(t, uint64(1), s.a.Stats().EvictionPings)
	require.Equal(t, checks, s.a.Stats().SignatureChecks,
		"a newcomer to a bucket of live peers is not verified")
	require.Equal(t, uint64(1), s.lrs.Stats().Served)
	require.ElementsMatch(t, []peer.ID{s.lrs.ID(), s.mru.ID()}, s.table(t),
		"a live peer is kept and the newcomer waits outside")

	// The answer made lrs the most recently seen: the next newcomer puts the
	// other peer on trial.
	sent = s.mru.Stats().RPCsSent
	_, err = s.extra[1].Ping(ctx, s.a.Addrs()[0])
	require.NoError(t, err)
	btEventually(t, func() bool { return s.mru.Stats().RPCsSent == sent+1 }, "the answer did not refresh the pinged peer")
	btEventually(t, func() bool { return pongs() == before+2 }, "the second pinged peer's answer did not arrive")
	require.Equal(t, uint64(2), s.a.Stats().EvictionPings)
	require.Equal(t, uint64(1), s.lrs.Stats().Served, "the refreshed peer must not be pinged again")
	require.ElementsMatch(t, []peer.ID{s.lrs.ID(), s.mru.ID()}, s.table(t))
}

func TestAFullBucketReplacesItsLeastRecentlySeenPeerWhenItIsDown(t *testing.T) {
	s := btFullBucket(t, 1, 50*time.Millisecond)
	newcomer := s.extra[0]
	require.NoError(t, s.net.Crash(s.lrs.Addrs()[0]))
	s.quiet()
	_, err := newcomer.Ping(context.Background(), s.a.Addrs()[0])
	require.NoError(t, err)
	btEventually(t, s.timeOut(func() bool { return s.a.Stats().Timeouts == 1 }), "the eviction ping did not time out")
	require.Equal(t, uint64(1), s.a.Stats().EvictionPings)
	btEventually(t, func() bool {
		ids := s.table(t)
		return len(ids) == 2 && !slices.Contains(ids, s.lrs.ID()) && slices.Contains(ids, newcomer.ID()) && slices.Contains(ids, s.mru.ID())
	}, "the newcomer did not replace the crashed peer")
	require.Equal(t, 2, s.a.Stats().TableSize)
}

func TestAForgedNewcomerDoesNotReplaceADownPeer(t *testing.T) {
	s := btFullBucket(t, 0, 50*time.Millisecond)
	require.NoError(t, s.net.Crash(s.lrs.Addrs()[0]))
	raw := btNewRaw(t, s.net)
	var forged msgenc.PeerRecord
	for {
		id := btIdentity(t)
		if id.ID(peer.SHA256()).CommonPrefixLen(s.a.ID()) != 0 {
			continue
		}
		r, err := peer.NewRecord(id, peer.SHA256(), 1, raw.addr())
		require.NoError(t, err)
		forged = msgenc.FromRecord(r)
		forged.Signature[0] ^= 1
		break
	}
	s.quiet()
	rep := raw.request(s.a.Addrs()[0], &forged, &msgenc.Message{Kind: msgenc.KindPing, Ping: &msgenc.Ping{}})
	require.Equal(t, msgenc.KindPong, rep.Kind, "a plain query contending for a full bucket is answered")
	btEventually(t, s.timeOut(func() bool { return s.a.Stats().Dropped[node.DropBadRecord] == 1 }),
		"the newcomer was not verified once the peer it contends with failed")
	require.Equal(t, uint64(1), s.a.Stats().Timeouts)
	require.ElementsMatch(t, []peer.ID{s.lrs.ID(), s.mru.ID()}, s.table(t),
		"a forged record took a place, or a peer was dropped with no one verified to replace it")
}

// A full bucket whose peers were heard from lately is full of good peers
// (BEP 5): a newcomer is let go without an eviction ping, and waits
// until the least recently seen has gone quiet.
func TestAFullBucketOfPeersHeardLatelyCostsNoEvictionPing(t *testing.T) {
	s := btFullBucket(t, 2, 30*time.Second)
	ctx := context.Background()
	sent := s.lrs.Stats().RPCsSent
	_, err := s.extra[0].Ping(ctx, s.a.Addrs()[0])
	require.NoError(t, err)
	// The anonymous find-node of table is handled after the newcomer's
	// ping: had that started an eviction ping, it would be counted.
	require.ElementsMatch(t, []peer.ID{s.lrs.ID(), s.mru.ID()}, s.table(t), "a good peer lost its place")
	require.Zero(t, s.a.Stats().EvictionPings, "a peer heard from lately was put on trial")
	require.Equal(t, sent, s.lrs.Stats().RPCsSent)

	// Quiet for long enough, the least recently seen is put on trial.
	s.quiet()
	_, err = s.extra[1].Ping(ctx, s.a.Addrs()[0])
	require.NoError(t, err)
	btEventually(t, func() bool { return s.a.Stats().EvictionPings == 1 }, "a quiet peer was not pinged")
}
