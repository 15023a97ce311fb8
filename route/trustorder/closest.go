package trustorder

import (
	"encoding/binary"

	"github.com/dhtkit/dhtkit/peer"
)

// Closest returns up to n held peers, most trusted first and, within a
// level, by XOR distance to target, closest first; in a fresh slice. It
// returns nil when n <= 0 or target is of another key space. Every level
// <= 0 ranks as one untrusted level, after every trusted peer.
//
// Levels are read from Options.Level once per held peer at each call, so a
// change of level shows in the next Closest. One pass over all N peers
// keeps the n best so far in a heap, worst on top: O(N log n) plus N calls
// of Level. The pass compares ranks and the first 64 bits of each distance,
// and looks at whole IDs only on a tie.
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
	for i, id := range t.ids {
		k := keyed{rank: t.rank(id), key: t.prefix[i] ^ tkey, idx: i}
		if len(q.h) < n {
			q.h = append(q.h, k)
			q.up(len(q.h) - 1)
			continue
		}
		if top := q.h[0]; k.rank < top.rank || (k.rank == top.rank && k.key > top.key) {
			continue // the common case, decided without a call
		}
		if q.worse(q.h[0], k) {
			q.h[0] = k
			q.down(0)
		}
	}
	out := make([]*peer.Record, len(q.h))
	for k := len(q.h) - 1; k >= 0; k-- { // pop the worst into the back
		out[k] = t.recs[q.h[0].idx]
		q.h[0] = q.h[k]
		q.h = q.h[:k]
		q.down(0)
	}
	return out
}

// keyed is a peer's index with its rank and the first 64 bits of its
// distance to the target.
type keyed struct {
	rank int
	key  uint64
	idx  int
}

// query is a heap of the best peers found so far, worst on top.
type query struct {
	t      *Table
	target peer.ID
	h      []keyed
}

// worse reports whether a ranks after b: a lower rank, or the same rank
// and farther from the target.
func (q *query) worse(a, b keyed) bool {
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	if a.key != b.key {
		return a.key > b.key
	}
	return peer.CompareDistance(q.target, q.t.ids[a.idx], q.t.ids[b.idx]) > 0
}

func (q *query) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !q.worse(q.h[i], q.h[p]) {
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
		if c+1 < len(q.h) && q.worse(q.h[c+1], q.h[c]) {
			c++
		}
		if !q.worse(q.h[c], q.h[i]) {
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
