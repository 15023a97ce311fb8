package node_test

import (
	"context"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/node"
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
