package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
)

// What the signed-value rules share, and the rule of round trips of
// immutable and plain values.

// networkValueSize caps the network of the signed-value rules: they check
// what each replica and reader does, not routing at scale, so a small
// network (every node a replica with the default k) keeps them quick.
const networkValueSize = 8

// networkValueQuorum is the quorum of the signed-value rules' gets.
const networkValueQuorum = 3

func networkValueNodes(s networkSuite) int { return min(s.opts.Size, networkValueSize) }

// bytes returns n random bytes.
func (w *networkNet) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(w.e.rng.Uint32())
	}
	return b
}

// identity returns a fresh identity drawn from the rule's seed.
func (w *networkNet) identity() (*peer.Identity, error) {
	id, err := peer.IdentityFromSeed(w.bytes(32))
	if err != nil {
		return nil, fmt.Errorf("making an identity: %w", err)
	}
	return id, nil
}

// networkKeyDraws bounds the keys keyNear draws.
const networkKeyDraws = 512

// keyNear draws keys from next and returns what next returned with the key
// whose count nodes of all closest to it are most of them in near, the
// closest counting most. It stops at a key whose count closest are all in
// near (count is at most len(near)) and reports whether it found one: XOR
// distance may allow none.
func (w *networkNet) keyNear(all, near []*node.Node, count int, next func() (peer.ID, []byte)) ([]byte, bool) {
	count = min(count, len(near), len(all))
	full := 1<<count - 1
	var best []byte
	bestScore := -1
	for range networkKeyDraws {
		key, out := next()
		byDistance := slices.SortedFunc(slices.Values(all), func(a, b *node.Node) int { return peer.CompareDistance(key, a.ID(), b.ID()) })
		score := 0
		for i, n := range byDistance[:count] {
			if slices.Contains(near, n) {
				score |= 1 << (count - 1 - i)
			}
		}
		if score == full {
			return out, true
		}
		if score > bestScore {
			best, bestScore = out, score
		}
	}
	return best, false
}

// networkSameValue checks that got is exactly want, signature included,
// and verifies, as read by reader.
func networkSameValue(reader *node.Node, got, want *trust.Value, what string) error {
	if !got.Same(want) {
		return fmt.Errorf("%s returned sequence %d, %d bytes %.16x…, signature %.8x…; want sequence %d, %d bytes %.16x…, signature %.8x…",
			what, got.Seq, len(got.Value), got.Value, got.Signature, want.Seq, len(want.Value), want.Value, want.Signature)
	}
	if err := got.Verify(reader.Hasher()); err != nil {
		return fmt.Errorf("%s returned a value that does not verify: %w", what, err)
	}
	return nil
}

// networkCheckRoundTrips: in each mode an immutable value put through one
// node, and two plain values under one key (one the putter signs, one
// signed elsewhere and stored through it), are read through another node:
// the immutable value by its hash, the plain values one per publisher,
// each verifying, the one signed elsewhere with its signature intact.
func networkCheckRoundTrips(e *env, s networkSuite) (err error) {
	w, err := networkBuild(e, s, networkValueNodes(s))
	if err != nil {
		return err
	}
	defer w.closeInto(&err)
	var f networkFailures
	for _, mode := range s.opts.Modes {
		a := w.nodes[e.rng.IntN(len(w.nodes))]
		b := w.other(w.nodes, a)
		f.add(w.immutableRoundTrip(a, b, mode))
		f.add(w.plainRoundTrip(a, b, mode))
	}
	return f.err("round trips")
}

func (w *networkNet) immutableRoundTrip(a, b *node.Node, mode node.Mode) error {
	value := w.bytes(16 + w.e.rng.IntN(200))
	key, acks, err := a.PutImmutable(w.e.ctx, value, node.WithMode(mode))
	switch {
	case err != nil:
		return fmt.Errorf("%s: node %d PutImmutable: %w", mode, w.index(a), err)
	case acks < 1:
		return fmt.Errorf("%s: node %d PutImmutable returned %d acknowledgements and no error, want at least 1", mode, w.index(a), acks)
	case key != trust.ImmutableKey(a.Hasher(), value):
		return fmt.Errorf("%s: node %d PutImmutable returned key %s, not the hash of the value", mode, w.index(a), key.Short())
	}
	got, err := b.GetImmutable(w.e.ctx, key, node.WithMode(mode))
	if err != nil {
		return fmt.Errorf("%s: node %d GetImmutable of node %d's value: %w", mode, w.index(b), w.index(a), err)
	}
	if !bytes.Equal(got, value) {
		return fmt.Errorf("%s: node %d GetImmutable returned %d bytes %.16x…, want the %d bytes %.16x… node %d put", mode, w.index(b), len(got), got, len(value), value, w.index(a))
	}
	return nil
}

func (w *networkNet) plainRoundTrip(a, b *node.Node, mode node.Mode) error {
	key := fmt.Appendf(nil, "network-plain-%s-%x", mode, w.e.rng.Uint64())
	own := w.bytes(16 + w.e.rng.IntN(200))
	if _, err := a.Put(w.e.ctx, key, own, node.WithMode(mode)); err != nil {
		return fmt.Errorf("%s: node %d Put(%q): %w", mode, w.index(a), key, err)
	}
	// A later Put replaces an earlier one: the first bytes must be gone.
	first := own
	own = w.bytes(16 + w.e.rng.IntN(200))
	if _, err := a.Put(w.e.ctx, key, own, node.WithMode(mode)); err != nil {
		return fmt.Errorf("%s: node %d's second Put(%q): %w", mode, w.index(a), key, err)
	}
	id, err := w.identity()
	if err != nil {
		return err
	}
	theirs, err := trust.NewPlain(id, a.KeyID(key), 1+w.e.rng.Uint64N(1<<40), w.bytes(16+w.e.rng.IntN(200)))
	if err != nil {
		return err
	}
	// PutValue verifies first: the same value with one signature bit
	// flipped is refused before anything is sent.
	forged := theirs.Clone()
	forged.Signature[w.e.rng.IntN(len(forged.Signature))] ^= 1 << w.e.rng.IntN(8)
	if acks, err := a.PutValue(w.e.ctx, forged, node.WithMode(mode)); !errors.Is(err, node.ErrInvalidValue) {
		return fmt.Errorf("%s: node %d PutValue of a plain value whose signature does not verify: %d acknowledgements, error %v, want an error wrapping node.ErrInvalidValue", mode, w.index(a), acks, err)
	}
	if _, err := a.PutValue(w.e.ctx, theirs, node.WithMode(mode)); err != nil {
		return fmt.Errorf("%s: node %d PutValue of a plain value signed elsewhere under %q: %w", mode, w.index(a), key, err)
	}
	what := fmt.Sprintf("%s: node %d GetAll(%q)", mode, w.index(b), key)
	all, err := b.GetAll(w.e.ctx, key, node.WithMode(mode), node.WithQuorum(networkValueQuorum))
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	byPub := func(pub []byte) *trust.Value {
		if i := slices.IndexFunc(all, func(v *trust.Value) bool { return bytes.Equal(v.Publisher, pub) }); i >= 0 {
			return all[i]
		}
		return nil
	}
	mine := byPub(a.Record().PublicKey)
	switch {
	case mine == nil:
		return fmt.Errorf("%s returned %d value(s), none published by node %d, which put one", what, len(all), w.index(a))
	case bytes.Equal(mine.Value, first):
		return fmt.Errorf("%s returned the bytes of node %d's first Put, want those of its later Put, which replaces it", what, w.index(a))
	case !bytes.Equal(mine.Value, own):
		return fmt.Errorf("%s returned node %d's value as %d bytes %.16x…, want the %d bytes %.16x… it put last", what, w.index(a), len(mine.Value), mine.Value, len(own), own)
	}
	if err := mine.Verify(b.Hasher()); err != nil {
		return fmt.Errorf("%s returned node %d's value unverifiable: %w", what, w.index(a), err)
	}
	got := byPub(id.PublicKey())
	if got == nil {
		return fmt.Errorf("%s returned %d value(s), none by the publisher whose value node %d stored", what, len(all), w.index(a))
	}
	return networkSameValue(b, got, theirs, what+" (the value signed elsewhere)")
}
