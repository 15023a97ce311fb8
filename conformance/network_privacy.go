package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/dhtkit/dhtkit/node"
)

// networkCheckProxiedPrivacy: an originator O joins as a client that has
// pinged one node H of a bootstrapped network and nothing else, so its
// address spreads only by what the network does with its queries. O puts,
// gets and finds peers in proxied mode (and each mixed mode of the suite's
// modes), while the other nodes keep up direct lookups and gets of O's
// values, and finally every node but H looks up O's ID and some other
// node, so that O's address would travel if any table had taken it in.
// Then no frame received by any node but H may carry O's address: not as
// the frame's sender, nor in a peer record, reply address or pong, nor
// anywhere in the raw bytes. H, the first hop, necessarily sees it.
func networkCheckProxiedPrivacy(e *env, s networkSuite) error {
	return networkObserved(e, s, func(w *networkNet, obs NetworkObserver) error {
		modes := []node.Mode{node.Proxied()}
		for _, m := range s.opts.Modes {
			if m.ProxyHops() > 0 && !slices.Contains(modes, m) {
				modes = append(modes, m)
			}
		}
		leaks, err := networkPrivacyRun(w, obs, modes)
		if err != nil {
			return err
		}
		if len(leaks) > 0 {
			return fmt.Errorf("in modes %v, %d frame(s) reached nodes beyond the first hop carrying the originator's address, for example: %w", modes, len(leaks), errors.Join(leaks[:min(len(leaks), 4)]...))
		}
		return nil
	})
}

// networkPrivacyRun runs the privacy scenario in the given modes and returns
// one error per frame that reached a node other than the first hop carrying
// the originator's address.
func networkPrivacyRun(w *networkNet, obs NetworkObserver, modes []node.Mode) ([]error, error) {
	e := w.e
	// Values the originator will fetch, put before it exists.
	var theirs []networkValue
	for range modes {
		v, err := w.put(w.nodes[e.rng.IntN(len(w.nodes))], node.Direct(), "privacy-theirs")
		if err != nil {
			return nil, err
		}
		theirs = append(theirs, v)
	}
	origin, err := w.add(NetworkNodeOptions{Client: true})
	if err != nil {
		return nil, err
	}
	hop := w.nodes[e.rng.IntN(len(w.nodes))]
	rec, err := origin.Ping(e.ctx, hop.Addrs()[0])
	if err != nil {
		return nil, fmt.Errorf("the client originator's Ping of node %d: %w", w.index(hop), err)
	}
	if rec == nil || rec.ID != hop.ID() {
		return nil, fmt.Errorf("the client originator's Ping of node %d returned record %v, want the node's", w.index(hop), rec)
	}
	for i, mode := range modes {
		mine, err := w.put(origin, mode, "privacy-mine")
		if err != nil {
			return nil, fmt.Errorf("the client originator: %w", err)
		}
		if err := w.get(origin, theirs[i], mode); err != nil {
			return nil, fmt.Errorf("the client originator: %w", err)
		}
		if err := w.find(origin, w.other(w.nodes, hop), mode); err != nil {
			return nil, fmt.Errorf("the client originator: %w", err)
		}
		// Traffic among the others, through the holders of O's value.
		if err := w.get(w.other(w.nodes, hop), mine, node.Direct()); err != nil {
			return nil, err
		}
		a := w.nodes[e.rng.IntN(len(w.nodes))]
		if err := w.find(a, w.other(w.nodes, a), node.Direct()); err != nil {
			return nil, err
		}
	}
	// Every other node looks up the originator and some node: had any
	// table taken the originator in, an answer would carry its address.
	for _, n := range w.nodes {
		if n == hop {
			continue
		}
		if _, err := n.FindPeer(e.ctx, origin.ID(), node.WithMode(node.Direct())); e.ctx.Err() != nil {
			return nil, err
		}
		if err := w.find(n, w.other(w.nodes, n), node.Direct()); err != nil {
			return nil, err
		}
	}
	secret := make([][]byte, 0, len(origin.Addrs()))
	for _, a := range origin.Addrs() {
		secret = append(secret, a.Bytes())
	}
	var leaks []error
	for i, n := range w.nodes {
		if n == hop {
			continue
		}
		for _, f := range obs.Received(n) {
			if where := networkFindSecret(f, secret); where != "" {
				kind := "undecodable"
				if f.Msg != nil {
					kind = f.Msg.Kind.String()
				}
				leaks = append(leaks, fmt.Errorf("node %d received a %s frame from %v with the originator's address %s", i, kind, f.From, where))
			}
		}
	}
	return leaks, nil
}

// networkFindSecret says where f carries one of the secret addresses, or
// "" if it does not.
func networkFindSecret(f NetworkFrame, secret [][]byte) string {
	for _, s := range secret {
		if bytes.Equal(f.From.Bytes(), s) {
			return "as its sender"
		}
		for _, a := range networkFrameAddrs(f)[1:] {
			if bytes.Equal(a, s) {
				return "inside the message"
			}
		}
		if bytes.Contains(f.Data, s) {
			return "in its raw bytes"
		}
	}
	return ""
}
