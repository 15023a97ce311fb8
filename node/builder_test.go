package node_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/stretchr/testify/require"
)

func TestBuildWithNoChoicesGivesAWorkingNode(t *testing.T) {
	ctx := context.Background()
	a, err := node.NewBuilder().Build(ctx)
	require.NoError(t, err)
	defer a.Close()
	b, err := node.NewBuilder().Build(ctx)
	require.NoError(t, err)
	defer b.Close()

	require.Len(t, a.Addrs(), 1)
	require.Contains(t, a.Addrs()[0].String(), "/ip4/127.0.0.1/udp/", "default transport is UDP on loopback")
	require.Equal(t, peer.IDLen256, a.ID().Len(), "default key space is SHA-256")
	require.Equal(t, "direct", a.Mode().String())

	rec, err := b.Ping(ctx, a.Addrs()[0])
	require.NoError(t, err)
	require.Equal(t, a.ID(), rec.ID, "ping answered by the wrong peer")
}

func TestBuildReportsEveryProblemAtOnce(t *testing.T) {
	_, err := node.NewBuilder().
		K(-1).
		Alpha(1000).
		RPCTimeout(-1).
		HopBudget(999).
		ListenString("/not/an/address").
		Build(context.Background())
	require.Error(t, err)
	require.ErrorIs(t, err, node.ErrConfig)
	var joined interface{ Unwrap() []error }
	require.True(t, errors.As(err, &joined), "Build must join its errors")
	require.Len(t, joined.Unwrap(), 5, "want one error per bad choice, got: %v", err)
	for _, want := range []string{"k must be", "alpha must be", "RPC timeout", "hop budget", "/not/an/address"} {
		require.Contains(t, err.Error(), want)
	}
}

func TestBuildRejectsAListenAddressNoTransportServes(t *testing.T) {
	_, err := node.NewBuilder().ListenString("/ip4/127.0.0.1/sctp/1").Build(context.Background())
	require.ErrorIs(t, err, node.ErrConfig)
}

func TestBuildDoesNotChangeTheBuilder(t *testing.T) {
	b := node.NewBuilder().K(5)
	n1, err := b.Build(context.Background())
	require.NoError(t, err)
	defer n1.Close()
	n2, err := b.Build(context.Background())
	require.NoError(t, err, "a builder must be reusable")
	defer n2.Close()
	require.NotEqual(t, n1.ID(), n2.ID(), "each build without an identity gets a fresh one")
}

func TestOneCloseStopsTheNodeAndEveryOtherCallReturnsErrClosed(t *testing.T) {
	n, err := node.NewBuilder().Build(context.Background())
	require.NoError(t, err)
	errs := make(chan error, 4)
	for range cap(errs) {
		go func() { errs <- n.Close() }()
	}
	first := 0
	for range cap(errs) {
		if err := <-errs; err != nil {
			require.ErrorIs(t, err, node.ErrClosed, "a Close that is not the first")
		} else {
			first++
		}
	}
	require.Equal(t, 1, first, "exactly one of concurrent Closes is the first and returns nil")
	require.ErrorIs(t, n.Close(), node.ErrClosed, "a later Close")
	_, err = n.Get(context.Background(), []byte("k"))
	require.ErrorIs(t, err, node.ErrClosed)
	_, err = n.Put(context.Background(), []byte("k"), []byte("v"))
	require.ErrorIs(t, err, node.ErrClosed)
	require.ErrorIs(t, n.Bootstrap(context.Background()), node.ErrClosed)
}

func TestParseModeReadsWhatStringWrites(t *testing.T) {
	for _, m := range append(node.Modes(), node.Mixed(1), node.Mixed(7), node.Mixed(255)) {
		got, err := node.ParseMode(m.String())
		require.NoError(t, err)
		require.Equal(t, m, got)
	}
	_, err := node.ParseMode("sideways")
	require.ErrorIs(t, err, node.ErrConfig)
}

func TestBuildRefusesRetriesOtherThanNoRetriesBelowZeroAndAboveTen(t *testing.T) {
	for _, n := range []int{-2, 11} {
		_, err := node.NewBuilder().Retries(n).Build(context.Background())
		require.ErrorIs(t, err, node.ErrConfig, "Retries(%d)", n)
		require.ErrorContains(t, err, "NoRetries")
	}
}

func TestAMixedModeOutOfRangeIsAnErrorWhereverItIsUsed(t *testing.T) {
	ctx := context.Background()
	for _, hops := range []int{-1, 0, 256, 1000} {
		m := node.Mixed(hops)
		_, err := node.NewBuilder().Mode(m).Build(ctx)
		require.ErrorIs(t, err, node.ErrConfig, "Build with %v", m)
		require.ErrorContains(t, err, "proxied hops must be between 1 and 255")
		_, err = node.ParseMode(m.String())
		require.ErrorIs(t, err, node.ErrConfig, "ParseMode(%q)", m)
	}

	n, err := node.NewBuilder().Build(ctx)
	require.NoError(t, err)
	defer n.Close()
	bad := node.WithMode(node.Mixed(0))
	_, err = n.Get(ctx, []byte("k"), bad)
	require.ErrorIs(t, err, node.ErrConfig, "Get")
	_, err = n.Put(ctx, []byte("k"), []byte("v"), bad)
	require.ErrorIs(t, err, node.ErrConfig, "Put")
	_, err = n.FindPeer(ctx, btRandomID(t), bad)
	require.ErrorIs(t, err, node.ErrConfig, "FindPeer")
}

func TestBuildOnABusyPortNamesTheAddressOnce(t *testing.T) {
	ctx := context.Background()
	for _, proto := range []string{"udp", "tcp"} {
		first, err := node.NewBuilder().ListenString("/ip4/127.0.0.1/" + proto + "/0").Build(ctx)
		require.NoError(t, err)
		defer first.Close()
		busy := first.Addrs()[0].String()
		_, err = node.NewBuilder().ListenString(busy).Build(ctx)
		require.Error(t, err)
		require.Equal(t, 1, strings.Count(err.Error(), busy), "%s: %v", proto, err)
		require.Equal(t, proto+": listen on "+busy+": bind: address already in use", err.Error())
	}
}
