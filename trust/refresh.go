package trust

import (
	"context"
	"errors"

	"github.com/dhtkit/dhtkit/peer"
)

// ErrUnresolved is wrapped by the refusals of a Refresher that has not yet
// read what it needs to decide: after a Refresh it may accept. The node then
// refreshes the policy and asks again where a caller waits on the answer (a
// Get), and leaves it for the next refresh on the receive path.
var ErrUnresolved = errors.New("trust: not resolved yet")

// Fetcher returns the values stored in the DHT under key, each already
// verified (Value.Verify) by the node that fetched it.
type Fetcher func(ctx context.Context, key peer.ID) ([]*Value, error)

// Refresher is implemented by policies that learn from the DHT, such as a
// web of trust that reads endorsements. The node calls Refresh after
// joining and then on every table refresh, and afterwards checks its table
// peers against AcceptPeer again, so that a revoked peer leaves within one
// refresh interval. Refresh may use fetch for as long as ctx allows.
type Refresher interface {
	Refresh(ctx context.Context, fetch Fetcher) error
}

// Leveler is implemented by policies that grade peers, for tables that rank
// by trust. Level is fast and safe for concurrent use; an unknown peer is
// level 0.
type Leveler interface {
	Level(id peer.ID) int
}
