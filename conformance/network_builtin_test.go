package conformance_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/transport"
	"github.com/dhtkit/dhtkit/transport/tcp"
	"github.com/dhtkit/dhtkit/transport/udp"
	ma "github.com/multiformats/go-multiaddr"
)

// The built-in parts pass the network suite: over the mem network with
// every fault, and over real loopback sockets with crashes, forged frames,
// hostile nodes and a clock that jumps, but no loss or partitions. The
// network tests run in parallel with each other: they mostly wait on
// timeouts, and the leak rule counts only its own network's goroutines.

func TestNetworkSuitePassesOverMem(t *testing.T) {
	t.Parallel()
	conformance.TestNetwork(t, conformance.NetworkMem(conformance.NetworkMemOptions{}), conformance.NetworkOptions{Size: 32})
}

func TestNetworkSuitePassesOverUDP(t *testing.T) {
	t.Parallel()
	conformance.TestNetwork(t, networkSockets(func() (transport.Transport, error) {
		return udp.Listen(ma.StringCast("/ip4/127.0.0.1/udp/0"), udp.Options{})
	}), conformance.NetworkOptions{Size: 8})
}

func TestNetworkSuitePassesOverTCP(t *testing.T) {
	t.Parallel()
	conformance.TestNetwork(t, networkSockets(func() (transport.Transport, error) {
		return tcp.Listen(ma.StringCast("/ip4/127.0.0.1/tcp/0"), tcp.Options{})
	}), conformance.NetworkOptions{Size: 8})
}

// networkSocketHarness builds nodes on real loopback sockets. It can crash
// a node (by closing it), observe frames, probe from a socket of its own,
// build hostile nodes and move its nodes' clock, but not lose or partition.
type networkSocketHarness struct {
	listen func() (transport.Transport, error)
	codec  msgenc.Codec
	clock  *conformance.NetworkClock
	recs   map[*node.Node]*conformance.NetworkRecorder

	mu   sync.Mutex
	raw  *conformance.NetworkRawPeer // made on the first Probe
	rawT transport.Transport
}

func networkSockets(listen func() (transport.Transport, error)) func(t *testing.T) conformance.NetworkHarness {
	return func(t *testing.T) conformance.NetworkHarness {
		return &networkSocketHarness{listen: listen, codec: cbor.New(), clock: conformance.NewNetworkClock(), recs: map[*node.Node]*conformance.NetworkRecorder{}}
	}
}

func (h *networkSocketHarness) NewNode(i int, o conformance.NetworkNodeOptions) (*node.Node, error) {
	return h.build(o, nil)
}

func (h *networkSocketHarness) NewHostileNode(i int, o conformance.NetworkNodeOptions, forge conformance.NetworkForgery) (*node.Node, error) {
	return h.build(o, func(t transport.Transport) transport.Transport {
		return conformance.NewNetworkForger(t, h.codec, forge)
	})
}

func (h *networkSocketHarness) build(o conformance.NetworkNodeOptions, wrap func(transport.Transport) transport.Transport) (*node.Node, error) {
	tr, err := h.listen()
	if err != nil {
		return nil, err
	}
	rec := conformance.NewNetworkRecorder(tr, h.codec)
	var t transport.Transport = rec
	if wrap != nil {
		t = wrap(rec)
	}
	n, err := node.NewBuilder().Transport(t).Codec(h.codec).RPCTimeout(300 * time.Millisecond).Client(o.Client).Clock(h.clock).Build(context.Background())
	if err != nil {
		_ = tr.Close()
		return nil, err
	}
	h.recs[n] = rec // the suite builds nodes from one goroutine
	return n, nil
}

func (h *networkSocketHarness) Crash(n *node.Node) error {
	// Closing is the most abrupt stop real sockets allow: the node says
	// no goodbye, and its port stops answering.
	return n.Close()
}

func (h *networkSocketHarness) Received(n *node.Node) []conformance.NetworkFrame {
	return h.recs[n].Frames()
}

func (h *networkSocketHarness) Probe(ctx context.Context, to ma.Multiaddr, m *msgenc.Message) (*msgenc.Message, error) {
	h.mu.Lock()
	if h.raw == nil {
		t, err := h.listen()
		if err != nil {
			h.mu.Unlock()
			return nil, err
		}
		h.rawT, h.raw = t, conformance.NewNetworkRawPeer(t, h.codec)
	}
	raw := h.raw
	h.mu.Unlock()
	return raw.Probe(ctx, to, m)
}

func (h *networkSocketHarness) Advance(d time.Duration) error { return h.clock.Advance(d) }

func (h *networkSocketHarness) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rawT != nil {
		return h.rawT.Close()
	}
	return nil
}

var (
	_ conformance.NetworkHarness       = (*networkSocketHarness)(nil)
	_ conformance.NetworkObserver      = (*networkSocketHarness)(nil)
	_ conformance.NetworkProber        = (*networkSocketHarness)(nil)
	_ conformance.NetworkHostile       = (*networkSocketHarness)(nil)
	_ conformance.NetworkClockAdvancer = (*networkSocketHarness)(nil)
)
