package conformance

import (
	"fmt"

	"github.com/dhtkit/dhtkit/node"
)

// The rules that need nothing beyond building and crashing nodes.

func networkCheckBootstrap(e *env, s networkSuite) (err error) {
	w, err := networkBuild(e, s, s.opts.Size)
	if err != nil {
		return err
	}
	defer w.closeInto(&err)
	for i, n := range w.nodes {
		if size := n.Stats().TableSize; size == 0 {
			return fmt.Errorf("node %d has an empty routing table after bootstrapping from node 0", i)
		}
	}
	// Every node, the seed included, is found by some other node.
	var f networkFailures
	for _, target := range w.nodes {
		f.add(w.find(w.other(w.nodes, target), target, node.Direct()))
	}
	return f.err("direct lookups of each node from another after one bootstrap round")
}

// networkFindShifts is how many rounds of lookups each mode gets: in a round
// node i looks up node i+shift, so that every node looks up and is looked up.
const networkFindShifts = 2

func networkCheckFindPeer(e *env, s networkSuite) (err error) {
	w, err := networkBuild(e, s, s.opts.Size)
	if err != nil {
		return err
	}
	defer w.closeInto(&err)
	size := len(w.nodes)
	var f networkFailures
	for _, mode := range s.opts.Modes {
		if size <= 8 { // every ordered pair
			for i, a := range w.nodes {
				for j, b := range w.nodes {
					if i != j {
						f.add(w.find(a, b, mode))
					}
				}
			}
			continue
		}
		for range networkFindShifts {
			shift := 1 + e.rng.IntN(size-1)
			for i, a := range w.nodes {
				f.add(w.find(a, w.nodes[(i+shift)%size], mode))
			}
		}
	}
	return f.err("lookups")
}

func networkCheckPutGet(e *env, s networkSuite) (err error) {
	w, err := networkBuild(e, s, s.opts.Size)
	if err != nil {
		return err
	}
	defer w.closeInto(&err)
	perMode := max(4, s.opts.Size/4)
	var f networkFailures
	for _, mode := range s.opts.Modes {
		for range perMode {
			v, err := w.put(w.nodes[e.rng.IntN(len(w.nodes))], mode, "put-get")
			if err != nil {
				f.add(err)
				continue
			}
			f.add(w.get(w.other(w.nodes, v.putter), v, mode))
		}
	}
	return f.err("puts and gets")
}

// networkCrashValues is how many values the crash rule puts.
const networkCrashValues = 8

// networkCheckCrashes puts values through one originator, crashes it and a
// third of the other nodes (never the getters), and gets every value by
// direct lookups from the survivors. Values stay only if the harness's k
// exceeds the crashed count, 1 + (Size-1)/3: the default k=20 covers sizes
// up to 58. Only direct mode is checked here: the other rules already
// exercise every mode, and node's TestForwardedQueriesRouteAroundDeadHops
// checks forwarded queries that meet crashed hops.
func networkCheckCrashes(e *env, s networkSuite) (err error) {
	w, err := networkBuild(e, s, s.opts.Size)
	if err != nil {
		return err
	}
	defer w.closeInto(&err)
	order := w.pick(w.nodes, len(w.nodes))
	origin, getters, others := order[0], order[1:3], order[3:]
	var values []networkValue
	for range networkCrashValues {
		v, err := w.put(origin, node.Direct(), "crash")
		if err != nil {
			return err
		}
		values = append(values, v)
	}
	if err := w.crash(origin); err != nil {
		return err
	}
	victims := (len(w.nodes) - 1) / 3
	for _, n := range others[:victims] {
		if err := w.crash(n); err != nil {
			return err
		}
	}
	var f networkFailures
	for i, v := range values {
		f.add(w.get(getters[i%len(getters)], v, node.Direct()))
	}
	if err := f.err(fmt.Sprintf("direct gets after crashing the originator and %d of the other %d nodes", victims, len(w.nodes)-1)); err != nil {
		return err
	}
	return nil
}
