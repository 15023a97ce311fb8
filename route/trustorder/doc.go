// Package trustorder is a routing table that ranks peers by how much this
// node trusts them, then by XOR distance to the target. Over it, forwarded
// queries (proxied, direct reply, mixed) travel through the most trusted
// peers this node knows, as the web of trust intends.
//
// # Order
//
// Closest ranks held peers by level, higher first, and within a level by
// XOR distance to the target, closest first. Options.Level, supplied by the
// caller (a web-of-trust policy), gives each peer's level, and is read at
// every Closest: a level that changes shows in the next answer. The table
// never caches a level.
//
// Every level <= 0 ranks as one untrusted level, after every trusted peer.
// Untrusted peers are still held: while no trusted peer is known, or to
// fill a short answer, they are the only route there is, and among them
// XOR distance is the only sensible order, so the table degrades to plain
// XOR routing. Degrees of distrust are not ranked: the node asks a policy
// whether a peer may enter the table at all, so a peer held at -5 is no
// worse a hop than one held at 0, and ranking them would let the sign
// convention of one policy reorder another's fallback routes.
//
// The table implements route.Ordering and reports XOROrdered false: a node
// forwarding over it follows its order and does not expect each hop to be
// nearer the target.
//
// # Limits and eviction
//
// The table holds at most Options.Capacity peers (16*K, 320 by default),
// and at most Options.ReplacementCache more (K) wait for a place, so its
// memory is bounded whatever it is told. A newcomer to a full table is set
// against the candidate: the least recently seen of the least trusted held
// peers.
//
//   - A newcomer that ranks above the candidate takes its place at once
//     (route.Added): trust outranks liveness, and the evicted peer, no more
//     trusted than any peer left, is forgotten rather than kept waiting.
//   - A newcomer that ranks no higher waits in the replacement cache and
//     Update returns route.Pending naming the candidate, as Kademlia does:
//     the node pings it, and a peer that answers keeps its place.
//
// So an untrusted flood can never push a trusted peer out: a held peer is
// only ever evicted for one that ranks above it, a full replacement cache
// drops its least trusted waiting peer first, and the most trusted waiting
// peer is promoted first.
//
// # Failures
//
// Fail counts consecutive failed contacts per peer; a successful contact
// (Update) resets the count. A peer is removed when its count reaches
// Options.MaxFailures, or at its first failure if a waiting peer ranks at
// least as high as it does: Kademlia removes a failed candidate at once
// because a peer just seen is worth more than one that just failed, but a
// trusted peer is worth more than an untrusted one that just answered, so
// one lost ping does not hand its place to a less trusted peer. In the
// common case, a candidate named by Pending for a newcomer of its own
// level, the two rules agree. Every removal from the table (Fail or Remove)
// promotes a waiting peer.
//
// # Refresh and cost
//
// Trust, not the key space, decides who is held, so the whole key space is
// one refresh range, due when the table has seen no contact and no lookup
// for the interval.
//
// Closest scans every held peer and calls Level for each: O(N log n) plus N
// calls of Level, and with Level a map lookup the lookups are most of the
// time (BenchmarkClosest20 measures both). An Update that finds the table
// full calls Level for held peers from the least recently seen until it
// meets an untrusted one, at most Capacity times; Fail, Remove and a full
// replacement cache call it for the waiting peers. Hence the bound on
// Capacity, and the demands on Level: fast, safe for concurrent use, and
// never calling back into the table (see Options).
//
// The table does no I/O, starts no goroutines and reads no clock: callers
// pass the time. It is safe for concurrent use.
package trustorder
