package wot

import (
	"container/heap"

	"github.com/dhtkit/dhtkit/peer"
)

// A vouch is one endorsement that counts: by an endorser, at a level capped
// at MaxLevel, unexpired, not a revocation.
type vouch struct {
	by    peer.ID
	level int
}

// derive computes every peer's level from the roots and the vouches for
// each peer (at most one per endorser): roots are at maxLevel; any other
// peer is at the highest L such that at least threshold of its vouches count
// at L or more, a vouch counting at min(its level, its endorser's level).
//
// This is the least solution of those equations, so trust flows only out
// of the roots: a cycle of peers vouching for each other adds nothing that a
// chain from a root does not give. It is found as Dijkstra finds widest
// paths: peers are settled from the highest level down, and a peer's level
// is final when it is the highest level left to settle, because every peer
// settled later stands no higher and so cannot raise it. O(E log N).
//
// The result holds every peer that reached a level above 0.
func derive(roots map[peer.ID]struct{}, maxLevel, threshold int, vouches map[peer.ID][]vouch) map[peer.ID]int {
	type edge struct {
		to    peer.ID
		level int
	}
	out := make(map[peer.ID][]edge)
	for to, vs := range vouches {
		if _, root := roots[to]; root {
			continue
		}
		for _, v := range vs {
			if v.level > 0 && v.by != to {
				out[v.by] = append(out[v.by], edge{to, min(v.level, maxLevel)})
			}
		}
	}

	settled := make(map[peer.ID]int)
	best := make(map[peer.ID]int)  // tentative levels
	top := make(map[peer.ID][]int) // the threshold highest counts so far, highest first
	q := &levelQueue{}
	for r := range roots {
		heap.Push(q, queued{r, maxLevel})
	}
	for q.Len() > 0 {
		it := heap.Pop(q).(queued)
		if _, done := settled[it.id]; done {
			continue
		}
		settled[it.id] = it.level
		for _, e := range out[it.id] {
			if _, done := settled[e.to]; done {
				continue
			}
			counts := insertDesc(top[e.to], min(e.level, it.level), threshold)
			top[e.to] = counts
			if len(counts) == threshold && counts[threshold-1] > best[e.to] {
				best[e.to] = counts[threshold-1]
				heap.Push(q, queued{e.to, best[e.to]})
			}
		}
	}
	for r := range roots {
		delete(settled, r)
	}
	return settled
}

// insertDesc inserts c into s, kept in descending order and at most n long.
func insertDesc(s []int, c, n int) []int {
	i := len(s)
	for i > 0 && s[i-1] < c {
		i--
	}
	if i >= n {
		return s
	}
	if len(s) < n {
		s = append(s, 0)
	}
	copy(s[i+1:], s[i:len(s)-1])
	s[i] = c
	return s
}

type queued struct {
	id    peer.ID
	level int
}

// levelQueue is a max-heap of tentative levels.
type levelQueue []queued

func (q levelQueue) Len() int           { return len(q) }
func (q levelQueue) Less(i, j int) bool { return q[i].level > q[j].level }
func (q levelQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *levelQueue) Push(x any)        { *q = append(*q, x.(queued)) }
func (q *levelQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}
