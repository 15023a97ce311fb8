// Package dhtkit is a framework for composing distributed hash tables from
// interchangeable parts.
//
// The parts live in their own packages, each behind a small interface:
//
//   - peer: the key space (IDs, XOR distance, hashers), ed25519 identities and
//     self-signed peer records.
//   - msgenc: the wire protocol as plain Go types and the Codec interface, with
//     json, cbor and bencode codecs.
//   - transport: the message-oriented Transport interface, with udp, tcp and an
//     in-process simulated network, mem.
//   - kvstore: the Store interface, with memory and bbolt stores.
//   - route: the routing Table interface, with kademlia and toymap tables.
//   - conformance: exported suites that prove any implementation of these
//     interfaces, built-in or not.
package dhtkit
