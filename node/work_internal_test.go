package node

import (
	"bytes"
	"context"
	"net"
	"testing"

	"github.com/dhtkit/dhtkit/peer"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/stretchr/testify/require"
)

func TestWorkInFlightIsBoundedPerSourceAndForgottenWhenDone(t *testing.T) {
	var f inflight
	f.init(3)
	for range 3 {
		require.True(t, f.acquire("a"))
	}
	require.False(t, f.acquire("a"), "a fourth forward from one source is refused")
	require.True(t, f.acquire("b"), "another source has its own bound")
	for range 3 {
		f.release("a")
	}
	f.release("b")
	require.Empty(t, f.m, "sources leave the map when their work is done")
	require.True(t, f.acquire("a"))
}

func TestEvictionPingsInFlightAreBounded(t *testing.T) {
	n, err := NewBuilder().WorkLimits(WorkLimits{EvictionPings: 2}).Build(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Close() })
	require.True(t, n.evictionSlot())
	require.True(t, n.evictionSlot())
	require.False(t, n.evictionSlot(), "a third ping waits for a slot")
	n.evictPings.Add(-1)
	require.True(t, n.evictionSlot())
	_, err = NewBuilder().WorkLimits(WorkLimits{Forwards: -1}).Build(context.Background())
	require.ErrorIs(t, err, ErrConfig)
	_, err = NewBuilder().Quotas(Quotas{TotalBytes: -5}).RateLimits(RateLimits{Peer: Rate{PerSecond: -1}}).Build(context.Background())
	require.ErrorIs(t, err, ErrConfig)
}

func TestEvictionPingsArePerSourceBounded(t *testing.T) {
	n, err := NewBuilder().WorkLimits(WorkLimits{EvictionPingsPerSource: 2}).Build(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Close() })
	// The candidates sit behind a socket that never answers, so each ping
	// stays in flight for its whole timeout.
	silent, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = silent.Close() })
	addr, err := manet.FromNetAddr(silent.LocalAddr())
	require.NoError(t, err)
	candidate := func(b byte) *peer.Record {
		id, err := peer.IdentityFromSeed(bytes.Repeat([]byte{b}, 32))
		require.NoError(t, err)
		r, err := peer.NewRecord(id, peer.SHA256(), 1, addr)
		require.NoError(t, err)
		return r
	}
	for b := range byte(3) {
		n.pingBeforeEvict(candidate(b+1), "10.0.0.0", peer.ID{}, nil)
	}
	require.Equal(t, int64(2), n.evictPings.Load(), "a third ping from one source waits")
	n.pingBeforeEvict(candidate(9), "10.0.1.0", peer.ID{}, nil)
	require.Equal(t, int64(3), n.evictPings.Load(), "another source has its own bound")
	n.pingBeforeEvict(candidate(10), "", peer.ID{}, nil)
	require.Equal(t, int64(4), n.evictPings.Load(), "pings of contacts the node made are bound only in total")
}
