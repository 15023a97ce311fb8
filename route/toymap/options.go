package toymap

import (
	"errors"
	"fmt"

	"github.com/dhtkit/dhtkit/peer"
)

// Defaults applied by New to zero Options fields.
const (
	DefaultMaxPeers    = 100_000
	DefaultMaxFailures = 3
)

// ErrInvalidOptions is wrapped by every error New returns.
var ErrInvalidOptions = errors.New("toymap: invalid options")

// ErrNilRecord rejects Update(nil, ...).
var ErrNilRecord = errors.New("toymap: nil record")

// Options configure a Table. Zero fields take the documented defaults;
// negative ones are errors.
type Options struct {
	// MaxPeers bounds the table; a newcomer to a full table evicts the
	// least recently seen peer. 0 means DefaultMaxPeers (100,000).
	MaxPeers int
	// MaxFailures is the number of consecutive failed contacts after which
	// a peer is removed. 0 means DefaultMaxFailures (3).
	MaxFailures int
}

func (o Options) withDefaults(self peer.ID) (Options, error) {
	var errs []error
	if self.IsZero() {
		errs = append(errs, errors.New("self is the zero ID"))
	}
	if o.MaxPeers < 0 {
		errs = append(errs, fmt.Errorf("MaxPeers is %d, want >= 0", o.MaxPeers))
	}
	if o.MaxFailures < 0 {
		errs = append(errs, fmt.Errorf("MaxFailures is %d, want >= 0", o.MaxFailures))
	}
	if len(errs) > 0 {
		return o, fmt.Errorf("%w: %w", ErrInvalidOptions, errors.Join(errs...))
	}
	if o.MaxPeers == 0 {
		o.MaxPeers = DefaultMaxPeers
	}
	if o.MaxFailures == 0 {
		o.MaxFailures = DefaultMaxFailures
	}
	return o, nil
}
