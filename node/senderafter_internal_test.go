package node

import (
	"bytes"
	"context"
	"sync/atomic"
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

// heldHasher is SHA-256 that, once armed with a public key, stops when
// asked to hash it (the first step of checking a record of that key)
// until released: a test sees what the node has done before the check.
type heldHasher struct {
	peer.Hasher
	key      atomic.Pointer[[]byte]
	entered  chan struct{}
	released chan struct{}
}

func newHeldHasher() *heldHasher {
	return &heldHasher{Hasher: peer.SHA256(), entered: make(chan struct{}, 1), released: make(chan struct{})}
}

func (h *heldHasher) Sum(data []byte) peer.ID {
	if k := h.key.Load(); k != nil && bytes.Equal(*k, data) {
		h.entered <- struct{}{}
		<-h.released
	}
	return h.Hasher.Sum(data)
}

// afterFixture is a node with an empty table, so that it wants every
// sender, and a raw mem endpoint to send it hand-made frames.
type afterFixture struct {
	scFixture
	hasher *heldHasher
}

func newAfterFixture(t *testing.T, limits RateLimits) *afterFixture {
	t.Helper()
	net := mem.NewNetwork(mem.Options{QueueLen: 1024})
	t.Cleanup(func() { _ = net.Close() })
	ep, err := net.Listen(nil)
	require.NoError(t, err)
	h := newHeldHasher()
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	n, err := NewBuilder().Transport(ep).Hasher(h).Clock(clk).RateLimits(limits).Build(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Close() })
	raw, err := net.Listen(nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = raw.Close() })
	return &afterFixture{scFixture: scFixture{t: t, n: n, raw: raw, codec: cbor.New(), tx: 100}, hasher: h}
}

// newcomer returns a genuine record the node has never seen.
func (f *afterFixture) newcomer() *peer.Record {
	f.t.Helper()
	id, err := peer.GenerateIdentity(nil)
	require.NoError(f.t, err)
	r, err := peer.NewRecord(id, peer.SHA256(), 1, ma.StringCast("/ip4/10.0.0.9/udp/4001"))
	require.NoError(f.t, err)
	return r
}

func (f *afterFixture) findNode(sender *msgenc.PeerRecord) uint64 {
	target := make([]byte, f.n.ID().Len())
	return f.send(&msgenc.Message{Kind: msgenc.KindFindNode, Sender: sender, FindNode: &msgenc.FindNode{Target: target}})
}

// A sender the table wants is checked after its answer is sent, not
// before: the check is off the asker's round trip. The node's check is
// held at its first step; the answer must already be out.
func TestWantedSenderIsAnsweredBeforeItIsChecked(t *testing.T) {
	f := newAfterFixture(t, RateLimits{})
	r := f.newcomer()
	w := msgenc.FromRecord(r)
	key := []byte(r.PublicKey)
	f.hasher.key.Store(&key)

	tx := f.findNode(&w)
	select {
	case <-f.hasher.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the node never checked the sender, whom its empty table wants")
	}
	// The check is held: an answer sent only after it could not arrive.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	p, err := f.raw.Receive(ctx)
	cancel()
	close(f.hasher.released)
	require.NoError(t, err, "no answer before the sender's check: the check is on the round trip")
	m, err := f.codec.Unmarshal(p.Data)
	require.NoError(t, err)
	require.Equal(t, tx, m.TxID)
	require.Equal(t, msgenc.KindPeers, m.Kind)

	// Then it is checked and kept.
	require.Contains(t, f.closestTo(r.ID), r.ID, "the checked sender is in the table")
	require.Equal(t, uint64(1), f.n.checks.load(checkSenderAfter))
	require.Zero(t, f.n.checks.load(checkSender))
	require.Zero(t, f.n.Stats().UnverifiedSenders, "a sender the table wants is checked, only later")
}

// A sender checked after its answer is charged to its own limit once its
// ID is proven; an unproven ID (a forged record naming a tabled peer) is
// not, so it cannot spend that peer's budget.
func TestSenderCheckedAfterItsAnswerKeepsPeerLimits(t *testing.T) {
	f := newAfterFixture(t, RateLimits{Peer: Rate{PerSecond: 1e-9, Burst: 2}, Addr: Unlimited, Prefix: Unlimited})
	r := f.newcomer()
	w := msgenc.FromRecord(r)

	// A forged record of the same ID, sent first: answered, then dropped,
	// charging no one.
	forged := cloneWire(&w)
	forged.Signature[0] ^= 1
	for range 3 {
		tx := f.findNode(forged)
		require.Equal(t, tx, f.recv().TxID)
	}
	require.NotContains(t, f.closestTo(r.ID), r.ID, "a forged sender entered the table")
	require.Equal(t, uint64(3), f.n.Stats().Dropped[DropBadRecord])

	// The genuine sender: answered, checked, kept and charged; its budget
	// of two is whole despite the forgeries, and this request spends one.
	tx := f.findNode(&w)
	require.Equal(t, msgenc.KindPeers, f.recv().Kind)
	require.Contains(t, f.closestTo(r.ID), r.ID)
	tx = f.findNode(&w) // the second of its budget: answered
	m := f.recv()
	require.Equal(t, tx, m.TxID)
	require.Equal(t, msgenc.KindPeers, m.Kind, "the forged records spent the genuine peer's budget")
	tx = f.findNode(&w) // the third: over its limit
	m = f.recv()
	require.Equal(t, tx, m.TxID)
	require.Equal(t, msgenc.KindError, m.Kind, "the request checked after its answer was not charged to its sender")
	require.Equal(t, msgenc.CodeOverloaded, m.Error.Code)
}

// A reply carrying the very record its request was sent to is that
// record, verified before it was asked: it costs no check and no lookup
// in the verified cache. Any other record under the asked ID is checked
// as before, and a forged one is dropped.
func TestReplyFromThePeerAskedNeedsNoCheck(t *testing.T) {
	f := newAfterFixture(t, RateLimits{})
	id, err := peer.GenerateIdentity(nil)
	require.NoError(t, err)
	rec, err := peer.NewRecord(id, peer.SHA256(), 1, f.raw.Addr())
	require.NoError(t, err)
	genuine := msgenc.FromRecord(rec)
	forged := cloneWire(&genuine)
	forged.Signature[0] ^= 1

	done := make(chan error, 1)
	go func() {
		_, err := f.n.call(context.Background(), contactOf(rec), &msgenc.Message{Kind: msgenc.KindPing, Ping: &msgenc.Ping{}})
		done <- err
	}()
	req := f.recv()
	require.Equal(t, msgenc.KindPing, req.Kind)
	for _, w := range []*msgenc.PeerRecord{forged, &genuine} {
		data, err := f.codec.Marshal(&msgenc.Message{Kind: msgenc.KindPong, TxID: req.TxID, Sender: w, Pong: &msgenc.Pong{}})
		require.NoError(t, err)
		require.NoError(t, f.raw.Send(context.Background(), f.n.Addrs()[0], data))
	}
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the genuine reply was not delivered")
	}
	s := f.n.Stats()
	require.Equal(t, uint64(1), s.Dropped[DropBadRecord], "a forged record of the peer asked is checked and dropped")
	require.Equal(t, uint64(1), s.SignatureChecks, "the record the request was sent to was checked again")
	require.Zero(t, f.n.verified.hits, "the record the request was sent to was looked up in the verified cache")
}
