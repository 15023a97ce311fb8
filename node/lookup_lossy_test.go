package node_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/kademlia"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/stretchr/testify/require"
)

// A one-shot client starts its lookups from its bootstrap peer alone: when
// a request to it and the request's resend are both lost, the lookup must
// run again rather than fail the operation.
func TestAClientLookupSurvivesLosingItsFirstRequestAndTheResend(t *testing.T) {
	net := mem.NewNetwork(mem.Options{})
	t.Cleanup(func() { _ = net.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var nodes []*node.Node
	for i := range 4 {
		n := newMemNode(t, net, 6000+i, nil)
		if i > 0 {
			require.NoError(t, n.Bootstrap(ctx, nodes[0].Addrs()...))
		}
		nodes = append(nodes, n)
	}
	ep, err := net.Listen(nil)
	require.NoError(t, err)
	lossy := &resendDropper{Transport: ep, kind: msgenc.KindFindNode, codec: cbor.New()}
	lossy.left.Store(2) // the first request and its resend
	client, err := node.NewBuilder().Identity(seedIdentity(t, 6100)).Transport(lossy).Client(true).
		RPCTimeout(500 * time.Millisecond).Build(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	require.NoError(t, client.Bootstrap(ctx, nodes[1].Addrs()...))

	acks, err := client.Put(ctx, []byte("lossy"), []byte("value"), node.WithMode(node.Direct()))
	require.NoError(t, err, "a lookup that heard no one runs once more")
	require.Positive(t, acks)
	require.Negative(t, lossy.left.Load(), "both frames were lost, and more were sent")
}

// A node hands out, in answer to a find, k peers it believes alive when its
// table has them: peers that just failed to answer it are left out and the
// next ones take their places, so that where many peers are dead or cut
// off, a lookup still learns of live ones.
func TestAnswersHandOutKLivePeersPastTheDeadOnes(t *testing.T) {
	net := btNet(t)
	ctx, cancel := context.WithTimeout(context.Background(), btWait)
	defer cancel()
	configure := func(b *node.Builder) {
		b.K(2).RPCTimeout(200 * time.Millisecond).Table(func(self peer.ID, _ int) (route.Table, error) {
			// Failed peers stay in the table: only the node's own
			// judgement leaves them out of its answers.
			return kademlia.New(self, kademlia.Options{K: 20, MaxFailures: 100})
		})
	}
	s := btNode(t, net, nil, configure)
	var others []*node.Node
	for range 5 {
		n := btNode(t, net, nil, configure)
		require.NoError(t, n.Bootstrap(ctx, s.Addrs()...))
		others = append(others, n)
	}
	raw := btNewRaw(t, net)
	target := raw.rec.ID
	slices.SortFunc(others, func(a, b *node.Node) int { return peer.CompareDistance(target, a.ID(), b.ID()) })
	for _, dead := range others[:2] { // the two closest die
		require.NoError(t, net.Crash(dead.Addrs()[0]))
	}
	for _, dead := range others[:2] { // and fail S twice: S seeks them
		for range 2 {
			_, _ = s.FindPeer(ctx, dead.ID(), node.WithMode(node.Direct()))
		}
	}
	got := raw.tableOf(s.Addrs()[0], target)
	require.Equal(t, []peer.ID{others[2].ID(), others[3].ID()}, got, "the next two closest, alive, in the dead ones' places")
}
