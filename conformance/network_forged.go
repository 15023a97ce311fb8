package conformance

import (
	"fmt"
	"slices"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/trust"
)

// The rule about forged stores a stranger sends straight to a node, and
// the forgeries of values the forged-replies rule also uses.

// networkWire is v's wire form, to live an hour.
func networkWire(v *trust.Value) msgenc.ValueRecord {
	return msgenc.ValueRecord{
		Key: v.Key.Bytes(), Value: slices.Clone(v.Value), Publisher: slices.Clone(v.Publisher),
		Salt: slices.Clone(v.Salt), Seq: v.Seq, Signature: slices.Clone(v.Signature), TTL: 3600,
	}
}

// networkForgedImmutable is the forgery of an immutable value: its bytes
// with the last one changed, under its key, which they no longer hash to.
// Changing the last byte also catches a hasher that reads only a prefix.
func networkForgedImmutable(v *trust.Value) msgenc.ValueRecord {
	r := networkWire(v)
	r.Value[len(r.Value)-1] ^= 0xff
	return r
}

// networkForgedWrite is a store that no replica may keep, and how a Get of
// its kind would read it back.
type networkForgedWrite struct {
	what string
	rec  msgenc.ValueRecord
	// get reads the forged value's key through n in mode, as a Get of its
	// kind; it returns what it found, nil for nothing.
	get func(n *node.Node, mode node.Mode) []byte
}

// networkForgedWrites makes one store of each forgery a stranger may try.
func networkForgedWrites(w *networkNet) ([]networkForgedWrite, error) {
	ctx, h := w.e.ctx, w.nodes[0].Hasher()
	owner, err := w.identity()
	if err != nil {
		return nil, err
	}
	other, err := w.identity()
	if err != nil {
		return nil, err
	}
	userKey := func(tag string) []byte { return fmt.Appendf(nil, "network-forged-%s-%x", tag, w.e.rng.Uint64()) }
	value := func() []byte { return w.bytes(100 + w.e.rng.IntN(100)) }
	plainGet := func(key []byte) func(*node.Node, node.Mode) []byte {
		return func(n *node.Node, mode node.Mode) []byte {
			got, _ := n.Get(ctx, key, node.WithMode(mode))
			return got
		}
	}

	unsignedKey := userKey("unsigned")
	unsigned := msgenc.ValueRecord{Key: h.Sum(unsignedKey).Bytes(), Value: value(), TTL: 3600}

	claimedKey := userKey("claimed")
	v, err := trust.NewPlain(other, h.Sum(claimedKey), 1+w.e.rng.Uint64N(1<<40), value())
	if err != nil {
		return nil, err
	}
	claimed := networkWire(v)
	claimed.Publisher = slices.Clone(owner.PublicKey())

	brokenKey := userKey("broken")
	v, err = trust.NewPlain(owner, h.Sum(brokenKey), 1+w.e.rng.Uint64N(1<<40), value())
	if err != nil {
		return nil, err
	}
	broken := networkWire(v)
	broken.Signature[w.e.rng.IntN(len(broken.Signature))] ^= 0x10

	salt := w.bytes(8)
	v, err = trust.NewMutable(owner, h, salt, 1+w.e.rng.Uint64N(1<<40), value())
	if err != nil {
		return nil, err
	}
	altered := networkWire(v)
	altered.Value = value()

	imm := trust.NewImmutable(h, value())
	return []networkForgedWrite{
		{"an anonymous unsigned value under a key that is not its hash", unsigned, func(n *node.Node, mode node.Mode) []byte {
			got, _ := n.GetImmutable(ctx, h.Sum(unsignedKey), node.WithMode(mode))
			return got
		}},
		{"a plain value signed by another key than the publisher it names", claimed, plainGet(claimedKey)},
		{"a plain value with a broken signature", broken, plainGet(brokenKey)},
		{"a mutable value whose bytes were changed after signing", altered, func(n *node.Node, mode node.Mode) []byte {
			got, err := n.GetMutable(ctx, owner.PublicKey(), salt, node.WithMode(mode))
			if err != nil {
				return nil
			}
			return got.Value
		}},
		{"an immutable value whose bytes do not hash to its key", networkForgedImmutable(imm), func(n *node.Node, mode node.Mode) []byte {
			got, _ := n.GetImmutable(ctx, imm.Key, node.WithMode(mode))
			return got
		}},
	}, nil
}

// networkCheckForgedWrites sends each forged store straight to every node
// from the harness's raw peer, anonymously: every node must refuse each
// with an error reply coded invalid. Then no node may hold anything under
// the forged keys (asked directly), nor return anything for them from a
// direct Get; in each other mode a Get from a random node must find
// nothing either.
func networkCheckForgedWrites(e *env, s networkSuite) (err error) {
	w, err := networkBuild(e, s, networkValueNodes(s))
	if err != nil {
		return err
	}
	defer w.closeInto(&err)
	prober, ok := w.h.(NetworkProber)
	if !ok {
		return networkLacks("NetworkProber")
	}
	forged, err := networkForgedWrites(w)
	if err != nil {
		return err
	}
	var f networkFailures
	for i, n := range w.nodes {
		for _, fw := range forged {
			f.add(networkRefused(w, prober, i, n, fw))
		}
	}
	if err := f.err("forged stores sent straight to a node"); err != nil {
		return err
	}
	for i, n := range w.nodes {
		for _, fw := range forged {
			held, err := networkHeld(w, prober, n.Addrs()[0], fw.rec.Key)
			if err != nil {
				f.add(fmt.Errorf("asking node %d what it holds: %w", i, err))
				continue
			}
			if len(held) > 0 {
				f.add(fmt.Errorf("node %d holds %d value(s) under the key of %s it refused", i, len(held), fw.what))
				continue
			}
			f.add(nil)
		}
	}
	for _, mode := range s.opts.Modes {
		readers := w.nodes
		if mode != node.Direct() {
			readers = w.pick(w.nodes, 1)
		}
		for _, n := range readers {
			for _, fw := range forged {
				if got := fw.get(n, mode); got != nil {
					f.add(fmt.Errorf("%s: node %d's Get returned %d bytes %.16x… for %s", mode, w.index(n), len(got), got, fw.what))
					continue
				}
				f.add(nil)
			}
		}
	}
	return f.err("looks for the forged values")
}

// networkRefused sends fw's store to node i and checks the refusal.
func networkRefused(w *networkNet, prober NetworkProber, i int, n *node.Node, fw networkForgedWrite) error {
	rep, err := networkProbe(w, prober, n.Addrs()[0], &msgenc.Message{Kind: msgenc.KindStore, Store: &msgenc.Store{Record: fw.rec}})
	switch {
	case err != nil:
		return fmt.Errorf("node %d, sent %s: %w", i, fw.what, err)
	case rep.Kind == msgenc.KindStoreAck:
		return fmt.Errorf("node %d acknowledged %s", i, fw.what)
	case rep.Kind != msgenc.KindError || rep.Error == nil:
		return fmt.Errorf("node %d answered %s with a %s, want an error reply", i, fw.what, rep.Kind)
	case rep.Error.Code != msgenc.CodeInvalid:
		return fmt.Errorf("node %d refused %s with code %s (%q), want %s", i, fw.what, rep.Error.Code, rep.Error.Message, msgenc.CodeInvalid)
	}
	return nil
}
