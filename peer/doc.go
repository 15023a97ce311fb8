// Package peer defines the key space of a network and the identity of its
// peers.
//
// An ID is a fixed-length byte string, 20 bytes for SHA-1 networks and 32 for
// SHA-256 ones (the default). IDs are compared by XOR distance to a target. A
// Hasher maps user keys and public keys into the key space. An Identity holds
// an ed25519 key pair; a peer's ID is the hash of its public key, so IDs
// cannot be chosen. A Record is a peer's self-signed statement of its ID, key,
// addresses and a sequence number; its signature covers a canonical byte
// string that does not depend on any wire codec.
package peer
