package kademlia

import (
	"encoding/binary"
	"slices"

	"github.com/dhtkit/dhtkit/peer"
)

// Closest returns up to n peers by XOR distance to target, closest first,
// in a fresh slice. It returns nil when n <= 0 or target is of another key
// space.
//
// It walks buckets in distance order and sorts only the buckets it takes,
// so it costs O(n + K log K) whatever the table's size. Bucket i is the
// subtree of IDs sharing i bits with self and differing at bit i, so it is
// one contiguous interval of distance from any target, and two buckets i < j
// compare at bit i of D = self XOR target: bucket i is closer than every
// deeper bucket when D has bit i set, and farther than all of them when not.
// Hence the order: buckets with D's bit set by increasing i, then buckets
// with D's bit clear by decreasing i.
func (t *Table) Closest(target peer.ID, n int) []*peer.Record {
	if n <= 0 || target.Len() != t.self.Len() {
		return nil
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	n = min(n, t.n)
	if n == 0 {
		return nil
	}
	out := make([]*peer.Record, 0, n)
	d := t.self.Xor(target)
	tkey := prefix32(target)
	for i := 0; i < t.depth && len(out) < n; i++ {
		if d.Bit(i) == 1 {
			out = t.take(out, n, i, target, tkey)
		}
	}
	for i := t.depth - 1; i >= 0 && len(out) < n; i-- {
		if d.Bit(i) == 0 {
			out = t.take(out, n, i, target, tkey)
		}
	}
	return out
}

// keyed is a bucket entry's index with the first 32 bits of its distance
// to the target: sorting these, which hold no pointers, is cheaper than
// sorting records, and the full comparison is needed only on a tie.
type keyed struct {
	key uint32
	idx int32
}

// take appends bucket i's peers to out, closest first, stopping at n.
func (t *Table) take(out []*peer.Record, n, i int, target peer.ID, tkey uint32) []*peer.Record {
	if i >= len(t.buckets) {
		return out
	}
	es := t.buckets[i].entries
	if len(es) == 0 {
		return out
	}
	var buf [DefaultK]keyed
	ks := buf[:0]
	for j := range es {
		ks = append(ks, keyed{key: es[j].prefix ^ tkey, idx: int32(j)})
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		if a.key != b.key {
			if a.key < b.key {
				return -1
			}
			return 1
		}
		return peer.CompareDistance(target, es[a.idx].rec.ID, es[b.idx].rec.ID)
	})
	for _, k := range ks[:min(len(ks), n-len(out))] {
		out = append(out, es[k.idx].rec)
	}
	return out
}

// prefix32 returns the first 32 bits of id (IDs are at least 160 bits).
func prefix32(id peer.ID) uint32 {
	var b [peer.MaxIDLen]byte
	return binary.BigEndian.Uint32(id.AppendBytes(b[:0]))
}
