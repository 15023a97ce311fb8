package conformance

import (
	"errors"
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
	// Ping checks one address: it answers with the verified record of the
	// node there.
	var f networkFailures
	for i, n := range w.nodes {
		to := w.other(w.nodes, n)
		rec, err := n.Ping(e.ctx, to.Addrs()[0])
		switch {
		case err != nil:
			f.add(fmt.Errorf("node %d Ping of node %d: %w", i, w.index(to), err))
		case rec == nil || rec.ID != to.ID():
			f.add(fmt.Errorf("node %d Ping of node %d returned record %v, want that node's, ID %s", i, w.index(to), rec, to.ID().Short()))
		}
	}
	// Every node, the seed included, is found by some other node.
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
	// Mixed(n) takes n from 1 to 255: any other n is an invalid mode that
	// every call refuses with node.ErrConfig, before sending anything.
	a, b := w.nodes[0], w.nodes[1]
	for _, n := range []int{0, -1, 256} {
		bad := node.WithMode(node.Mixed(n))
		key := fmt.Appendf(nil, "network-bad-mode-%d", n)
		_, errPut := a.Put(e.ctx, key, []byte("never stored"), bad)
		_, errGet := a.Get(e.ctx, key, bad)
		_, errFind := a.FindPeer(e.ctx, b.ID(), bad)
		for call, err := range map[string]error{"Put": errPut, "Get": errGet, "FindPeer": errFind} {
			if !errors.Is(err, node.ErrConfig) {
				f.add(fmt.Errorf("%s in mode Mixed(%d): %v, want an error wrapping node.ErrConfig", call, n, err))
			}
		}
	}
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
