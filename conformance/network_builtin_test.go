package conformance_test

import (
	"context"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/transport"
	"github.com/dhtkit/dhtkit/transport/tcp"
	"github.com/dhtkit/dhtkit/transport/udp"
	ma "github.com/multiformats/go-multiaddr"
)

// The built-in parts pass the network suite: over the mem network with
// every fault, and over real loopback sockets with crashes only. The
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
// a node (by closing it) and observe frames, but not lose or partition.
type networkSocketHarness struct {
	listen func() (transport.Transport, error)
	recs   map[*node.Node]*conformance.NetworkRecorder
}

func networkSockets(listen func() (transport.Transport, error)) func(t *testing.T) conformance.NetworkHarness {
	return func(t *testing.T) conformance.NetworkHarness {
		return &networkSocketHarness{listen: listen, recs: map[*node.Node]*conformance.NetworkRecorder{}}
	}
}

func (h *networkSocketHarness) NewNode(i int, o conformance.NetworkNodeOptions) (*node.Node, error) {
	tr, err := h.listen()
	if err != nil {
		return nil, err
	}
	codec := cbor.New()
	rec := conformance.NewNetworkRecorder(tr, codec)
	n, err := node.NewBuilder().Transport(rec).Codec(codec).RPCTimeout(300 * time.Millisecond).Client(o.Client).Build(context.Background())
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

func (h *networkSocketHarness) Close() error { return nil }

var (
	_ conformance.NetworkHarness  = (*networkSocketHarness)(nil)
	_ conformance.NetworkObserver = (*networkSocketHarness)(nil)
)
