package node_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/kvstore/bbolt"
	"github.com/dhtkit/dhtkit/kvstore/memory"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/bencode"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/msgenc/json"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/kademlia"
	"github.com/dhtkit/dhtkit/route/toymap"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/stretchr/testify/require"
)

// The composition matrix: every built-in routing table, transport, store
// and codec, combined every way, must make a working network.

// mxPart is one named choice of a plug-in point. apply sets it on the
// builder of node i; the mem network is shared by the nodes of one
// combination.
type mxPart struct {
	name  string
	apply func(t *testing.T, b *node.Builder, net *mem.Network, i int)
}

var mxRoutes = []mxPart{
	{"kademlia", func(_ *testing.T, b *node.Builder, _ *mem.Network, _ int) {
		b.Table(func(self peer.ID, k int) (route.Table, error) { return kademlia.New(self, kademlia.Options{K: k}) })
	}},
	{"toymap", func(_ *testing.T, b *node.Builder, _ *mem.Network, _ int) {
		b.Table(func(self peer.ID, _ int) (route.Table, error) { return toymap.New(self, toymap.Options{}) })
	}},
}

var mxTransports = []mxPart{
	{"udp", func(_ *testing.T, b *node.Builder, _ *mem.Network, _ int) { b.ListenString("/ip4/127.0.0.1/udp/0") }},
	{"tcp", func(_ *testing.T, b *node.Builder, _ *mem.Network, _ int) { b.ListenString("/ip4/127.0.0.1/tcp/0") }},
	{"mem", func(t *testing.T, b *node.Builder, net *mem.Network, _ int) {
		ep, err := net.Listen(nil)
		require.NoError(t, err)
		b.Transport(ep)
	}},
}

var mxStores = []mxPart{
	{"memory", func(_ *testing.T, b *node.Builder, _ *mem.Network, _ int) { b.Store(memory.New(memory.Options{})) }},
	{"bbolt", func(t *testing.T, b *node.Builder, _ *mem.Network, i int) {
		s, err := bbolt.Open(filepath.Join(t.TempDir(), fmt.Sprintf("node-%d.db", i)), bbolt.Options{})
		require.NoError(t, err)
		b.Store(s)
	}},
}

var mxCodecs = []mxPart{
	{"json", func(_ *testing.T, b *node.Builder, _ *mem.Network, _ int) { b.Codec(json.New()) }},
	{"cbor", func(_ *testing.T, b *node.Builder, _ *mem.Network, _ int) { b.Codec(cbor.New()) }},
	{"bencode", func(_ *testing.T, b *node.Builder, _ *mem.Network, _ int) { b.Codec(bencode.New()) }},
}

const (
	mxNodes = 5
	// mxK is small so that a value lives on a few nodes only and a Get from
	// the others must cross the network.
	mxK = 2
)

// mxBuild builds one node of a combination. The node owns its store and
// transports; Build leaves a store it was given to the caller on error.
func mxBuild(t *testing.T, net *mem.Network, i int, parts ...mxPart) *node.Node {
	t.Helper()
	b := node.NewBuilder().Identity(seedIdentity(t, i)).K(mxK).RPCTimeout(time.Second)
	for _, p := range parts {
		p.apply(t, b, net, i)
	}
	n, err := b.Build(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, n.Close()) })
	return n
}

func TestEveryCompositionOfBuiltInPartsPutsGetsAndFindsPeers(t *testing.T) {
	for _, rt := range mxRoutes {
		for _, tr := range mxTransports {
			for _, st := range mxStores {
				for _, cd := range mxCodecs {
					t.Run(rt.name+"/"+tr.name+"/"+st.name+"/"+cd.name, func(t *testing.T) {
						t.Parallel() // each combination owns its sockets, files and nodes
						mxCheckComposition(t, tr.name, rt, tr, st, cd)
					})
				}
			}
		}
	}
}

// mxCheckComposition builds a network of one combination and proves that a
// value put by one node is got by a node that does not hold it, directly
// and proxied, and that a node finds another's record with its addresses.
func mxCheckComposition(t *testing.T, proto string, parts ...mxPart) {
	net := mem.NewNetwork(mem.Options{})
	t.Cleanup(func() { _ = net.Close() })
	nodes := make([]*node.Node, mxNodes)
	for i := range nodes {
		nodes[i] = mxBuild(t, net, i, parts...)
		if proto != "mem" {
			require.Contains(t, nodes[i].Addrs()[0].String(), "/"+proto+"/", "node listens on the transport of the combination")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 2 { // the second round lets early joiners learn of later ones
		for _, n := range nodes[1:] {
			require.NoError(t, n.Bootstrap(ctx, nodes[0].Addrs()[0]))
		}
	}

	key, val := []byte("matrix key"), []byte("matrix value")
	acks, err := nodes[1].Put(ctx, key, val)
	require.NoError(t, err)
	require.GreaterOrEqual(t, acks, mxK, "a put in a network of %d reaches k=%d replicas", mxNodes, mxK)

	// The store of the combination holds the replicas: count them through
	// Stats, which asks each node's store.
	var holders, others []*node.Node
	for _, n := range nodes {
		switch r := n.Stats().Records; r {
		case 0:
			others = append(others, n)
		case 1:
			holders = append(holders, n)
		default:
			t.Fatalf("node %s holds %d records, want 0 or 1", n.ID().Short(), r)
		}
	}
	require.Len(t, holders, acks, "every acknowledged replica is in a store")
	require.NotEmpty(t, others, "with k=%d some of %d nodes must not hold the value", mxK, mxNodes)

	getter := others[0]
	var tr node.Trace
	got, err := getter.Get(ctx, key, node.WithTrace(&tr))
	require.NoError(t, err)
	require.Equal(t, val, got)
	require.Positive(t, tr.RPCs, "the value came over the network, not from the getter's store")

	got, err = others[len(others)-1].Get(ctx, key, node.WithMode(node.Proxied()))
	require.NoError(t, err, "proxied get")
	require.Equal(t, val, got)

	for i, a := range nodes {
		b := nodes[(i+2)%len(nodes)]
		rec, err := a.FindPeer(ctx, b.ID())
		require.NoError(t, err)
		require.Equal(t, b.ID(), rec.ID)
		require.Equal(t, b.Addrs(), rec.Addrs, "found record carries the peer's addresses")
	}
	for _, n := range nodes {
		require.Zero(t, n.Stats().Dropped[node.DropDecode], "node %s dropped frames it could not decode", n.ID().Short())
	}
}

func TestNodesWithDifferentCodecsDoNotInteroperate(t *testing.T) {
	codecs := []msgenc.Codec{json.New(), cbor.New(), bencode.New()}
	for _, server := range codecs {
		for _, joiner := range codecs {
			if server.Name() == joiner.Name() {
				continue
			}
			t.Run(joiner.Name()+"-joins-"+server.Name(), func(t *testing.T) {
				t.Parallel()
				net := mem.NewNetwork(mem.Options{})
				t.Cleanup(func() { _ = net.Close() })
				s := newMemNode(t, net, 0, func(b *node.Builder) { b.Codec(server).RPCTimeout(150 * time.Millisecond).Retries(node.NoRetries) })
				j := newMemNode(t, net, 1, func(b *node.Builder) { b.Codec(joiner).RPCTimeout(150 * time.Millisecond).Retries(node.NoRetries) })

				err := j.Bootstrap(context.Background(), s.Addrs()[0])
				require.ErrorIs(t, err, node.ErrBootstrap)
				require.True(t, errors.Is(err, node.ErrTimeout), "the server never answers a frame it cannot read: %v", err)
				require.Eventually(t, func() bool { return s.Stats().Dropped[node.DropDecode] >= 1 }, 5*time.Second, time.Millisecond,
					"the %s node counts the %s frame as a decode drop", server.Name(), joiner.Name())
				require.Zero(t, s.Stats().Served, "the server served nothing")
				require.Zero(t, s.Stats().TableSize, "the joiner did not enter the server's table")
				require.Zero(t, j.Stats().TableSize)
			})
		}
	}
}
