// Package trust holds what a node believes and whom: signed values and the
// policy that decides which peers and values a node accepts.
//
// # Values
//
// A Value is a stored value in the one form it keeps from the API to the
// store, in three kinds, told apart by their fields (KindOf):
//
//	Immutable  no publisher; the key is the hash of the bytes (ImmutableKey).
//	           Anyone may store it; no one can change it.
//	Mutable    the key is MutableKey(publisher, salt): only that publisher
//	           can write under it; its sequence number only grows.
//	Plain      any key, signed by its publisher. Several publishers may
//	           each keep one value under a key; only a value's publisher
//	           can replace it, with a higher sequence number.
//
// A publisher signs SigningBytes, a canonical byte string (domain tag,
// kind, key, salt, sequence number, value) that no wire codec shapes, so a
// value verifies whatever encoding carried it. Verify checks everything a
// kind promises. The node verifies every value before it stores, relays or
// returns it, and answers a store it refuses with a reason code, never an
// acknowledgement.
//
// # Policy
//
// A Policy is consulted by the node at three points: before a verified peer
// record enters the routing table, before a query is relayed for another
// peer, and before a value is stored or returned to a caller. Open accepts
// everything that passed signature checks; package wot is a web of trust.
//
// Optional interfaces add what a policy may need: Refresher for a policy
// that learns from the DHT (the node calls Refresh on join and every refresh
// interval, then drops table peers the policy no longer accepts), and
// Leveler for one that grades peers (route/trustorder ranks by it). A
// Refresher that cannot decide yet refuses with ErrUnresolved; a Get then
// refreshes it and asks again before giving up.
package trust
