package node_test

import (
	"context"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/stretchr/testify/require"
)

func TestBadFramesAreDroppedCountedAndNeverAnswered(t *testing.T) {
	net := btNet(t)
	a := btNode(t, net, nil, nil)
	r := btNewRaw(t, net)
	to := a.Addrs()[0]

	ping := &msgenc.Message{Kind: msgenc.KindPing, TxID: 1, Sender: &r.wire, Ping: &msgenc.Ping{}}
	valid, err := r.codec.Marshal(ping)
	require.NoError(t, err)
	undecodable := [][]byte{
		[]byte("not a frame at all"),
		{0xff, 0xff, 0xff, 0xff},
		{0xa1}, // a CBOR map that never arrives
		valid[:len(valid)/2],
		valid[:len(valid)-1],
	}
	for _, f := range undecodable {
		r.sendRaw(to, f)
	}

	// A record whose ID is not the hash of its key.
	wrongID := msgenc.FromRecord(r.rec)
	wrongID.ID = btRandomID(t).Bytes()
	// A record whose signature does not verify.
	badSig := msgenc.FromRecord(r.rec)
	badSig.Signature[0] ^= 1
	// A record whose address was swapped after signing.
	other := btNewRaw(t, net)
	swapped := msgenc.FromRecord(r.rec)
	swapped.Addrs = [][]byte{other.addr().Bytes()}
	// A ping or find-node is answered the same whoever asks: its sender,
	// whom the empty table wants, is checked once the answer is sent, and
	// a bad record is then dropped. A store depends on who sent it: its
	// sender is checked first, and a bad one is never answered.
	var plain []uint64
	for _, rec := range []msgenc.PeerRecord{wrongID, badSig, swapped} {
		r.send(to, &msgenc.Message{Kind: msgenc.KindPing, TxID: 2, Sender: &rec, Ping: &msgenc.Ping{}})
		r.send(to, &msgenc.Message{Kind: msgenc.KindFindNode, TxID: 3, Sender: &rec, FindNode: &msgenc.FindNode{Target: btRandomID(t).Bytes()}})
		r.send(to, &msgenc.Message{Kind: msgenc.KindStore, TxID: 4, Sender: &rec, Store: &msgenc.Store{}})
		plain = append(plain, 2, 3)
	}
	for _, tx := range plain {
		rep, from := r.recv()
		require.Equal(t, tx, rep.TxID, "an answer to a bad frame, or out of order")
		require.Equal(t, to, from)
	}

	// The node handles frames in order: the answer to this anonymous ping is
	// the next frame back only if no store before it was answered.
	rep := r.request(to, nil, &msgenc.Message{Kind: msgenc.KindPing, Ping: &msgenc.Ping{}})
	require.Equal(t, msgenc.KindPong, rep.Kind, "the node must survive bad input")
	require.Zero(t, r.queued(), "bad frames must not be answered")
	require.Zero(t, other.queued(), "an answer went to the address a record claims")

	st := a.Stats()
	require.Equal(t, uint64(len(undecodable)), st.Dropped[node.DropDecode])
	require.Equal(t, uint64(9), st.Dropped[node.DropBadRecord])
	require.Zero(t, st.TableSize, "a peer with a bad record must not enter the table")
	require.Equal(t, uint64(1+len(plain)), st.Served, "the good ping and the plain queries are served")
}

func TestForgedRecordsInAPeersReplyNeverEnterTheTableNorGetAsked(t *testing.T) {
	net := btNet(t)
	a := btNode(t, net, nil, func(b *node.Builder) { b.RPCTimeout(time.Minute) })
	to := a.Addrs()[0]
	p := btNewRaw(t, net) // the peer that answers with forged records
	p.introduce(to)
	good := btNewRaw(t, net) // a genuine peer named in the same answer
	forged := btNewRaw(t, net)

	wrongID := msgenc.FromRecord(forged.rec)
	wrongID.ID = btRandomID(t).Bytes()
	badSig := msgenc.FromRecord(forged.rec)
	badSig.Signature[len(badSig.Signature)-1] ^= 0x80
	// good's identity claimed at the forger's address.
	hijacked := msgenc.FromRecord(good.rec)
	hijacked.Addrs = [][]byte{forged.addr().Bytes()}
	hijacked.Seq++

	target := btRandomID(t)
	done := make(chan error, 1)
	go func() {
		_, err := a.FindPeer(context.Background(), target)
		done <- err
	}()
	req, from := p.recv()
	require.Equal(t, msgenc.KindFindNode, req.Kind)
	p.reply(from, req, &msgenc.Message{Kind: msgenc.KindPeers, Peers: &msgenc.Peers{
		Peers: []msgenc.PeerRecord{wrongID, badSig, hijacked, good.wire},
	}})
	// The lookup goes on to the genuine peer only.
	req, from = good.recv()
	require.Equal(t, msgenc.KindFindNode, req.Kind)
	good.reply(from, req, &msgenc.Message{Kind: msgenc.KindPeers, Peers: &msgenc.Peers{}})
	select {
	case err := <-done:
		require.ErrorIs(t, err, node.ErrNotFound)
	case <-time.After(btWait):
		t.Fatal("lookup did not end")
	}
	require.Zero(t, forged.queued(), "no forged record may be contacted")
	require.Equal(t, uint64(3), a.Stats().Dropped[node.DropBadRecord])
	held := p.tableRecords(to, forged.rec.ID)
	require.Len(t, held, 2, "only the two peers that answered enter the table")
	for _, w := range held {
		switch id, _ := peer.IDFromBytes(w.ID); id {
		case p.rec.ID:
		case good.rec.ID:
			require.Equal(t, good.wire, w, "the hijacked record must not replace the genuine one")
		default:
			t.Fatalf("unexpected peer %s in the table", id.Short())
		}
	}
}

// FuzzNodeSurvivesAnyFrame sends arbitrary frames to a node: it must never
// panic, never let the sender into its table unless the frame carried a
// valid record, and keep answering.
func FuzzNodeSurvivesAnyFrame(f *testing.F) {
	net := btNet(f)
	// Short enough that forwarded queries sent to r end fast; long enough
	// that the node's replies (sent within one RPC timeout) always leave.
	a := btNode(f, net, nil, func(b *node.Builder) { b.RPCTimeout(100 * time.Millisecond).Retries(node.NoRetries) })
	r := btNewRaw(f, net)
	to := a.Addrs()[0]
	for _, m := range []*msgenc.Message{
		{Kind: msgenc.KindPing, TxID: 1, Sender: &r.wire, Ping: &msgenc.Ping{}},
		{Kind: msgenc.KindFindNode, TxID: 2, FindNode: &msgenc.FindNode{Target: make([]byte, 32)}},
		{Kind: msgenc.KindPong, TxID: 3, Sender: &r.wire, Pong: &msgenc.Pong{}},
		{Kind: msgenc.KindStore, TxID: 4, Store: &msgenc.Store{Record: msgenc.ValueRecord{Key: make([]byte, 32), Value: []byte("v")}}},
		{Kind: msgenc.KindForward, TxID: 5, Forward: &msgenc.Forward{Mode: msgenc.ModeProxied, HopBudget: 3, Op: msgenc.KindFindValue, Target: make([]byte, 32), QueryID: []byte("q")}},
	} {
		data, err := r.codec.Marshal(m)
		require.NoError(f, err)
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	f.Add([]byte{})
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > mem.DefaultMaxFrameSize {
			return
		}
		r.t = t
		r.sendRaw(to, data)
		// The fuzzed frame may be a valid request whose answer comes first,
		// or later (forwarded queries are answered asynchronously).
		ping := &msgenc.Message{Kind: msgenc.KindPing, TxID: r.tx.Add(1), Ping: &msgenc.Ping{}}
		r.send(to, ping)
		for {
			rep, _ := r.recv()
			if rep.TxID == ping.TxID && rep.Kind == msgenc.KindPong {
				break
			}
		}
		require.LessOrEqual(t, a.Stats().TableSize, 1, "only the raw peer's genuine record may enter")
	})
}
