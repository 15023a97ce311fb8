// Package toymap is the simplest routing table: every peer in one map,
// sorted by distance on demand. It is the baseline any new table is
// measured against, and the table of choice for small networks and tests
// where every known peer should stay reachable.
//
// It has no buckets and no replacement cache, so Update never returns
// route.Pending. Its size is bounded by Options.MaxPeers: a newcomer to a
// full table evicts the least recently seen peer (the one most likely to be
// gone). Fail removes a peer after Options.MaxFailures consecutive failed
// contacts. The whole key space is one refresh range.
//
// The table does no I/O, starts no goroutines and reads no clock: callers
// pass the time. It is safe for concurrent use.
package toymap
