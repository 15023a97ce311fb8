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
//
// # Levels
//
// A Policy derives every peer's level from its Options.Roots (normally
// including the node's own key) and the endorsements it has fetched:
//
//   - a root is at MaxLevel;
//   - an endorsement counts at the lower of its own level and its
//     endorser's level: no one is trusted more than those who vouch for it;
//   - a peer is at the highest level L such that at least Threshold
//     unexpired, unrevoked endorsements by distinct endorsers count at L or
//     more; with fewer, it is at 0.
//
// Levels are the least solution of these rules, so trust flows only out of
// the roots: peers that endorse one another in a cycle, or a crowd of
// sybils vouching for each other, stand no higher than a chain from a root
// makes them. With MaxLevel 3 and Threshold 1:
//
//	root R (3) ──3──▶ A (3) ──2──▶ B (2) ──3──▶ C (2: B is at 2)
//	                                 ▲           │
//	                                 └─────1─────┘  (C's endorsement of B adds nothing)
//	X ──3──▶ Y ──3──▶ X             (no root above them: both at 0)
//
// With Threshold 2 every peer but a root needs two endorsers: were C
// endorsed by B (counting at 2) and by another peer counting at 1, C would
// stand at 1, its second-highest count.
//
// # Gates
//
// The node consults the policy at three gates, each with its minimum level
// (Options.TableLevel, RelayLevel, ValueLevel; 1 by default): a peer enters
// the routing table, has its forwarded queries relayed, has its values
// stored. A signed value is judged by its publisher, an immutable one by
// its sender. Refusals wrap trust.ErrRejected. A peer the policy has never
// resolved is refused with ErrUnresolved and queued (at most MaxPending) for
// the next Refresh.
//
// # Refresh and limits
//
// Level and the gates never wait on the network: they read the levels the
// last Refresh derived. Refresh (trust.Refresher; the node calls it after
// joining and on every table refresh) fetches the endorsements of queued
// peers, of peers whose endorsements are older than CacheTTL, and of the
// endorsers they name, at most FetchesPerRefresh fetches each time, then
// derives all levels again. A revocation therefore takes effect at the
// first Refresh after CacheTTL, an expiry at the first Refresh after it.
//
// Memory is bounded: at most MaxCache peers (default 4096; beyond it the
// lowest levels are evicted first, then the longest resolved), at most
// MaxEndorsements kept per peer (the endorsers standing highest win), at
// most 4×MaxEndorsements values read from one fetch, at most MaxPending
// queued peers. What is dropped is counted in Stats.
package wot
