package node

import (
	"context"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/clock"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/transport/mem"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
)

// scFixture is a node with K=2 whose bucket 0 (IDs that differ from its
// own in the first bit) is full and has a full replacement cache, and a
// raw mem endpoint to send it hand-made frames.
type scFixture struct {
	t     *testing.T
	n     *Node
	raw   *mem.Endpoint
	codec msgenc.Codec
	tx    uint64
}

func newSCFixture(t *testing.T, limits RateLimits) *scFixture {
	t.Helper()
	net := mem.NewNetwork(mem.Options{QueueLen: 1024})
	t.Cleanup(func() { _ = net.Close() })
	ep, err := net.Listen(nil)
	require.NoError(t, err)
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	n, err := NewBuilder().Transport(ep).K(2).Clock(clk).RateLimits(limits).Build(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Close() })
	raw, err := net.Listen(nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = raw.Close() })
	f := &scFixture{t: t, n: n, raw: raw, codec: cbor.New(), tx: 100}
	for range 4 { // two peers in the bucket, two waiting
		f.n.table.Update(f.farRecord(), clk.Now())
	}
	return f
}

// farRecord returns a genuine record whose ID lands in bucket 0.
func (f *scFixture) farRecord() *peer.Record {
	f.t.Helper()
	for {
		id, err := peer.GenerateIdentity(nil)
		require.NoError(f.t, err)
		if id.ID(peer.SHA256()).CommonPrefixLen(f.n.ID()) != 0 {
			continue
		}
		r, err := peer.NewRecord(id, peer.SHA256(), 1, ma.StringCast("/ip4/10.0.0.9/udp/4001"))
		require.NoError(f.t, err)
		return r
	}
}

// forged returns the wire form of a fresh far record with a broken
// signature.
func (f *scFixture) forged() (peer.ID, *msgenc.PeerRecord) {
	r := f.farRecord()
	w := msgenc.FromRecord(r)
	w.Signature[0] ^= 1
	return r.ID, &w
}

// send sends m, padded so that the answer is not cut, and returns its TxID.
func (f *scFixture) send(m *msgenc.Message) uint64 {
	f.t.Helper()
	f.tx++
	m.TxID = f.tx
	m.Pad = make([]byte, PaddedRequestSize)
	data, err := f.codec.Marshal(m)
	require.NoError(f.t, err)
	require.NoError(f.t, f.raw.Send(context.Background(), f.n.Addrs()[0], data))
	return m.TxID
}

// recv returns the next frame the node sends the raw endpoint.
func (f *scFixture) recv() *msgenc.Message {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := f.raw.Receive(ctx)
	require.NoError(f.t, err, "no frame arrived")
	m, err := f.codec.Unmarshal(p.Data)
	require.NoError(f.t, err)
	return m
}

// closestTo asks, anonymously, for the node's peers closest to target: the
// answer also proves every earlier frame was handled.
func (f *scFixture) closestTo(target peer.ID) []peer.ID {
	f.t.Helper()
	tx := f.send(&msgenc.Message{Kind: msgenc.KindFindNode, FindNode: &msgenc.FindNode{Target: target.Bytes()}})
	m := f.recv()
	require.Equal(f.t, tx, m.TxID, "an earlier request was answered")
	require.Equal(f.t, msgenc.KindPeers, m.Kind)
	var ids []peer.ID
	for _, p := range m.Peers.Peers {
		id, err := peer.IDFromBytes(p.ID)
		require.NoError(f.t, err)
		ids = append(ids, id)
	}
	return ids
}

func TestUnwantedSenderIsAnsweredUncheckedAndNeverKept(t *testing.T) {
	f := newSCFixture(t, RateLimits{})
	id, w := f.forged()
	require.False(t, f.n.table.(interface{ Wants(peer.ID) bool }).Wants(id), "fixture: bucket and cache full")

	tx := f.send(&msgenc.Message{Kind: msgenc.KindFindNode, Sender: w, FindNode: &msgenc.FindNode{Target: id.Bytes()}})
	m := f.recv()
	require.Equal(t, tx, m.TxID)
	require.Equal(t, msgenc.KindPeers, m.Kind, "a plain query is answered without its sender checked")
	s := f.n.Stats()
	require.Zero(t, s.SignatureChecks, "the sender was not checked")
	require.Equal(t, uint64(1), s.UnverifiedSenders)

	_, held := f.n.table.Get(id)
	require.False(t, held, "an unchecked sender entered the table")
	require.NotContains(t, f.closestTo(id), id, "an unchecked sender is named in answers")

	// Once its bucket has room, the same forged sender is answered as
	// before, then checked (off the asker's round trip) and dropped.
	for range 2 { // the bucket's peers go, then the waiting ones that moved up
		for _, p := range f.closestTo(id) {
			f.n.table.Remove(p)
		}
	}
	require.Zero(t, f.n.table.Len())
	tx = f.send(&msgenc.Message{Kind: msgenc.KindFindNode, Sender: w, FindNode: &msgenc.FindNode{Target: id.Bytes()}})
	m = f.recv()
	require.Equal(t, tx, m.TxID)
	require.Equal(t, msgenc.KindPeers, m.Kind, "a plain query is answered before its sender is checked")
	require.NotContains(t, f.closestTo(id), id, "a forged sender entered the table")
	s = f.n.Stats()
	require.Equal(t, uint64(1), s.Dropped[DropBadRecord], "the forged sender is dropped once the table wants it")
	require.Equal(t, uint64(1), s.SignatureChecks)
}

func TestSenderOfAStoreIsAlwaysChecked(t *testing.T) {
	f := newSCFixture(t, RateLimits{})
	id, w := f.forged()
	require.False(t, f.n.table.(interface{ Wants(peer.ID) bool }).Wants(id), "fixture: bucket and cache full")
	for _, m := range []*msgenc.Message{
		{Kind: msgenc.KindStore, Sender: w, Store: &msgenc.Store{}},
		{Kind: msgenc.KindForward, Sender: w, Forward: &msgenc.Forward{Mode: msgenc.ModeProxied, HopBudget: 3, Op: msgenc.KindFindValue, Target: id.Bytes(), QueryID: []byte("q")}},
	} {
		f.send(m)
	}
	f.closestTo(id) // both handled: nothing was answered before this
	s := f.n.Stats()
	require.Equal(t, uint64(2), s.Dropped[DropBadRecord], "a store's or relay's sender is checked whatever the table wants")
	require.Zero(t, s.UnverifiedSenders)
}

func TestUncheckedSendersStayUnderTheAddressLimit(t *testing.T) {
	const burst = 3
	f := newSCFixture(t, RateLimits{Addr: Rate{PerSecond: 1, Burst: burst}, Prefix: Unlimited, Peer: Unlimited})
	const sent = 3 * burst
	var txs []uint64
	for range sent {
		id, w := f.forged() // a new identity each time: no per-peer bucket to empty
		txs = append(txs, f.send(&msgenc.Message{Kind: msgenc.KindFindNode, Sender: w, FindNode: &msgenc.FindNode{Target: id.Bytes()}}))
	}
	var answered, refused int
	for answered+refused < burst+1 {
		m := f.recv()
		require.Contains(t, txs, m.TxID)
		if m.Kind == msgenc.KindPeers {
			answered++
		} else {
			require.Equal(t, msgenc.KindError, m.Kind)
			refused++
		}
	}
	require.Equal(t, burst, answered, "unchecked senders got past the address limit")
	require.Eventually(t, func() bool { return f.n.Stats().Dropped[DropRateLimited] == sent-burst-1 },
		10*time.Second, time.Millisecond, "the rest is dropped by the address limit")
}
