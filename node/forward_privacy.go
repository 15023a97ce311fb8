package node

import (
	"context"
	"crypto/sha256"
	"errors"
	"slices"
	"sync"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
)

// What a forwarded query tells the hops it passes, and how little: the
// hop budget starts at a random value and hops sometimes keep it, so that
// it does not say how far the originator is; loops are stopped by per-hop
// state (proxied) or by salted tags (direct reply), never by hop IDs in
// clear. node/doc.go tabulates who learns what in each mode.

// querySaltLen is the length of the salt an originator draws per query.
const querySaltLen = 16

// errLoopText is the text of the CodeHopLimit refusal a proxied hop sends
// back for a query it already carries.
const errLoopText = "query already passes here"

// errLoop is why passOn gives up a next hop that refused a query it
// already carries.
var errLoop = errors.New("node: query already passes there")

// startBudget draws a new query's hop budget from the configured range.
func (n *Node) startBudget() uint8 {
	lo, hi := n.cfg.hopMin, n.cfg.hopBudget
	n.rngMu.Lock()
	defer n.rngMu.Unlock()
	return uint8(lo + n.rng.IntN(hi-lo+1))
}

// keepsBudget reports whether this hop passes a query on without spending
// a hop of its budget, with the configured probability.
func (n *Node) keepsBudget() bool {
	if n.cfg.hopKeep == 0 {
		return false
	}
	n.rngMu.Lock()
	defer n.rngMu.Unlock()
	return n.rng.Float64() < n.cfg.hopKeep
}

// visitTag is the visited-list entry of peer id for a query with this
// salt: it proves nothing about id to one who does not already know id.
func visitTag(salt []byte, id peer.ID) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write(id.AppendBytes(nil))
	return h.Sum(nil)[:msgenc.VisitedTagSize]
}

// visited reports whether f's tags name id, or, for this node, whether it
// is a proxy of the same query already: the direct-reply leg of a mixed
// query carries no tags of the proxied hops before it.
func (n *Node) visited(f *msgenc.Forward, id peer.ID) bool {
	if id == n.id && f.Mode == msgenc.ModeDirectReply && len(f.Salt) > 0 && n.fwdDups.holdsSalt(f.Salt) {
		return true
	}
	if len(f.Visited) == 0 {
		return false
	}
	tag := visitTag(f.Salt, id)
	return slices.ContainsFunc(f.Visited, func(v []byte) bool { return string(v) == string(tag) })
}

// addVisited returns a copy of tags with this node's tag for salt added,
// the oldest dropped past msgenc.MaxVisited.
func (n *Node) addVisited(tags [][]byte, salt []byte) [][]byte {
	out := append(slices.Clone(tags), visitTag(salt, n.id))
	if len(out) > msgenc.MaxVisited {
		out = out[len(out)-msgenc.MaxVisited:]
	}
	return out
}

// hopFanout is how many peers this hop hands f to at once: what the
// originator asked, granted up to this node's Fanout. Stores go one at a
// time (each path would store again), and so do direct-reply hops, which
// keep no state in which to wait for several answers.
func (n *Node) hopFanout(f *msgenc.Forward) int {
	if f.Op == msgenc.KindStore || f.Mode == msgenc.ModeDirectReply {
		return 1
	}
	return max(1, min(int(f.Fanout), n.cfg.fanout))
}

// fanOut runs try on peers, best first, up to width at once, and hands each
// outcome to take as it comes, in this goroutine; once take returns true,
// or every peer was tried, it cancels the tries still running and waits
// for them. It returns how many tries it started.
func fanOut[T any](ctx context.Context, peers []*peer.Record, width int, try func(context.Context, *peer.Record) (T, error), take func(*peer.Record, T, error) bool) int {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	type outcome struct {
		p   *peer.Record
		v   T
		err error
	}
	outcomes := make(chan outcome, len(peers)) // no try blocks on a finished fanOut
	started, running := 0, 0
	for {
		for running < max(width, 1) && started < len(peers) {
			p := peers[started]
			started++
			running++
			wg.Go(func() {
				v, err := try(ctx, p)
				outcomes <- outcome{p, v, err}
			})
		}
		if running == 0 {
			return started
		}
		o := <-outcomes
		running--
		if take(o.p, o.v, o.err) {
			return started
		}
	}
}
