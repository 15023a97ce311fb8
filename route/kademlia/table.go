package kademlia

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
)

var _ route.Table = (*Table)(nil)

// Table is a Kademlia routing table. It is safe for concurrent use.
type Table struct {
	self peer.ID
	opts Options

	mu      sync.RWMutex
	buckets []bucket // bucket i holds peers sharing exactly i leading bits with self; grown on demand
	n       int      // peers in buckets, replacement caches excluded
	depth   int      // one past the deepest non-empty bucket
	clock   clock    // the buckets' times
}

// New returns an empty table for the key space of self (160 or 256 bits,
// one bucket per bit). It returns an error wrapping ErrInvalidOptions when
// self is the zero ID or an option is negative.
func New(self peer.ID, opts Options) (*Table, error) {
	o, err := opts.withDefaults(self)
	if err != nil {
		return nil, err
	}
	// Buckets are made as deep as peers arrive: a table of N peers uses
	// about log2(N) of its 160 or 256, and idle nodes should stay small.
	return &Table{self: self, opts: o, buckets: make([]bucket, 1)}, nil
}

// Self returns the table's own ID.
func (t *Table) Self() peer.ID { return t.self }

// check rejects records the table can never hold.
func (t *Table) check(rec *peer.Record) error {
	switch {
	case rec == nil:
		return ErrNilRecord
	case rec.ID.Len() != t.self.Len():
		return fmt.Errorf("kademlia: %w: %d-byte ID in a %d-byte key space", route.ErrKeySpace, rec.ID.Len(), t.self.Len())
	case rec.ID == t.self:
		return fmt.Errorf("kademlia: %w", route.ErrSelf)
	}
	return nil
}

// bucketOf returns the bucket id belongs in, making it if need be; id must
// be of the key space and not self. The caller holds the write lock.
func (t *Table) bucketOf(id peer.ID) *bucket {
	return t.grow(t.self.CommonPrefixLen(id))
}

// grow makes buckets up to i and returns bucket i. The caller holds the
// write lock.
func (t *Table) grow(i int) *bucket {
	if i >= len(t.buckets) {
		// Exactly as deep as needed, not doubled: the table deepens a
		// few times in its life, and a spare bucket is 72 bytes.
		b := make([]bucket, i+1)
		copy(b, t.buckets)
		t.buckets = b
	}
	return &t.buckets[i]
}

// existing returns the bucket id belongs in, or nil when no peer of that
// bucket was ever seen. Readers use it: they must not grow the table.
func (t *Table) existing(id peer.ID) *bucket {
	if i := t.self.CommonPrefixLen(id); i < len(t.buckets) {
		return &t.buckets[i]
	}
	return nil
}

// Update records contact with rec's peer at now.
//
//   - In its bucket: it becomes the most recently seen, its failure count is
//     reset, and rec replaces the held record if rec.Seq >= the held Seq.
//     Status Refreshed.
//   - New, or waiting in the replacement cache, with room in the bucket:
//     Added.
//   - New or waiting, bucket full: it goes to the front of the replacement
//     cache (the oldest waiting peer drops off when the cache is full) and
//     the result is Pending with the bucket's least recently seen peer as
//     Candidate.
//   - Self, nil or another key space: Rejected, Err wrapping route.ErrSelf,
//     ErrNilRecord or route.ErrKeySpace.
//
// Any accepted contact marks the bucket as refreshed at now.
func (t *Table) Update(rec *peer.Record, now time.Time) route.Result {
	if err := t.check(rec); err != nil {
		return route.Result{Status: route.Rejected, Err: err}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.bucketOf(rec.ID)
	b.touch(t.clock.stamp(now))
	if i := b.find(rec.ID); i >= 0 {
		e := &b.entries[i]
		if rec.Seq >= e.rec.Seq {
			e.rec = rec
		}
		e.failures = 0
		b.moveToBack(i)
		return route.Result{Status: route.Refreshed}
	}
	if i := b.findRepl(rec.ID); i >= 0 {
		if held := b.repl[i]; rec.Seq < held.Seq {
			rec = held
		}
		b.removeRepl(i)
	}
	if len(b.entries) < t.opts.K {
		if len(b.entries) == cap(b.entries) {
			// Grow by doubling up to K, not to K at once: the buckets
			// near self are mostly far from full, and an idle node's
			// memory is mostly its table.
			b.entries = slices.Grow(b.entries, min(max(len(b.entries), 2), t.opts.K-len(b.entries)))
		}
		b.entries = append(b.entries, newEntry(rec))
		t.n++
		t.depth = max(t.depth, t.self.CommonPrefixLen(rec.ID)+1)
		return route.Result{Status: route.Added}
	}
	b.pushRepl(rec, t.opts.ReplacementCache)
	return route.Result{Status: route.Pending, Candidate: b.entries[0].rec}
}

// Fail records a failed contact with id. A peer in the table is removed
// when its consecutive failures reach MaxFailures, or at its first failure
// when its bucket has a peer waiting; the most recently seen waiting peer
// then takes its place. A peer that is only waiting in a replacement cache
// is dropped from it, since it no longer answers. Fail reports whether id
// was removed from the table proper.
func (t *Table) Fail(id peer.ID, _ time.Time) bool {
	if id.Len() != t.self.Len() || id == t.self {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.existing(id)
	if b == nil {
		return false
	}
	i := b.find(id)
	if i < 0 {
		if j := b.findRepl(id); j >= 0 {
			b.removeRepl(j)
		}
		return false
	}
	e := &b.entries[i]
	e.failures = min(e.failures+1, math.MaxUint32-1)
	if int64(e.failures) < int64(t.opts.MaxFailures) && len(b.repl) == 0 {
		return false
	}
	t.removeAt(b, i)
	return true
}

// Remove drops id from the table or its replacement cache. A removal from
// the table promotes the most recently seen waiting peer. It reports
// whether id was in the table proper.
func (t *Table) Remove(id peer.ID) bool {
	if id.Len() != t.self.Len() || id == t.self {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.existing(id)
	if b == nil {
		return false
	}
	if i := b.find(id); i >= 0 {
		t.removeAt(b, i)
		return true
	}
	if j := b.findRepl(id); j >= 0 {
		b.removeRepl(j)
	}
	return false
}

func (t *Table) removeAt(b *bucket, i int) {
	b.removeAt(i)
	t.n--
	if b.promote() {
		t.n++
	}
	for t.depth > 0 && len(t.buckets[t.depth-1].entries) == 0 {
		t.depth--
	}
}

// Get returns the record held for id; peers waiting in a replacement cache
// are not held.
func (t *Table) Get(id peer.ID) (*peer.Record, bool) {
	if id.Len() != t.self.Len() || id == t.self {
		return nil, false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	b := t.existing(id)
	if b == nil {
		return nil, false
	}
	if i := b.find(id); i >= 0 {
		return b.entries[i].rec, true
	}
	return nil, false
}

// Len returns the number of peers in the buckets.
func (t *Table) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.n
}

var _ route.Admission = (*Table)(nil)

// Wants reports whether Update with a record for id could change the
// table: id is in its bucket or replacement cache, or either has room.
// With both full, Update would only push id to the front of the cache,
// dropping the longest waiting peer, and name a candidate to ping. A
// newcomer to a full bucket is still wanted while the cache has room, so
// that it is a candidate when the bucket's least recently seen peer
// fails its eviction ping.
func (t *Table) Wants(id peer.ID) bool {
	if id.Len() != t.self.Len() || id == t.self {
		return true // Update rejects it; the caller's checks say why
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	b := t.existing(id)
	if b == nil || len(b.entries) < t.opts.K || len(b.repl) < t.opts.ReplacementCache {
		return true
	}
	return b.find(id) >= 0 || b.findRepl(id) >= 0
}

var _ route.Contention = (*Table)(nil)

// Contender returns the least recently seen peer of id's bucket when the
// bucket is full and id is neither in it nor in its replacement cache:
// the peer to ping before id could take a place.
func (t *Table) Contender(id peer.ID) (*peer.Record, bool) {
	if id.Len() != t.self.Len() || id == t.self {
		return nil, false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	b := t.existing(id)
	if b == nil || len(b.entries) < t.opts.K || b.find(id) >= 0 || b.findRepl(id) >= 0 {
		return nil, false
	}
	return b.entries[0].rec, true
}
