package trustorder

import (
	"errors"
	"fmt"
	"math"

	"github.com/dhtkit/dhtkit/peer"
)

// Defaults applied by New to zero Options fields.
const (
	DefaultK           = 20
	DefaultMaxFailures = 3
	// CapacityPerK is Options.Capacity, in multiples of K, when left zero.
	CapacityPerK = 16
)

// ErrInvalidOptions is wrapped by every error New returns.
var ErrInvalidOptions = errors.New("trustorder: invalid options")

// ErrNilRecord rejects Update(nil, ...).
var ErrNilRecord = errors.New("trustorder: nil record")

// Options configure a Table. The key space is the length of self. Zero
// fields take the documented defaults; negative ones are errors, and so is
// a nil Level.
type Options struct {
	// K is the number of peers a lookup asks the table for: the network's
	// k. It sets the defaults of Capacity and ReplacementCache. 0 means
	// DefaultK (20).
	K int
	// Level returns the current trust level of a peer; higher is more
	// trusted, and every level <= 0 counts as untrusted (see the package
	// doc). It is required.
	//
	// The table calls Level with its lock held: once per held peer on
	// every Closest, up to once per held peer on an Update that finds the
	// table full, and once per waiting peer when one may be promoted or
	// dropped. So Level must be fast (a map lookup, not a signature
	// check or a network round trip), safe for concurrent use (Closest
	// runs concurrently with itself), and must not call the Table: that
	// would deadlock. Its answer may change between calls; the table never
	// keeps it.
	Level func(peer.ID) int
	// Capacity bounds the peers held; newcomers beyond it are ranked against
	// the least trusted peer held (see the package doc). 0 means
	// CapacityPerK*K (320 with the default K).
	Capacity int
	// ReplacementCache is the most peers waiting for a place. 0 means K.
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
	if o.Level == nil {
		errs = append(errs, errors.New("Level is nil; a table without trust levels is toymap's job"))
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"K", o.K}, {"Capacity", o.Capacity}, {"ReplacementCache", o.ReplacementCache}, {"MaxFailures", o.MaxFailures}} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("%s is %d, want >= 0", f.name, f.v))
		}
	}
	if o.K > math.MaxInt/CapacityPerK {
		errs = append(errs, fmt.Errorf("K is %d, want <= %d", o.K, math.MaxInt/CapacityPerK))
	}
	if len(errs) > 0 {
		return o, fmt.Errorf("%w: %w", ErrInvalidOptions, errors.Join(errs...))
	}
	if o.K == 0 {
		o.K = DefaultK
	}
	if o.Capacity == 0 {
		o.Capacity = CapacityPerK * o.K
	}
	if o.ReplacementCache == 0 {
		o.ReplacementCache = o.K
	}
	if o.MaxFailures == 0 {
		o.MaxFailures = DefaultMaxFailures
	}
	return o, nil
}
