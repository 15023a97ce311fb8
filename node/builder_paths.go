package node

import "github.com/dhtkit/dhtkit/msgenc"

// Defaults for position hiding, fan-out and disjoint lookups.
const (
	// DefaultHopBudgetMin is the least hop budget a forwarded query starts
	// with; it starts with a budget drawn at random from
	// [DefaultHopBudgetMin, DefaultHopBudget], so that the budget a hop
	// receives does not say how far the originator is.
	DefaultHopBudgetMin = 10
	// DefaultHopKeep is the probability that a hop passes a forwarded
	// query on without spending one hop of its budget, so that even the
	// largest budget of the range does not prove its receiver the first hop.
	DefaultHopKeep = 0.2
	// DefaultFanout is how many peers a proxied hop hands a query to at
	// once: one, the next tried only when it fails.
	DefaultFanout = 1
	// DefaultDisjointPaths is how many disjoint paths a direct lookup
	// follows: one, Kademlia's lookup.
	DefaultDisjointPaths = 1
	// DefaultPathAgreement is how many disjoint paths must find a peer for
	// a lookup to count it: one, for a signed record proves itself.
	DefaultPathAgreement = 1
)

// NoHopKeep, given to Builder.HopKeep, makes every hop spend one hop of
// the budget: hops then learn more of their position.
const NoHopKeep = -1.0

// maxHopKeep bounds Builder.HopKeep: the budget must still run out.
const maxHopKeep = 0.5

// maxDisjointPaths bounds the disjoint paths of a lookup: each costs at
// least alpha requests.
const maxDisjointPaths = 16

// pathsConfig holds the Builder's choices for forwarded queries' privacy
// and fan-out, and for disjoint lookups.
type pathsConfig struct {
	hopMin      int     // least starting hop budget; hopBudget is the most
	hopKeep     float64 // 0 in a validated config means every hop spends one
	fanout      int
	pathCache   int // entries; 0: no cache
	paths       int
	pathAgree   int
	hopRangeSet bool // HopBudgetRange was called: hopMin is the caller's
}

// HopBudgetRange sets the range a forwarded query's hop budget is drawn
// from, uniformly, when the query starts: lo to hi, 1 <= lo <= hi <= 255.
// HopBudgetRange(n, n) fixes it. Default: DefaultHopBudgetMin to
// DefaultHopBudget (HopBudget(hi) alone keeps the default lo, or hi if lower).
func (b *Builder) HopBudgetRange(lo, hi int) *Builder {
	b.cfg.hopMin, b.cfg.hopBudget, b.cfg.hopRangeSet = lo, hi, true
	return b
}

// HopKeep sets the probability, above 0 and at most 0.5, that a hop passes
// a forwarded query on without spending a hop of its budget. NoHopKeep turns
// it off. Default: DefaultHopKeep.
func (b *Builder) HopKeep(p float64) *Builder { b.cfg.hopKeep = p; return b }

// Fanout sets how many peers a proxied hop hands a forwarded find to at
// once, 1 to msgenc.MaxFanout: the queries this node starts ask for it, and
// it grants at most this to the queries of others. Forwarded stores and
// direct-reply hops, which keep no state to merge answers in, go one peer
// at a time. WithFanout overrides it per call. Default: DefaultFanout.
func (b *Builder) Fanout(n int) *Builder { b.cfg.fanout = n; return b }

// PathCache makes the node keep up to entries values it relays on the
// proxied path of a forwarded get, each verified before it is kept and
// dropped when the value's own time to live runs out, and answer forwarded
// gets from them. Default: 0, no cache.
func (b *Builder) PathCache(entries int) *Builder { b.cfg.pathCache = entries; return b }

// DisjointPaths sets how many disjoint paths a direct lookup follows
// (S/Kademlia), 1 to 16: the starting peers are split among the paths and
// no peer is asked by two, so hostile routers on one path cannot steer the
// others. WithDisjointPaths overrides it per call. Default:
// DefaultDisjointPaths.
func (b *Builder) DisjointPaths(d int) *Builder { b.cfg.paths = d; return b }

// PathAgreement sets how many of a lookup's disjoint paths must find a peer
// or value for it to count, 1 to the number of paths. Default:
// DefaultPathAgreement.
func (b *Builder) PathAgreement(a int) *Builder { b.cfg.pathAgree = a; return b }

// validatePaths checks the choices of pathsConfig and fills their
// defaults; hopBudget is already validated.
func (c *config) validatePaths(bad func(string, ...any)) {
	switch {
	case !c.hopRangeSet:
		c.hopMin = min(DefaultHopBudgetMin, c.hopBudget)
	case c.hopMin < 1 || c.hopMin > c.hopBudget:
		bad("hop budget range must have 1 <= lo <= hi, got %d to %d", c.hopMin, c.hopBudget)
	}
	switch {
	case c.hopKeep == 0:
		c.hopKeep = DefaultHopKeep
	case c.hopKeep == NoHopKeep:
		c.hopKeep = 0
	case !(c.hopKeep > 0 && c.hopKeep <= maxHopKeep):
		bad("hop keep probability must be above 0 and at most %v, or NoHopKeep, got %v", maxHopKeep, c.hopKeep)
	}
	switch {
	case c.fanout == 0:
		c.fanout = DefaultFanout
	case c.fanout < 1 || c.fanout > msgenc.MaxFanout:
		bad("fan-out must be between 1 and %d, got %d", msgenc.MaxFanout, c.fanout)
	}
	if c.pathCache < 0 || c.pathCache > maxPathCache {
		bad("path cache must hold between 0 and %d entries, got %d", maxPathCache, c.pathCache)
	}
	switch {
	case c.paths == 0:
		c.paths = DefaultDisjointPaths
	case c.paths < 1 || c.paths > maxDisjointPaths:
		bad("disjoint paths must be between 1 and %d, got %d", maxDisjointPaths, c.paths)
	}
	switch {
	case c.pathAgree == 0:
		c.pathAgree = DefaultPathAgreement
	case c.pathAgree < 1 || c.pathAgree > c.paths:
		bad("path agreement must be between 1 and the disjoint paths (%d), got %d", c.paths, c.pathAgree)
	}
}

// WithFanout overrides Builder.Fanout for one forwarded call: the
// originator and each proxied hop hand the query to up to n peers at once
// (hops grant at most their own limit). Values outside 1..msgenc.MaxFanout
// mean the node's default.
func WithFanout(n int) CallOption { return func(o *callOptions) { o.fanout = n } }

// WithDisjointPaths overrides Builder.DisjointPaths for one direct call:
// its lookup follows d disjoint paths. Values outside 1..16 mean the
// node's default.
func WithDisjointPaths(d int) CallOption { return func(o *callOptions) { o.paths = d } }

// WithPathAgreement overrides Builder.PathAgreement for one direct call:
// a peer or value counts when a of the disjoint paths found it. Values
// outside 1..paths mean the node's default, capped at the paths.
func WithPathAgreement(a int) CallOption { return func(o *callOptions) { o.pathAgree = a } }

// pathOptions fills o's fan-out and disjoint paths from the node's
// defaults where the call did not set them, or set them out of range.
func (n *Node) pathOptions(o *callOptions) {
	if o.fanout < 1 || o.fanout > msgenc.MaxFanout {
		o.fanout = n.cfg.fanout
	}
	if o.paths < 1 || o.paths > maxDisjointPaths {
		o.paths = n.cfg.paths
	}
	if o.pathAgree < 1 || o.pathAgree > o.paths {
		o.pathAgree = min(n.cfg.pathAgree, o.paths)
	}
}
