package trustorder

import (
	"slices"

	"github.com/dhtkit/dhtkit/peer"
)

// The replacement cache: peers that found the table full, most recently
// seen first, at most Options.ReplacementCache of them. It holds only peers
// that ranked no higher than the least trusted held peer when they came, so
// it is never more than a short list, and a linear scan is the fastest way
// through it. The caller holds the write lock.

func (t *Table) findRepl(id peer.ID) int {
	return slices.IndexFunc(t.repl, func(r *peer.Record) bool { return r.ID == id })
}

func (t *Table) removeRepl(i int) {
	t.repl = slices.Delete(t.repl, i, i+1)
}

// pushRepl puts rec at the front of the cache. When the cache is full the
// least trusted waiting peer makes room, the least recently seen of them on
// a tie: a flood of untrusted newcomers cannot push out a trusted peer that
// waits. The newcomer itself always gets a place: it has just been seen.
func (t *Table) pushRepl(rec *peer.Record) {
	if len(t.repl) >= t.opts.ReplacementCache {
		drop, low := len(t.repl)-1, t.rank(t.repl[len(t.repl)-1].ID)
		for i := len(t.repl) - 2; i >= 0 && low > 0; i-- {
			if r := t.rank(t.repl[i].ID); r < low {
				drop, low = i, r
			}
		}
		t.removeRepl(drop)
	}
	t.repl = slices.Insert(t.repl, 0, rec)
}

// promote moves the most trusted waiting peer, the most recently seen of
// them on a tie, into the table, if any waits.
func (t *Table) promote() {
	if len(t.repl) == 0 {
		return
	}
	best, high := 0, t.rank(t.repl[0].ID)
	for i := 1; i < len(t.repl); i++ {
		if r := t.rank(t.repl[i].ID); r > high {
			best, high = i, r
		}
	}
	t.add(t.repl[best])
	t.removeRepl(best)
}

// replacedBy reports whether a waiting peer ranks at least as high as id
// now, so that id may give way at its first failure.
func (t *Table) replacedBy(id peer.ID) bool {
	if len(t.repl) == 0 {
		return false
	}
	r := t.rank(id)
	return slices.ContainsFunc(t.repl, func(w *peer.Record) bool { return t.rank(w.ID) >= r })
}
