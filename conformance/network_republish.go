package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
)

// networkRepublishAdvance is how far the republish rule moves the clock:
// past node.DefaultRepublishInterval, and far short of the default record
// lifetime, so that only republishing can put a value on a new node.
const networkRepublishAdvance = node.DefaultRepublishInterval + time.Minute

// networkRepublishPatience bounds the wait, in real time, for republished
// values to land once the clock has jumped.
const networkRepublishPatience = 10 * time.Second

// networkCheckRepublish: half the network joins, and a third party's
// mutable value is stored through one node (which republishes what it
// published) and its plain value through another, which then crashes (so
// that only the replicas republish it). Each key is chosen so that a node
// of the other half, which joins afterwards and holds nothing, is the live
// node closest to it. Then the clock jumps past the republish interval
// (NetworkClockAdvancer): that node must come to hold each value with its
// original signature bytes (asked directly, NetworkProber), every node
// holding it must hold exactly that, and a reader on the new half must get
// it and verify it.
func networkCheckRepublish(e *env, s networkSuite) (err error) {
	size := networkValueNodes(s)
	w, err := networkStart(e, s, size)
	if err != nil {
		return err
	}
	defer w.closeInto(&err)
	adv, ok := w.h.(NetworkClockAdvancer)
	if !ok {
		return networkLacks("NetworkClockAdvancer")
	}
	prober, ok := w.h.(NetworkProber)
	if !ok {
		return networkLacks("NetworkProber")
	}
	old, fresh := w.nodes[:size-size/2], w.nodes[size-size/2:]
	if err := w.bootstrap(old[1:], old[0]); err != nil {
		return err
	}
	publisher, carrier := old[0], old[1]
	live := slices.DeleteFunc(slices.Clone(w.nodes), func(n *node.Node) bool { return n == carrier })
	h := publisher.Hasher()
	id, err := w.identity()
	if err != nil {
		return err
	}
	salt, ok1 := w.keyNear(live, fresh, 1, func() (peer.ID, []byte) {
		salt := w.bytes(8)
		return trust.MutableKey(h, id.PublicKey(), salt), salt
	})
	mut, err := trust.NewMutable(id, h, salt, 1+e.rng.Uint64N(1<<40), w.bytes(16+e.rng.IntN(100)))
	if err != nil {
		return err
	}
	plainKey, ok2 := w.keyNear(live, fresh, 1, func() (peer.ID, []byte) {
		key := fmt.Appendf(nil, "network-republish-%x", w.e.rng.Uint64())
		return h.Sum(key), key
	})
	if !ok1 || !ok2 {
		return fmt.Errorf("no key among %d drawn has a node that joins later as the live node closest to it", networkKeyDraws)
	}
	plain, err := trust.NewPlain(id, h.Sum(plainKey), 1+e.rng.Uint64N(1<<40), w.bytes(16+e.rng.IntN(100)))
	if err != nil {
		return err
	}
	for _, p := range []struct {
		through *node.Node
		v       *trust.Value
	}{{publisher, mut}, {carrier, plain}} {
		if _, err := p.through.PutValue(e.ctx, p.v, node.WithMode(node.Direct())); err != nil {
			return fmt.Errorf("node %d PutValue of a %s value: %w", w.index(p.through), p.v.Kind, err)
		}
	}
	if err := w.bootstrap(fresh, old[0]); err != nil {
		return err
	}
	if err := w.crash(carrier); err != nil {
		return err
	}
	if err := adv.Advance(networkRepublishAdvance); err != nil {
		return fmt.Errorf("Advance(%v): %w", networkRepublishAdvance, err)
	}
	for _, v := range []*trust.Value{mut, plain} {
		what := fmt.Sprintf("the %s value stored through node %d", v.Kind, w.index(publisher))
		if v == plain {
			what = fmt.Sprintf("the %s value stored through node %d, which then crashed", v.Kind, w.index(carrier))
		}
		if err := w.republished(prober, live, fresh, v, what); err != nil {
			return err
		}
	}
	reader := fresh[e.rng.IntN(len(fresh))]
	got, err := reader.GetMutable(e.ctx, mut.Publisher, mut.Salt, node.WithMode(node.Direct()), node.WithQuorum(networkValueQuorum))
	if err != nil {
		return fmt.Errorf("after the republish, node %d GetMutable: %w", w.index(reader), err)
	}
	if err := networkSameValue(reader, got, mut, fmt.Sprintf("after the republish, node %d GetMutable", w.index(reader))); err != nil {
		return err
	}
	all, err := reader.GetAll(e.ctx, plainKey, node.WithMode(node.Direct()), node.WithPublisher(plain.Publisher), node.WithQuorum(networkValueQuorum))
	if err != nil {
		return fmt.Errorf("after the republish, node %d GetAll(%q): %w", w.index(reader), plainKey, err)
	}
	return networkSameValue(reader, all[0], plain, fmt.Sprintf("after the republish, node %d GetAll(%q)", w.index(reader), plainKey))
}

// republished waits until the live node closest to v's key, one of fresh,
// holds v exactly as it was signed, then checks that every live node that
// holds a value of v's publisher under the key holds exactly v.
func (w *networkNet) republished(prober NetworkProber, live, fresh []*node.Node, v *trust.Value, what string) error {
	target := slices.MinFunc(live, func(a, b *node.Node) int { return peer.CompareDistance(v.Key, a.ID(), b.ID()) })
	deadline := time.Now().Add(networkRepublishPatience)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		held, err := networkHeld(w, prober, target.Addrs()[0], v.Key.Bytes())
		if err != nil {
			return fmt.Errorf("asking node %d what it holds: %w", w.index(target), err)
		}
		found, err := networkHolds(held, v)
		if err != nil {
			return fmt.Errorf("after the clock passed the republish interval, node %d, the live node closest to the key of %s, %w", w.index(target), what, err)
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("node %d, which joined after %s was stored and is the live node closest to its key, still holds none of it %v after the clock passed the republish interval (%v)",
				w.index(target), what, networkRepublishPatience, networkRepublishAdvance)
		}
		select {
		case <-tick.C:
		case <-w.e.ctx.Done():
			return fmt.Errorf("waiting for node %d to hold %s: %w", w.index(target), what, w.e.ctx.Err())
		}
	}
	var f networkFailures
	for _, n := range live {
		held, err := networkHeld(w, prober, n.Addrs()[0], v.Key.Bytes())
		if err == nil {
			_, err = networkHolds(held, v)
		}
		if err != nil {
			err = fmt.Errorf("node %d, asked for %s: %w", w.index(n), what, err)
		}
		f.add(err)
	}
	return f.err("replicas asked what they hold after the republish")
}

// networkHolds reports whether held has v exactly, and fails when it has a
// value of v's publisher that is not exactly v.
func networkHolds(held []msgenc.ValueRecord, v *trust.Value) (bool, error) {
	found := false
	for _, r := range held {
		if !bytes.Equal(r.Publisher, v.Publisher) {
			continue
		}
		if !bytes.Equal(r.Key, v.Key.Bytes()) || !bytes.Equal(r.Value, v.Value) || !bytes.Equal(r.Salt, v.Salt) || r.Seq != v.Seq {
			return false, fmt.Errorf("holds sequence %d, %d bytes %.16x…; want sequence %d, %d bytes %.16x…", r.Seq, len(r.Value), r.Value, v.Seq, len(v.Value), v.Value)
		}
		if !bytes.Equal(r.Signature, v.Signature) {
			return false, fmt.Errorf("holds the value with signature %x, not the original %x", r.Signature, v.Signature)
		}
		found = true
	}
	if len(held) > 0 && !found {
		return false, errors.New("holds values under the key, none of its publisher")
	}
	return found, nil
}
