package node

import "errors"

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
	// ErrNoPeers: the routing table is empty; bootstrap first.
	ErrNoPeers = errors.New("node: no known peers")
	// ErrNoTransport: no transport of the node can reach the address.
	ErrNoTransport = errors.New("node: no transport for address")
	// ErrBootstrap: none of the bootstrap addresses answered.
	ErrBootstrap = errors.New("node: bootstrap failed")
	// ErrValueTooLarge: the value exceeds the protocol's limit.
	ErrValueTooLarge = errors.New("node: value too large")
)

// RemoteError is an error reply from a peer.
type RemoteError struct {
	Code    uint16
	Message string
}

func (e *RemoteError) Error() string {
	return "node: peer replied with error " + codeName(e.Code) + ": " + e.Message
}
