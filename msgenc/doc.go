// Package msgenc defines the dhtkit wire protocol as plain Go types and the
// Codec interface that turns them into frames.
//
// Every frame carries one Message: a Kind, a transaction ID that a reply
// echoes, the sender's signed peer record, and exactly one body matching the
// Kind. Byte fields hold raw bytes (IDs, keys, binary multiaddrs, ed25519 keys
// and signatures), so a codec needs to know nothing about multiaddrs or
// signatures, and signatures never cover a codec's output.
//
// The bodies:
//
//	Ping / Pong               liveness; Pong tells the pinger its observed address
//	FindNode / Peers          the closest peers to a target
//	FindValue / Value         a value, or the closest peers when there is none
//	Store / StoreAck          store a value record at a replica
//	Error                     a request failed, with a code
//	Forward / ForwardReply    a query routed hop by hop (proxied, direct-reply
//	                          and mixed routing) and its answer
//
// Codecs live in subpackages: json, cbor and bencode. A codec never panics on
// bad input: Unmarshal returns an error wrapping ErrDecode, and every decoded
// message has passed Validate, which bounds every list and byte field.
package msgenc
