package trust

import (
	"errors"

	"github.com/dhtkit/dhtkit/peer"
)

// ErrRejected is wrapped by every refusal a Policy returns.
var ErrRejected = errors.New("trust: rejected by policy")

// Policy decides whom and what to accept. Implementations are safe for
// concurrent use and fast: they run on the node's receive path, so they must
// not wait on the network. A refusal wraps ErrRejected.
//
// The node asks a policy only about what already verified: records whose
// signature and ID checked out, values whose Verify passed.
type Policy interface {
	// AcceptPeer decides whether a peer whose record verified may enter the
	// routing table.
	AcceptPeer(rec *peer.Record) error
	// AcceptRelay decides whether to relay a forwarded query that arrived
	// from the peer (nil when the sender did not identify itself).
	AcceptRelay(from *peer.Record) error
	// AcceptValue decides whether to store v, offered by the peer (nil when
	// the sender did not identify itself, or for the node's own puts), and
	// whether a reader returns v that the peer sent it. v must not be
	// modified or kept.
	AcceptValue(from *peer.Record, v *Value) error
}

// Open returns the policy that accepts every verified peer, relays for
// anyone and accepts every verified value.
func Open() Policy { return openPolicy{} }

type openPolicy struct{}

func (openPolicy) AcceptPeer(*peer.Record) error          { return nil }
func (openPolicy) AcceptRelay(*peer.Record) error         { return nil }
func (openPolicy) AcceptValue(*peer.Record, *Value) error { return nil }
