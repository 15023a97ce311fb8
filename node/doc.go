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
// # Who learns what
//
// The originator O asks; P1 is its first hop (the first proxy); H is the
// peer that answers (holds the value, or ends the query); "far" is any hop
// past P1. What each learns of O, by mode:
//
//	mode          P1                 far hops (and H)                         H's answer goes to
//	direct        O's address, ID    every peer asked: O's address and ID     O
//	proxied       O's address, ID    the previous hop's address and ID only   back along the path
//	direct-reply  O's address, ID    O's address (ReplyTo), not its ID        O, straight
//	mixed(n)      O's address, ID    up to the n-th proxy: the previous hop;  the n-th proxy, then
//	                                 past it: the n-th proxy's address        back along the path
//
// O's ID travels only as the sender of its own frames, so only the peers
// O itself sends to learn it, and none if O is a client (Builder.Client).
//
// In the forwarded modes no hop learns an ID of the hops behind it from
// the query: a proxied hop ships no visited list (each hop holds the
// query's random salt while the query runs and refuses it if it comes
// back), and a direct-reply hop adds SHA-256(salt||ID) cut to 16 bytes, a
// tag that confirms an ID only to one who already knows it: a far hop can
// test the IDs it knows against the tags, so in direct reply it may learn
// which of its known peers the query passed (never O, which adds no tag).
// The frame's sender is the previous hop, as it must be.
//
// Position: the hop budget starts at a random value in HopBudgetRange
// (default 10 to 20) and each hop passes the query on without spending one
// with probability HopKeep (default 0.2), so a budget a hop receives is
// one a hop further on may also receive. What remains: a hop that receives
// the top of the range is the first one more often than not, and in
// mixed(n) the proxied hops left (ProxyHops) tell a proxy its place to one
// who knows n. The query ID is replaced at every proxy; the salt is drawn
// afresh for every try but is the same all along one path, so colluding
// hops of one path can tell that they carry the same query (which timing
// and the target would tell them anyway).
//
// PathCache makes each proxied hop keep (verified, bounded, expiring with
// the value) the values it relays, and answer later forwarded gets from
// them; Fanout hands a proxied find to several peers at once. A direct
// lookup may follow DisjointPaths disjoint paths (S/Kademlia), so that
// hostile routers on one path cannot steer the others.
//
// # Limits
//
// A node bounds what any one source can cost it (Builder.RateLimits,
// Quotas, WorkLimits; zero fields mean the documented defaults):
//
//   - Requests: token buckets per peer ID, per IP address and per IPv4 /24
//     or IPv6 /64, in bounded maps. Over the
//     limit a request is refused with msgenc.CodeOverloaded about once a
//     second, and dropped otherwise, unread once the source was told;
//     Metrics counts both. NoRateLimits turns them off.
//   - Storage: bytes in all, bytes and values per publisher, and per
//     source prefix for unsigned values, enforced for every store; over
//     quota a store is refused with msgenc.CodeQuota (ErrQuota). When the
//     total is full new values are refused until values expire. The
//     accounts are rebuilt from the store on start.
//   - Amplification: an answer to an address that has not proved itself
//     (by echoing the address token the node issued, or by arriving over
//     TCP) is at most three times its request; requests without a token
//     are padded to PaddedRequestSize, so lookups lose no round trip.
//     A direct-reply answer goes to the query's ReplyTo, an address the
//     holder cannot tell from a victim's: over UDP it is held to three
//     times the frame that brought the query (hops pad direct-reply
//     queries to PaddedRequestSize, so about 3.6 KB), leaving out peers,
//     then values; a larger value is read in direct or proxied mode.
//     Unsigned values are stored only from proven addresses.
//   - Work: forwarded queries in flight in all and per source, and
//     ping-before-evict pings in flight, in all and per source prefix.
//
// # Inside
//
// Every transport has one receive goroutine. Replies are matched to requests
// by transaction ID; requests are answered in place, except forwarded
// queries, which run in goroutines bounded in number. Every peer record that
// arrives is verified before it can enter the routing table or be asked
// anything; a lookup verifies a peer an answer names only when it is about
// to ask it, and a record verified once is not verified again when the same
// bytes come back (a bounded cache of digests, at least twice the table).
// The sender of a ping, find-node or find-value whom the table could not
// keep (route.Admission: its bucket and replacement cache are full) is
// answered without a check, as a client would be, and used for nothing
// else: not tabled, not rate-limited under its claimed ID, not named in
// answers. One the table could keep is answered the same way, and only
// then verified (before the next frame is handled) and offered to the
// table: its check is off the asker's round trip. Stores, forwarded
// queries and replies always verify their sender first. A full bucket's
// least recently seen peer, once quiet for half the liveness interval, is
// pinged before anyone replaces it (one heard from since is good, as in
// BEP 5, and keeps its place unpinged); a sender that contends for a full
// bucket (route.Contention) is answered unchecked in the same way, and
// verified and offered to the table only if that ping fails. Maintenance
// (bucket refresh, republish, expiry) runs on the injected clock.
package node
