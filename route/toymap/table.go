package toymap

import (
	"fmt"
	"sync"
	"time"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
)

var _ route.Table = (*Table)(nil)

// entry is a peer's place in the table: its index in the dense slices and
// its links in the least-recently-seen list.
type entry struct {
	idx        int
	failures   int
	prev, next *entry // towards less / more recently seen
}

// Table keeps every peer up to Options.MaxPeers. It is safe for concurrent
// use.
type Table struct {
	self peer.ID
	opts Options

	mu     sync.RWMutex
	byID   map[peer.ID]*entry
	ids    []peer.ID      // dense, parallel to prefix, recs and ents
	prefix []uint64       // the IDs' first 64 bits: Closest scans these
	recs   []*peer.Record // recs[i] is the record of ids[i]
	ents   []*entry       // ents[i] is the entry of ids[i]
	oldest *entry         // least recently seen
	newest *entry         // most recently seen
	last   time.Time      // last contact or lookup
}

// New returns an empty table for the key space of self. It returns an error
// wrapping ErrInvalidOptions when self is the zero ID or an option is
// negative.
func New(self peer.ID, opts Options) (*Table, error) {
	o, err := opts.withDefaults(self)
	if err != nil {
		return nil, err
	}
	return &Table{self: self, opts: o, byID: make(map[peer.ID]*entry)}, nil
}

// Self returns the table's own ID.
func (t *Table) Self() peer.ID { return t.self }

// Update records contact with rec's peer at now. A known peer becomes the
// most recently seen, its failure count is reset, and rec replaces the held
// record if rec.Seq >= the held Seq (Refreshed). A new peer is Added,
// evicting the least recently seen peer if the table is full. Self, nil and
// IDs of another key space are Rejected with Err wrapping route.ErrSelf,
// ErrNilRecord or route.ErrKeySpace.
func (t *Table) Update(rec *peer.Record, now time.Time) route.Result {
	switch {
	case rec == nil:
		return route.Result{Status: route.Rejected, Err: ErrNilRecord}
	case rec.ID.Len() != t.self.Len():
		return route.Result{Status: route.Rejected, Err: fmt.Errorf("toymap: %w: %d-byte ID in a %d-byte key space", route.ErrKeySpace, rec.ID.Len(), t.self.Len())}
	case rec.ID == t.self:
		return route.Result{Status: route.Rejected, Err: fmt.Errorf("toymap: %w", route.ErrSelf)}
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
	if len(t.ids) >= t.opts.MaxPeers {
		t.remove(t.oldest)
	}
	e := &entry{idx: len(t.ids)}
	t.ids = append(t.ids, rec.ID)
	t.prefix = append(t.prefix, prefix64(rec.ID))
	t.recs = append(t.recs, rec)
	t.ents = append(t.ents, e)
	t.byID[rec.ID] = e
	t.pushNewest(e)
	return route.Result{Status: route.Added}
}

// Fail records a failed contact with id and removes it once its
// consecutive failures reach MaxFailures. It reports whether id was removed.
func (t *Table) Fail(id peer.ID, _ time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.byID[id]
	if !ok {
		return false
	}
	e.failures++
	if e.failures < t.opts.MaxFailures {
		return false
	}
	t.remove(e)
	return true
}

// Remove drops id at once and reports whether it was held.
func (t *Table) Remove(id peer.ID) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.byID[id]
	if ok {
		t.remove(e)
	}
	return ok
}

// Get returns the record held for id.
func (t *Table) Get(id peer.ID) (*peer.Record, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if e, ok := t.byID[id]; ok {
		return t.recs[e.idx], true
	}
	return nil, false
}

// Len returns the number of peers held.
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

// remove deletes e by moving the last peer into its slot.
func (t *Table) remove(e *entry) {
	id := t.ids[e.idx]
	last := len(t.ids) - 1
	if e.idx != last {
		t.ids[e.idx], t.recs[e.idx], t.ents[e.idx] = t.ids[last], t.recs[last], t.ents[last]
		t.prefix[e.idx] = t.prefix[last]
		t.ents[e.idx].idx = e.idx
	}
	t.recs[last], t.ents[last] = nil, nil // let the collector have them
	t.ids, t.recs, t.ents, t.prefix = t.ids[:last], t.recs[:last], t.ents[:last], t.prefix[:last]
	delete(t.byID, id)
	t.unlink(e)
}

func (t *Table) pushNewest(e *entry) {
	e.prev, e.next = t.newest, nil
	if t.newest != nil {
		t.newest.next = e
	} else {
		t.oldest = e
	}
	t.newest = e
}

func (t *Table) unlink(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		t.oldest = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		t.newest = e.prev
	}
	e.prev, e.next = nil, nil
}
