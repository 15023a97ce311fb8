package conformance

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/dhtkit/dhtkit/node"
)

// The rules about versions of a mutable value: sequence numbers only grow,
// and a conditional put names the version it replaces.

// networkWantConflict checks that err is a refusal as a conflict with a
// replica holding sequence number held.
func networkWantConflict(err error, held uint64) error {
	if err == nil {
		return errors.New("succeeded, want node.ErrConflict")
	}
	if !errors.Is(err, node.ErrConflict) {
		return fmt.Errorf("failed with %w, want node.ErrConflict", err)
	}
	var re *node.RemoteError
	if !errors.As(err, &re) {
		return fmt.Errorf("failed with ErrConflict but no *node.RemoteError: %w", err)
	}
	if re.Seq != held {
		return fmt.Errorf("the conflict names sequence %d, want the %d held: %w", re.Seq, held, err)
	}
	return nil
}

// networkMutable is a version of a node's mutable value, as a rule put it.
type networkMutable struct {
	putter *node.Node
	salt   []byte
	seq    uint64
	value  []byte
}

// getMutable checks that reader returns, in mode and with the signed-value
// rules' quorum, the version want: its publisher, sequence number and
// bytes, signed so that it verifies.
func (w *networkNet) getMutable(reader *node.Node, want networkMutable, mode node.Mode) error {
	what := fmt.Sprintf("%s: node %d GetMutable of node %d's value", mode, w.index(reader), w.index(want.putter))
	got, err := reader.GetMutable(w.e.ctx, want.putter.Record().PublicKey, want.salt, node.WithMode(mode), node.WithQuorum(networkValueQuorum))
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if got.Seq != want.seq || !bytes.Equal(got.Value, want.value) || !bytes.Equal(got.Publisher, want.putter.Record().PublicKey) {
		return fmt.Errorf("%s returned sequence %d, %d bytes %.16x…; want sequence %d, %d bytes %.16x…",
			what, got.Seq, len(got.Value), got.Value, want.seq, len(want.value), want.value)
	}
	if err := got.Verify(reader.Hasher()); err != nil {
		return fmt.Errorf("%s returned a value that does not verify: %w", what, err)
	}
	return nil
}

// networkCheckSequence: in each mode a node puts its mutable value at
// sequence 1 then 2; a put at sequence 1 again, and one at 2 with other
// bytes, must fail with node.ErrConflict naming the 2 held, and every node
// must then read sequence 2 with a quorum.
func networkCheckSequence(e *env, s networkSuite) (err error) {
	w, err := networkBuild(e, s, networkValueNodes(s))
	if err != nil {
		return err
	}
	defer w.closeInto(&err)
	var f networkFailures
	for _, mode := range s.opts.Modes {
		f.add(networkSequenceRun(w, mode))
	}
	return f.err("runs of mutable puts and gets")
}

func networkSequenceRun(w *networkNet, mode node.Mode) error {
	pub := w.nodes[w.e.rng.IntN(len(w.nodes))]
	name := fmt.Sprintf("%s: node %d", mode, w.index(pub))
	v := networkMutable{putter: pub, salt: w.bytes(8)}
	for seq := uint64(1); seq <= 2; seq++ {
		v.seq, v.value = seq, w.bytes(16+w.e.rng.IntN(100))
		if _, err := pub.PutMutable(w.e.ctx, v.salt, v.seq, v.value, node.WithMode(mode)); err != nil {
			return fmt.Errorf("%s PutMutable at sequence %d: %w", name, seq, err)
		}
	}
	_, err := pub.PutMutable(w.e.ctx, v.salt, 1, []byte("stale"), node.WithMode(mode))
	if err := networkWantConflict(err, 2); err != nil {
		return fmt.Errorf("%s PutMutable at sequence 1 after 2 %w", name, err)
	}
	_, err = pub.PutMutable(w.e.ctx, v.salt, 2, []byte("other bytes at the same sequence"), node.WithMode(mode))
	if err := networkWantConflict(err, 2); err != nil {
		return fmt.Errorf("%s PutMutable at sequence 2 again with other bytes %w", name, err)
	}
	var f networkFailures
	for _, n := range w.nodes {
		f.add(w.getMutable(n, v, mode))
	}
	return f.err(fmt.Sprintf("gets, with a quorum of %d, of a mutable value put at sequences 1 then 2", networkValueQuorum))
}

// networkCheckCAS: in each mode a node puts its mutable value at sequence
// 1 on condition that nothing is held, then at 3 on condition that 2 is
// held, which must fail with node.ErrConflict naming the 1 held, then at 2
// on condition that 1 is held; every node must then read sequence 2.
func networkCheckCAS(e *env, s networkSuite) (err error) {
	w, err := networkBuild(e, s, networkValueNodes(s))
	if err != nil {
		return err
	}
	defer w.closeInto(&err)
	var f networkFailures
	for _, mode := range s.opts.Modes {
		f.add(networkCASRun(w, mode))
	}
	return f.err("compare-and-swap runs")
}

// networkCASRun runs the compare-and-swap scenario in one mode.
func networkCASRun(w *networkNet, mode node.Mode) error {
	pub := w.nodes[w.e.rng.IntN(len(w.nodes))]
	name := fmt.Sprintf("%s: node %d", mode, w.index(pub))
	v := networkMutable{putter: pub, salt: w.bytes(8), seq: 1, value: w.bytes(16 + w.e.rng.IntN(100))}
	if _, err := pub.PutMutable(w.e.ctx, v.salt, 1, v.value, node.WithMode(mode), node.WithCAS(0)); err != nil {
		return fmt.Errorf("%s PutMutable at sequence 1 on condition that nothing is held: %w", name, err)
	}
	_, err := pub.PutMutable(w.e.ctx, v.salt, 3, []byte("three"), node.WithMode(mode), node.WithCAS(2))
	if err := networkWantConflict(err, 1); err != nil {
		return fmt.Errorf("%s PutMutable at sequence 3 on condition that 2 is held, while 1 is, %w", name, err)
	}
	v.seq, v.value = 2, w.bytes(16+w.e.rng.IntN(100))
	if _, err := pub.PutMutable(w.e.ctx, v.salt, 2, v.value, node.WithMode(mode), node.WithCAS(1)); err != nil {
		return fmt.Errorf("%s PutMutable at sequence 2 on condition that 1 is held, as it is: %w", name, err)
	}
	var f networkFailures
	for _, n := range w.nodes {
		f.add(w.getMutable(n, v, mode))
	}
	return f.err("gets of a mutable value after compare-and-swap puts")
}
