package msgenc

// Kind names the body a Message carries.
type Kind uint8

// The message kinds. Values are part of the wire format: never renumber.
const (
	KindPing         Kind = 1
	KindPong         Kind = 2
	KindFindNode     Kind = 3
	KindPeers        Kind = 4
	KindFindValue    Kind = 5
	KindValue        Kind = 6
	KindStore        Kind = 7
	KindStoreAck     Kind = 8
	KindError        Kind = 9
	KindForward      Kind = 10
	KindForwardReply Kind = 11
)

var kindNames = [...]string{
	KindPing: "ping", KindPong: "pong", KindFindNode: "find-node", KindPeers: "peers",
	KindFindValue: "find-value", KindValue: "value", KindStore: "store", KindStoreAck: "store-ack",
	KindError: "error", KindForward: "forward", KindForwardReply: "forward-reply",
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k >= KindPing && k <= KindForwardReply }

func (k Kind) String() string {
	if k.Valid() {
		return kindNames[k]
	}
	return "unknown"
}

// Message is one protocol frame. Exactly one body pointer is set, the one
// matching Kind; Validate checks this.
type Message struct {
	Kind Kind
	// TxID is chosen by the requester; the reply carries the same value.
	TxID uint64
	// Sender is the sending peer's signed record. It may be nil only on
	// Error replies and on replies sent by a peer that keeps itself out of
	// routing tables (a client).
	Sender *PeerRecord

	Ping         *Ping
	Pong         *Pong
	FindNode     *FindNode
	Peers        *Peers
	FindValue    *FindValue
	Value        *Value
	Store        *Store
	StoreAck     *StoreAck
	Error        *Error
	Forward      *Forward
	ForwardReply *ForwardReply
}

// PeerRecord is the wire form of peer.Record. Addrs are binary multiaddrs.
type PeerRecord struct {
	ID        []byte
	PublicKey []byte
	Addrs     [][]byte
	Seq       uint64
	Signature []byte
}

// ValueRecord is a stored value as it travels between peers.
type ValueRecord struct {
	Key   []byte
	Value []byte
	// Publisher is the ed25519 public key of a signed value's publisher;
	// empty for plain and immutable values.
	Publisher []byte
	// Salt separates several mutable values of one publisher.
	Salt []byte
	// Seq orders versions of a mutable value; it only grows.
	Seq       uint64
	Signature []byte
	// TTL is the remaining lifetime in seconds. A relative time keeps
	// expiry independent of the peers' clocks.
	TTL uint32
}

// Ping asks a peer to prove it is alive.
type Ping struct{}

// Pong answers Ping.
type Pong struct {
	// Observed is the pinger's address as the responder saw it (binary
	// multiaddr), so a peer can learn its public address.
	Observed []byte
}

// FindNode asks for the peers closest to Target.
type FindNode struct {
	Target []byte
}

// Peers answers FindNode: the closest peers the responder knows.
type Peers struct {
	Peers []PeerRecord
}

// FindValue asks for the value stored under Key.
type FindValue struct {
	Key []byte
}

// Value answers FindValue: the records the responder holds under the key
// (one per publisher, at most MaxRecords), otherwise the closest peers it
// knows to the key.
type Value struct {
	Records []ValueRecord
	Peers   []PeerRecord
}

// Store asks a replica to keep Record.
type Store struct {
	Record ValueRecord
	// CAS makes the store conditional: it succeeds only when the stored
	// record's sequence number equals ExpectSeq (0 for "absent").
	CAS       bool
	ExpectSeq uint64
}

// StoreAck confirms a Store. Seq is the sequence number the replica now
// holds, which is higher than the request's when a newer version won.
type StoreAck struct {
	Seq uint64
}

// ErrorCode classifies an Error.
type ErrorCode uint16

// Error codes. Values are part of the wire format.
const (
	CodeInternal    ErrorCode = 1  // the responder failed
	CodeBadRequest  ErrorCode = 2  // the request was malformed
	CodeRejected    ErrorCode = 3  // the trust policy refused it
	CodeConflict    ErrorCode = 4  // stale sequence number or failed CAS
	CodeTooLarge    ErrorCode = 5  // the value exceeds the responder's limit
	CodeUnsupported ErrorCode = 6  // unknown kind or routing mode
	CodeOverloaded  ErrorCode = 7  // rate limited; retry later
	CodeNotFound    ErrorCode = 8  // a forwarded query found nothing
	CodeHopLimit    ErrorCode = 9  // a forwarded query can go no further here: it came back to a hop it passes
	CodeInvalid     ErrorCode = 10 // the value failed verification (signature, key)
	CodeQuota       ErrorCode = 11 // over a storage quota or the values a key may hold
)

var codeNames = [...]string{
	CodeInternal: "internal", CodeBadRequest: "bad-request", CodeRejected: "rejected",
	CodeConflict: "conflict", CodeTooLarge: "too-large", CodeUnsupported: "unsupported",
	CodeOverloaded: "overloaded", CodeNotFound: "not-found", CodeHopLimit: "hop-limit",
	CodeInvalid: "invalid", CodeQuota: "quota",
}

func (c ErrorCode) String() string {
	if int(c) < len(codeNames) && codeNames[c] != "" {
		return codeNames[c]
	}
	return "unknown"
}

// Error reports a failed request.
type Error struct {
	Code    ErrorCode
	Message string
	// Seq is, for CodeConflict, the sequence number the responder holds.
	Seq uint64
}

// Mode is how a forwarded query travels and how its answer returns: the
// wire form of node.Mode's forwarded modes. Callers choose a node.Mode; the
// node writes this field from it, and codecs carry it.
type Mode uint8

// Routing modes that travel in Forward. Direct (iterative) lookups use plain
// FindNode and FindValue and never forward.
const (
	// ModeProxied: each hop keeps per-query state and the answer retraces
	// the path; a hop learns only the previous hop's address.
	ModeProxied Mode = 1
	// ModeDirectReply: hops keep no state; the holder answers ReplyTo.
	ModeDirectReply Mode = 2
	// ModeMixed: proxied while ProxyHops > 0, then direct reply to the last
	// proxy, which relays the answer back along the proxied path.
	ModeMixed Mode = 3
)

// Forward is a query routed hop by hop.
type Forward struct {
	// QueryID names the query at this hop. A proxy replaces it with one of
	// its own before forwarding and maps the answer back, so IDs never link
	// the two sides of a proxy.
	QueryID []byte
	Mode    Mode
	// HopBudget is the number of further hops allowed; a hop that receives 0
	// answers itself or fails with CodeHopLimit.
	HopBudget uint8
	// ProxyHops is, in mixed mode, the number of proxied hops left before
	// the query switches to direct reply.
	ProxyHops uint8
	// Visited holds salted tags of the peers a direct-reply query has
	// passed, to stop loops without naming them: a tag is the first
	// VisitedTagSize bytes of SHA-256(Salt || ID). Proxied hops, and the
	// proxied hops of a mixed query, add nothing: each keeps the query's
	// salt while the query runs instead, so nothing names the hops behind.
	Visited [][]byte
	// Salt is chosen at random by the originator for each query (at most
	// MaxQuerySalt bytes). It keys the Visited tags and names the query to
	// the hops that keep per-query state; it says nothing of who chose it.
	Salt []byte
	// Fanout is how many peers each proxied hop hands the query to at once
	// (0 and 1: one at a time). A hop grants at most its own limit.
	Fanout uint8
	// ReplyTo is where the holder sends a direct reply: the originator's
	// addresses in direct-reply mode, the last proxy's in mixed mode, and
	// empty in proxied mode.
	ReplyTo [][]byte
	// Op is the query carried: KindFindNode, KindFindValue or KindStore.
	Op     Kind
	Target []byte
	// Record is the value to store when Op is KindStore.
	Record *ValueRecord
	// CAS and ExpectSeq make a forwarded store conditional, as in Store.
	CAS       bool
	ExpectSeq uint64
}

// ForwardReply is the answer to a Forward, sent back hop by hop or straight
// to ReplyTo.
type ForwardReply struct {
	QueryID []byte
	// Hops is how many hops the query travelled before it was answered.
	Hops uint8
	// Records are the values found, at most MaxRecords.
	Records []ValueRecord
	Peers   []PeerRecord
	// Stored counts the replicas that acknowledged a forwarded store.
	Stored uint16
	Error  *Error
}
