package node_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/stretchr/testify/require"
)

func TestRepliesWithAWrongTxIDOrFromAnotherPeerAreDroppedAsUnsolicited(t *testing.T) {
	net := btNet(t)
	a := btNode(t, net, nil, func(b *node.Builder) { b.RPCTimeout(time.Minute).Retries(node.NoRetries) })
	p := btNewRaw(t, net)
	p.introduce(a.Addrs()[0])
	// q is a genuine, correctly signed peer, but not the one asked.
	q := btIdentity(t)
	qrec, err := peer.NewRecord(q, peer.SHA256(), 1, p.addr())
	require.NoError(t, err)
	qwire := msgenc.FromRecord(qrec)

	target := btRandomID(t)
	done := make(chan error, 1)
	go func() {
		_, err := a.FindPeer(context.Background(), target)
		done <- err
	}()
	req, from := p.recv()
	require.Equal(t, msgenc.KindFindNode, req.Kind)
	empty := func() *msgenc.Message {
		return &msgenc.Message{Kind: msgenc.KindPeers, Peers: &msgenc.Peers{}}
	}
	wrongTx := *req
	wrongTx.TxID++
	p.reply(from, &wrongTx, empty())
	wrongPeer := empty()
	wrongPeer.Sender = &qwire
	p.reply(from, req, wrongPeer)
	// The node handles frames in order: once this probe is answered, both
	// forged replies have been handled.
	require.Equal(t, []peer.ID{p.rec.ID}, p.tableOf(a.Addrs()[0], q.ID(peer.SHA256())),
		"the peer behind a forged reply must not enter the table")
	require.Equal(t, uint64(2), a.Stats().Dropped[node.DropUnsolicited], "both forged replies are dropped and counted")
	select {
	case err := <-done:
		t.Fatalf("the lookup ended on a forged reply: %v", err)
	default:
	}
	p.reply(from, req, empty())
	select {
	case err := <-done:
		require.ErrorIs(t, err, node.ErrNotFound, "the genuine reply named no one")
	case <-time.After(btWait):
		t.Fatal("the genuine reply did not end the lookup")
	}
	st := a.Stats()
	require.Equal(t, uint64(2), st.Dropped[node.DropUnsolicited])
	require.Zero(t, st.Timeouts)
}

func TestPingTimesOutAfterExactlyOnePlusRetriesSends(t *testing.T) {
	for _, c := range []struct {
		set, retries int
	}{
		{node.NoRetries, 0},
		{0, node.DefaultRetries}, // zero means the default
		{1, 1},
		{3, 3},
	} {
		retries := c.retries
		t.Run(fmt.Sprintf("Retries(%d)", c.set), func(t *testing.T) {
			net := btNet(t)
			a := btNode(t, net, nil, func(b *node.Builder) { b.RPCTimeout(5 * time.Millisecond).Retries(c.set) })
			silent := btNewRaw(t, net)
			_, err := a.Ping(context.Background(), silent.addr())
			require.ErrorIs(t, err, node.ErrTimeout)
			require.Equal(t, 1+retries, silent.queued(), "frames reaching a peer that never answers")
			st := a.Stats()
			require.Equal(t, uint64(1), st.Requests)
			require.Equal(t, uint64(1+retries), st.RPCsSent)
			require.Equal(t, uint64(1+retries), st.Timeouts)
		})
	}
}

func TestAPeerThatStopsAnsweringIsNotAskedAgainNorHandedOut(t *testing.T) {
	net := btNet(t)
	fast := func(b *node.Builder) { b.RPCTimeout(200 * time.Millisecond).Retries(node.NoRetries) }
	a := btNode(t, net, nil, fast)
	b := btNode(t, net, nil, fast)
	c := btNode(t, net, nil, fast)
	ctx := context.Background()
	require.NoError(t, b.Bootstrap(ctx, a.Addrs()[0]))
	require.NoError(t, c.Bootstrap(ctx, a.Addrs()[0]))
	require.Equal(t, 2, a.Stats().TableSize)
	require.NoError(t, net.Crash(b.Addrs()[0]))

	// Two lookups ask the dead peer and find it failing twice in a row;
	// the next ones do not wait on it again, nor return it.
	for i := 1; i <= 2; i++ {
		_, _ = a.FindPeer(ctx, b.ID())
		require.Equal(t, uint64(i), a.Stats().Timeouts)
	}
	for i := 3; i <= 4; i++ {
		_, err := a.Get(ctx, []byte("nothing"))
		require.ErrorIs(t, err, node.ErrNotFound)
		require.Equal(t, uint64(2), a.Stats().Timeouts, "lookup %d waited on the dead peer again", i)
	}
	// Only the peer itself can say it is back: FindPeer still asks it,
	// but no longer answers with the record the table holds.
	_, err := a.FindPeer(ctx, b.ID())
	require.ErrorIs(t, err, node.ErrNotFound, "a peer that stopped answering is not found")
	// Nor does a hand it to others: asked for peers near b, it leaves b out.
	raw := btNewRaw(t, net)
	require.NotContains(t, raw.tableOf(a.Addrs()[0], b.ID()), b.ID(), "a hands out a peer it knows is down")
}
