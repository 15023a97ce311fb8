package kademlia

import (
	"slices"
	"time"

	"github.com/dhtkit/dhtkit/peer"
)

// entry is a peer in a bucket and its count of consecutive failed contacts:
// 16 bytes, since an idle node's memory is mostly its table.
type entry struct {
	rec *peer.Record
	// prefix is the ID's first 32 bits, for Closest: the peers of a
	// bucket share all bits down to the bucket's, so the rest still tell
	// them apart unless the bucket is deeper than a network of billions
	// fills, and a tie falls back to comparing whole IDs.
	prefix   uint32
	failures uint32
}

func newEntry(rec *peer.Record) entry { return entry{rec: rec, prefix: prefix32(rec.ID)} }

// bucket holds the peers sharing one prefix length with self. Slices, not
// lists or maps: a bucket holds at most K peers, so a linear scan is as fast
// as a lookup and costs no memory.
type bucket struct {
	entries []entry        // least recently seen first
	repl    []*peer.Record // replacement cache, most recently seen first
	// last is the last contact or lookup in the bucket's range, as time
	// since the table's epoch (see clock): 8 bytes, not a time.Time's 24.
	last stamp
}

// stamp is a time as an offset from a table's epoch; 0 is never.
type stamp int64

// clock turns the times callers pass into stamps. Its epoch is the first
// time it is given, less a nanosecond, so that no stamp it makes is 0;
// later times are measured from it with time.Time.Sub, which uses the
// monotonic clock when both times carry it, as comparing the times would.
type clock struct {
	epoch time.Time
	set   bool
}

// stamp returns now as a stamp. The caller holds the table's write lock.
func (c *clock) stamp(now time.Time) stamp {
	if !c.set {
		c.epoch, c.set = now.Add(-time.Nanosecond), true
	}
	if s := stamp(now.Sub(c.epoch)); s != 0 {
		return s
	}
	return -1 // a nanosecond before the epoch: not never
}

// time returns the time of s; the zero Time for never.
func (c *clock) time(s stamp) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return c.epoch.Add(time.Duration(s))
}

func (b *bucket) find(id peer.ID) int {
	for i := range b.entries {
		if b.entries[i].rec.ID == id {
			return i
		}
	}
	return -1
}

func (b *bucket) findRepl(id peer.ID) int {
	for i, r := range b.repl {
		if r.ID == id {
			return i
		}
	}
	return -1
}

// touch notes contact at now, a stamp. Times only move forward, so
// concurrent callers passing slightly older times cannot make a bucket
// look stale.
func (b *bucket) touch(now stamp) {
	if b.last == 0 || now > b.last {
		b.last = now
	}
}

// moveToBack makes entry i the most recently seen.
func (b *bucket) moveToBack(i int) {
	e := b.entries[i]
	copy(b.entries[i:], b.entries[i+1:])
	b.entries[len(b.entries)-1] = e
}

func (b *bucket) removeAt(i int) {
	b.entries = slices.Delete(b.entries, i, i+1)
}

// pushRepl puts rec at the front of the replacement cache, dropping the
// least recently seen waiting peer when more than max wait.
func (b *bucket) pushRepl(rec *peer.Record, max int) {
	if len(b.repl) < max {
		b.repl = append(b.repl, nil)
	}
	copy(b.repl[1:], b.repl[:len(b.repl)-1])
	b.repl[0] = rec
}

func (b *bucket) removeRepl(i int) {
	b.repl = slices.Delete(b.repl, i, i+1)
}

// promote moves the most recently seen waiting peer into the bucket, at the
// most recently seen end. It reports whether there was one.
func (b *bucket) promote() bool {
	if len(b.repl) == 0 {
		return false
	}
	b.entries = append(b.entries, newEntry(b.repl[0]))
	b.removeRepl(0)
	return true
}
