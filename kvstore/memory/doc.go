// Package memory is a kvstore.Store that keeps records in a map, for tests,
// simulations and nodes that need no durability.
//
// Records live in a fixed number of shards, each a map behind its own
// read-write lock, so that concurrent callers touching different keys rarely
// wait for one another; the shards are made by the first write, so that an
// empty store costs a few words. A record's byte fields share one
// allocation, which keeps the per-record overhead to the map entry and one
// small header. Expired records are never returned; Sweep frees them. The
// store implements kvstore.Ranger.
package memory
