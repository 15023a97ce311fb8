package node_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/stretchr/testify/require"
)

func TestARestartedNodeRejoinsWithoutBootstrapAndKeepsRepublishing(t *testing.T) {
	tn := newTestNet(t, 6, mem.Options{}, func(b *node.Builder) { b.K(2) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	state := filepath.Join(t.TempDir(), "x.state")
	id := seedIdentity(t, 77)
	start := func() *node.Node {
		ep, err := tn.net.Listen(nil)
		require.NoError(t, err)
		n, err := node.NewBuilder().Identity(id).Transport(ep).K(2).RPCTimeout(500 * time.Millisecond).
			RepublishInterval(100 * time.Millisecond).StateFile(state).Build(ctx)
		require.NoError(t, err)
		t.Cleanup(func() { _ = n.Close() })
		return n
	}
	x := start()
	require.NoError(t, x.Bootstrap(ctx, tn.nodes[0].Addrs()[0]))
	key := []byte("x's value")
	_, err := x.Put(ctx, key, []byte("kept"))
	require.NoError(t, err)
	require.NoError(t, x.Close())

	// While x is down, every replica of its value goes away.
	for _, n := range tn.nodes {
		if n.Stats().Records > 0 {
			require.NoError(t, n.Close())
		}
	}
	var alive []*node.Node
	for _, n := range tn.nodes {
		if _, err := n.FindPeer(ctx, n.ID()); err == nil {
			alive = append(alive, n)
		}
	}
	require.NotEmpty(t, alive)

	again := start()
	require.NoError(t, again.Bootstrap(ctx), "a restarted node rejoins through its saved contacts")
	require.Positive(t, again.Stats().TableSize)
	// Its value comes back to the network with its next republish.
	btEventually(t, func() bool {
		got, err := alive[0].Get(ctx, key)
		return err == nil && string(got) == "kept"
	}, "the restarted node did not republish its value")
}

func TestACorruptStateFileIsReportedAndIgnored(t *testing.T) {
	state := filepath.Join(t.TempDir(), "x.state")
	require.NoError(t, os.WriteFile(state, []byte("not a state file"), 0o600))
	var logs lockedBuffer
	n, err := node.NewBuilder().StateFile(state).Logger(logs.logger()).Build(context.Background())
	require.NoError(t, err, "a corrupt state file is never fatal")
	t.Cleanup(func() { _ = n.Close() })
	require.Contains(t, logs.String(), "state file ignored")
	err = n.Bootstrap(context.Background())
	require.ErrorIs(t, err, node.ErrBootstrap)
	require.Contains(t, err.Error(), "no saved contacts")
}

// lockedBuffer collects a node's logs, safe for its goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }
