package kademlia

import (
	"errors"
	"fmt"

	"github.com/dhtkit/dhtkit/peer"
)

// Defaults applied by New to zero Options fields.
const (
	DefaultK           = 20
	DefaultMaxFailures = 3
)

// ErrInvalidOptions is wrapped by every error New returns.
var ErrInvalidOptions = errors.New("kademlia: invalid options")

// ErrNilRecord rejects Update(nil, ...).
var ErrNilRecord = errors.New("kademlia: nil record")

// Options configure a Table. The key space is the length of self. Zero
// fields take the documented defaults; negative ones are errors.
type Options struct {
	// K is the most peers a bucket holds. 0 means DefaultK (20).
	K int
	// ReplacementCache is the most peers waiting in each bucket's
	// replacement cache. 0 means K.
	ReplacementCache int
	// MaxFailures is the number of consecutive failed contacts after which
	// a peer is removed even with no replacement waiting. 0 means
	// DefaultMaxFailures (3).
	MaxFailures int
}

// withDefaults validates o and returns a copy with defaults filled in.
func (o Options) withDefaults(self peer.ID) (Options, error) {
	var errs []error
	if self.IsZero() {
		errs = append(errs, errors.New("self is the zero ID"))
	}
	if o.K < 0 {
		errs = append(errs, fmt.Errorf("K is %d, want >= 0", o.K))
	}
	if o.ReplacementCache < 0 {
		errs = append(errs, fmt.Errorf("ReplacementCache is %d, want >= 0", o.ReplacementCache))
	}
	if o.MaxFailures < 0 {
		errs = append(errs, fmt.Errorf("MaxFailures is %d, want >= 0", o.MaxFailures))
	}
	if len(errs) > 0 {
		return o, fmt.Errorf("%w: %w", ErrInvalidOptions, errors.Join(errs...))
	}
	if o.K == 0 {
		o.K = DefaultK
	}
	if o.ReplacementCache == 0 {
		o.ReplacementCache = o.K
	}
	if o.MaxFailures == 0 {
		o.MaxFailures = DefaultMaxFailures
	}
	return o, nil
}
