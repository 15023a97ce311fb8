package node

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"sync"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
)

// Disjoint lookups (S/Kademlia, Baumgart and Mies 2007): a direct lookup
// follows d paths at once, the starting peers split among them, and a peer
// met by one path is never asked by another, so that hostile routers that
// answer with each other's records can capture only the paths they are
// on. A peer sought, or a value, counts when agree paths found it.

// pathSplit shares out the peers of one disjoint lookup: each belongs to
// the first path that met it.
type pathSplit struct {
	mu     sync.Mutex
	owner  map[peer.ID]int
	target peer.ID
}

// lookupPath is one path of a disjoint lookup, given to lookupOnce.
type lookupPath struct {
	split *pathSplit
	index int
	seeds []*peer.Record
}

// claim reports whether path p may ask id: it may if no other path met id
// first. The peer sought is free to every path, each having to reach it.
func (lp *lookupPath) claim(id peer.ID) bool {
	s := lp.split
	if id == s.target {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.owner[id]; ok {
		return o == lp.index
	}
	s.owner[id] = lp.index
	return true
}

// lookupPaths runs a direct lookup over o.paths disjoint paths, or the
// plain lookup when o asks for one.
func (n *Node) lookupPaths(ctx context.Context, target peer.ID, vq *valueQuery, o callOptions) (lookupResult, error) {
	if o.paths <= 1 {
		return n.lookup(ctx, target, vq)
	}
	return n.lookupDisjoint(ctx, target, vq, o.paths, o.pathAgree)
}

// lookupDisjoint runs d disjoint lookups at once and merges them: the
// closest peers of all paths, the peer sought only if agree paths found
// it, and the values agree paths brought.
func (n *Node) lookupDisjoint(ctx context.Context, target peer.ID, vq *valueQuery, d, agree int) (lookupResult, error) {
	// Each path starts from k peers of its own, as a lookup would.
	pool := n.seedsFor(target, d*n.cfg.k)
	if vq != nil {
		pool = append(pool, vq.seeds...)
	}
	split := &pathSplit{owner: make(map[peer.ID]int), target: target}
	paths := make([]*lookupPath, d)
	for i := range paths {
		paths[i] = &lookupPath{split: split, index: i}
	}
	// Deal the starting peers out in turn, closest first, so that every
	// path starts as near the target as the others.
	dealt := 0
	for _, r := range pool {
		if _, ok := split.owner[r.ID]; ok || n.isSelf(r) {
			continue
		}
		p := paths[dealt%d]
		split.owner[r.ID] = p.index
		p.seeds = append(p.seeds, r)
		dealt++
	}
	if dealt == 0 {
		return lookupResult{}, ErrNoPeers
	}
	paths = paths[:min(d, dealt)]
	agree = min(agree, len(paths))

	results := make([]lookupResult, len(paths))
	errs := make([]error, len(paths))
	vqs := make([]*valueQuery, len(paths))
	var wg sync.WaitGroup
	for i, p := range paths {
		if vq != nil {
			c := *vq
			c.unresolved = nil
			vqs[i] = &c
		}
		wg.Go(func() { results[i], errs[i] = n.lookupOnce(ctx, target, vqs[i], p) })
	}
	wg.Wait()
	return n.mergePaths(target, vq, vqs, results, errs, agree)
}

// mergePaths merges the results of disjoint paths.
func (n *Node) mergePaths(target peer.ID, vq *valueQuery, vqs []*valueQuery, results []lookupResult, errs []error, agree int) (lookupResult, error) {
	var res lookupResult
	var failed []error
	found := 0 // paths on which the peer sought answered
	seen := make(map[peer.ID]bool)
	type agreed struct {
		v     *trust.Value
		paths int
	}
	var values []*agreed
	byValue := make(map[string]*agreed)
	for i, r := range results {
		res.rpcs += r.rpcs
		res.hops = max(res.hops, r.hops)
		if errs[i] != nil {
			failed = append(failed, errs[i])
			continue
		}
		res.why = r.why
		for _, c := range r.closest {
			if c.ID == target {
				found++
			}
			if !seen[c.ID] {
				seen[c.ID] = true
				res.closest = append(res.closest, c)
			}
		}
		onPath := make(map[string]bool)
		for _, v := range r.values {
			key := valueIdentity(v)
			if onPath[key] {
				continue
			}
			onPath[key] = true
			a := byValue[key]
			if a == nil {
				a = &agreed{v: v}
				byValue[key] = a
				values = append(values, a)
			}
			a.paths++
		}
		if vq != nil && len(vq.unresolved) < msgenc.MaxRecords {
			vq.unresolved = append(vq.unresolved, vqs[i].unresolved[:min(len(vqs[i].unresolved), msgenc.MaxRecords-len(vq.unresolved))]...)
		}
	}
	if len(failed) == len(results) {
		return res, errors.Join(failed...)
	}
	if found < agree {
		// Too few paths reached the peer sought: do not vouch for it.
		res.closest = slices.DeleteFunc(res.closest, func(r *peer.Record) bool { return r.ID == target })
	}
	slices.SortFunc(res.closest, func(a, b *peer.Record) int { return peer.CompareDistance(target, a.ID, b.ID) })
	res.closest = res.closest[:min(len(res.closest), n.cfg.k)]
	for _, a := range values {
		if a.paths >= agree {
			res.values = append(res.values, a.v)
			res.answers = max(res.answers, a.paths)
		}
	}
	return res, nil
}

// valueIdentity names a value by everything its signature covers, so that
// paths agree only on the very same version.
func valueIdentity(v *trust.Value) string {
	b := v.Key.AppendBytes(nil)
	b = binary.AppendUvarint(b, uint64(len(v.Publisher)))
	b = append(b, v.Publisher...)
	b = binary.AppendUvarint(b, uint64(len(v.Salt)))
	b = append(b, v.Salt...)
	b = binary.AppendUvarint(b, v.Seq)
	b = append(b, v.Value...)
	return string(b)
}
