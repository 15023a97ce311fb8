package toymap

import (
	"encoding/binary"

	"github.com/dhtkit/dhtkit/peer"
)

// Closest returns up to n peers by XOR distance to target, closest first,
// in a fresh slice; nil when n <= 0 or target is of another key space.
//
// One pass over all N peers keeps the n closest so far in a max-heap, so a
// query costs O(N log n), not a sort of the whole table. The pass compares
// the first 64 bits of each distance, kept in a dense slice, and looks at
// whole IDs only on a tie.
func (t *Table) Closest(target peer.ID, n int) []*peer.Record {
	if n <= 0 || target.Len() != t.self.Len() {
		return nil
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	n = min(n, len(t.ids))
	if n == 0 {
		return nil
	}
	q := query{t: t, target: target, h: make([]keyed, 0, n)}
	tkey := prefix64(target)
	for i, p := range t.prefix {
		if len(q.h) == n && p^tkey > q.h[0].key {
			continue // the common case, decided without a call
		}
		k := keyed{key: p ^ tkey, idx: i}
		if len(q.h) < n {
			q.h = append(q.h, k)
			q.up(len(q.h) - 1)
		} else if q.farther(q.h[0], k) {
			q.h[0] = k
			q.down(0)
		}
	}
	out := make([]*peer.Record, len(q.h))
	for k := len(q.h) - 1; k >= 0; k-- { // pop the farthest into the back
		out[k] = t.recs[q.h[0].idx]
		q.h[0] = q.h[k]
		q.h = q.h[:k]
		q.down(0)
	}
	return out
}

// keyed is a peer's index with the first 64 bits of its distance.
type keyed struct {
	key uint64
	idx int
}

// query is a max-heap of the closest peers found so far, farthest on top.
type query struct {
	t      *Table
	target peer.ID
	h      []keyed
}

func (q *query) farther(a, b keyed) bool {
	if a.key != b.key {
		return a.key > b.key
	}
	return peer.CompareDistance(q.target, q.t.ids[a.idx], q.t.ids[b.idx]) > 0
}

func (q *query) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !q.farther(q.h[i], q.h[p]) {
			return
		}
		q.h[i], q.h[p] = q.h[p], q.h[i]
		i = p
	}
}

func (q *query) down(i int) {
	for {
		c := 2*i + 1
		if c >= len(q.h) {
			return
		}
		if c+1 < len(q.h) && q.farther(q.h[c+1], q.h[c]) {
			c++
		}
		if !q.farther(q.h[c], q.h[i]) {
			return
		}
		q.h[i], q.h[c] = q.h[c], q.h[i]
		i = c
	}
}

// prefix64 returns the first 64 bits of id (IDs are at least 160 bits).
func prefix64(id peer.ID) uint64 {
	var b [peer.MaxIDLen]byte
	return binary.BigEndian.Uint64(id.AppendBytes(b[:0]))
}
