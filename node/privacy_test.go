package node_test

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/toymap"
	"github.com/dhtkit/dhtkit/transport"
	"github.com/dhtkit/dhtkit/transport/mem"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
)

// What a far node learns of the originator: in proxied routing only the
// first hop ever hears from it or sees its address; in direct reply the
// holder is told where to answer.

// mxRecorder is a transport that keeps a copy of every frame it receives.
type mxRecorder struct {
	transport.Transport
	mu  sync.Mutex
	got []transport.Packet
}

var _ transport.Transport = (*mxRecorder)(nil)

func (r *mxRecorder) Receive(ctx context.Context) (transport.Packet, error) {
	p, err := r.Transport.Receive(ctx)
	if err == nil {
		r.mu.Lock()
		r.got = append(r.got, transport.Packet{From: p.From, Data: bytes.Clone(p.Data)})
		r.mu.Unlock()
	}
	return p, err
}

// take returns the frames received since the last take and forgets them.
func (r *mxRecorder) take() []transport.Packet {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

// mxPrivacyNet is a full mesh of recorded servers and one client that knows
// a single server, its first hop for every query.
type mxPrivacyNet struct {
	servers   []*node.Node
	recorders []*mxRecorder
	client    *node.Node
	firstHop  int // index of the client's only peer
	key       []byte
}

const mxPrivacyServers = 8

func mxNewPrivacyNet(t *testing.T, configure ...func(*node.Builder)) *mxPrivacyNet {
	net := mem.NewNetwork(mem.Options{})
	t.Cleanup(func() { _ = net.Close() })
	var tables mxTables
	table := func(self peer.ID, _ int) (route.Table, error) {
		tb, err := toymap.New(self, toymap.Options{})
		return tables.keep(self, tb), err
	}
	build := func(i int, client bool) (*node.Node, *mxRecorder) {
		ep, err := net.Listen(nil)
		require.NoError(t, err)
		rec := &mxRecorder{Transport: ep}
		b := node.NewBuilder().Identity(seedIdentity(t, 200+i)).Transport(rec).Table(table).
			K(2).RPCTimeout(time.Second).Client(client)
		for _, c := range configure {
			c(b)
		}
		n, err := b.Build(context.Background())
		require.NoError(t, err)
		t.Cleanup(func() { _ = n.Close() })
		return n, rec
	}
	pn := &mxPrivacyNet{key: []byte("a key the client wants")}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var addrs []ma.Multiaddr
	for i := range mxPrivacyServers {
		n, rec := build(i, false)
		if len(addrs) > 0 {
			require.NoError(t, n.Bootstrap(ctx, addrs...))
		}
		addrs = append(addrs, n.Addrs()[0])
		pn.servers = append(pn.servers, n)
		pn.recorders = append(pn.recorders, rec)
	}
	acks, err := pn.servers[0].Put(ctx, pn.key, []byte("the value"))
	require.NoError(t, err)
	require.Less(t, acks, mxPrivacyServers-1, "some servers do not hold the value")

	// The first hop must not hold the value, so that the query goes on.
	pn.firstHop = slices.IndexFunc(pn.servers, func(n *node.Node) bool { return n.Stats().Records == 0 })
	require.GreaterOrEqual(t, pn.firstHop, 0)
	pn.client, _ = build(mxPrivacyServers, true)
	require.NoError(t, pn.client.Bootstrap(ctx, addrs[0]))
	ct := tables.of(pn.client.ID())
	for _, s := range pn.servers {
		if s != pn.servers[pn.firstHop] {
			ct.Remove(s.ID())
		}
	}
	require.Equal(t, 1, ct.Len(), "the client knows only its first hop")
	for _, r := range pn.recorders {
		r.take() // forget the bootstrap, where the client talked to many
	}
	return pn
}

// mxObserved is what the servers other than the first hop saw of one query.
type mxObserved struct {
	firstHopHeard bool  // the first hop received a frame from the client
	reached       []int // servers past the first hop that received the query or its stores
	learned       []int // servers past the first hop that heard from the client or saw its address
}

func (pn *mxPrivacyNet) observe(t *testing.T) mxObserved {
	codec := cbor.New()
	self := pn.client.Addrs()[0]
	var o mxObserved
	for i, r := range pn.recorders {
		for _, p := range r.take() {
			fromClient := p.From.Equal(self)
			if i == pn.firstHop {
				o.firstHopHeard = o.firstHopHeard || fromClient
				continue
			}
			if fromClient || bytes.Contains(p.Data, self.Bytes()) {
				o.learned = append(o.learned, i)
			}
			m, err := codec.Unmarshal(p.Data)
			require.NoError(t, err)
			if m.Kind == msgenc.KindForward || m.Kind == msgenc.KindStore {
				o.reached = append(o.reached, i)
			}
		}
	}
	return o
}

func TestProxiedQueriesNeverRevealTheClientPastTheFirstHop(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []node.Mode{node.Proxied(), node.Mixed(2)} {
		t.Run(mode.String(), func(t *testing.T) {
			pn := mxNewPrivacyNet(t)

			got, err := pn.client.Get(ctx, pn.key, node.WithMode(mode))
			require.NoError(t, err)
			require.Equal(t, []byte("the value"), got)
			o := pn.observe(t)
			require.True(t, o.firstHopHeard, "get: the first hop heard from the client")
			require.NotEmpty(t, o.reached, "get: the query went past the first hop")
			require.Empty(t, o.learned, "get: servers past the first hop learned the client's address")

			_, err = pn.client.Put(ctx, []byte("the client's own key"), []byte("v"), node.WithMode(mode))
			require.NoError(t, err)
			o = pn.observe(t)
			require.True(t, o.firstHopHeard, "put: the first hop heard from the client")
			require.NotEmpty(t, o.reached, "put: the query went past the first hop")
			require.Empty(t, o.learned, "put: servers past the first hop learned the client's address")
		})
	}
}

func TestDirectReplyTellsTheHolderTheClientsAddress(t *testing.T) {
	pn := mxNewPrivacyNet(t)
	got, err := pn.client.Get(context.Background(), pn.key, node.WithMode(node.DirectReply()))
	require.NoError(t, err)
	require.Equal(t, []byte("the value"), got)
	o := pn.observe(t)
	require.NotEmpty(t, o.reached, "the query went past the first hop")
	// The holder answers straight to the client, so it must have been told
	// the client's address: the check the proxied test relies on sees it.
	for _, i := range o.reached {
		require.Contains(t, o.learned, i, "server %d forwarded to or answered the client and saw its address", i)
	}
}
