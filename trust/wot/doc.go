// Package wot is a web-of-trust trust.Policy: peers vouch for peers, and a
// node trusts a peer as far as a chain of endorsements from its own roots
// allows. mydht called the idea a Distributed Trust Table.
//
// # Endorsements
//
// An Endorsement is a peer's signed statement that it trusts another peer at
// a level, until an expiry. The endorser publishes it as a plain trust.Value
// under EndorsementKey(endorsee), so every endorsement of a peer is found
// from that peer's ID, and the DHT keeps one per endorser (one plain value
// per publisher per key). To change or revoke it, the endorser publishes a
// higher sequence number; level 0 revokes. NewEndorsement makes the value
// and ParseEndorsement reads it back, always verifying it first.
//
// The value bytes are fixed-size, one encoding per endorsement:
//
//	tag       "dhtkit/endorsement/v1\x00"  22 bytes, domain and version
//	idLen     1 byte                       20 or 32, the key space's ID size
//	endorsee  idLen bytes
//	level     1 byte                       0 (revoked) to 255
//	expires   8 bytes                      big-endian unix seconds; 0: never
//
// 52 bytes in a SHA-1 network, 64 in a SHA-256 one (EndorsementSize).
package wot
