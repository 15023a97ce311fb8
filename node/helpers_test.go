package node_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/stretchr/testify/require"
)

// testNet is a network of nodes over one mem network.
type testNet struct {
	net   *mem.Network
	nodes []*node.Node
}

// seedIdentity returns a reproducible identity for node i.
func seedIdentity(t testing.TB, i int) *peer.Identity {
	seed := make([]byte, 32)
	copy(seed, fmt.Sprintf("node-%d", i))
	id, err := peer.IdentityFromSeed(seed)
	require.NoError(t, err)
	return id
}

// newMemNode builds a node on a fresh endpoint of net. configure may adjust
// the builder.
func newMemNode(t testing.TB, net *mem.Network, i int, configure func(*node.Builder)) *node.Node {
	ep, err := net.Listen(nil)
	require.NoError(t, err)
	b := node.NewBuilder().Identity(seedIdentity(t, i)).Transport(ep).RPCTimeout(500 * time.Millisecond)
	if configure != nil {
		configure(b)
	}
	n, err := b.Build(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// newTestNet builds size nodes and bootstraps each from node 0.
func newTestNet(t testing.TB, size int, opts mem.Options, configure func(*node.Builder)) *testNet {
	tn := &testNet{net: mem.NewNetwork(opts)}
	t.Cleanup(func() { _ = tn.net.Close() })
	for i := range size {
		tn.nodes = append(tn.nodes, newMemNode(t, tn.net, i, configure))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	seed := tn.nodes[0].Addrs()[0]
	for _, n := range tn.nodes[1:] {
		require.NoError(t, n.Bootstrap(ctx, seed))
	}
	// A second round lets early joiners learn of the later ones.
	for _, n := range tn.nodes[1:] {
		require.NoError(t, n.Bootstrap(ctx, seed))
	}
	return tn
}
