package trustorder

import "github.com/dhtkit/dhtkit/peer"

// The held peers: dense slices that Closest scans, a map from ID to entry,
// and a least-recently-seen list. The caller holds the write lock.

// add puts rec in the table as its most recently seen peer.
func (t *Table) add(rec *peer.Record) {
	e := &entry{idx: len(t.ids)}
	t.ids = append(t.ids, rec.ID)
	t.prefix = append(t.prefix, prefix64(rec.ID))
	t.recs = append(t.recs, rec)
	t.ents = append(t.ents, e)
	t.byID[rec.ID] = e
	t.pushNewest(e)
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

// candidate returns the least recently seen of the least trusted held peers,
// and its rank; the table is not empty. It walks from the least recently
// seen and stops at the first untrusted peer, as none ranks lower.
func (t *Table) candidate() (*entry, int) {
	best, low := t.oldest, t.rank(t.ids[t.oldest.idx])
	for e := t.oldest.next; e != nil && low > 0; e = e.next {
		if r := t.rank(t.ids[e.idx]); r < low {
			best, low = e, r
		}
	}
	return best, low
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
