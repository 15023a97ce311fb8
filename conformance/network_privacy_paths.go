package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/node"
)

// The privacy of forwarded paths beyond the originator's address: no
// forwarded query names the hops behind it, and the hop budget does not
// tell the first hop that it is first.

// networkPathsSeen is what the nodes past the first hop saw of the
// originator's forwarded queries.
type networkPathsSeen struct {
	// named lists the forwarded queries received past the first hop that
	// carry the originator's or the first hop's ID in their body.
	named []error
	// atFirst are the hop budgets the first hop received from the
	// originator; past those every other node received.
	atFirst, past []int
}

// networkPathsRun lets a client originator O, which has pinged one node H
// and nothing else, get keys nobody stored (so that queries travel as far
// as they can) and find nodes, rounds times in each of modes, then reads
// every forwarded query the nodes received. It stores nothing: the rules
// hold for any policy.
func networkPathsRun(w *networkNet, obs NetworkObserver, modes []node.Mode, rounds int) (networkPathsSeen, error) {
	e := w.e
	var seen networkPathsSeen
	origin, err := w.add(NetworkNodeOptions{Client: true})
	if err != nil {
		return seen, err
	}
	hop := w.nodes[e.rng.IntN(len(w.nodes))]
	// Only the frames this run makes count: a rule may run it again.
	before := make([]int, len(w.nodes))
	for i, n := range w.nodes {
		before[i] = len(obs.Received(n))
	}
	if _, err := origin.Ping(e.ctx, hop.Addrs()[0]); err != nil {
		return seen, fmt.Errorf("the client originator's Ping of node %d: %w", w.index(hop), err)
	}
	for _, mode := range modes {
		for r := range rounds {
			// A key nobody stored: the query travels as far as it can.
			missing := fmt.Appendf(nil, "network-paths-missing-%s-%d-%x", mode, r, e.rng.Uint64())
			if _, err := origin.Get(e.ctx, missing, node.WithMode(mode)); err != nil && !errors.Is(err, node.ErrNotFound) {
				return seen, fmt.Errorf("%s: the client originator's Get of a missing key: %w", mode, err)
			}
			if err := w.find(origin, w.other(w.nodes, hop), mode); err != nil {
				return seen, fmt.Errorf("the client originator: %w", err)
			}
		}
	}
	secrets := []struct {
		what string
		id   []byte
	}{{"the originator's ID", origin.ID().Bytes()}, {"the first hop's ID", hop.ID().Bytes()}}
	originAddrs := origin.Addrs()
	for i, n := range w.nodes {
		got := obs.Received(n)
		if i < len(before) {
			got = got[min(before[i], len(got)):]
		}
		for _, f := range got {
			if f.Msg == nil || f.Msg.Forward == nil {
				continue
			}
			fw := f.Msg.Forward
			if n == hop {
				if slices.ContainsFunc(originAddrs, f.From.Equal) {
					seen.atFirst = append(seen.atFirst, int(fw.HopBudget))
				}
				continue
			}
			seen.past = append(seen.past, int(fw.HopBudget))
			for _, s := range secrets {
				if where := networkForwardNames(fw, s.id); where != "" {
					seen.named = append(seen.named, fmt.Errorf("node %d received a forwarded %s from %v naming %s in its %s", i, fw.Op, f.From, s.what, where))
				}
			}
		}
	}
	return seen, nil
}

// networkForwardNames says which field of f carries id, or "".
func networkForwardNames(f *msgenc.Forward, id []byte) string {
	fields := []struct {
		name string
		b    []byte
	}{{"query ID", f.QueryID}, {"salt", f.Salt}, {"target", f.Target}}
	for _, v := range f.Visited {
		fields = append(fields, struct {
			name string
			b    []byte
		}{"visited list", v})
	}
	for _, a := range f.ReplyTo {
		fields = append(fields, struct {
			name string
			b    []byte
		}{"reply-to", a})
	}
	for _, fd := range fields {
		if len(fd.b) > 0 && bytes.Contains(fd.b, id) {
			return fd.name
		}
	}
	return ""
}

// networkForwardedModes are proxied, direct reply and the suite's mixed
// modes.
func networkForwardedModes(s networkSuite) []node.Mode {
	modes := []node.Mode{node.Proxied(), node.DirectReply()}
	for _, m := range s.opts.Modes {
		if m.ProxyHops() > 0 && !slices.Contains(modes, m) {
			modes = append(modes, m)
		}
	}
	return modes
}

// networkCheckNoHopTrace: the originator O, a client that knows one node
// H, gets missing keys and finds nodes in every forwarded mode; no forwarded query
// received past H may carry O's ID or H's ID in its query ID, salt,
// target, visited list or reply-to addresses. (The frame's sender is the
// previous hop, as it must be; a forwarded store of a signed value names
// its publisher's key by design, so stores are not part of the scenario.)
func networkCheckNoHopTrace(e *env, s networkSuite) error {
	return networkObserved(e, s, func(w *networkNet, obs NetworkObserver) error {
		modes := networkForwardedModes(s)
		// Two rounds a mode usually send queries past the first hop; when the
		// first hop happened to answer them all itself, look again with more.
		var seen networkPathsSeen
		var err error
		for rounds := 2; rounds <= 8 && len(seen.past) == 0; rounds *= 2 {
			if seen, err = networkPathsRun(w, obs, modes, rounds); err != nil {
				return err
			}
		}
		if len(seen.past) == 0 {
			return fmt.Errorf("in modes %v no forwarded query went past the first hop: nothing was checked", modes)
		}
		if len(seen.named) > 0 {
			return fmt.Errorf("in modes %v, %d forwarded queries past the first hop named the hops behind them, for example: %w", modes, len(seen.named), errors.Join(seen.named[:min(len(seen.named), 4)]...))
		}
		return nil
	})
}

// networkPositionRounds is how many proxied queries the position rule
// sends: enough that a budget drawn from a range of two or more values
// shows at least two, all but certainly.
const networkPositionRounds = 12

// networkCheckHopPosition: the originator O, a client that knows one node
// H, sends proxied queries; the hop budgets H receives from O must take at
// least two values, and at least one of them must also be received by a
// node past H, so that no budget proves H the first hop.
func networkCheckHopPosition(e *env, s networkSuite) error {
	return networkObserved(e, s, func(w *networkNet, obs NetworkObserver) error {
		seen, err := networkPathsRun(w, obs, []node.Mode{node.Proxied()}, networkPositionRounds)
		if err != nil {
			return err
		}
		first := slices.Compact(slices.Sorted(slices.Values(seen.atFirst)))
		past := slices.Compact(slices.Sorted(slices.Values(seen.past)))
		switch {
		case len(seen.atFirst) == 0:
			return fmt.Errorf("the first hop received no forwarded query from the originator")
		case len(seen.past) == 0:
			return fmt.Errorf("no forwarded query went past the first hop: nothing was checked")
		case len(first) < 2:
			return fmt.Errorf("over %d proxied queries the first hop always received hop budget %d: the budget does not start at random", len(seen.atFirst), first[0])
		case !slices.ContainsFunc(past, func(b int) bool { return slices.Contains(first, b) }):
			return fmt.Errorf("the first hop received budgets %v and the hops past it only %v: a budget tells the first hop that it is first", first, past)
		}
		return nil
	})
}
