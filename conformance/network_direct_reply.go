package conformance

import (
	"errors"
	"fmt"
	"slices"

	"github.com/dhtkit/dhtkit/node"
)

// networkDirectReplyRounds is how many missing keys the originator gets,
// and nodes it finds, in direct-reply mode.
const networkDirectReplyRounds = 4

// networkCheckDirectReply: a client originator O that knows one node H gets
// keys nobody stored and finds nodes in direct-reply mode, so that its
// queries travel past H. No node but O receives an answer to O's queries
// (known by their salt, the same all along a path): none travels back hop
// by hop. Every answer O receives comes from a node its query reached, and
// at least one from past H: straight from the answering peer.
func networkCheckDirectReply(e *env, s networkSuite) error {
	return networkObserved(e, s, networkDirectReplyRun)
}

func networkDirectReplyRun(w *networkNet, obs NetworkObserver) error {
	e := w.e
	origin, hop, before, err := networkClientOrigin(w, obs)
	if err != nil {
		return err
	}
	var failures networkFailures
	for r := range networkDirectReplyRounds {
		missing := fmt.Appendf(nil, "network-direct-reply-missing-%d-%x", r, e.rng.Uint64())
		if _, err := origin.Get(e.ctx, missing, node.WithMode(node.DirectReply())); err != nil && !errors.Is(err, node.ErrNotFound) {
			failures.add(fmt.Errorf("the client originator's direct-reply Get of a missing key: %w", err))
		}
		failures.add(w.find(origin, w.other(w.nodes, hop), node.DirectReply()))
	}
	// Which nodes received each query, by its salt, which stays the same
	// all along its path (a proxy would replace the query ID), and the
	// salt of each query ID.
	// O counts among them: a node that keeps O in its table (when O is
	// not a client) may pass O its own query, which O then answers.
	all := append(slices.Clone(w.nodes), origin)
	before = append(before, 0)
	receivers := map[string][]int{}
	saltOf := map[string]string{}
	byAddr := map[string]int{}
	for i, n := range all {
		for _, a := range n.Addrs() {
			byAddr[string(a.Bytes())] = i
		}
		for _, f := range obs.Received(n)[before[i]:] {
			if f.Msg != nil && f.Msg.Forward != nil {
				salt := string(f.Msg.Forward.Salt)
				saltOf[string(f.Msg.Forward.QueryID)] = salt
				if !slices.Contains(receivers[salt], i) {
					receivers[salt] = append(receivers[salt], i)
				}
			}
		}
	}
	h := w.index(hop)
	// The salts of the originator's own tries, as the first hop got them.
	mine := map[string]bool{}
	for _, f := range obs.Received(hop)[before[h]:] {
		if f.Msg != nil && f.Msg.Forward != nil && slices.ContainsFunc(origin.Addrs(), f.From.Equal) {
			mine[string(f.Msg.Forward.Salt)] = true
		}
	}
	// No node but the originator receives an answer to its queries: none
	// travels back along the path.
	for i, n := range w.nodes {
		for _, f := range obs.Received(n)[before[i]:] {
			if f.Msg == nil || f.Msg.ForwardReply == nil {
				continue
			}
			if salt, ok := saltOf[string(f.Msg.ForwardReply.QueryID)]; ok && mine[salt] {
				return fmt.Errorf("node %d received an answer to the originator's direct-reply query from %v: the answer travels back along the path instead of straight to the originator", i, f.From)
			}
		}
	}
	// Every answer the originator receives comes from a node the query
	// reached, and some from past the first hop.
	straight := 0
	for _, f := range obs.Received(origin) {
		if f.Msg == nil || f.Msg.ForwardReply == nil {
			continue
		}
		salt, ok := saltOf[string(f.Msg.ForwardReply.QueryID)]
		if !ok {
			return fmt.Errorf("the originator received a direct-reply answer under query ID %x, which no node received a query under", f.Msg.ForwardReply.QueryID)
		}
		from, ok := byAddr[string(f.From.Bytes())]
		switch {
		case !ok:
			return fmt.Errorf("the originator received a direct-reply answer from %v, which is no node's address", f.From)
		case !slices.Contains(receivers[salt], from):
			return fmt.Errorf("the originator received a direct-reply answer from node %d, which never received the query", from)
		case from != h:
			straight++
		}
	}
	if err := failures.err("direct-reply queries of the client originator"); err != nil {
		return err
	}
	if straight == 0 {
		return fmt.Errorf("no direct-reply answer reached the originator from past node %d, the first hop: nothing shows that answers go straight to the originator", h)
	}
	return nil
}
