// Package kademlia is the classic Kademlia routing table: k-buckets indexed
// by the length of the prefix a peer shares with the table's own ID, each in
// least-recently-seen order, with a bounded replacement cache per bucket.
//
// # Ping before evict
//
// A full bucket never drops a peer it knows for a newcomer. Update returns
// route.Pending and names the bucket's least recently seen peer as the
// candidate; the newcomer waits in the bucket's replacement cache. The node
// pings the candidate: if it answers, the node calls Update for it (it moves
// to the most recently seen end and stays); if it does not, the node calls
// Fail, which evicts it and promotes the most recently seen waiting peer.
//
// # Failures
//
// Fail counts failed contacts per peer; a successful contact (Update) resets
// the count. A peer is removed when its count reaches Options.MaxFailures, or
// on its first failure if its bucket has a peer waiting in the replacement
// cache: a bucket with peers waiting is full, and a peer seen recently is
// worth more than one that just failed. Every removal from a bucket (Fail or
// Remove) promotes a waiting peer, so a bucket with a non-empty replacement
// cache is always full.
//
// # Refresh
//
// Each bucket remembers its last contact or lookup. DueForRefresh returns one
// route.Range per stale bucket, from bucket 0 (the half of the key space
// farthest from self) down to one bucket past the deepest non-empty bucket.
// Deeper buckets are almost surely empty in any network (bucket i holds about
// N/2^(i+1) of N peers), so looking them up one by one would cost up to 256
// lookups for nothing; a lookup of the deepest bucket's range already finds
// the peers nearest to self.
//
// The table does no I/O, starts no goroutines and reads no clock: callers
// pass the time. It is safe for concurrent use.
package kademlia
