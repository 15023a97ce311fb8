package node

import (
	"errors"
	"strings"

	"github.com/dhtkit/dhtkit/msgenc"
)

// Node errors.
var (
	// ErrClosed: the node was closed.
	ErrClosed = errors.New("node: closed")
	// ErrConfig is wrapped by every problem Build reports.
	ErrConfig = errors.New("node: invalid configuration")
	// ErrNotFound: no peer held a value under the key, or the peer sought
	// was not found.
	ErrNotFound = errors.New("node: not found")
	// ErrTimeout: a peer did not answer in time, retries included.
	ErrTimeout = errors.New("node: request timed out")
	// ErrNoAnswer: a lookup found no peer that answered; the error says
	// what happened at the peers it tried.
	ErrNoAnswer = errors.New("node: no peer answered")
	// ErrNoPeers: the routing table is empty; bootstrap first.
	ErrNoPeers = errors.New("node: no known peers")
	// ErrNoTransport: no transport of the node can reach the address.
	ErrNoTransport = errors.New("node: no transport for address")
	// ErrBootstrap: none of the bootstrap addresses answered.
	ErrBootstrap = errors.New("node: bootstrap failed")
	// ErrValueTooLarge: the value exceeds the protocol's limit or the
	// largest frame the node's transports carry.
	ErrValueTooLarge = errors.New("node: value too large")
)

// Refusals: why a replica would not store a value. A *RemoteError matches
// the one its code names, so errors.Is(err, ErrConflict) works on what Put
// returns.
var (
	// ErrConflict: the replica holds a newer or different version at the
	// same sequence number, or a compare-and-swap expected another one.
	// The *RemoteError's Seq is the sequence number the replica holds.
	ErrConflict = errors.New("node: conflicts with the stored version")
	// ErrInvalidValue: the value failed verification (signature, key).
	ErrInvalidValue = errors.New("node: value failed verification")
	// ErrRejected: the replica's trust policy refused the value or sender.
	ErrRejected = errors.New("node: refused by trust policy")
	// ErrQuota: over a storage quota, or the key holds as many values as
	// it may.
	ErrQuota = errors.New("node: over quota")
	// ErrOverloaded: the peer is rate limiting; try later.
	ErrOverloaded = errors.New("node: peer overloaded")
)

// RemoteError is an error reply from a peer, or the same refusal by this
// node for the replica it keeps itself.
type RemoteError struct {
	Code    msgenc.ErrorCode
	Message string
	// Seq is, for a conflict, the sequence number the replica holds.
	Seq uint64
}

func (e *RemoteError) Error() string {
	return "node: peer replied with error " + e.Code.String() + ": " + e.Message
}

// Is matches the sentinel that the error's code names.
func (e *RemoteError) Is(target error) bool {
	switch e.Code {
	case msgenc.CodeConflict:
		return target == ErrConflict
	case msgenc.CodeInvalid:
		return target == ErrInvalidValue
	case msgenc.CodeRejected:
		return target == ErrRejected
	case msgenc.CodeQuota:
		return target == ErrQuota
	case msgenc.CodeTooLarge:
		return target == ErrValueTooLarge
	case msgenc.CodeOverloaded:
		return target == ErrOverloaded
	case msgenc.CodeNotFound:
		return target == ErrNotFound
	}
	return false
}

// wire is the error reply that carries e.
func (e *RemoteError) wire() *msgenc.Error {
	msg := e.Message
	if len(msg) > msgenc.MaxErrorText {
		msg = msg[:msgenc.MaxErrorText]
	}
	return &msgenc.Error{Code: e.Code, Message: strings.ToValidUTF8(msg, "?"), Seq: e.Seq}
}

func remoteError(e *msgenc.Error) *RemoteError {
	return &RemoteError{Code: e.Code, Message: e.Message, Seq: e.Seq}
}
