// Package node assembles dhtkit's parts into a running DHT peer.
//
// docs/tutorial.md, in the repository, walks from an empty module to a DHT
// of chosen parts with a plug-in of your own; every Go block in it is
// compiled and tested.
//
// # Building a node
//
// A Builder records choices; Build validates them all at once and fills the
// documented defaults:
//
//	n, err := node.NewBuilder().
//		Identity(id).                               // default: a fresh ed25519 key
//		ListenString("/ip4/0.0.0.0/udp/4001").      // default: UDP on a free loopback port
//		Table(myTable).                             // default: Kademlia, k=20
//		Store(store).                               // default: memory
//		Codec(cbor.New()).                          // default: CBOR
//		Mode(node.Proxied()).                       // default: direct
//		Build(ctx)
//
// Build reports every problem together (each wrapping ErrConfig) and never
// panics. NewBuilder().Build(ctx) alone gives a working node. Zero, for any
// setter, means the default; a feature that can be turned off has a named
// value for it (Retries(NoRetries): requests are never resent).
//
// # Using it
//
// Bootstrap joins through known addresses; Put stores a value at the k peers
// closest to its key and reports how many acknowledged; Get finds it; FindPeer
// finds a peer's signed record; Ping checks one address; Stats reports
// counters; Close stops everything the node started.
//
// Close means the same for the node and for every part (kvstore.Store,
// transport.Transport): the first call releases everything and returns nil
// or what went wrong; every later call, and every call that needs what was
// released, returns the part's ErrClosed.
//
// # Query modes
//
// Direct (iterative) lookups ask alpha peers at a time and learn closer
// peers from each answer. Proxied queries travel hop by hop, each hop keeping
// the query's state, and the answer retraces the path, so a far peer never
// learns the originator's address. Direct-reply queries travel hop by hop
// statelessly and the answering peer replies straight to the originator.
// Mixed(n) is proxied for n hops, then direct reply to the n-th hop (n from
// 1 to 255; another n makes an invalid mode that Build and every call
// refuse with ErrConfig). The default mode is set on the Builder; WithMode
// overrides it per call. A Mode is what callers choose; msgenc.Mode is only
// its wire form.
//
// # Inside
//
// Every transport has one receive goroutine. Replies are matched to requests
// by transaction ID; requests are answered in place, except forwarded
// queries, which run in goroutines bounded in number. Every peer record that
// arrives is verified before it can enter the routing table or be asked
// anything; a lookup verifies a peer an answer names only when it is about
// to ask it, and a record verified once is not verified again when the same
// bytes come back (a bounded cache of digests). A full bucket's least
// recently seen peer is pinged before anyone replaces it. Maintenance
// (bucket refresh, republish, expiry) runs on the injected clock.
package node
