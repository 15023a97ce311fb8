package conformance

import (
	"fmt"

	"github.com/dhtkit/dhtkit/node"
)

// The rules that need the harness to lose frames or split the network.

// networkLossRate is the loss the loss rule applies to every link.
const networkLossRate = 0.10

// networkCheckLoss bootstraps a lossless network, then turns on 10% loss
// on every link and demands that Put, Get and FindPeer succeed in every
// mode: recovering lost frames (retries, other peers) is the node's job.
func networkCheckLoss(e *env, s networkSuite) (err error) {
	w, err := networkBuild(e, s, s.opts.Size)
	if err != nil {
		return err
	}
	defer w.closeInto(&err)
	lossy, ok := w.h.(NetworkLossInjector)
	if !ok {
		return networkLacks("NetworkLossInjector")
	}
	if err := lossy.SetLoss(networkLossRate); err != nil {
		return fmt.Errorf("SetLoss(%v): %w", networkLossRate, err)
	}
	var f networkFailures
	for _, mode := range s.opts.Modes {
		for range 2 {
			v, err := w.put(w.nodes[e.rng.IntN(len(w.nodes))], mode, "loss")
			if err != nil {
				f.add(err)
				continue
			}
			f.add(w.get(w.other(w.nodes, v.putter), v, mode))
			a := w.nodes[e.rng.IntN(len(w.nodes))]
			f.add(w.find(a, w.other(w.nodes, a), mode))
		}
	}
	return f.err(fmt.Sprintf("operations with %v%% loss on every link", networkLossRate*100))
}

// networkCheckPartition splits the network in two halves, puts a value on
// each side and gets it on the same side; then heals, re-bootstraps every
// node through one seed of each side, and gets each value from the other
// side by direct lookup (the holders are found, no republish needed).
// Finally the publishers republish (Put again, as the node's republish
// does) and every value is got across the former boundary in every mode:
// forwarded queries go to the peers closest to the key, which held no
// replica while the network was split.
//
// Nothing is asserted about gets across the partition while it lasts.
func networkCheckPartition(e *env, s networkSuite) (err error) {
	w, err := networkBuild(e, s, s.opts.Size)
	if err != nil {
		return err
	}
	defer w.closeInto(&err)
	parter, ok := w.h.(NetworkPartitioner)
	if !ok {
		return networkLacks("NetworkPartitioner")
	}
	order := w.pick(w.nodes, len(w.nodes))
	sides := [2][]*node.Node{order[:len(order)/2], order[len(order)/2:]}
	if err := parter.Partition(sides[0], sides[1]); err != nil {
		return fmt.Errorf("Partition: %w", err)
	}
	var values [2]networkValue
	for i, side := range sides {
		v, err := w.put(side[0], node.Direct(), fmt.Sprintf("partition-side-%d", i))
		if err != nil {
			return fmt.Errorf("side %d of a partition, alone: %w", i, err)
		}
		values[i] = v
		if err := w.get(side[1], v, node.Direct()); err != nil {
			return fmt.Errorf("side %d of a partition, alone: %w", i, err)
		}
	}
	if err := parter.Heal(); err != nil {
		return fmt.Errorf("Heal: %w", err)
	}
	if err := w.bootstrap(w.nodes, sides[0][0], sides[1][0]); err != nil {
		return fmt.Errorf("re-bootstrapping after Heal: %w", err)
	}
	for i, v := range values {
		other := sides[1-i]
		if err := w.get(other[e.rng.IntN(len(other))], v, node.Direct()); err != nil {
			return fmt.Errorf("healed and re-bootstrapped, a value put on side %d during the partition, got from side %d: %w", i, 1-i, err)
		}
	}
	for i, v := range values {
		if _, err := v.putter.Put(e.ctx, v.key, v.value, node.WithMode(node.Direct())); err != nil {
			return fmt.Errorf("republishing node %d's value after Heal: %w", w.index(v.putter), err)
		}
		var f networkFailures
		for _, mode := range s.opts.Modes {
			other := sides[1-i]
			f.add(w.get(other[e.rng.IntN(len(other))], v, mode))
		}
		if err := f.err(fmt.Sprintf("gets from side %d of a value put on side %d during the partition and republished after Heal", 1-i, i)); err != nil {
			return err
		}
	}
	return nil
}
