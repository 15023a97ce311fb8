package node_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/kademlia"
	"github.com/dhtkit/dhtkit/transport/mem"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/assert"
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

// deadHopNet builds 20 nodes, each joined once through the first, as
// dhtnode serve processes join (so the early ones know few peers), puts
// values through them, crashes a third of them, the first among them, and
// returns two getters: a client bootstrapped from a survivor, and a
// survivor.
func deadHopNet(t *testing.T) (getters []*node.Node, keys [][]byte) {
	const size, values = 20, 16
	crashed := (size + 2) / 3
	// k exceeds the crashed count: every value keeps a replica.
	configure := func(b *node.Builder) { b.K(crashed + 1).RPCTimeout(deadHopRPCTimeout) }
	net := mem.NewNetwork(mem.Options{})
	t.Cleanup(func() { _ = net.Close() })
	ctx := context.Background()
	var nodes []*node.Node
	for i := range size {
		nodes = append(nodes, newMemNode(t, net, 1000+i, configure))
	}
	var wg sync.WaitGroup
	for _, n := range nodes[1:] {
		wg.Go(func() { assert.NoError(t, n.Bootstrap(ctx, nodes[0].Addrs()...)) })
	}
	wg.Wait()
	for i := range values {
		key := fmt.Appendf(nil, "dead-hop-%d", i)
		_, err := nodes[i%size].Put(ctx, key, key, node.WithMode(node.Direct()))
		require.NoError(t, err)
		keys = append(keys, key)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	order := append([]int{0}, rng.Perm(size-1)...)
	for i := range order[1:] {
		order[i+1]++
	}
	for _, i := range order[:crashed] {
		require.NoError(t, net.Crash(nodes[i].Addrs()[0]))
	}
	survivor := nodes[order[crashed]]
	client := newMemNode(t, net, 100, func(b *node.Builder) { configure(b.Client(true)) })
	require.NoError(t, client.Bootstrap(ctx, survivor.Addrs()...))
	return []*node.Node{client, nodes[order[crashed+1]]}, keys
}

// A hop whose table lists, nearer the target than itself, only a dead peer
// must not end the query there: it looks the target up and hands the query
// to the live peers it finds. Here the value lives at R and X, the two
// nodes closest to the key; X dies; S, the third closest and the client's
// first hop, knows X but not R.
func TestAForwardedQueryGoesOnWhereAHopKnowsOnlyDeadPeersNearer(t *testing.T) {
	for _, mode := range mxForwardModes {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			net := mem.NewNetwork(mem.Options{})
			t.Cleanup(func() { _ = net.Close() })
			ctx := context.Background()
			configure := func(b *node.Builder) { b.K(2).RPCTimeout(deadHopRPCTimeout) }
			r := newMemNode(t, net, 2000, configure)
			x := newMemNode(t, net, 2001, configure)
			s := newMemNode(t, net, 2002, func(b *node.Builder) {
				configure(b.Table(func(self peer.ID, k int) (route.Table, error) {
					inner, err := kademlia.New(self, kademlia.Options{K: k})
					return &blindTable{Table: inner, blind: r.ID()}, err
				}))
			})
			others := []*node.Node{newMemNode(t, net, 2003, configure), newMemNode(t, net, 2004, configure)}
			nodes := append([]*node.Node{r, x, s}, others...)
			// A key whose closest nodes are, in this order, R, X and S.
			var key []byte
			for i := 0; key == nil; i++ {
				require.Less(t, i, 100000, "no key orders the nodes as needed")
				k := fmt.Appendf(nil, "dead-end-%d", i)
				id := r.KeyID(k)
				if slices.IsSortedFunc(nodes, func(a, b *node.Node) int { return peer.CompareDistance(id, a.ID(), b.ID()) }) {
					key = k
				}
			}
			for _, n := range []*node.Node{r, x, s, others[1]} {
				require.NoError(t, n.Bootstrap(ctx, others[0].Addrs()...))
			}
			acks, err := others[1].Put(ctx, key, []byte("value"), node.WithMode(node.Direct()))
			require.NoError(t, err)
			require.Equal(t, 2, acks, "stored at R and X")
			require.NoError(t, net.Crash(x.Addrs()[0]))

			client := newMemNode(t, net, 2005, func(b *node.Builder) { configure(b.Client(true)) })
			require.NoError(t, client.Bootstrap(ctx, s.Addrs()...))
			ctx, cancel := context.WithTimeout(ctx, deadHopPatience)
			defer cancel()
			got, err := client.Get(ctx, key, node.WithMode(mode))
			require.NoError(t, err, "S must find R by a lookup when X, the only peer it knows nearer the key, is dead")
			require.Equal(t, []byte("value"), got)
		})
	}
}

// blindTable is a routing table that never learns of one peer.
type blindTable struct {
	route.Table
	blind peer.ID
}

func (t *blindTable) Update(rec *peer.Record, now time.Time) route.Result {
	if rec.ID == t.blind {
		return route.Result{Status: route.Rejected}
	}
	return t.Table.Update(rec, now)
}

// A peer skipped as recently failed gets another chance before a hop ends a
// query for want of peers: here X, the only node nearer the key than S and
// the only replica, fails twice while crashed, then comes back; S, the
// client's first hop, must hand it the query again rather than answer that
// the value is not found until its backoff ends.
func TestAForwardedQueryRetriesAPeerThatFailedLatelyRatherThanEndHere(t *testing.T) {
	for _, mode := range mxForwardModes {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			net := mem.NewNetwork(mem.Options{})
			t.Cleanup(func() { _ = net.Close() })
			ctx := context.Background()
			configure := func(b *node.Builder) { b.K(1).RPCTimeout(deadHopRPCTimeout) }
			nodes := []*node.Node{newMemNode(t, net, 3000, configure), newMemNode(t, net, 3001, configure), newMemNode(t, net, 3002, configure)}
			// X is the node closest to the key, S the next, O the last.
			key := []byte("comeback")
			id := nodes[0].KeyID(key)
			slices.SortFunc(nodes, func(a, b *node.Node) int { return peer.CompareDistance(id, a.ID(), b.ID()) })
			x, s, o := nodes[0], nodes[1], nodes[2]
			for _, n := range []*node.Node{x, s} {
				require.NoError(t, n.Bootstrap(ctx, o.Addrs()...))
			}
			_, err := o.Put(ctx, key, []byte("value"), node.WithMode(node.Direct()))
			require.NoError(t, err)
			client := newMemNode(t, net, 3003, func(b *node.Builder) { configure(b.Client(true)) })
			require.NoError(t, client.Bootstrap(ctx, s.Addrs()...))

			require.NoError(t, net.Crash(x.Addrs()[0]))
			// S fails to reach X twice (a ping, then a lookup's request):
			// X is down for S, but still in its table.
			_, err = client.Get(ctx, key, node.WithMode(mode))
			require.Error(t, err, "the only replica is down")
			require.NoError(t, net.Restart(x.Addrs()[0]))
			ctx, cancel := context.WithTimeout(ctx, deadHopPatience)
			defer cancel()
			got, err := client.Get(ctx, key, node.WithMode(mode))
			require.NoError(t, err, "S must try X again rather than end the query")
			require.Equal(t, []byte("value"), got)
		})
	}
}

// A forwarded value query ends at the peer closest to the key; when that
// peer does not hold the value (here X, which joined after the value was
// stored at S and R, the closest then), it must ask the peers around it
// rather than answer that the value is not found.
func TestAForwardedGetFindsAValueTheClosestPeerDoesNotHold(t *testing.T) {
	for _, mode := range mxForwardModes {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			net := mem.NewNetwork(mem.Options{})
			t.Cleanup(func() { _ = net.Close() })
			ctx := context.Background()
			configure := func(b *node.Builder) {
				// Values at 2 replicas, but buckets that hold everyone.
				b.K(2).RPCTimeout(deadHopRPCTimeout).Table(func(self peer.ID, _ int) (route.Table, error) {
					return kademlia.New(self, kademlia.Options{K: 20})
				})
			}
			var nodes []*node.Node
			for i := range 4 {
				nodes = append(nodes, newMemNode(t, net, 4000+i, configure))
			}
			// X, S, R and O, from the closest to the key to the farthest.
			key := []byte("late-joiner")
			id := nodes[0].KeyID(key)
			slices.SortFunc(nodes, func(a, b *node.Node) int { return peer.CompareDistance(id, a.ID(), b.ID()) })
			x, s, r, o := nodes[0], nodes[1], nodes[2], nodes[3]
			for _, n := range []*node.Node{s, r} {
				require.NoError(t, n.Bootstrap(ctx, o.Addrs()...))
			}
			acks, err := o.Put(ctx, key, []byte("value"), node.WithMode(node.Direct()))
			require.NoError(t, err)
			require.Equal(t, 2, acks, "stored at S and R")
			require.NoError(t, x.Bootstrap(ctx, o.Addrs()...))
			require.Zero(t, x.Stats().Records, "X joined after the put")
			require.Zero(t, o.Stats().Records, "O holds no replica")

			client := newMemNode(t, net, 4004, func(b *node.Builder) { configure(b.Client(true)) })
			require.NoError(t, client.Bootstrap(ctx, o.Addrs()...))
			ctx, cancel := context.WithTimeout(ctx, deadHopPatience)
			defer cancel()
			got, err := client.Get(ctx, key, node.WithMode(mode))
			require.NoError(t, err, "X, where the query ends, must find the value at S or R")
			require.Equal(t, []byte("value"), got)
		})
	}
}

// A forwarded put stores at k live replicas even when one of the peers the
// last hop knows closest to the key is dead: it finds another by a lookup.
func TestAForwardedPutReplacesADeadReplicaWithALiveOne(t *testing.T) {
	for _, mode := range mxForwardModes {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			net := mem.NewNetwork(mem.Options{})
			t.Cleanup(func() { _ = net.Close() })
			ctx := context.Background()
			configure := func(b *node.Builder) {
				b.K(3).RPCTimeout(deadHopRPCTimeout).Table(func(self peer.ID, _ int) (route.Table, error) {
					return kademlia.New(self, kademlia.Options{K: 20})
				})
			}
			var nodes []*node.Node
			for i := range 6 {
				nodes = append(nodes, newMemNode(t, net, 5000+i, configure))
			}
			key := []byte("replace-the-dead")
			id := nodes[0].KeyID(key)
			slices.SortFunc(nodes, func(a, b *node.Node) int { return peer.CompareDistance(id, a.ID(), b.ID()) })
			for _, n := range nodes[:5] {
				require.NoError(t, n.Bootstrap(ctx, nodes[5].Addrs()...))
			}
			// The second closest dies; the last hop, the closest, still
			// lists it among the three closest.
			require.NoError(t, net.Crash(nodes[1].Addrs()[0]))
			client := newMemNode(t, net, 5006, func(b *node.Builder) { configure(b.Client(true)) })
			require.NoError(t, client.Bootstrap(ctx, nodes[5].Addrs()...))
			ctx, cancel := context.WithTimeout(ctx, deadHopPatience)
			defer cancel()
			acks, err := client.Put(ctx, key, []byte("value"), node.WithMode(mode))
			require.NoError(t, err)
			require.Equal(t, 3, acks, "k live replicas, the dead one replaced")
		})
	}
}

// The same after a partition: X, cut off, failed to reach S and R and
// backs off from them; once the partition heals, X, where a forwarded
// query for the value ends, must still ask them.
func TestAForwardedGetAsksPeersThatFailedDuringAHealedPartition(t *testing.T) {
	for _, mode := range mxForwardModes {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			net := mem.NewNetwork(mem.Options{})
			t.Cleanup(func() { _ = net.Close() })
			ctx := context.Background()
			configure := func(b *node.Builder) {
				b.K(2).RPCTimeout(deadHopRPCTimeout).Table(func(self peer.ID, _ int) (route.Table, error) {
					return kademlia.New(self, kademlia.Options{K: 20})
				})
			}
			var nodes []*node.Node
			for i := range 4 {
				nodes = append(nodes, newMemNode(t, net, 7000+i, configure))
			}
			key := []byte("healed")
			id := nodes[0].KeyID(key)
			slices.SortFunc(nodes, func(a, b *node.Node) int { return peer.CompareDistance(id, a.ID(), b.ID()) })
			x, s, r, o := nodes[0], nodes[1], nodes[2], nodes[3]
			for _, n := range []*node.Node{s, r} {
				require.NoError(t, n.Bootstrap(ctx, o.Addrs()...))
			}
			acks, err := o.Put(ctx, key, []byte("value"), node.WithMode(node.Direct()))
			require.NoError(t, err)
			require.Equal(t, 2, acks, "stored at S and R")
			require.NoError(t, x.Bootstrap(ctx, o.Addrs()...))

			require.NoError(t, net.Partition([]ma.Multiaddr{x.Addrs()[0]}, []ma.Multiaddr{s.Addrs()[0], r.Addrs()[0], o.Addrs()[0]}))
			_, err = x.Get(ctx, key, node.WithMode(node.Direct()))
			require.Error(t, err, "X is cut off")
			net.Heal()

			client := newMemNode(t, net, 7004, func(b *node.Builder) { configure(b.Client(true)) })
			require.NoError(t, client.Bootstrap(ctx, o.Addrs()...))
			ctx, cancel := context.WithTimeout(ctx, deadHopPatience)
			defer cancel()
			got, err := client.Get(ctx, key, node.WithMode(mode))
			require.NoError(t, err, "X must ask S and R again once the partition heals")
			require.Equal(t, []byte("value"), got)
		})
	}
}

// The originator of a forwarded query may have one first hop, its
// bootstrap peer: when the answer is slow and the ping that checks the
// first hop lives is lost, the originator must ping again, not give the
// query up.
func TestAForwardedGetSurvivesALostPingToItsOnlyFirstHop(t *testing.T) {
	for _, mode := range mxForwardModes {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			net := mem.NewNetwork(mem.Options{})
			t.Cleanup(func() { _ = net.Close() })
			ctx := context.Background()
			configure := func(b *node.Builder) { b.K(1).RPCTimeout(deadHopRPCTimeout) }
			nodes := []*node.Node{newMemNode(t, net, 8000, configure), newMemNode(t, net, 8001, configure)}
			key := []byte("slow-path")
			id := nodes[0].KeyID(key)
			slices.SortFunc(nodes, func(a, b *node.Node) int { return peer.CompareDistance(id, a.ID(), b.ID()) })
			x, s := nodes[0], nodes[1] // X holds the value, S is the client's first hop
			// The path beyond S is slow: S's answer comes after the
			// client's adaptive timeout for S, and the client pings S.
			slow := mem.LinkConfig{Latency: deadHopRPCTimeout * 3 / 8}
			require.NoError(t, net.SetLink(s.Addrs()[0], x.Addrs()[0], slow))
			require.NoError(t, net.SetLink(x.Addrs()[0], s.Addrs()[0], slow))
			require.NoError(t, x.Bootstrap(ctx, s.Addrs()...))
			_, err := s.Put(ctx, key, []byte("value"), node.WithMode(node.Direct()))
			require.NoError(t, err)

			ep, err := net.Listen(nil)
			require.NoError(t, err)
			lossy := &resendDropper{Transport: ep, kind: msgenc.KindPing, codec: cbor.New()}
			client, err := node.NewBuilder().Identity(seedIdentity(t, 8002)).Transport(lossy).Client(true).K(1).
				RPCTimeout(deadHopRPCTimeout).Build(ctx)
			require.NoError(t, err)
			t.Cleanup(func() { _ = client.Close() })
			require.NoError(t, client.Bootstrap(ctx, s.Addrs()...))
			lossy.left.Store(1) // the first ping after bootstrap is lost

			ctx, cancel := context.WithTimeout(ctx, deadHopPatience)
			defer cancel()
			got, err := client.Get(ctx, key, node.WithMode(mode))
			require.NoError(t, err, "one lost ping must not make the originator give up its only first hop")
			require.Equal(t, []byte("value"), got)
		})
	}
}
