package trustorder

import (
	"fmt"
	"sync"
	"time"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
)

var (
	_ route.Table    = (*Table)(nil)
	_ route.Ordering = (*Table)(nil)
)

// entry is a held peer's place in the table: its index in the dense slices,
// its count of consecutive failed contacts and its links in the
// least-recently-seen list.
type entry struct {
	idx        int
	failures   int
	prev, next *entry // towards less / more recently seen
}

// Table ranks peers by trust level, then by XOR distance. It is safe for
// concurrent use.
type Table struct {
	self  peer.ID
	opts  Options
	level func(peer.ID) int

	mu     sync.RWMutex
	byID   map[peer.ID]*entry
	ids    []peer.ID      // dense, parallel to prefix, recs and ents
	prefix []uint64       // the IDs' first 64 bits: Closest scans these
	recs   []*peer.Record // recs[i] is the record of ids[i]
	ents   []*entry       // ents[i] is the entry of ids[i]
	oldest *entry         // least recently seen
	newest *entry         // most recently seen
	repl   []*peer.Record // peers waiting for a place, most recently seen first
	last   time.Time      // last contact or lookup
}

// New returns an empty table for the key space of self. It returns an error
// wrapping ErrInvalidOptions when self is the zero ID, Level is nil or an
// option is negative.
func New(self peer.ID, opts Options) (*Table, error) {
	o, err := opts.withDefaults(self)
	if err != nil {
		return nil, err
	}
	return &Table{self: self, opts: o, level: o.Level, byID: make(map[peer.ID]*entry)}, nil
}

// Self returns the table's own ID.
func (t *Table) Self() peer.ID { return t.self }

// XOROrdered reports false: Closest ranks by trust first, so a node
// forwarding over this table follows its order rather than converging by
// distance (see route.Ordering).
func (t *Table) XOROrdered() bool { return false }

// rank is a peer's current level, with every untrusted level (<= 0) as 0.
func (t *Table) rank(id peer.ID) int { return max(t.level(id), 0) }

// check rejects records the table can never hold.
func (t *Table) check(rec *peer.Record) error {
	switch {
	case rec == nil:
		return ErrNilRecord
	case rec.ID.Len() != t.self.Len():
		return fmt.Errorf("trustorder: %w: %d-byte ID in a %d-byte key space", route.ErrKeySpace, rec.ID.Len(), t.self.Len())
	case rec.ID == t.self:
		return fmt.Errorf("trustorder: %w", route.ErrSelf)
	}
	return nil
}

// Update records contact with rec's peer at now.
//
//   - Held: it becomes the most recently seen, its failure count is reset,
//     and rec replaces the held record if rec.Seq >= the held Seq.
//     Refreshed.
//   - New, or waiting in the replacement cache, with room: Added.
//   - New or waiting, table full, ranking above the least trusted held
//     peer: that peer's least recently seen is evicted in its favour.
//     Added.
//   - New or waiting, table full, ranking no higher: it goes to the front
//     of the replacement cache and the result is Pending, with the least
//     recently seen of the least trusted held peers as Candidate.
//   - Self, nil or another key space: Rejected, Err wrapping route.ErrSelf,
//     ErrNilRecord or route.ErrKeySpace.
//
// Ranks are read from Level at the call.
func (t *Table) Update(rec *peer.Record, now time.Time) route.Result {
	if err := t.check(rec); err != nil {
		return route.Result{Status: route.Rejected, Err: err}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.After(t.last) {
		t.last = now
	}
	if e, ok := t.byID[rec.ID]; ok {
		if rec.Seq >= t.recs[e.idx].Seq {
			t.recs[e.idx] = rec
		}
		e.failures = 0
		t.unlink(e)
		t.pushNewest(e)
		return route.Result{Status: route.Refreshed}
	}
	if i := t.findRepl(rec.ID); i >= 0 {
		if held := t.repl[i]; rec.Seq < held.Seq {
			rec = held
		}
		t.removeRepl(i)
	}
	if len(t.ids) < t.opts.Capacity {
		t.add(rec)
		return route.Result{Status: route.Added}
	}
	cand, low := t.candidate()
	if t.rank(rec.ID) > low {
		t.remove(cand)
		t.add(rec)
		return route.Result{Status: route.Added}
	}
	t.pushRepl(rec)
	return route.Result{Status: route.Pending, Candidate: t.recs[cand.idx]}
}

// Fail records a failed contact with id. A held peer is removed when its
// consecutive failures reach MaxFailures, or at once when a peer waiting in
// the replacement cache ranks at least as high as it does now; the best
// waiting peer then takes its place. A peer that is only waiting is dropped
// from the cache, since it no longer answers. Fail reports whether id was
// removed from the table proper.
func (t *Table) Fail(id peer.ID, _ time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.byID[id]
	if !ok {
		if i := t.findRepl(id); i >= 0 {
			t.removeRepl(i)
		}
		return false
	}
	e.failures++
	if e.failures < t.opts.MaxFailures && !t.replacedBy(id) {
		return false
	}
	t.remove(e)
	t.promote()
	return true
}

// Remove drops id from the table or its replacement cache. A removal from
// the table promotes the best waiting peer. It reports whether id was in
// the table proper.
func (t *Table) Remove(id peer.ID) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.byID[id]
	if !ok {
		if i := t.findRepl(id); i >= 0 {
			t.removeRepl(i)
		}
		return false
	}
	t.remove(e)
	t.promote()
	return true
}

// Get returns the record held for id; peers waiting in the replacement
// cache are not held.
func (t *Table) Get(id peer.ID) (*peer.Record, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if e, ok := t.byID[id]; ok {
		return t.recs[e.idx], true
	}
	return nil, false
}

// Len returns the number of peers held, replacement cache excluded.
func (t *Table) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.ids)
}

// DueForRefresh returns the whole key space (Bits 0) when the table has
// seen no contact and no lookup for interval as of now, and nil otherwise.
func (t *Table) DueForRefresh(now time.Time, interval time.Duration) []route.Range {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if now.Sub(t.last) < interval {
		return nil
	}
	return []route.Range{{Prefix: t.self, Bits: 0}}
}

// Refreshed notes a lookup at now; any target of the key space refreshes
// the one range.
func (t *Table) Refreshed(target peer.ID, now time.Time) {
	if target.Len() != t.self.Len() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.After(t.last) {
		t.last = now
	}
}
