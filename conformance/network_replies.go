package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
)

// The rule about hostile nodes that forge their answers to value queries.

// networkForgeries is what the hostile nodes of the forged-replies rule
// answer: for each key a rule put a value under, a forgery of it, put
// before the honest records.
type networkForgeries struct {
	mu    sync.Mutex
	byKey map[string][]msgenc.ValueRecord
}

// add makes the forgery of v: for a signed value, a version with a higher
// sequence number and other bytes under the same publisher, its signature
// broken; for an immutable value, other bytes under its key.
func (f *networkForgeries) add(w *networkNet, v *trust.Value) {
	r := networkForgedImmutable(v)
	if v.Kind != trust.Immutable {
		r = networkWire(v)
		r.Seq += 1 + w.e.rng.Uint64N(1<<20)
		r.Value = append([]byte("forged "), w.bytes(32)...)
		r.Signature[w.e.rng.IntN(len(r.Signature))] ^= 0x01
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.byKey == nil {
		f.byKey = make(map[string][]msgenc.ValueRecord)
	}
	f.byKey[string(r.Key)] = append(f.byKey[string(r.Key)], r)
}

// forge is the NetworkForgery of the hostile nodes.
func (f *networkForgeries) forge(key []byte, honest []msgenc.ValueRecord) []msgenc.ValueRecord {
	f.mu.Lock()
	forged := slices.Clone(f.byKey[string(key)])
	f.mu.Unlock()
	return append(forged, honest...)
}

// networkForgedReaders is how many clients read in the forged-replies rule.
const networkForgedReaders = 2

// networkForgedImmutables is how many immutable values the forged-replies
// rule reads.
const networkForgedImmutables = 2

// networkCheckForgedReplies builds a network of which half the nodes are
// hostile (NetworkHostile): they store and route honestly, but answer
// every value query with a forgery of the value, before the genuine one.
// An honest node stores a mutable and a plain value signed by a third
// party and some immutable values, each under a key whose closest nodes
// are hostile where XOR distance allows; client readers, which hold
// nothing themselves, get each in every mode and must return the genuine
// value, signature and all. They ask with a quorum of the whole network,
// so that no lookup stops before the hostile nodes answer: a lookup that
// has its quorum cancels the requests it has not yet sent. The honest
// nodes must have discarded some forged answer, or the rule checked
// nothing.
func networkCheckForgedReplies(e *env, s networkSuite) (err error) {
	size := networkValueNodes(s)
	w, err := networkStart(e, s, size-size/2)
	if err != nil {
		return err
	}
	defer w.closeInto(&err)
	hostile, ok := w.h.(NetworkHostile)
	if !ok {
		return networkLacks("NetworkHostile")
	}
	honest := slices.Clone(w.nodes)
	var forgeries networkForgeries
	var liars []*node.Node
	for range size / 2 {
		n, err := hostile.NewHostileNode(len(w.nodes), NetworkNodeOptions{}, forgeries.forge)
		if err != nil {
			return fmt.Errorf("building hostile node %d: %w", len(w.nodes), err)
		}
		if n == nil {
			return errors.New("NewHostileNode returned a nil node and no error")
		}
		w.nodes = append(w.nodes, n)
		liars = append(liars, n)
	}
	if err := w.bootstrap(w.nodes[1:], w.nodes[0]); err != nil {
		return err
	}
	var readers []*node.Node
	for range networkForgedReaders {
		r, err := w.add(NetworkNodeOptions{Client: true})
		if err != nil {
			return err
		}
		readers = append(readers, r)
	}
	if err := w.bootstrap(readers, w.nodes[0]); err != nil {
		return err
	}
	vals, err := networkForgedRepliesPut(w, honest[e.rng.IntN(len(honest))], liars, &forgeries)
	if err != nil {
		return err
	}
	var f networkFailures
	for _, mode := range s.opts.Modes {
		for _, r := range readers {
			for _, v := range vals {
				f.add(w.readGenuine(r, v, mode, size))
			}
		}
	}
	if err := f.err(fmt.Sprintf("gets by clients, with a quorum of %d, in a network where %d of %d nodes forge their answers", size, size/2, size)); err != nil {
		return err
	}
	var discarded uint64
	for _, n := range append(honest, readers...) {
		discarded += n.Stats().Dropped[node.DropBadValue]
	}
	if discarded == 0 {
		return fmt.Errorf("no honest node discarded a forged value (Stats.Dropped[\"bad-value\"] is 0 everywhere): the %d hostile nodes' forgeries never reached a reader, so nothing was checked", size/2)
	}
	return nil
}

// networkStored is a value a rule stored, and for a plain value the key it
// was put under.
type networkStored struct {
	v   *trust.Value
	key []byte
}

// networkForgedRepliesPut stores, through put, the values the readers of
// the forged-replies rule get, and the hostile nodes' forgeries of them.
// Each key is chosen so that the nodes closest to it, those a reader asks
// first, are hostile (as far as XOR distance allows): a reader that does
// not verify then takes a forgery, whichever answer comes first.
func networkForgedRepliesPut(w *networkNet, put *node.Node, hostile []*node.Node, forgeries *networkForgeries) ([]networkStored, error) {
	h := put.Hasher()
	id, err := w.identity()
	if err != nil {
		return nil, err
	}
	near := func(next func() (peer.ID, []byte)) []byte {
		out, _ := w.keyNear(w.nodes, hostile, networkValueQuorum, next)
		return out
	}
	salt := near(func() (peer.ID, []byte) {
		salt := w.bytes(8)
		return trust.MutableKey(h, id.PublicKey(), salt), salt
	})
	mut, err := trust.NewMutable(id, h, salt, 1+w.e.rng.Uint64N(1<<40), w.bytes(16+w.e.rng.IntN(100)))
	if err != nil {
		return nil, err
	}
	plainKey := near(func() (peer.ID, []byte) {
		key := fmt.Appendf(nil, "network-forged-replies-%x", w.e.rng.Uint64())
		return h.Sum(key), key
	})
	plain, err := trust.NewPlain(id, h.Sum(plainKey), 1+w.e.rng.Uint64N(1<<40), w.bytes(16+w.e.rng.IntN(100)))
	if err != nil {
		return nil, err
	}
	vals := []networkStored{{v: mut}, {v: plain, key: plainKey}}
	for range networkForgedImmutables {
		value := near(func() (peer.ID, []byte) {
			value := w.bytes(100 + w.e.rng.IntN(100))
			return trust.ImmutableKey(h, value), value
		})
		vals = append(vals, networkStored{v: trust.NewImmutable(h, value)})
	}
	for _, s := range vals {
		if _, err := put.PutValue(w.e.ctx, s.v, node.WithMode(node.Direct())); err != nil {
			return nil, fmt.Errorf("node %d PutValue of a %s value: %w", w.index(put), s.v.Kind, err)
		}
		forgeries.add(w, s.v)
	}
	return vals, nil
}

// readGenuine checks that reader gets s in mode, with the given quorum, as
// it was put.
func (w *networkNet) readGenuine(reader *node.Node, s networkStored, mode node.Mode, quorum int) error {
	ctx, v := w.e.ctx, s.v
	opts := []node.CallOption{node.WithMode(mode), node.WithQuorum(quorum)}
	what := fmt.Sprintf("%s: a client's get of the %s value", mode, v.Kind)
	var got *trust.Value
	var err error
	switch v.Kind {
	case trust.Immutable:
		b, err := reader.GetImmutable(ctx, v.Key, opts...)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if !bytes.Equal(b, v.Value) {
			return fmt.Errorf("%s returned %d bytes %.16x…, want the %d bytes %.16x… put", what, len(b), b, len(v.Value), v.Value)
		}
		return nil
	case trust.Mutable:
		got, err = reader.GetMutable(ctx, v.Publisher, v.Salt, opts...)
	default:
		var all []*trust.Value
		if all, err = reader.GetAll(ctx, s.key, append(opts, node.WithPublisher(v.Publisher))...); err == nil {
			got = all[0]
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return networkSameValue(reader, got, v, what)
}
