package node_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/dhtkit/dhtkit/trust"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
)

// btWait bounds every wait of the behaviour tests.
const btWait = 10 * time.Second

// btIdentity returns a fresh random identity.
func btIdentity(t testing.TB) *peer.Identity {
	id, err := peer.GenerateIdentity(nil)
	require.NoError(t, err)
	return id
}

// btNode builds a node with identity id (fresh when nil) on a new endpoint
// of net; configure may adjust the builder. The node closes at cleanup.
func btNode(t testing.TB, net *mem.Network, id *peer.Identity, configure func(*node.Builder)) *node.Node {
	t.Helper()
	ep, err := net.Listen(nil)
	require.NoError(t, err)
	if id == nil {
		id = btIdentity(t)
	}
	b := node.NewBuilder().Identity(id).Transport(ep).RPCTimeout(2 * time.Second)
	if configure != nil {
		configure(b)
	}
	n, err := b.Build(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// btNet returns a fresh lossless mem network closed at cleanup.
func btNet(t testing.TB) *mem.Network {
	net := mem.NewNetwork(mem.Options{QueueLen: 1024})
	t.Cleanup(func() { _ = net.Close() })
	return net
}

// btRaw is a hand-driven peer: a bare mem endpoint speaking CBOR, with an
// identity whose signed record names the endpoint. Tests use it to send
// what a real node never would and to see exactly what a node sends.
type btRaw struct {
	t     testing.TB
	ep    *mem.Endpoint
	codec msgenc.Codec
	id    *peer.Identity
	rec   *peer.Record
	wire  msgenc.PeerRecord
	tx    atomic.Uint64
}

func btNewRaw(t testing.TB, net *mem.Network) *btRaw {
	t.Helper()
	ep, err := net.Listen(nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ep.Close() })
	r := &btRaw{t: t, ep: ep, codec: cbor.New(), id: btIdentity(t)}
	r.rec, err = peer.NewRecord(r.id, peer.SHA256(), 1, ep.Addr())
	require.NoError(t, err)
	r.wire = msgenc.FromRecord(r.rec)
	r.tx.Store(1000)
	return r
}

func (r *btRaw) addr() ma.Multiaddr { return r.ep.Addr() }

// sendRaw sends bytes as they are.
func (r *btRaw) sendRaw(to ma.Multiaddr, data []byte) {
	r.t.Helper()
	require.NoError(r.t, r.ep.Send(context.Background(), to, data))
}

// send encodes and sends m. A request without a token is padded, as a
// node pads its first request to a peer, so that the answer is not cut for
// want of a proven address.
func (r *btRaw) send(to ma.Multiaddr, m *msgenc.Message) {
	r.t.Helper()
	data, err := r.codec.Marshal(m)
	require.NoError(r.t, err)
	if isRequest(m.Kind) && len(m.Token) == 0 && m.Pad == nil && len(data) < node.PaddedRequestSize {
		m.Pad = make([]byte, node.PaddedRequestSize-len(data))
		data, err = r.codec.Marshal(m)
		require.NoError(r.t, err)
		m.Pad = nil
	}
	r.sendRaw(to, data)
}

// isRequest reports whether a message of kind k is answered.
func isRequest(k msgenc.Kind) bool {
	switch k {
	case msgenc.KindPing, msgenc.KindFindNode, msgenc.KindFindValue, msgenc.KindStore, msgenc.KindForward:
		return true
	}
	return false
}

// recv returns the next frame, decoded, and its sender's address; it fails
// the test after btWait.
func (r *btRaw) recv() (*msgenc.Message, ma.Multiaddr) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), btWait)
	defer cancel()
	p, err := r.ep.Receive(ctx)
	require.NoError(r.t, err, "raw peer: no frame arrived")
	m, err := r.codec.Unmarshal(p.Data)
	require.NoError(r.t, err, "raw peer: a node sent an undecodable frame")
	return m, p.From
}

// queued returns how many frames wait in the endpoint's inbox, consuming
// them. With the lossless zero-latency network a frame is queued by the
// time its Send returns.
func (r *btRaw) queued() int {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n := 0
	for {
		if _, err := r.ep.Receive(ctx); err != nil {
			return n
		}
		n++
	}
}

// request sends a request of kind with body set by fill, from sender (nil
// for an anonymous request), and returns the reply. The node handles frames
// in order, so the reply also proves every earlier frame was handled.
func (r *btRaw) request(to ma.Multiaddr, sender *msgenc.PeerRecord, m *msgenc.Message) *msgenc.Message {
	r.t.Helper()
	m.TxID = r.tx.Add(1)
	m.Sender = sender
	r.send(to, m)
	rep, _ := r.recv()
	require.Equal(r.t, m.TxID, rep.TxID, "reply to another request")
	return rep
}

// introduce makes the node at to put this raw peer in its table: a ping
// carrying the raw peer's record.
func (r *btRaw) introduce(to ma.Multiaddr) {
	r.t.Helper()
	rep := r.request(to, &r.wire, &msgenc.Message{Kind: msgenc.KindPing, Ping: &msgenc.Ping{}})
	require.Equal(r.t, msgenc.KindPong, rep.Kind)
	// The node checks a sender its table wants after answering it, before
	// it handles the next frame: this answer proves the check is over.
	rep = r.request(to, nil, &msgenc.Message{Kind: msgenc.KindPing, Ping: &msgenc.Ping{}})
	require.Equal(r.t, msgenc.KindPong, rep.Kind)
}

// tableOf returns the IDs a node's table ranks closest to target, read with
// an anonymous find-node (which leaves no trace in the table). It sees up
// to k of them.
func (r *btRaw) tableOf(to ma.Multiaddr, target peer.ID) []peer.ID {
	r.t.Helper()
	var ids []peer.ID
	for _, p := range r.tableRecords(to, target) {
		id, err := peer.IDFromBytes(p.ID)
		require.NoError(r.t, err)
		ids = append(ids, id)
	}
	return ids
}

// tableRecords is tableOf with the records as the node holds them.
func (r *btRaw) tableRecords(to ma.Multiaddr, target peer.ID) []msgenc.PeerRecord {
	r.t.Helper()
	rep := r.request(to, nil, &msgenc.Message{Kind: msgenc.KindFindNode, FindNode: &msgenc.FindNode{Target: target.Bytes()}})
	require.Equal(r.t, msgenc.KindPeers, rep.Kind)
	return rep.Peers.Peers
}

// reply answers req with m from this raw peer.
func (r *btRaw) reply(to ma.Multiaddr, req *msgenc.Message, m *msgenc.Message) {
	r.t.Helper()
	m.TxID = req.TxID
	if m.Sender == nil {
		m.Sender = &r.wire
	}
	r.send(to, m)
}

// btRandomID returns a random 32-byte ID.
func btRandomID(t testing.TB) peer.ID {
	return btIdentity(t).ID(peer.SHA256())
}

// btEventually waits for cond, polling, and fails with msg after btWait.
func btEventually(t testing.TB, cond func() bool, msg string, args ...any) {
	t.Helper()
	require.Eventually(t, cond, btWait, 5*time.Millisecond, append([]any{msg}, args...)...)
}

// btGate is a trust policy that refuses one peer until opened.
type btGate struct {
	blocked peer.ID
	open    atomic.Bool
}

var _ trust.Policy = (*btGate)(nil)

var errBtGate = fmt.Errorf("bt: gate closed: %w", trust.ErrRejected)

func (g *btGate) AcceptPeer(r *peer.Record) error {
	if r.ID == g.blocked && !g.open.Load() {
		return errBtGate
	}
	return nil
}
func (g *btGate) AcceptRelay(*peer.Record) error               { return nil }
func (g *btGate) AcceptValue(*peer.Record, *trust.Value) error { return nil }
