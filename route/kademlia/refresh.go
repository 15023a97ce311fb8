package kademlia

import (
	"time"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
)

// DueForRefresh returns, for each bucket from 0 to one past the deepest
// non-empty bucket (bucket 0 alone when the table is empty), the bucket's
// range if it has seen no contact and no lookup for interval as of now. The
// range of bucket i is every ID sharing exactly i leading bits with self:
// self's first i bits, then bit i flipped (Bits = i+1).
func (t *Table) DueForRefresh(now time.Time, interval time.Duration) []route.Range {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var due []route.Range
	for i := 0; i <= min(t.depth, t.self.Bits()-1); i++ {
		var last time.Time // a bucket not made yet has never been refreshed
		if i < len(t.buckets) {
			last = t.clock.time(t.buckets[i].last)
		}
		if now.Sub(last) >= interval {
			due = append(due, t.bucketRange(i))
		}
	}
	return due
}

// Refreshed notes a lookup for target at now: the bucket whose range holds
// target is not due until interval after now. A lookup for a target deeper
// than the buckets in use (self, say) counts for the deepest bucket that
// DueForRefresh reports: it explores the same neighbourhood of self.
// Targets of another key space are ignored.
func (t *Table) Refreshed(target peer.ID, now time.Time) {
	if target.Len() != t.self.Len() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.grow(min(t.self.CommonPrefixLen(target), t.depth, t.self.Bits()-1)).touch(t.clock.stamp(now))
}

// bucketRange returns the range of bucket i, with the bits past the prefix
// cleared.
func (t *Table) bucketRange(i int) route.Range {
	b := t.self.Bytes()
	b[i/8] ^= 0x80 >> (i % 8)
	b[i/8] &= 0xff << (7 - i%8)
	clear(b[i/8+1:])
	p, _ := peer.IDFromBytes(b) // same length as self, which is valid
	return route.Range{Prefix: p, Bits: i + 1}
}
