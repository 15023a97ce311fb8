package node_test

import (
	"context"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/node"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
)

// btAddrFor returns the first of addrs that uses protocol code.
func btAddrFor(t *testing.T, addrs []ma.Multiaddr, code int) ma.Multiaddr {
	t.Helper()
	for _, a := range addrs {
		if _, err := a.ValueForProtocol(code); err == nil {
			return a
		}
	}
	t.Fatalf("no address with protocol %d in %v", code, addrs)
	return nil
}

func btRealNode(t *testing.T, listen ...string) *node.Node {
	t.Helper()
	n, err := node.NewBuilder().ListenString(listen...).RPCTimeout(2 * time.Second).Build(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Close() })
	return n
}

func TestANodeOnUDPAndTCPJoinsAUDPOnlyAndATCPOnlyPeer(t *testing.T) {
	hub := btRealNode(t, "/ip4/127.0.0.1/udp/0", "/ip4/127.0.0.1/tcp/0")
	require.Len(t, hub.Record().Addrs, 2, "the record advertises both transports")
	hubUDP := btAddrFor(t, hub.Record().Addrs, ma.P_UDP)
	hubTCP := btAddrFor(t, hub.Record().Addrs, ma.P_TCP)
	require.NoError(t, hub.Record().Verify(hub.Hasher()))

	u := btRealNode(t, "/ip4/127.0.0.1/udp/0")
	tc := btRealNode(t, "/ip4/127.0.0.1/tcp/0")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, u.Bootstrap(ctx, hubUDP))
	require.NoError(t, tc.Bootstrap(ctx, hubTCP))
	// u could not have joined through the TCP address, nor tc through UDP.
	_, err := u.Ping(ctx, hubTCP)
	require.ErrorIs(t, err, node.ErrNoTransport)
	_, err = tc.Ping(ctx, hubUDP)
	require.ErrorIs(t, err, node.ErrNoTransport)

	// The hub reaches each peer over the transport that speaks its address.
	for _, p := range []*node.Node{u, tc} {
		rec, err := hub.Ping(ctx, p.Addrs()[0])
		require.NoError(t, err)
		require.Equal(t, p.ID(), rec.ID)
		rec, err = hub.FindPeer(ctx, p.ID())
		require.NoError(t, err)
		require.Equal(t, p.Addrs(), rec.Addrs)
	}

	for _, c := range []struct {
		name     string
		put, get *node.Node
	}{{"udp to tcp", u, tc}, {"tcp to udp", tc, u}} {
		key, val := []byte("key "+c.name), []byte("value "+c.name)
		acks, err := c.put.Put(ctx, key, val)
		require.NoError(t, err, c.name)
		require.GreaterOrEqual(t, acks, 2, "%s: the hub and the putter hold it", c.name)
		got, err := c.get.Get(ctx, key)
		require.NoError(t, err, c.name)
		require.Equal(t, val, got, c.name)
	}
	require.Equal(t, 2, hub.Stats().Records, "both values went through the hub")
}
