package node_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/stretchr/testify/require"
)

// A lookup verifies a learned peer only when it is about to ask it: the
// peers of an answer that the lookup never needs are never checked. Here
// they carry broken signatures, so that checking one would count a drop.
func TestALookupVerifiesOnlyThePeersItAsks(t *testing.T) {
	net := btNet(t)
	a := btNode(t, net, nil, func(b *node.Builder) { b.K(3).RPCTimeout(time.Minute) })
	to := a.Addrs()[0]
	p := btNewRaw(t, net)
	p.introduce(to)

	near := []*btRaw{btNewRaw(t, net), btNewRaw(t, net), btNewRaw(t, net)}
	target := near[0].rec.ID
	farthest := slices.MaxFunc(near, func(x, y *btRaw) int { return peer.CompareDistance(target, x.rec.ID, y.rec.ID) }).rec.ID
	var far []*btRaw
	answer := []msgenc.PeerRecord{}
	for len(far) < 7 {
		f := btNewRaw(t, net)
		if peer.CompareDistance(target, f.rec.ID, farthest) <= 0 {
			continue // only peers farther than every genuine one
		}
		far = append(far, f)
		forged := msgenc.FromRecord(f.rec)
		forged.Signature[0] ^= 1
		answer = append(answer, forged)
	}
	for _, r := range near {
		answer = append(answer, r.wire)
	}

	// The genuine peers answer with no one, if asked: p itself may be
	// among the k=3 closest, and then one of them is not.
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	for _, r := range near {
		go func() {
			pkt, err := r.ep.Receive(ctx)
			if err != nil {
				return
			}
			req, err := r.codec.Unmarshal(pkt.Data)
			if err != nil {
				return
			}
			rep := &msgenc.Message{Kind: msgenc.KindPeers, Peers: &msgenc.Peers{}, TxID: req.TxID, Sender: &r.wire}
			if data, err := r.codec.Marshal(rep); err == nil {
				_ = r.ep.Send(ctx, pkt.From, data)
			}
		}()
	}
	done := make(chan error, 1)
	go func() {
		_, err := a.FindPeer(context.Background(), target)
		done <- err
	}()
	req, from := p.recv()
	require.Equal(t, msgenc.KindFindNode, req.Kind)
	p.reply(from, req, &msgenc.Message{Kind: msgenc.KindPeers, Peers: &msgenc.Peers{Peers: answer}})
	select {
	case err := <-done:
		require.NoError(t, err, "the peer sought answered")
	case <-time.After(btWait):
		t.Fatal("lookup did not end")
	}
	require.Zero(t, a.Stats().Dropped[node.DropBadRecord], "a peer the lookup did not need was verified")
	for i, f := range far {
		require.Zero(t, f.queued(), "far peer %d was contacted", i)
	}
}
