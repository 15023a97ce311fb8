package wot

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/dhtkit/dhtkit/clock"
	"github.com/dhtkit/dhtkit/peer"
)

// ErrOptions is wrapped by every problem New reports.
var ErrOptions = errors.New("wot: invalid options")

// Anyone, as a gate's minimum level, opens the gate to every peer, resolved
// or not, and to senders that did not identify themselves.
const Anyone = -1

// MaxEndorsements is the most endorsements the policy keeps for one peer.
// Beyond it, those whose endorsers stand lowest are dropped.
const MaxEndorsements = 64

// Defaults for the zero Options fields.
const (
	DefaultMaxLevel          = 3
	DefaultThreshold         = 1
	DefaultGateLevel         = 1
	DefaultCacheTTL          = 10 * time.Minute
	DefaultMaxCache          = 4096
	DefaultMaxPending        = 1024
	DefaultFetchesPerRefresh = 256
)

// Options configure a Policy. The zero value of each field means its
// default; New reports every invalid field at once.
type Options struct {
	// Hasher is the network's key-space hasher; it must be the node's.
	// Default: peer.SHA256().
	Hasher peer.Hasher
	// Clock tells the time for expiry and CacheTTL. Default: clock.System().
	Clock clock.Clock
	// Roots are the public keys trusted at MaxLevel without any
	// endorsement; the node's own key is normally one of them. At least
	// one is required.
	Roots []ed25519.PublicKey
	// MaxLevel is the roots' level and the highest any peer can reach,
	// 1 to MaxEncodableLevel. Endorsements above it count as MaxLevel.
	// Default: DefaultMaxLevel.
	MaxLevel int
	// Threshold is how many endorsements must count at a level for a peer
	// to reach it, 1 to MaxEndorsements. Default: 1.
	Threshold int
	// TableLevel, RelayLevel and ValueLevel are the lowest levels at which
	// a peer may enter the routing table, have its queries relayed, and
	// have its values stored: 1 to MaxLevel, or Anyone. Default: 1.
	TableLevel, RelayLevel, ValueLevel int
	// RelayForClients relays queries from senders that did not identify
	// themselves (clients). Default: false.
	RelayForClients bool
	// CacheTTL is how long a peer's fetched endorsements are trusted before
	// Refresh fetches them again, so it bounds how long a revocation takes
	// to be seen. Default: DefaultCacheTTL.
	CacheTTL time.Duration
	// MaxCache bounds the peers whose endorsements are kept. Beyond it,
	// Refresh evicts the lowest levels first, and among equals the longest
	// resolved. Default: DefaultMaxCache.
	MaxCache int
	// MaxPending bounds the queue of unknown peers awaiting Refresh; peers
	// met when it is full are dropped and counted. Default: DefaultMaxPending.
	MaxPending int
	// FetchesPerRefresh bounds the fetches one Refresh makes: stale peers
	// first, then queued ones, then endorsers they named. What is left
	// waits for the next Refresh. Default: DefaultFetchesPerRefresh.
	FetchesPerRefresh int
	// Logger receives debug logs of bad endorsements and refresh results.
	// Default: discard.
	Logger *slog.Logger
}

// config is Options validated, defaults filled and inputs copied.
type config struct {
	hasher               peer.Hasher
	clock                clock.Clock
	roots                map[peer.ID]struct{}
	maxLevel, threshold  int
	table, relay, value  int
	relayForClients      bool
	cacheTTL             time.Duration
	maxCache, maxPending int
	fetchesPerRefresh    int
	logger               *slog.Logger
}

func (o *Options) validate() (config, error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrOptions}, args...)...))
	}
	c := config{
		hasher: o.Hasher, clock: o.Clock, maxLevel: o.MaxLevel, threshold: o.Threshold,
		table: o.TableLevel, relay: o.RelayLevel, value: o.ValueLevel, relayForClients: o.RelayForClients,
		cacheTTL: o.CacheTTL, maxCache: o.MaxCache, maxPending: o.MaxPending,
		fetchesPerRefresh: o.FetchesPerRefresh, logger: o.Logger,
	}
	if c.hasher == nil {
		c.hasher = peer.SHA256()
	} else if s := c.hasher.Size(); s != peer.IDLen160 && s != peer.IDLen256 {
		bad("Hasher %s makes %d-byte IDs; want 20 or 32", c.hasher.Name(), s)
	}
	if c.clock == nil {
		c.clock = clock.System()
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	intIn := func(name string, v *int, def, lo, hi int) {
		switch {
		case *v == 0:
			*v = def
		case *v < lo || *v > hi:
			bad("%s must be between %d and %d, got %d", name, lo, hi, *v)
		}
	}
	intIn("MaxLevel", &c.maxLevel, DefaultMaxLevel, 1, MaxEncodableLevel)
	intIn("Threshold", &c.threshold, DefaultThreshold, 1, MaxEndorsements)
	for _, g := range []struct {
		name string
		v    *int
	}{{"TableLevel", &c.table}, {"RelayLevel", &c.relay}, {"ValueLevel", &c.value}} {
		switch {
		case *g.v == 0:
			*g.v = DefaultGateLevel
		case *g.v == Anyone:
		case *g.v < 1 || *g.v > max(c.maxLevel, 1):
			bad("%s must be Anyone or between 1 and MaxLevel (%d), got %d", g.name, c.maxLevel, *g.v)
		}
	}
	switch {
	case c.cacheTTL == 0:
		c.cacheTTL = DefaultCacheTTL
	case c.cacheTTL < 0:
		bad("CacheTTL must be positive, got %v", c.cacheTTL)
	}
	intIn("MaxCache", &c.maxCache, DefaultMaxCache, 1, 1<<24)
	intIn("MaxPending", &c.maxPending, DefaultMaxPending, 1, 1<<24)
	intIn("FetchesPerRefresh", &c.fetchesPerRefresh, DefaultFetchesPerRefresh, 1, 1<<24)

	if len(o.Roots) == 0 {
		bad("no Roots: without one no peer can be trusted")
	}
	c.roots = make(map[peer.ID]struct{}, len(o.Roots))
	for i, r := range o.Roots {
		if len(r) != ed25519.PublicKeySize {
			bad("root %d is a %d-byte key, want %d", i, len(r), ed25519.PublicKeySize)
			continue
		}
		c.roots[peer.IDFromPublicKey(c.hasher, slices.Clone(r))] = struct{}{}
	}
	return c, errors.Join(errs...)
}
