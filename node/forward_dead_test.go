package node_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/stretchr/testify/require"
)

// deadHopRPCTimeout makes the hop timeout (deadHopRPCTimeout × 21 with the
// default hop budget of 20) far longer than deadHopPatience, so that a
// forwarded query that waited out a hop timeout on a dead next hop could
// never finish in time.
const (
	deadHopRPCTimeout = 400 * time.Millisecond
	deadHopPatience   = 3 * time.Second
)

// A third of the nodes crash without warning. A forwarded query whose next
// hop is one of them must find that out within a few of that hop's
// adaptive timeouts, by pinging it, and go on through another peer; it must
// not wait out the hop timeout. Each mode gets a network of its own, so
// that no mode profits from what another taught the survivors. Both kinds
// of getter are checked: a client that starts from one survivor, and a
// survivor whose own table still lists the dead.
func TestForwardedQueriesRouteAroundDeadHops(t *testing.T) {
	for _, mode := range mxForwardModes {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			getters, keys := deadHopNet(t)
			for _, getter := range getters {
				for _, key := range keys {
					ctx, cancel := context.WithTimeout(context.Background(), deadHopPatience)
					start := time.Now()
					got, err := getter.Get(ctx, key, node.WithMode(mode))
					cancel()
					require.NoError(t, err, "get %s after %v: a dead next hop must cost a few adaptive timeouts, not a %v hop timeout",
						key, time.Since(start), deadHopRPCTimeout*21)
					require.Equal(t, key, got)
				}
			}
		})
	}
}

// deadHopNet builds 20 nodes, puts values through them, crashes a third of
// them, and returns two getters: a client bootstrapped from a survivor,
// and a survivor.
func deadHopNet(t *testing.T) (getters []*node.Node, keys [][]byte) {
	const size, values = 20, 8
	crashed := size / 3
	// k exceeds the crashed count: every value keeps a replica.
	configure := func(b *node.Builder) { b.K(crashed + 1).RPCTimeout(deadHopRPCTimeout) }
	tn := newTestNet(t, size, mem.Options{}, configure)
	ctx := context.Background()
	for i := range values {
		key := fmt.Appendf(nil, "dead-hop-%d", i)
		_, err := tn.nodes[i%size].Put(ctx, key, key, node.WithMode(node.Direct()))
		require.NoError(t, err)
		keys = append(keys, key)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	order := rng.Perm(size - 1) // node 0 is the client's seed and lives
	for _, i := range order[:crashed] {
		require.NoError(t, tn.net.Crash(tn.nodes[i+1].Addrs()[0]))
	}
	client := newMemNode(t, tn.net, 100, func(b *node.Builder) { configure(b.Client(true)) })
	require.NoError(t, client.Bootstrap(ctx, tn.nodes[0].Addrs()...))
	return []*node.Node{client, tn.nodes[order[crashed]+1]}, keys
}
