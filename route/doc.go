// Package route defines the routing Table interface: the peers a node knows,
// and which of them are closest to a target.
//
// A table is a deterministic data structure: it does no I/O, starts no
// goroutines and reads no clock; callers pass the time. When a Kademlia bucket
// is full, Update names the eviction candidate; the node pings it and reports
// the outcome (Update again when it answered, Fail when it did not).
//
// Implementations: kademlia (k-buckets, least-recently-seen order, a
// replacement cache), toymap (every peer in a map, sorted on demand, the
// baseline other tables are measured against) and trustorder (peers ranked
// by a caller's trust level, then by distance; not XOR-ordered, see
// Ordering).
package route
