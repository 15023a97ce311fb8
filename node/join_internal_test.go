package node

import (
	"context"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/stretchr/testify/require"
)

// jtNode builds a node with k=20 and alpha=3 on net, closed at cleanup.
func jtNode(t *testing.T, net *mem.Network) *Node {
	t.Helper()
	ep, err := net.Listen(nil)
	require.NoError(t, err)
	n, err := NewBuilder().Transport(ep).K(20).Alpha(3).Build(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// jtServed sums the requests the nodes answered.
func jtServed(nodes []*Node) uint64 {
	var s uint64
	for _, n := range nodes {
		s += n.Stats().Served
	}
	return s
}

// A join's fill of a range starts from the peers of that range its self
// lookup learned, verifies each before asking it, and sends no more
// requests than the alpha answers it needs: not the out-of-range table
// peer, not a forged record, not a request it would not wait for.
func TestAFillAsksTheMetPeersOfItsRangeAndNoMore(t *testing.T) {
	net := mem.NewNetwork(mem.Options{QueueLen: 1024})
	t.Cleanup(func() { _ = net.Close() })
	j := jtNode(t, net)
	// Peers in j's bucket 0 (they differ from j in the first bit), and one
	// outside it.
	var in []*Node
	var out *Node
	for len(in) < 8 || out == nil {
		n := jtNode(t, net)
		if n.ID().CommonPrefixLen(j.ID()) == 0 {
			in = append(in, n)
		} else if out == nil {
			out = n
		}
	}
	j.table.Update(out.self, j.cfg.clock.Now())
	// A forged record in the range, at the very target: the first
	// candidate the fill would ask, were it not verified first.
	trap, err := net.Listen(nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = trap.Close() })
	var forged *msgenc.PeerRecord
	for forged == nil {
		id, err := peer.GenerateIdentity(nil)
		require.NoError(t, err)
		if id.ID(peer.SHA256()).CommonPrefixLen(j.ID()) != 0 {
			continue
		}
		r, err := peer.NewRecord(id, peer.SHA256(), 1, trap.Addr())
		require.NoError(t, err)
		w := msgenc.FromRecord(r)
		w.Signature[0] ^= 1
		forged = &w
	}
	target, err := peer.IDFromBytes(forged.ID)
	require.NoError(t, err)
	met := []*msgenc.PeerRecord{forged}
	for _, n := range in {
		w := msgenc.FromRecord(n.self)
		met = append(met, &w)
	}
	r := route.Range{Prefix: target, Bits: 1}
	res, err := j.lookupUntil(context.Background(), target, nil, nil, &bucketFill{rng: r, want: 3, met: met})
	require.NoError(t, err)
	require.Equal(t, uint64(3), j.Stats().Requests, "a fill needing 3 answers from 8 live peers of its range sends 3 requests")
	require.Len(t, res.closest, 3)
	for _, p := range res.closest {
		require.True(t, r.Contains(p.ID), "peer %s outside the range answered", p.ID.Short())
	}
	require.Eventually(t, func() bool { return jtServed(in) == 3 }, 10*time.Second, time.Millisecond,
		"the peers of the range answered %d requests, want 3", jtServed(in))
	require.Zero(t, out.Stats().Served, "the table peer outside the range was asked")
	require.Positive(t, j.Stats().Dropped[DropBadRecord], "the forged record was not checked")
	// A frame is in its inbox by the time Send returns, on this
	// zero-latency network: Receive with a cancelled context takes it.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = trap.Receive(done)
	require.ErrorIs(t, err, context.Canceled, "the forged record's address was sent a frame")
}

// jtOnePeerInBucket0 returns a node j whose table holds one live peer p,
// in bucket 0, so that every deeper range is empty and due and fills have
// someone to ask; with the time and the ranges due.
func jtOnePeerInBucket0(t *testing.T) (j, p *Node, now time.Time, due []route.Range) {
	net := mem.NewNetwork(mem.Options{QueueLen: 1024})
	t.Cleanup(func() { _ = net.Close() })
	j = jtNode(t, net)
	for p == nil {
		n := jtNode(t, net)
		if n.ID().CommonPrefixLen(j.ID()) == 0 {
			p = n
		}
	}
	now = j.cfg.clock.Now()
	j.table.Update(p.self, now)
	due = j.table.DueForRefresh(now, j.cfg.refresh)
	require.NotEmpty(t, due)
	return j, p, now, due
}

// A join looks into no range its self lookup saw whole: with fewer than k
// peers answering, none; otherwise none nearer than the farthest of the k.
func TestAJoinSkipsTheRangesItsSelfLookupSawWhole(t *testing.T) {
	j, p, now, due := jtOnePeerInBucket0(t)
	for _, r := range due {
		require.Greater(t, r.Bits, 1, "bucket 0, which holds p, is due")
	}
	ctx := context.Background()

	// Fewer than k answered: the self lookup met everyone.
	j.fillBuckets(ctx, lookupResult{closest: []*peer.Record{p.self}}, nil)
	require.Zero(t, j.Stats().Requests, "a join into a network smaller than k filled ranges")
	require.Equal(t, due, j.table.DueForRefresh(now, j.cfg.refresh), "a range the join did not fill was marked refreshed")

	// k answered, the farthest differing in the first bit: every due range
	// is nearer than it, so was seen whole.
	k := make([]*peer.Record, j.cfg.k)
	for i := range k {
		k[i] = p.self
	}
	j.fillBuckets(ctx, lookupResult{closest: k}, nil)
	require.Zero(t, j.Stats().Requests, "a join filled a range its self lookup saw whole")
	require.Empty(t, j.table.DueForRefresh(now, j.cfg.refresh), "the ranges seen whole are still due")
}

// Otherwise a join fills its due ranges: the control for the test above,
// which would pass if fillBuckets did nothing at all.
func TestAJoinFillsTheRangesBeyondItsSelfLookup(t *testing.T) {
	j, _, _, due := jtOnePeerInBucket0(t)
	// The farthest of the k is j's own ID but for the last bit: nothing
	// past it was seen whole.
	b := j.ID().Bytes()
	b[len(b)-1] ^= 1
	near, err := peer.IDFromBytes(b)
	require.NoError(t, err)
	k := make([]*peer.Record, j.cfg.k)
	for i := range k {
		k[i] = &peer.Record{ID: near}
	}
	j.fillBuckets(context.Background(), lookupResult{closest: k}, nil)
	require.GreaterOrEqual(t, j.Stats().Requests, uint64(len(due)), "a join did not look into the ranges it had not seen")
}

// A fill that knows no peer of its range asks one peer outside it at a
// time: one answer names the peers of the range, and the fill then asks
// alpha of those, so four requests where alpha peers outside the range
// asked at once would make six.
func TestAFillThatKnowsNoPeerOfItsRangeAsksOneOutsideAtATime(t *testing.T) {
	net := mem.NewNetwork(mem.Options{QueueLen: 1024})
	t.Cleanup(func() { _ = net.Close() })
	j := jtNode(t, net)
	var in, out []*Node
	for len(in) < 8 || len(out) < 3 {
		n := jtNode(t, net)
		if n.ID().CommonPrefixLen(j.ID()) == 0 {
			in = append(in, n)
		} else if len(out) < 3 {
			out = append(out, n)
		}
	}
	now := j.cfg.clock.Now()
	for _, o := range out {
		j.table.Update(o.self, now)
		for _, n := range in {
			o.table.Update(n.self, now)
		}
	}
	target := in[0].ID()
	r := route.Range{Prefix: target, Bits: 1}
	res, err := j.lookupUntil(context.Background(), target, nil, nil, &bucketFill{rng: r, want: 3})
	require.NoError(t, err)
	require.Equal(t, 4, res.rpcs, "a fill asked more than one peer outside its range, then 3 in it")
	require.Equal(t, uint64(4), j.Stats().Requests)
	require.Eventually(t, func() bool { return jtServed(out) == 1 && jtServed(in) == 3 }, 10*time.Second, time.Millisecond,
		"peers outside the range answered %d requests (want 1), inside %d (want 3)", jtServed(out), jtServed(in))
	inRange := 0
	for _, p := range res.closest {
		if r.Contains(p.ID) {
			inRange++
		}
	}
	require.Equal(t, 3, inRange, "the fill ended before 3 peers of the range answered")
}
