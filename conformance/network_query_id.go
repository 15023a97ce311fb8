package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/dhtkit/dhtkit/node"
)

// networkQueryIDRounds is how many missing keys the originator gets in
// proxied mode: each query is one path whose IDs the rule compares.
const networkQueryIDRounds = 4

// networkCheckQueryID: a client originator O that knows one node H gets
// keys nobody stored in proxied mode, so that each query travels as far
// as it can, every hop a proxy. Then, of the forwarded queries the nodes
// received: each try O sends (a query ID of its own) carries a salt of its
// own, drawn afresh; every query a node received from another node carries
// the salt of one of O's tries, unchanged along the path; and along one
// path (one salt) no two nodes received the same query ID, nor did any
// node receive from a hop the ID O sent: every proxy replaced it.
func networkCheckQueryID(e *env, s networkSuite) error {
	return networkObserved(e, s, networkQueryIDRun)
}

// networkQueryIDRun runs the scenario of networkCheckQueryID on a built
// network and checks what the nodes received.
func networkQueryIDRun(w *networkNet, obs NetworkObserver) error {
	e := w.e
	origin, _, before, err := networkClientOrigin(w, obs)
	if err != nil {
		return err
	}
	for r := range networkQueryIDRounds {
		missing := fmt.Appendf(nil, "network-query-id-missing-%d-%x", r, e.rng.Uint64())
		if _, err := origin.Get(e.ctx, missing, node.WithMode(node.Proxied())); err != nil && !errors.Is(err, node.ErrNotFound) {
			return fmt.Errorf("the client originator's proxied Get of a missing key: %w", err)
		}
	}
	// The tries O sent, by query ID, with their salts.
	trySalt := map[string][]byte{}
	// Along each path (by salt): which node received which query IDs.
	type receipt struct {
		node       int
		id         []byte
		fromOrigin bool
	}
	paths := map[string][]receipt{}
	originAddrs := origin.Addrs()
	for i, n := range w.nodes {
		got := obs.Received(n)[before[i]:]
		for _, f := range got {
			if f.Msg == nil || f.Msg.Forward == nil {
				continue
			}
			fw := f.Msg.Forward
			fromOrigin := slices.ContainsFunc(originAddrs, f.From.Equal)
			if fromOrigin {
				trySalt[string(fw.QueryID)] = fw.Salt
			}
			paths[string(fw.Salt)] = append(paths[string(fw.Salt)], receipt{i, fw.QueryID, fromOrigin})
		}
	}
	if len(trySalt) < networkQueryIDRounds {
		return fmt.Errorf("the nodes received %d forwarded queries from the originator, want at least one per Get (%d)", len(trySalt), networkQueryIDRounds)
	}
	salts := map[string]string{} // salt -> the try that drew it
	for id, salt := range trySalt {
		if len(salt) == 0 {
			return fmt.Errorf("the originator sent a forwarded query with no salt")
		}
		if other, ok := salts[string(salt)]; ok && other != id {
			return fmt.Errorf("two tries of the originator (query IDs %x and %x) carry the same salt %x: it is not drawn afresh for every try", other, id, salt)
		}
		salts[string(salt)] = id
	}
	travelled := 0
	for salt, rs := range paths {
		if _, ok := salts[salt]; !ok {
			return fmt.Errorf("node %d received a forwarded query with salt %x, which none of the originator's tries carries: a hop changed the salt", rs[0].node, []byte(salt))
		}
		sent := []byte(salts[salt])
		for a, ra := range rs {
			if !ra.fromOrigin && bytes.Equal(ra.id, sent) {
				return fmt.Errorf("node %d, past the first hop, received the query ID %x that the originator sent: the first hop did not replace it", ra.node, ra.id)
			}
			for _, rb := range rs[a+1:] {
				if ra.node != rb.node && bytes.Equal(ra.id, rb.id) {
					return fmt.Errorf("nodes %d and %d received one query (salt %x) under the same query ID %x: a proxy passed it on unchanged", ra.node, rb.node, []byte(salt), ra.id)
				}
			}
			if !ra.fromOrigin {
				travelled++
			}
		}
	}
	if travelled == 0 {
		return errors.New("no forwarded query travelled past the first hop: nothing shows that proxies replace the query ID")
	}
	return nil
}

// networkClientOrigin adds a client originator O to w that knows one node,
// hop, picked at random, and returns them with the number of frames each
// node of w had received before O spoke: the frames a rule then reads are
// those past it.
func networkClientOrigin(w *networkNet, obs NetworkObserver) (origin, hop *node.Node, before []int, err error) {
	e := w.e
	origin, err = w.add(NetworkNodeOptions{Client: true})
	if err != nil {
		return nil, nil, nil, err
	}
	hop = w.nodes[e.rng.IntN(len(w.nodes))]
	before = make([]int, len(w.nodes))
	for i, n := range w.nodes {
		before[i] = len(obs.Received(n))
	}
	if _, err := origin.Ping(e.ctx, hop.Addrs()[0]); err != nil {
		return nil, nil, nil, fmt.Errorf("the client originator's Ping of node %d: %w", w.index(hop), err)
	}
	return origin, hop, before, nil
}

// networkObserved builds a network of s, runs check on it with the
// harness's NetworkObserver (the rule is skipped for a harness without
// one), and closes the network.
func networkObserved(e *env, s networkSuite, check func(w *networkNet, obs NetworkObserver) error) (err error) {
	w, err := networkBuild(e, s, s.opts.Size)
	if err != nil {
		return err
	}
	defer w.closeInto(&err)
	obs, ok := w.h.(NetworkObserver)
	if !ok {
		return networkLacks("NetworkObserver")
	}
	return check(w, obs)
}
