package node

import (
	"context"
	"testing"

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
