// Package kvstore defines the Store interface that keeps a node's records.
//
// A Record holds a value, its expiry and the metadata the node needs to settle
// conflicts: the publisher's key, a sequence number and a signature. Stores
// return copies, never return expired records, and offer an atomic
// read-modify-write (Update) on which "higher sequence wins" and
// compare-and-swap are built.
//
// Optional interfaces add capabilities a store may have:
//
//	Ranger   iterate over every live record (the node republishes with it)
//
// Implementations: memory (a map with expiry) and bbolt (a durable file).
package kvstore
