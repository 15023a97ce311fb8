package conformance_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
	ma "github.com/multiformats/go-multiaddr"
)

// The network suite catches broken networks: each harness below breaks one
// thing, and CheckNetwork must report the rules that thing breaks.

// networkExpect asserts that errs reports every rule in want and nothing
// outside want and maybe.
func networkExpect(t *testing.T, errs []error, want []string, maybe ...string) {
	t.Helper()
	got := transportRulesBroken(errs)
	t.Logf("rules reported: %v", got)
	for _, r := range want {
		if !conformance.Broken(errs, r) {
			t.Errorf("rule %q not reported; violations: %v", r, errs)
		}
	}
	for _, r := range got {
		if !slices.Contains(want, r) && !slices.Contains(maybe, r) {
			t.Errorf("unexpected violation of %q: %v", r, errs)
		}
	}
}

// networkRejectValues is a trust policy that stores nothing.
type networkRejectValues struct{}

func (networkRejectValues) AcceptPeer(*peer.Record) error  { return nil }
func (networkRejectValues) AcceptRelay(*peer.Record) error { return nil }
func (networkRejectValues) AcceptValue(*peer.Record, *trust.Value) error {
	return fmt.Errorf("%w: this network stores nothing", trust.ErrRejected)
}

func TestNetworkSuiteReportsANetworkThatStoresNothing(t *testing.T) {
	t.Parallel()
	errs := conformance.CheckNetwork(t, conformance.NetworkMem(conformance.NetworkMemOptions{
		Configure: func(i int, b *node.Builder) { b.Policy(networkRejectValues{}) },
	}), conformance.NetworkOptions{Size: 8})
	// Lookups of peers need no storage; every rule that puts a value
	// fails, but for the forged writes, which are refused all the same.
	networkExpect(t, errs,
		[]string{"put-get-every-mode", "values-survive-crashes", "tolerates-10-percent-loss",
			"partition-heals", "proxied-hides-originator", "no-goroutine-outlives-close",
			"immutable-and-plain-round-trip", "sequence-only-grows", "compare-and-swap",
			"forged-replies-discarded", "republish-keeps-signatures"})
}

// networkWrapped is a mem harness with one behaviour replaced; it keeps
// the mem harness's optional capabilities.
type networkWrapped struct {
	conformance.NetworkHarness
	newNode func(i int, o conformance.NetworkNodeOptions) (*node.Node, error)
}

func (w *networkWrapped) NewNode(i int, o conformance.NetworkNodeOptions) (*node.Node, error) {
	return w.newNode(i, o)
}

func (w *networkWrapped) SetLoss(rate float64) error {
	return w.NetworkHarness.(conformance.NetworkLossInjector).SetLoss(rate)
}

func (w *networkWrapped) Partition(groups ...[]*node.Node) error {
	return w.NetworkHarness.(conformance.NetworkPartitioner).Partition(groups...)
}

func (w *networkWrapped) Heal() error {
	return w.NetworkHarness.(conformance.NetworkPartitioner).Heal()
}

func (w *networkWrapped) Received(n *node.Node) []conformance.NetworkFrame {
	return w.NetworkHarness.(conformance.NetworkObserver).Received(n)
}

func (w *networkWrapped) Probe(ctx context.Context, to ma.Multiaddr, m *msgenc.Message) (*msgenc.Message, error) {
	return w.NetworkHarness.(conformance.NetworkProber).Probe(ctx, to, m)
}

func (w *networkWrapped) NewHostileNode(i int, o conformance.NetworkNodeOptions, forge conformance.NetworkForgery) (*node.Node, error) {
	return w.NetworkHarness.(conformance.NetworkHostile).NewHostileNode(i, o, forge)
}

func (w *networkWrapped) Advance(d time.Duration) error {
	return w.NetworkHarness.(conformance.NetworkClockAdvancer).Advance(d)
}

func TestNetworkSuiteReportsAnOriginatorThatIsNoClient(t *testing.T) {
	t.Parallel()
	// Nodes asked to be clients are built as full peers: the first hop
	// takes the originator into its table and hands its record on.
	mem := conformance.NetworkMem(conformance.NetworkMemOptions{})
	errs := conformance.CheckNetwork(t, func(t *testing.T) conformance.NetworkHarness {
		h := mem(t)
		return &networkWrapped{NetworkHarness: h, newNode: func(i int, o conformance.NetworkNodeOptions) (*node.Node, error) {
			return h.NewNode(i, conformance.NetworkNodeOptions{})
		}}
	}, conformance.NetworkOptions{Size: 8, Modes: []node.Mode{node.Direct(), node.Proxied()}})
	networkExpect(t, errs, []string{"proxied-hides-originator"})
}

func TestNetworkSuiteReportsAGoroutineLeftAfterClose(t *testing.T) {
	t.Parallel()
	// Each node comes with a goroutine that outlives it, as a plug-in
	// whose Close forgets a goroutine would leave.
	mem := conformance.NetworkMem(conformance.NetworkMemOptions{})
	errs := conformance.CheckNetwork(t, func(t *testing.T) conformance.NetworkHarness {
		h := mem(t)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		t.Cleanup(func() { close(stop); wg.Wait() })
		return &networkWrapped{NetworkHarness: h, newNode: func(i int, o conformance.NetworkNodeOptions) (*node.Node, error) {
			wg.Go(func() { <-stop })
			return h.NewNode(i, o)
		}}
	}, conformance.NetworkOptions{Size: 6, Modes: []node.Mode{node.Direct(), node.Proxied()}})
	networkExpect(t, errs, []string{"no-goroutine-outlives-close"})
}
