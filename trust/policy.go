package trust

import (
	"errors"

	"github.com/dhtkit/dhtkit/peer"
)

// ErrRejected is wrapped by every refusal a Policy returns.
var ErrRejected = errors.New("trust: rejected by policy")

// Value is what a policy sees of a value offered for storage.
type Value struct {
	// Key is the key-space ID the value is stored under.
	Key peer.ID
	// Value is the stored bytes; a policy must not modify or keep them.
	Value []byte
	// Publisher is the publisher's ed25519 public key, empty for plain and
	// immutable values.
	Publisher []byte
	Salt      []byte
	Seq       uint64
	Signature []byte
}

// Policy decides whom and what to accept. Implementations are safe for
// concurrent use and fast: they run on the node's receive path. A refusal
// wraps ErrRejected.
type Policy interface {
	// AcceptPeer decides whether a peer whose record verified may enter the
	// routing table.
	AcceptPeer(rec *peer.Record) error
	// AcceptRelay decides whether to relay a forwarded query that arrived
	// from the peer (nil when the sender did not identify itself).
	AcceptRelay(from *peer.Record) error
	// AcceptValue decides whether to store v, offered by the peer (nil when
	// the sender did not identify itself, or for the node's own puts).
	AcceptValue(from *peer.Record, v *Value) error
}

// Open returns the policy that accepts every verified peer, relays for
// anyone and stores every value within the protocol's limits.
func Open() Policy { return openPolicy{} }

type openPolicy struct{}

func (openPolicy) AcceptPeer(*peer.Record) error          { return nil }
func (openPolicy) AcceptRelay(*peer.Record) error         { return nil }
func (openPolicy) AcceptValue(*peer.Record, *Value) error { return nil }
