package node

import (
	"context"
	"slices"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
)

// lookupResult is what an iterative lookup found.
type lookupResult struct {
	// closest are the peers that answered, closest to the target first, at
	// most k.
	closest []*peer.Record
	// values are the verified values found, from answers replicas.
	values  []*trust.Value
	answers int
	rpcs    int
	hops    int
}

// valueQuery asks a lookup for the values under key. It stops once quorum
// replicas have answered with values that verify and that keep accepts.
type valueQuery struct {
	key    peer.ID
	quorum int
	keep   func(*trust.Value) bool
	// seeds are asked besides the table's peers: the bootstrap peers of
	// a node whose policy has not admitted anyone yet.
	seeds []*peer.Record
}

type candState uint8

const (
	candNew candState = iota
	candAsking
	candAnswered
	candFailed
)

type candidate struct {
	rec   *peer.Record
	state candState
	depth int // hops from the originator: 1 for peers from its own table
}

type lookupAnswer struct {
	c   *candidate
	rep reply
	err error
}

// lookup runs an iterative (direct-mode) lookup for target: alpha requests in
// flight, each answer naming closer peers, until the k closest known peers
// have all answered or failed. With vq set it asks for values and stops
// once vq.quorum peers returned values that verify; a peer whose values do
// not verify counts as one that has none.
func (n *Node) lookup(ctx context.Context, target peer.ID, vq *valueQuery) (lookupResult, error) {
	var res lookupResult
	seeds := n.table.Closest(target, n.cfg.k)
	if vq != nil {
		seeds = append(seeds, vq.seeds...)
	}
	if len(seeds) == 0 {
		return res, ErrNoPeers
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	seen := make(map[peer.ID]bool, 4*n.cfg.k)
	var cands []*candidate
	add := func(r *peer.Record, depth int) {
		if r.ID == n.id || seen[r.ID] {
			return
		}
		seen[r.ID] = true
		c := &candidate{rec: r, depth: depth}
		i, _ := slices.BinarySearchFunc(cands, r.ID, func(c *candidate, id peer.ID) int {
			return peer.CompareDistance(target, c.rec.ID, id)
		})
		cands = slices.Insert(cands, i, c)
	}
	for _, r := range seeds {
		add(r, 1)
	}

	answers := make(chan lookupAnswer, n.cfg.alpha)
	inflight := 0
	ask := func(c *candidate) {
		c.state = candAsking
		inflight++
		res.rpcs++
		msg := &msgenc.Message{Kind: msgenc.KindFindNode, FindNode: &msgenc.FindNode{Target: target.Bytes()}}
		if vq != nil {
			msg = &msgenc.Message{Kind: msgenc.KindFindValue, FindValue: &msgenc.FindValue{Key: vq.key.Bytes()}}
		}
		go func() {
			rep, err := n.call(ctx, contactOf(c.rec), msg)
			answers <- lookupAnswer{c: c, rep: rep, err: err}
		}()
	}
	// next returns the closest unasked candidate among the k closest that
	// have not failed, or nil when the k closest are all asked.
	next := func() *candidate {
		live := 0
		for _, c := range cands {
			if c.state == candFailed {
				continue
			}
			if live++; live > n.cfg.k {
				return nil
			}
			if c.state == candNew {
				return c
			}
		}
		return nil
	}
	var err error
	for {
		for inflight < n.cfg.alpha && !res.enough(vq) && err == nil {
			c := next()
			if c == nil {
				break
			}
			ask(c)
		}
		if inflight == 0 {
			break
		}
		a := <-answers
		inflight--
		if a.err != nil {
			a.c.state = candFailed
			if ctx.Err() != nil && err == nil {
				err = ctxErr(ctx)
			}
			continue
		}
		a.c.state = candAnswered
		res.hops = max(res.hops, a.c.depth)
		var peers []msgenc.PeerRecord
		switch m := a.rep.msg; m.Kind {
		case msgenc.KindPeers:
			peers = m.Peers.Peers
		case msgenc.KindValue:
			if len(m.Value.Records) > 0 && vq != nil && !res.enough(vq) {
				if vals := n.acceptReceived(a.rep.from, vq.key, m.Value.Records, vq.keep); len(vals) > 0 {
					res.values = append(res.values, vals...)
					res.answers++
					if res.enough(vq) {
						cancel() // enough replicas answered: stop the requests in flight
					}
				}
			}
			peers = m.Value.Peers
		}
		for i := range peers {
			// add ignores a peer this lookup has seen: skip its signature
			// check, which would otherwise dominate a lookup's cost.
			if id, err := peer.IDFromBytes(peers[i].ID); err == nil && (seen[id] || id == n.id) {
				continue
			}
			r, verr := n.verifyRecord(&peers[i])
			if verr != nil {
				n.stats.drop(dropBadRecord)
				continue
			}
			if r.ID.Len() == n.id.Len() {
				add(r, a.c.depth+1)
			}
		}
	}
	if err != nil && res.answers == 0 {
		return res, err
	}
	for _, c := range cands {
		if c.state == candAnswered {
			res.closest = append(res.closest, c.rec)
			if len(res.closest) == n.cfg.k {
				break
			}
		}
	}
	return res, nil
}

// enough reports whether a value lookup has heard from its quorum.
func (r *lookupResult) enough(vq *valueQuery) bool {
	return vq != nil && r.answers >= vq.quorum
}
