package conformance

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/transport"
	"github.com/dhtkit/dhtkit/transport/mem"
	ma "github.com/multiformats/go-multiaddr"
)

// NetworkMemOptions configures the harness NetworkMem returns.
type NetworkMemOptions struct {
	// RPCTimeout is every node's RPC timeout. Default 200ms: the mem
	// network answers in microseconds, and rules with crashed or lossy
	// peers must fit the watchdog.
	RPCTimeout time.Duration
	// Codec is every node's codec. Default CBOR.
	Codec msgenc.Codec
	// Configure adjusts node i's builder after the harness's choices
	// (transport, codec, RPC timeout, client, clock): set the table,
	// store, policy or k under test here. It must not add transports or
	// change the codec or the clock.
	Configure func(i int, b *node.Builder)
}

// NetworkMem returns a harness factory over the in-process mem network: one
// fresh mem.Network per rule, one endpoint per node, with every fault the
// suite knows (loss, partitions, crashes), a NetworkRecorder on every node,
// hostile nodes (NewNetworkForger), a raw peer of its own endpoint
// (NetworkRawPeer) and a NetworkClock shared by the nodes. Use it to prove a
// table, store, codec or policy over whole networks:
//
//	conformance.TestNetwork(t, conformance.NetworkMem(conformance.NetworkMemOptions{
//		Configure: func(i int, b *node.Builder) { b.Table(myTable) },
//	}), conformance.NetworkOptions{})
func NetworkMem(o NetworkMemOptions) func(t *testing.T) NetworkHarness {
	if o.RPCTimeout == 0 {
		o.RPCTimeout = 200 * time.Millisecond
	}
	if o.Codec == nil {
		o.Codec = cbor.New()
	}
	return func(t *testing.T) NetworkHarness {
		h := &networkMemHarness{
			o: o, net: mem.NewNetwork(mem.Options{}), clock: NewNetworkClock(),
			recorders: map[*node.Node]*NetworkRecorder{},
		}
		t.Cleanup(func() { _ = h.net.Close() })
		return h
	}
}

// networkMemHarness is the harness NetworkMem makes.
type networkMemHarness struct {
	o     NetworkMemOptions
	net   *mem.Network
	clock *NetworkClock

	mu        sync.Mutex
	recorders map[*node.Node]*NetworkRecorder
	addrs     []ma.Multiaddr
	loss      float64
	raw       *NetworkRawPeer // made on the first Probe
}

var (
	_ NetworkHarness       = (*networkMemHarness)(nil)
	_ NetworkLossInjector  = (*networkMemHarness)(nil)
	_ NetworkPartitioner   = (*networkMemHarness)(nil)
	_ NetworkObserver      = (*networkMemHarness)(nil)
	_ NetworkProber        = (*networkMemHarness)(nil)
	_ NetworkHostile       = (*networkMemHarness)(nil)
	_ NetworkClockAdvancer = (*networkMemHarness)(nil)
)

func (h *networkMemHarness) NewNode(i int, o NetworkNodeOptions) (*node.Node, error) {
	return h.newNode(i, o, nil)
}

func (h *networkMemHarness) NewHostileNode(i int, o NetworkNodeOptions, forge NetworkForgery) (*node.Node, error) {
	return h.newNode(i, o, func(t transport.Transport) transport.Transport {
		return NewNetworkForger(t, h.o.Codec, forge)
	})
}

// newNode builds node i on a fresh endpoint, its transport wrapped by wrap
// when given.
func (h *networkMemHarness) newNode(i int, o NetworkNodeOptions, wrap func(transport.Transport) transport.Transport) (*node.Node, error) {
	ep, err := h.net.Listen(nil)
	if err != nil {
		return nil, err
	}
	rec := NewNetworkRecorder(ep, h.o.Codec)
	var t transport.Transport = rec
	if wrap != nil {
		t = wrap(rec)
	}
	b := node.NewBuilder().Transport(t).Codec(h.o.Codec).RPCTimeout(h.o.RPCTimeout).Client(o.Client).Clock(h.clock)
	if h.o.Configure != nil {
		h.o.Configure(i, b)
	}
	n, err := b.Build(context.Background())
	if err != nil {
		_ = ep.Close()
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recorders[n] = rec
	if h.loss > 0 {
		if err := h.setLinks(ep.Addr(), h.loss); err != nil {
			return nil, errors.Join(err, n.Close())
		}
	}
	h.addrs = append(h.addrs, ep.Addr())
	return n, nil
}

// setLinks gives every link between a and the known addresses the loss
// rate, both ways. h.mu is held.
func (h *networkMemHarness) setLinks(a ma.Multiaddr, rate float64) error {
	for _, b := range h.addrs {
		if err := h.net.SetLink(a, b, mem.LinkConfig{Loss: rate}); err != nil {
			return err
		}
		if err := h.net.SetLink(b, a, mem.LinkConfig{Loss: rate}); err != nil {
			return err
		}
	}
	return nil
}

func (h *networkMemHarness) Crash(n *node.Node) error {
	for _, a := range n.Addrs() {
		if err := h.net.Crash(a); err != nil {
			return err
		}
	}
	return nil
}

func (h *networkMemHarness) SetLoss(rate float64) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.loss = rate
	all := h.addrs
	h.addrs = nil
	for _, a := range all {
		if err := h.setLinks(a, rate); err != nil {
			h.addrs = all
			return err
		}
		h.addrs = append(h.addrs, a)
	}
	return nil
}

func (h *networkMemHarness) Partition(groups ...[]*node.Node) error {
	gs := make([][]ma.Multiaddr, len(groups))
	for i, g := range groups {
		for _, n := range g {
			gs[i] = append(gs[i], n.Addrs()...)
		}
	}
	if err := h.net.Partition(gs...); err != nil {
		return fmt.Errorf("partition: %w", err)
	}
	return nil
}

func (h *networkMemHarness) Heal() error {
	h.net.Heal()
	return nil
}

func (h *networkMemHarness) Received(n *node.Node) []NetworkFrame {
	h.mu.Lock()
	rec := h.recorders[n]
	h.mu.Unlock()
	if rec == nil {
		return nil
	}
	return rec.Frames()
}

// Probe sends m from an endpoint of the harness's own that no node uses.
func (h *networkMemHarness) Probe(ctx context.Context, to ma.Multiaddr, m *msgenc.Message) (*msgenc.Message, error) {
	h.mu.Lock()
	if h.raw == nil {
		ep, err := h.net.Listen(nil)
		if err != nil {
			h.mu.Unlock()
			return nil, fmt.Errorf("the raw peer's endpoint: %w", err)
		}
		h.raw = NewNetworkRawPeer(ep, h.o.Codec) // closed with the network
	}
	raw := h.raw
	h.mu.Unlock()
	return raw.Probe(ctx, to, m)
}

func (h *networkMemHarness) Advance(d time.Duration) error { return h.clock.Advance(d) }

func (h *networkMemHarness) Close() error { return h.net.Close() }
