package node_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/stretchr/testify/require"
)

func TestCloseLeavesNoGoroutineBehind(t *testing.T) {
	baseline := runtime.NumGoroutine()
	func() {
		net := mem.NewNetwork(mem.Options{})
		defer net.Close()
		var nodes []*node.Node
		for range 6 {
			ep, err := net.Listen(nil)
			require.NoError(t, err)
			n, err := node.NewBuilder().Transport(ep).K(3).Build(context.Background())
			require.NoError(t, err)
			nodes = append(nodes, n)
		}
		udp, err := node.NewBuilder().ListenString("/ip4/127.0.0.1/udp/0", "/ip4/127.0.0.1/tcp/0").Build(context.Background())
		require.NoError(t, err)
		udp2, err := node.NewBuilder().ListenString("/ip4/127.0.0.1/tcp/0").Build(context.Background())
		require.NoError(t, err)
		_, err = udp2.Ping(context.Background(), udp.Addrs()[1])
		require.NoError(t, err)
		ctx := context.Background()
		for _, n := range nodes[1:] {
			require.NoError(t, n.Bootstrap(ctx, nodes[0].Addrs()[0]))
		}
		// Exercise the paths that start goroutines: forwards in every mode and
		// eviction pings (k=3 buckets fill).
		for i, m := range node.Modes() {
			key := []byte(fmt.Sprint("k", i))
			_, _ = nodes[1].Put(ctx, key, []byte("v"), node.WithMode(m))
			_, _ = nodes[2].Get(ctx, key, node.WithMode(m))
		}
		for _, n := range append(nodes, udp, udp2) {
			require.NoError(t, n.Close())
		}
	}()
	deadline := time.Now().Add(btWait)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines outlive Close (baseline %d):\n%s",
				runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
	}
}

func TestCloseEndsCallsInFlightWithErrClosed(t *testing.T) {
	net := btNet(t)
	a := btNode(t, net, nil, func(b *node.Builder) { b.RPCTimeout(time.Hour) })
	silent := btNewRaw(t, net) // answers the introduction, then nothing
	silent.introduce(a.Addrs()[0])

	target := btRandomID(t)
	calls := map[string]func(context.Context) error{
		"ping": func(ctx context.Context) error { _, err := a.Ping(ctx, silent.addr()); return err },
		"find-peer": func(ctx context.Context) error {
			_, err := a.FindPeer(ctx, target)
			return err
		},
		"put": func(ctx context.Context) error { _, err := a.Put(ctx, []byte("k"), []byte("v")); return err },
	}
	for _, m := range node.Modes() {
		calls["get "+m.String()] = func(ctx context.Context) error {
			_, err := a.Get(ctx, []byte("k"), node.WithMode(m))
			return err
		}
	}
	errs := make(chan error, len(calls))
	for _, call := range calls {
		go func() { errs <- call(context.Background()) }()
	}
	for range calls {
		silent.recv() // every call is waiting on the silent peer
	}
	closed := make(chan error, 1)
	go func() { closed <- a.Close() }()
	timeout := time.After(btWait)
	for i := range len(calls) {
		select {
		case err := <-errs:
			require.ErrorIs(t, err, node.ErrClosed, "call %d", i)
		case <-timeout:
			t.Fatalf("only %d of %d calls returned after Close", i, len(calls))
		}
	}
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-timeout:
		t.Fatal("Close did not return")
	}
}

func TestStatsCountTheRPCsAndLookupsOfAGet(t *testing.T) {
	net := btNet(t)
	var servers []*node.Node
	for range 24 {
		servers = append(servers, btNode(t, net, nil, func(b *node.Builder) { b.K(4) }))
	}
	ctx := context.Background()
	for _, n := range servers[1:] {
		require.NoError(t, n.Bootstrap(ctx, servers[0].Addrs()[0]))
	}
	_, err := servers[0].Put(ctx, []byte("k"), []byte("v"))
	require.NoError(t, err)
	// A client holds no replica and is in no one's table, so nothing but
	// its own calls moves its counters; with k above the network's size its
	// buckets never fill, so it sends no eviction pings either.
	getter := btNode(t, net, nil, func(b *node.Builder) { b.Client(true).K(30) })
	require.NoError(t, getter.Bootstrap(ctx, servers[5].Addrs()[0]))

	before := getter.Stats()
	var tr node.Trace
	got, err := getter.Get(ctx, []byte("k"), node.WithTrace(&tr))
	require.NoError(t, err)
	require.Equal(t, []byte("v"), got)
	after := getter.Stats()
	require.Positive(t, tr.RPCs)
	require.Positive(t, tr.Hops)
	require.Equal(t, before.Lookups.Count+1, after.Lookups.Count)
	require.Equal(t, before.Lookups.Failed, after.Lookups.Failed)
	require.Equal(t, before.Lookups.RPCs+uint64(tr.RPCs), after.Lookups.RPCs)
	require.Equal(t, before.Lookups.Hops+uint64(tr.Hops), after.Lookups.Hops)
	require.GreaterOrEqual(t, after.Lookups.MaxHops, tr.Hops)
	// A lookup does not wait for requests it no longer needs: they are
	// counted as their goroutines run.
	btEventually(t, func() bool { return getter.Stats().Requests == before.Requests+uint64(tr.RPCs) }, "one request per lookup RPC")
	after = getter.Stats()
	// Requests still in flight when the value arrives are cancelled, maybe
	// before they are sent.
	require.Greater(t, after.RPCsSent, before.RPCsSent)
	require.LessOrEqual(t, after.RPCsSent, before.RPCsSent+uint64(tr.RPCs), "no retries on a lossless network")
	require.Greater(t, after.RPCsReceived, before.RPCsReceived)

	_, err = getter.Get(ctx, []byte("nobody stored this"))
	require.ErrorIs(t, err, node.ErrNotFound)
	last := getter.Stats()
	require.Equal(t, after.Lookups.Count+1, last.Lookups.Count)
	require.Equal(t, after.Lookups.Failed+1, last.Lookups.Failed, "a lookup that finds nothing counts as failed")
	require.Greater(t, last.Lookups.RPCs, after.Lookups.RPCs)
}
