package node_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/toymap"
	"github.com/dhtkit/dhtkit/transport/mem"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
)

// Forwarded routing (proxied, direct reply, mixed) must not assume Kademlia
// geometry: it has to work over the toy map and over tables whose Closest
// is not ordered by XOR distance at all.

// mxForwardModes are the modes in which a query is forwarded hop by hop.
var mxForwardModes = []node.Mode{node.Proxied(), node.DirectReply(), node.Mixed(2)}

// mxTrustTable is a routing table ordered by trust, not by distance: Closest
// ranks the peers this node trusts more first whatever the target, ties by
// XOR distance. Each node has its own scores, so no two nodes agree on an
// order and no order agrees with the key space.
type mxTrustTable struct {
	*toymap.Table
	score func(peer.ID) int
}

var (
	_ route.Table    = (*mxTrustTable)(nil)
	_ route.Ordering = (*mxTrustTable)(nil)
)

// XOROrdered tells the node this table ranks by trust, not distance.
func (*mxTrustTable) XOROrdered() bool { return false }

func mxNewTrustTable(self peer.ID) (*mxTrustTable, error) {
	inner, err := toymap.New(self, toymap.Options{})
	if err != nil {
		return nil, err
	}
	return &mxTrustTable{Table: inner, score: func(id peer.ID) int {
		h := sha256.Sum256(append(self.Bytes(), id.Bytes()...))
		return int(h[0])
	}}, nil
}

// Closest orders every peer by descending score, ties by XOR distance.
func (t *mxTrustTable) Closest(target peer.ID, n int) []*peer.Record {
	all := t.Table.Closest(target, t.Table.Len())
	slices.SortStableFunc(all, func(a, b *peer.Record) int { return t.score(b.ID) - t.score(a.ID) })
	return all[:min(n, len(all))]
}

// mxTables remembers the table each node was built with, by node ID.
type mxTables struct {
	mu sync.Mutex
	m  map[peer.ID]route.Table
}

func (ts *mxTables) keep(self peer.ID, t route.Table) route.Table {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.m == nil {
		ts.m = make(map[peer.ID]route.Table)
	}
	ts.m[self] = t
	return t
}

func (ts *mxTables) of(id peer.ID) route.Table {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.m[id]
}

// mxFullMesh builds size nodes with the given table and k, and makes every
// node know every other: node i bootstraps from all nodes before it.
func mxFullMesh(t *testing.T, size, k int, table node.TableFunc, configure ...func(*node.Builder)) []*node.Node {
	net := mem.NewNetwork(mem.Options{})
	t.Cleanup(func() { _ = net.Close() })
	nodes := make([]*node.Node, size)
	for i := range nodes {
		nodes[i] = newMemNode(t, net, 100+i, func(b *node.Builder) {
			b.Table(table).K(k)
			for _, c := range configure {
				c(b)
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, n := range nodes[1:] {
		addrs := make([]ma.Multiaddr, 0, i+1)
		for _, m := range nodes[:i+1] {
			addrs = append(addrs, m.Addrs()[0])
		}
		require.NoError(t, n.Bootstrap(ctx, addrs...))
	}
	for _, n := range nodes {
		require.Equal(t, size-1, n.Stats().TableSize, "node %s knows every other node", n.ID().Short())
	}
	return nodes
}

// mxCheckForwarded proves that in every forwarded mode a value put by one
// node is got by every node, among them nodes that must fetch it over the
// network, and that a node that has forgotten a peer finds it again.
// It returns the most hops any Put or Get took.
func mxCheckForwarded(t *testing.T, nodes []*node.Node, tables *mxTables) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	maxHops := 0
	for mi, mode := range mxForwardModes {
		for ki := range mxKeysPerMode {
			key := []byte(fmt.Sprintf("forwarded key %d/%d", mi, ki))
			val := []byte(fmt.Sprintf("forwarded value %d via %s", ki, mode))
			before := mxRecords(nodes)
			var tr node.Trace
			acks, err := nodes[(mi*mxKeysPerMode+ki)%len(nodes)].Put(ctx, key, val, node.WithMode(mode), node.WithTrace(&tr))
			require.NoError(t, err, "put via %s", mode)
			require.Positive(t, acks)
			maxHops = max(maxHops, tr.Hops)
			holders := mxRecords(nodes) - before
			require.Less(t, holders, len(nodes), "%s: the value lives on some nodes only, so gets must search", mode)

			remote := 0
			for i, n := range nodes {
				var tr node.Trace
				got, err := n.Get(ctx, key, node.WithMode(mode), node.WithTrace(&tr))
				require.NoError(t, err, "%s: node %d gets %q", mode, i, key)
				require.Equal(t, val, got)
				if tr.RPCs > 0 {
					remote++
					require.Positive(t, tr.Hops, "%s: a remote answer took at least one hop", mode)
					maxHops = max(maxHops, tr.Hops)
				}
			}
			require.GreaterOrEqual(t, remote, len(nodes)-holders, "%s: every node without the value fetched it", mode)
		}
	}
	// FindPeer last: it makes nodes forget peers, which lengthens paths.
	for _, mode := range mxForwardModes {
		for i, a := range nodes {
			b := nodes[(i+5)%len(nodes)]
			// a forgets b, so only the forwarded query can find it.
			tables.of(a.ID()).Remove(b.ID())
			var tr node.Trace
			rec, err := a.FindPeer(ctx, b.ID(), node.WithMode(mode), node.WithTrace(&tr))
			require.NoError(t, err, "%s: node %d finds node %d", mode, i, (i+5)%len(nodes))
			require.Equal(t, b.ID(), rec.ID)
			require.Equal(t, b.Addrs(), rec.Addrs)
			require.Positive(t, tr.RPCs, "%s: the record came over the network", mode)
		}
	}
	return maxHops
}

// mxKeysPerMode is how many values each forwarded mode puts and gets.
const mxKeysPerMode = 4

// mxRecords sums the records every node's store holds.
func mxRecords(nodes []*node.Node) int {
	sum := 0
	for _, n := range nodes {
		sum += n.Stats().Records
	}
	return sum
}

func TestForwardedModesWorkOverTheToyMap(t *testing.T) {
	var tables mxTables
	nodes := mxFullMesh(t, 12, 3, func(self peer.ID, _ int) (route.Table, error) {
		tb, err := toymap.New(self, toymap.Options{})
		return tables.keep(self, tb), err
	})
	hops := mxCheckForwarded(t, nodes, &tables)
	t.Logf("longest put or get: %d hops", hops)
	// Every node knows every other, and the toy map is ordered by XOR: the
	// first hop is already the closest node, so queries converge at once
	// instead of wandering over the hop budget.
	require.LessOrEqual(t, hops, 2, "queries over an XOR-ordered table converge")
}

func TestForwardedModesWorkOverATrustOrderedTable(t *testing.T) {
	var tables mxTables
	nodes := mxFullMesh(t, 12, 3, func(self peer.ID, _ int) (route.Table, error) {
		tb, err := mxNewTrustTable(self)
		return tables.keep(self, tb), err
	})
	// The table really is not ordered by distance, else this test proves
	// nothing about other orders.
	n0 := nodes[0]
	target := n0.KeyID([]byte("any target"))
	order := tables.of(n0.ID()).Closest(target, len(nodes))
	require.False(t, slices.IsSortedFunc(order, func(a, b *peer.Record) int { return peer.CompareDistance(target, a.ID, b.ID) }),
		"the trust table's order differs from XOR order")

	hops := mxCheckForwarded(t, nodes, &tables)
	t.Logf("longest put or get: %d hops", hops)
	// The order says nothing of convergence, so a put walks until no
	// unvisited peer is left; the visited list makes every hop a different
	// node (the originator, not listed, may be one of them).
	require.LessOrEqual(t, hops, len(nodes), "no node is a hop of one query twice")
}

func TestTheHopBudgetBoundsQueriesOverATrustOrderedTable(t *testing.T) {
	const budget = 3
	var tables mxTables
	nodes := mxFullMesh(t, 12, 3, func(self peer.ID, _ int) (route.Table, error) {
		tb, err := mxNewTrustTable(self)
		return tables.keep(self, tb), err
	}, func(b *node.Builder) { b.HopBudget(budget).HopKeep(node.NoHopKeep) })
	ctx := context.Background()
	for _, mode := range mxForwardModes {
		// Nothing holds this key and the order never converges: only the
		// budget stops the walk.
		var tr node.Trace
		_, err := nodes[1].Get(ctx, []byte("nobody stored this"), node.WithMode(mode), node.WithTrace(&tr))
		require.ErrorIs(t, err, node.ErrNotFound, "%s", mode)
		require.LessOrEqual(t, tr.Hops, budget+1, "%s: a query takes at most the budget's hops past the first", mode)

		acks, err := nodes[2].Put(ctx, []byte("budgeted "+mode.String()), []byte("v"), node.WithMode(mode), node.WithTrace(&tr))
		require.NoError(t, err, "%s: a put whose budget runs out stores where it stopped", mode)
		require.Positive(t, acks)
		require.Equal(t, budget+1, tr.Hops, "%s: the put walked exactly its budget", mode)
	}
}
