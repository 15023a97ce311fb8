package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/dhtkit/dhtkit/node"
	ma "github.com/multiformats/go-multiaddr"
)

// networkNet is one rule's network: the harness and every node it built.
type networkNet struct {
	e       *env
	h       NetworkHarness
	nodes   []*node.Node // the network proper, bootstrapped by networkBuild
	extra   []*node.Node // nodes a rule added (clients), closed with the rest
	crashed map[*node.Node]bool
	closed  bool
}

// networkStart makes a harness and size nodes, joined to nothing.
func networkStart(e *env, s networkSuite, size int) (*networkNet, error) {
	w := &networkNet{e: e, h: s.newHarness(e.t), crashed: map[*node.Node]bool{}}
	if w.h == nil {
		return nil, errors.New("the harness factory returned nil")
	}
	for i := range size {
		n, err := w.h.NewNode(i, NetworkNodeOptions{})
		if err != nil {
			_ = w.close()
			return nil, fmt.Errorf("building node %d: %w", i, err)
		}
		if n == nil {
			_ = w.close()
			return nil, fmt.Errorf("NewNode(%d) returned a nil node and no error", i)
		}
		w.nodes = append(w.nodes, n)
	}
	return w, nil
}

// networkBuild makes a network of size nodes and bootstraps each, in turn,
// from node 0.
func networkBuild(e *env, s networkSuite, size int) (*networkNet, error) {
	w, err := networkStart(e, s, size)
	if err != nil {
		return nil, err
	}
	if err := w.bootstrap(w.nodes[1:], w.nodes[0]); err != nil {
		_ = w.close()
		return nil, err
	}
	return w, nil
}

// bootstrap joins each node of ns, in turn, through the addresses of seeds.
func (w *networkNet) bootstrap(ns []*node.Node, seeds ...*node.Node) error {
	var addrs []ma.Multiaddr
	for _, s := range seeds {
		addrs = append(addrs, s.Addrs()...)
	}
	for _, n := range ns {
		if err := n.Bootstrap(w.e.ctx, addrs...); err != nil {
			return fmt.Errorf("node %d: Bootstrap from %d seed(s): %w", w.index(n), len(seeds), err)
		}
	}
	return nil
}

// add builds one more node, not bootstrapped.
func (w *networkNet) add(o NetworkNodeOptions) (*node.Node, error) {
	n, err := w.h.NewNode(len(w.nodes)+len(w.extra), o)
	if err != nil {
		return nil, fmt.Errorf("building an extra node: %w", err)
	}
	if n == nil {
		return nil, errors.New("NewNode returned a nil node and no error")
	}
	w.extra = append(w.extra, n)
	return n, nil
}

// crash crashes n through the harness and remembers it.
func (w *networkNet) crash(n *node.Node) error {
	if err := w.h.Crash(n); err != nil {
		return fmt.Errorf("crashing node %d: %w", w.index(n), err)
	}
	w.crashed[n] = true
	return nil
}

// live returns the nodes of the network that have not crashed.
func (w *networkNet) live() []*node.Node {
	var out []*node.Node
	for _, n := range w.nodes {
		if !w.crashed[n] {
			out = append(out, n)
		}
	}
	return out
}

// index names a node in messages: its position, or -1 for an extra node.
func (w *networkNet) index(n *node.Node) int { return slices.Index(w.nodes, n) }

// close closes every node, then the harness, and reports what failed. It is
// idempotent.
func (w *networkNet) close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	var errs []error
	for _, n := range append(slices.Clone(w.nodes), w.extra...) {
		// A harness may crash a node by closing it: ErrClosed says so.
		if err := n.Close(); err != nil && !errors.Is(err, node.ErrClosed) {
			errs = append(errs, fmt.Errorf("closing node %d: %w", w.index(n), err))
		}
	}
	if err := w.h.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing the harness: %w", err))
	}
	return errors.Join(errs...)
}

// closeInto closes the network at the end of a check, reporting a close
// failure only when the check itself passed.
func (w *networkNet) closeInto(err *error) {
	if cerr := w.close(); *err == nil {
		*err = cerr
	}
}

// pick returns count distinct random nodes of ns.
func (w *networkNet) pick(ns []*node.Node, count int) []*node.Node {
	out := make([]*node.Node, 0, count)
	for _, i := range w.e.rng.Perm(len(ns))[:min(count, len(ns))] {
		out = append(out, ns[i])
	}
	return out
}

// networkFailures gathers the failures of many operations into one error.
type networkFailures struct {
	ops  int
	errs []error
}

func (f *networkFailures) add(err error) {
	f.ops++
	if err != nil {
		f.errs = append(f.errs, err)
	}
}

func (f *networkFailures) err(what string) error {
	if len(f.errs) == 0 {
		return nil
	}
	shown := f.errs[:min(len(f.errs), 4)]
	return fmt.Errorf("%d of %d %s failed, for example: %w", len(f.errs), f.ops, what, errors.Join(shown...))
}

// find checks that from finds target's record in mode.
func (w *networkNet) find(from, target *node.Node, mode node.Mode) error {
	rec, err := from.FindPeer(w.e.ctx, target.ID(), node.WithMode(mode))
	if err != nil {
		return fmt.Errorf("%s: node %d FindPeer(node %d): %w", mode, w.index(from), w.index(target), err)
	}
	if rec.ID != target.ID() {
		return fmt.Errorf("%s: node %d FindPeer(node %d) returned peer %s", mode, w.index(from), w.index(target), rec.ID.Short())
	}
	if !networkSameAddrs(rec.Addrs, target.Addrs()) {
		return fmt.Errorf("%s: node %d FindPeer(node %d) returned addresses %v, want %v", mode, w.index(from), w.index(target), rec.Addrs, target.Addrs())
	}
	return nil
}

// networkValue is a value a rule put, and where it expects to find it.
type networkValue struct {
	key, value []byte
	putter     *node.Node
}

// put stores a fresh random value through putter in mode.
func (w *networkNet) put(putter *node.Node, mode node.Mode, tag string) (networkValue, error) {
	v := networkValue{
		key:    fmt.Appendf(nil, "network-%s-%s-%x", tag, mode, w.e.rng.Uint64()),
		value:  make([]byte, 16+w.e.rng.IntN(200)),
		putter: putter,
	}
	for i := range v.value {
		v.value[i] = byte(w.e.rng.Uint32())
	}
	acks, err := putter.Put(w.e.ctx, v.key, v.value, node.WithMode(mode))
	switch {
	case err != nil:
		return v, fmt.Errorf("%s: node %d Put(%q): %w", mode, w.index(putter), v.key, err)
	case acks < 1:
		return v, fmt.Errorf("%s: node %d Put(%q) returned %d acknowledgements and no error, want at least 1", mode, w.index(putter), v.key, acks)
	}
	return v, nil
}

// get checks that getter returns v in mode.
func (w *networkNet) get(getter *node.Node, v networkValue, mode node.Mode) error {
	got, err := getter.Get(w.e.ctx, v.key, node.WithMode(mode))
	if err != nil {
		return fmt.Errorf("%s: node %d Get(%q), put by node %d: %w", mode, w.index(getter), v.key, w.index(v.putter), err)
	}
	if !bytes.Equal(got, v.value) {
		return fmt.Errorf("%s: node %d Get(%q) returned %d bytes %.16x…, want the %d bytes %.16x… node %d put", mode, w.index(getter), v.key, len(got), got, len(v.value), v.value, w.index(v.putter))
	}
	return nil
}

func networkSameAddrs(a, b []ma.Multiaddr) bool {
	return slices.EqualFunc(a, b, func(x, y ma.Multiaddr) bool { return x.Equal(y) })
}

// other returns a random node of ns other than not.
func (w *networkNet) other(ns []*node.Node, not *node.Node) *node.Node {
	for {
		if n := ns[w.e.rng.IntN(len(ns))]; n != not || len(ns) == 1 {
			return n
		}
	}
}
