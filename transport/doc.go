// Package transport defines the message-oriented Transport interface that
// carries dhtkit frames between peers, and helpers for multiaddrs.
//
// A Transport sends one frame to a multiaddr and receives frames with the
// sender's address. It does not match replies to requests: the node does that
// by transaction ID, so every transport serves the same RPC engine. A node may
// hold several transports and picks one by the address's protocol (CanDial).
//
// Implementations: udp (one datagram per frame), tcp (length-prefixed frames
// over pooled connections) and mem (an in-process network with loss, latency,
// partitions and crashes, for simulations of thousands of nodes).
package transport
