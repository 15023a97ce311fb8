package wot

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
)

// ErrUnresolved is wrapped, with trust.ErrRejected, by a gate's refusal of a
// peer whose endorsements have not been fetched yet. The peer is queued for
// the next Refresh, so the same question may be answered later.
// It matches trust.ErrUnresolved too, which is what the node looks for.
var ErrUnresolved error = unresolvedError{}

type unresolvedError struct{}

func (unresolvedError) Error() string        { return "wot: unresolved peer" }
func (unresolvedError) Is(target error) bool { return target == trust.ErrUnresolved }

// Policy is a web-of-trust trust.Policy: it grades peers by the
// endorsements they hold from the roots, directly or through chains, and
// opens each gate at a minimum level. See the package documentation.
//
// The gates and Level are fast, never wait on the network and are safe for
// concurrent use; they read a table of levels that Refresh replaces whole.
// Refresh calls run one at a time.
type Policy struct {
	cfg config

	// levels maps every resolved peer to its level (0 included); roots are
	// not in it. Refresh replaces it; readers never lock.
	levels atomic.Pointer[map[peer.ID]int]

	pmu     sync.Mutex
	pending []peer.ID // unknown peers met by the gates, oldest first
	queued  map[peer.ID]struct{}

	// rmu serialises Refresh and guards cache.
	rmu   sync.Mutex
	cache map[peer.ID]*entry

	stats counters
}

var (
	_ trust.Policy    = (*Policy)(nil)
	_ trust.Refresher = (*Policy)(nil)
	_ trust.Leveler   = (*Policy)(nil)
)

// entry is what Refresh knows of one peer.
type entry struct {
	// by holds, per endorser, the endorsement with the highest sequence
	// number seen, revocations and expired ones included, so that a stale
	// replica cannot bring back what was revoked.
	by      map[peer.ID]Endorsement
	fetched time.Time
	level   int
}

type counters struct {
	resolved, rejected, bad, dropped, fetchErrors, evicted, excess atomic.Uint64
}

// New returns a policy configured by opts. It reports every invalid option
// at once, each wrapping ErrOptions. opts is copied; the caller may reuse it.
func New(opts Options) (*Policy, error) {
	cfg, err := opts.validate()
	if err != nil {
		return nil, err
	}
	p := &Policy{cfg: cfg, queued: make(map[peer.ID]struct{}), cache: make(map[peer.ID]*entry)}
	empty := map[peer.ID]int{}
	p.levels.Store(&empty)
	return p, nil
}

// Level returns id's level: MaxLevel for a root, the level the last Refresh
// derived for a resolved peer, 0 for anyone else. It implements
// trust.Leveler.
func (p *Policy) Level(id peer.ID) int {
	l, _ := p.lookup(id)
	return l
}

// lookup returns id's level and whether it is known (a root or resolved).
func (p *Policy) lookup(id peer.ID) (int, bool) {
	if _, root := p.cfg.roots[id]; root {
		return p.cfg.maxLevel, true
	}
	l, ok := (*p.levels.Load())[id]
	return l, ok
}

// AcceptPeer admits rec to the routing table if its peer's level is at
// least TableLevel. A peer never resolved is queued for the next Refresh and
// refused for now (ErrUnresolved).
func (p *Policy) AcceptPeer(rec *peer.Record) error {
	if rec == nil {
		return p.reject(errors.New("wot: table: no peer record"))
	}
	return p.gate(rec.ID, p.cfg.table, "table")
}

// AcceptRelay relays for from if its level is at least RelayLevel; a sender
// that did not identify itself (nil) is relayed for if RelayForClients.
func (p *Policy) AcceptRelay(from *peer.Record) error {
	if from == nil {
		if p.cfg.relayForClients || p.cfg.relay == Anyone {
			return nil
		}
		return p.reject(errors.New("wot: relay: the sender did not identify itself and RelayForClients is off"))
	}
	return p.gate(from.ID, p.cfg.relay, "relay")
}

// AcceptValue admits v if whoever answers for it stands at ValueLevel or
// above: for a signed value (mutable or plain) its publisher, whoever sent
// it; for an immutable value, which anyone can make, the sender, so an
// immutable value from a sender that did not identify itself is refused.
// The kind is told by the publisher's presence, as trust.KindOf tells it.
func (p *Policy) AcceptValue(from *peer.Record, v *trust.Value) error {
	if v == nil {
		return p.reject(errors.New("wot: value: no value"))
	}
	if p.cfg.value == Anyone {
		return nil
	}
	if len(v.Publisher) != 0 {
		return p.gate(peer.IDFromPublicKey(p.cfg.hasher, v.Publisher), p.cfg.value, "value publisher")
	}
	if from == nil {
		return p.reject(errors.New("wot: value: an immutable value from a sender that did not identify itself"))
	}
	return p.gate(from.ID, p.cfg.value, "immutable value sender")
}

// gate admits id if its level is at least min.
func (p *Policy) gate(id peer.ID, min int, what string) error {
	if min == Anyone {
		return nil
	}
	level, known := p.lookup(id)
	if !known {
		queued := p.enqueue(id)
		if !queued {
			return p.reject(fmt.Errorf("%w %s (%s; not queued, the queue is full): %w", ErrUnresolved, id.Short(), what, trust.ErrRejected))
		}
		return p.reject(fmt.Errorf("%w %s (%s; queued for the next refresh): %w", ErrUnresolved, id.Short(), what, trust.ErrRejected))
	}
	if level < min {
		return p.reject(fmt.Errorf("wot: %s: peer %s is at level %d, below %d: %w", what, id.Short(), level, min, trust.ErrRejected))
	}
	return nil
}

// reject counts a refusal and makes sure it wraps trust.ErrRejected.
func (p *Policy) reject(err error) error {
	p.stats.rejected.Add(1)
	if !errors.Is(err, trust.ErrRejected) {
		err = fmt.Errorf("%w: %w", err, trust.ErrRejected)
	}
	return err
}

// enqueue queues id for resolution, reporting whether it is (or already
// was) queued; a full queue drops it and counts.
func (p *Policy) enqueue(id peer.ID) bool {
	p.pmu.Lock()
	defer p.pmu.Unlock()
	if _, ok := p.queued[id]; ok {
		return true
	}
	if len(p.pending) >= p.cfg.maxPending {
		p.stats.dropped.Add(1)
		return false
	}
	p.pending = append(p.pending, id)
	p.queued[id] = struct{}{}
	return true
}

// Stats counts what the policy has done since New.
type Stats struct {
	// Roots, Known and Pending are sizes now: the roots, the peers whose
	// levels are known from their endorsements, the peers awaiting Refresh.
	Roots, Known, Pending int
	// Resolutions counts fetches whose endorsements were read.
	Resolutions uint64
	// Rejected counts gate refusals.
	Rejected uint64
	// BadEndorsements counts fetched values that were not valid
	// endorsements of the peer fetched for (forged, malformed, under
	// another key).
	BadEndorsements uint64
	// Excess counts endorsements ignored because a peer had more than the
	// policy reads or keeps (MaxEndorsements).
	Excess uint64
	// PendingDropped counts unknown peers not queued because the queue was
	// full.
	PendingDropped uint64
	// FetchErrors counts fetches that failed.
	FetchErrors uint64
	// Evicted counts peers dropped from the cache to keep it within MaxCache.
	Evicted uint64
}

// Stats returns the policy's counters.
func (p *Policy) Stats() Stats {
	p.pmu.Lock()
	pending := len(p.pending)
	p.pmu.Unlock()
	return Stats{
		Roots:           len(p.cfg.roots),
		Known:           len(*p.levels.Load()),
		Pending:         pending,
		Resolutions:     p.stats.resolved.Load(),
		Rejected:        p.stats.rejected.Load(),
		BadEndorsements: p.stats.bad.Load(),
		Excess:          p.stats.excess.Load(),
		PendingDropped:  p.stats.dropped.Load(),
		FetchErrors:     p.stats.fetchErrors.Load(),
		Evicted:         p.stats.evicted.Load(),
	}
}
