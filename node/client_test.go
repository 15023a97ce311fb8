package node_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/transport/mem"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
)

// A client queries in every mode without ever entering a peer's table: a
// peer that learned of it would route to an address that soon goes away.
func TestClientNeverEntersTablesInAnyMode(t *testing.T) {
	tn := newTestNet(t, 6, mem.Options{}, nil)
	client := newMemNode(t, tn.net, 100, func(b *node.Builder) { b.Client(true) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, client.Bootstrap(ctx, tn.nodes[0].Addrs()...))
	for _, mode := range node.Modes() {
		key := []byte("client key " + mode.String())
		_, err := client.Put(ctx, key, []byte("v"), node.WithMode(mode))
		require.NoError(t, err, "put in %s", mode)
		_, err = client.Get(ctx, key, node.WithMode(mode))
		require.NoError(t, err, "get in %s", mode)
		_, err = client.FindPeer(ctx, tn.nodes[3].ID(), node.WithMode(mode))
		require.NoError(t, err, "find peer in %s", mode)
	}
	for i, n := range tn.nodes {
		_, err := n.FindPeer(ctx, client.ID(), node.WithMode(node.Direct()))
		require.ErrorIs(t, err, node.ErrNotFound, "node %d learned of the client", i)
	}
}

// Bootstrap refreshes the buckets far from the joining node, as Kademlia's
// join does; with only the self lookup, far ranges stay empty and some
// lookups end at the wrong peers (5 of 128 here, before the fix).
func TestEveryValueIsFoundAfterBootstrapWithSmallBuckets(t *testing.T) {
	tn := newTestNet(t, 128, mem.Options{}, func(b *node.Builder) { b.K(4) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var missed []string
	for _, mode := range node.Modes() {
		for i := range 32 {
			key := fmt.Appendf(nil, "far-%s-%d", mode, i)
			writer := tn.nodes[(i*37+5)%len(tn.nodes)]
			reader := tn.nodes[(i*53+11)%len(tn.nodes)]
			_, err := writer.Put(ctx, key, []byte("v"), node.WithMode(mode))
			require.NoError(t, err, "put %s", key)
			if _, err := reader.Get(ctx, key, node.WithMode(mode)); err != nil {
				missed = append(missed, string(key))
			}
		}
	}
	require.Empty(t, missed, "values not found")
}

func TestANodeOnAnUnspecifiedAddressAnnouncesReachableOnesAndJoinsByName(t *testing.T) {
	ctx := context.Background()
	seed, err := node.NewBuilder().ListenString("/ip4/0.0.0.0/udp/0").Build(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = seed.Close() })
	var port string
	for _, a := range seed.Addrs() {
		require.NotContains(t, a.String(), "/0.0.0.0/", "an unspecified address is never announced")
		if strings.HasPrefix(a.String(), "/ip4/127.0.0.1/udp/") {
			port = strings.TrimPrefix(a.String(), "/ip4/127.0.0.1/udp/")
		}
	}
	require.NotEmpty(t, port, "loopback is among the announced addresses: %v", seed.Addrs())

	joiner, err := node.NewBuilder().Announce(ma.StringCast("/ip4/127.0.0.1/udp/9")).ListenString("/ip4/127.0.0.1/udp/0").Build(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = joiner.Close() })
	require.Equal(t, []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/udp/9")}, joiner.Addrs(), "Announce replaces the listening addresses")

	client, err := node.NewBuilder().Client(true).ListenString("/ip4/127.0.0.1/udp/0").Build(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	require.NoError(t, client.Bootstrap(ctx, ma.StringCast("/dns4/localhost/udp/"+port)), "bootstrap by name")
	_, err = client.Put(ctx, []byte("k"), []byte("v"))
	require.NoError(t, err)
}
