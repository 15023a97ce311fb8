package route

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/dhtkit/dhtkit/peer"
)

// Table errors.
var (
	// ErrSelf: a table never holds its own peer.
	ErrSelf = errors.New("route: cannot add self")
	// ErrKeySpace: the peer's ID is not of the table's key space.
	ErrKeySpace = errors.New("route: ID length does not match the key space")
)

// Status is the outcome of Update.
type Status uint8

const (
	// Added: the peer was new and now sits in the table.
	Added Status = iota + 1
	// Refreshed: the peer was known; its record and last-seen time were
	// updated.
	Refreshed
	// Pending: the peer's bucket is full. It waits in the replacement cache
	// and Result.Candidate names the peer to ping: if that one fails, Fail
	// promotes a waiting peer.
	Pending
	// Rejected: the table will not hold the peer (see Result.Err).
	Rejected
)

func (s Status) String() string {
	switch s {
	case Added:
		return "added"
	case Refreshed:
		return "refreshed"
	case Pending:
		return "pending"
	case Rejected:
		return "rejected"
	}
	return "unknown"
}

// Result reports what Update did.
type Result struct {
	Status Status
	// Candidate is, when Status is Pending, the least recently seen peer of
	// the full bucket: the one to ping before anyone is replaced.
	Candidate *peer.Record
	// Err explains a Rejected update (ErrSelf, ErrKeySpace).
	Err error
}

// Table holds known peers. Implementations are safe for concurrent use.
//
// Records passed in and returned are shared, not copied: they are immutable
// once verified. Returned slices are fresh and belong to the caller.
type Table interface {
	// Self is the ID of the table's own peer.
	Self() peer.ID
	// Update adds rec or refreshes it on contact at now. A record with a
	// lower Seq than the one held does not replace it but still counts as
	// contact.
	Update(rec *peer.Record, now time.Time) Result
	// Fail records a failed contact with id. A peer that has failed too
	// often, or that is the candidate of a full bucket with peers waiting,
	// is removed and replaced from the replacement cache. It reports
	// whether id was removed.
	Fail(id peer.ID, now time.Time) bool
	// Remove drops id (and its replacement-cache entry) at once.
	Remove(id peer.ID) bool
	// Get returns the record held for id.
	Get(id peer.ID) (*peer.Record, bool)
	// Closest returns up to n peers ordered by the table's notion of
	// closeness to target, closest first. For XOR tables that is distance.
	Closest(target peer.ID, n int) []*peer.Record
	// Len is the number of peers in the table, replacement cache excluded.
	Len() int
	// DueForRefresh returns the ranges of the key space in which no lookup
	// or contact has happened for interval, as of now.
	DueForRefresh(now time.Time, interval time.Duration) []Range
	// Refreshed notes a lookup for target at now, so its range is not due.
	Refreshed(target peer.ID, now time.Time)
}

// Range is the part of the key space whose IDs start with the first Bits
// bits of Prefix.
type Range struct {
	Prefix peer.ID
	Bits   int
}

// Contains reports whether id lies in the range.
func (r Range) Contains(id peer.ID) bool {
	return id.Len() == r.Prefix.Len() && id.CommonPrefixLen(r.Prefix) >= r.Bits
}

// Random returns a uniformly random ID within the range, drawn from rng.
// Bits outside 0..Prefix.Bits() is clamped; a range without a prefix has no
// key space and gives the zero ID.
func (r Range) Random(rng *rand.Rand) peer.ID {
	n := r.Prefix.Len()
	if n == 0 {
		return peer.ID{}
	}
	r.Bits = max(0, min(r.Bits, r.Prefix.Bits()))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	p := r.Prefix.Bytes()
	full := r.Bits / 8
	copy(b[:full], p[:full])
	if rem := r.Bits % 8; rem != 0 && full < n {
		mask := byte(0xff) << (8 - rem)
		b[full] = p[full]&mask | b[full]&^mask
	}
	id, _ := peer.IDFromBytes(b) // n is a valid length: it came from an ID
	return id
}

// Ordering is implemented by tables that rank peers by something other than
// XOR distance to the target: trust, latency, locality. A table that does not
// implement it ranks by XOR distance.
//
// The node uses it in forwarded routing: over an XOR table a hop passes a
// query only to peers nearer the target than itself, so queries converge;
// over any other order the query follows the table's ranking and stops when
// it is answered, runs out of unvisited peers, or runs out of hops.
type Ordering interface {
	// XOROrdered reports whether Closest ranks peers by XOR distance.
	XOROrdered() bool
}

// XOROrdered reports whether t ranks peers by XOR distance: true unless t
// implements Ordering and says otherwise.
func XOROrdered(t Table) bool {
	if o, ok := t.(Ordering); ok {
		return o.XOROrdered()
	}
	return true
}

// Admission is implemented by tables that can tell from an ID alone
// whether contact with that peer could change what they hold. The node
// asks it before verifying the sender of a plain query (ping, find-node,
// find-value): a signature check costs far more than the answer, and a
// sender the table would not keep needs none, since it is then used for
// nothing but the answer's address. A table that does not implement it
// wants every peer, so every sender is verified.
type Admission interface {
	// Wants reports whether Update with a record for id could make it a
	// peer of the table or one waiting to replace a peer, other than by
	// displacing a peer that waits already: id is held or waiting, or
	// there is room for it. False promises that Update would leave the
	// table's peers as they are.
	Wants(id peer.ID) bool
}

// Contention is implemented by tables that keep a full bucket's peers
// until one of them fails, pinging the least recently seen before anyone
// replaces it (Kademlia). The node asks it before verifying the sender of
// a plain query: a newcomer that could only wait outside a full bucket is
// verified, and offered to the table, only if the peer it would replace
// fails to answer that ping, so a bucket of live peers costs no signature
// check. A table that does not implement it is offered every wanted
// sender, verified first.
type Contention interface {
	// Contender returns the least recently seen peer of the full bucket
	// id belongs in, and true, when id is neither held nor waiting there;
	// otherwise nil and false. The record returned is the table's: the
	// caller must not modify it.
	Contender(id peer.ID) (*peer.Record, bool)
}

// Wants reports whether t could keep a peer with id: Admission's answer,
// or true when t does not implement it.
func Wants(t Table, id peer.ID) bool {
	if a, ok := t.(Admission); ok {
		return a.Wants(id)
	}
	return true
}
