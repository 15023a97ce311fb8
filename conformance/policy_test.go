package conformance_test

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
	"github.com/dhtkit/dhtkit/trust/wot"
)

// Each broken policy below is trust.Open() with one flaw. The suite must
// report exactly the rules that flaw breaks.

type policyOpen struct{ trust.Policy }

// policyBareRefusal refuses every peer with an error that does not wrap
// trust.ErrRejected.
type policyBareRefusal struct{ policyOpen }

func (policyBareRefusal) AcceptPeer(*peer.Record) error { return errors.New("policy: no") }

// policyBareAnonymous refuses senders that did not identify themselves
// without wrapping trust.ErrRejected.
type policyBareAnonymous struct{ policyOpen }

func (policyBareAnonymous) AcceptRelay(from *peer.Record) error {
	if from == nil {
		return errors.New("policy: who are you?")
	}
	return nil
}

// policyModifies clears the signature of the values it is asked about.
type policyModifies struct{ policyOpen }

func (policyModifies) AcceptValue(_ *peer.Record, v *trust.Value) error {
	v.Signature = v.Signature[:0]
	return nil
}

// policyKeeps remembers every value it was asked about.
type policyKeeps struct {
	policyOpen
	mu   sync.Mutex
	seen []*trust.Value
}

func (p *policyKeeps) AcceptValue(_ *peer.Record, v *trust.Value) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = append(p.seen, v)
	return nil
}

// policyNotConcurrent breaks when two calls overlap, as a policy with an
// unguarded map would (without the data race, so that the race detector
// does not stop the test first).
type policyNotConcurrent struct {
	policyOpen
	inFlight atomic.Int32
}

func (p *policyNotConcurrent) AcceptPeer(*peer.Record) error {
	if p.inFlight.Add(1) > 1 {
		panic("concurrent map writes")
	}
	runtime.Gosched()
	p.inFlight.Add(-1)
	return nil
}

// policyWaitsOnRefresh holds one lock for a whole Refresh, network
// included, and takes it in every gate.
type policyWaitsOnRefresh struct {
	policyOpen
	mu sync.Mutex
}

func (p *policyWaitsOnRefresh) Refresh(ctx context.Context, fetch trust.Fetcher) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := fetch(ctx, peer.ID{})
	return err
}

func (p *policyWaitsOnRefresh) AcceptPeer(*peer.Record) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return nil
}

// policyUnresolvedForever refuses every peer as unresolved, though it has
// no Refresh that could ever resolve one.
type policyUnresolvedForever struct{ policyOpen }

func (policyUnresolvedForever) AcceptPeer(*peer.Record) error {
	return fmt.Errorf("policy: %w: %w", trust.ErrUnresolved, trust.ErrRejected)
}

// policyRefreshIgnoresCtx fetches with a context of its own.
type policyRefreshIgnoresCtx struct{ policyOpen }

func (policyRefreshIgnoresCtx) Refresh(_ context.Context, fetch trust.Fetcher) error {
	_, err := fetch(context.Background(), peer.ID{})
	return err
}

// policyRefreshTrustsValues reads a level from the first 8 bytes of every
// value fetched, without checking there are 8.
type policyRefreshTrustsValues struct {
	policyOpen
	level atomic.Uint64
}

func (p *policyRefreshTrustsValues) Refresh(ctx context.Context, fetch trust.Fetcher) error {
	vs, err := fetch(ctx, peer.ID{})
	for _, v := range vs {
		p.level.Store(binary.BigEndian.Uint64(v.Value[:8]))
	}
	return err
}

// policyLevelsStrangers grades every peer at 1, known or not.
type policyLevelsStrangers struct{ policyOpen }

func (policyLevelsStrangers) Level(peer.ID) int { return 1 }

// policyBroken is a broken policy and the rules its flaw breaks.
type policyBroken struct {
	name   string
	want   []string // the rules the flaw breaks, sorted
	policy func() trust.Policy
}

func policyBrokenPolicies() []policyBroken {
	open := policyOpen{trust.Open()}
	return []policyBroken{
		{"bare refusal", []string{"concurrent-use", "refusal-wraps-rejected"}, func() trust.Policy { return policyBareRefusal{open} }},
		{"bare refusal of anonymous senders", []string{"anonymous-sender-answered", "concurrent-use", "refusal-wraps-rejected"}, func() trust.Policy { return policyBareAnonymous{open} }},
		{"modifies values", []string{"value-not-modified"}, func() trust.Policy { return policyModifies{open} }},
		{"keeps values", []string{"value-not-kept"}, func() trust.Policy { return &policyKeeps{policyOpen: open} }},
		{"not safe for concurrent use", []string{"concurrent-use"}, func() trust.Policy { return &policyNotConcurrent{policyOpen: open} }},
		{"gates wait on Refresh", []string{"gates-never-wait"}, func() trust.Policy { return &policyWaitsOnRefresh{policyOpen: open} }},
		{"unresolved without Refresh", []string{"unresolved-only-from-refresher"}, func() trust.Policy { return policyUnresolvedForever{open} }},
		{"Refresh ignores its context", []string{"refresh-ends-with-ctx"}, func() trust.Policy { return policyRefreshIgnoresCtx{open} }},
		{"Refresh trusts fetched bytes", []string{"refresh-survives-any-values"}, func() trust.Policy { return &policyRefreshTrustsValues{policyOpen: open} }},
		{"strangers above 0", []string{"level-unknown-is-zero"}, func() trust.Policy { return policyLevelsStrangers{open} }},
	}
}

func TestEveryPolicyRuleHasABrokenPolicy(t *testing.T) {
	var wants [][]string
	for _, b := range policyBrokenPolicies() {
		wants = append(wants, b.want)
	}
	everyRuleBroken(t, "policy", append(wants, []string{"refresh-learns-from-roots"})...)
}

func TestCheckPolicyCatchesBrokenPolicies(t *testing.T) {
	for _, tc := range policyBrokenPolicies() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // two of the flaws cost a rule's full time bound
			errs := conformance.CheckPolicy(t, func(*testing.T, []ed25519.PublicKey) trust.Policy { return tc.policy() })
			var got []string
			for _, err := range errs {
				var v *conformance.Violation
				if !errors.As(err, &v) {
					t.Fatalf("CheckPolicy returned %v, not a *Violation", err)
				}
				got = append(got, v.Rule)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("CheckPolicy reported rules %q, want exactly %q; violations:\n%v", got, tc.want, errors.Join(errs...))
			}
		})
	}
}

func TestCheckPolicyPassesBuiltInPolicies(t *testing.T) {
	for name, factory := range map[string]func(*testing.T, []ed25519.PublicKey) trust.Policy{
		"open": func(*testing.T, []ed25519.PublicKey) trust.Policy { return trust.Open() },
		"wot": func(t *testing.T, roots []ed25519.PublicKey) trust.Policy {
			p, err := wot.New(wot.Options{Roots: roots})
			if err != nil {
				t.Fatal(err)
			}
			return p
		},
		"wot, every gate open": func(t *testing.T, roots []ed25519.PublicKey) trust.Policy {
			p, err := wot.New(wot.Options{Roots: roots, TableLevel: wot.Anyone, RelayLevel: wot.Anyone, ValueLevel: wot.Anyone})
			if err != nil {
				t.Fatal(err)
			}
			return p
		},
	} {
		t.Run(name, func(t *testing.T) {
			vouch := conformance.PolicyOptions{Vouch: func(endorser *peer.Identity, endorsee peer.ID) (*trust.Value, error) {
				return wot.NewEndorsement(endorser, peer.SHA256(), endorsee, wot.DefaultMaxLevel, time.Time{}, 1)
			}}
			if errs := conformance.CheckPolicy(t, factory, vouch); len(errs) > 0 {
				t.Errorf("CheckPolicy found %d violations in %s, want none:\n%v", len(errs), name, errors.Join(errs...))
			}
		})
	}
}

// policyDeafRefresh is a web of trust whose Refresh reads nothing from
// the DHT.
type policyDeafRefresh struct{ *wot.Policy }

func (p policyDeafRefresh) Refresh(ctx context.Context, _ trust.Fetcher) error {
	return p.Policy.Refresh(ctx, func(context.Context, peer.ID) ([]*trust.Value, error) { return nil, nil })
}

// policyAnyEndorser admits every peer that anything in the DHT names,
// whoever signed it: trust that does not flow from the roots.
type policyAnyEndorser struct {
	mu      sync.Mutex
	asked   map[peer.ID]bool
	trusted map[peer.ID]bool
}

func (p *policyAnyEndorser) AcceptPeer(rec *peer.Record) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.trusted[rec.ID] {
		return nil
	}
	p.asked[rec.ID] = true
	return fmt.Errorf("not yet: %w: %w", trust.ErrUnresolved, trust.ErrRejected)
}

func (p *policyAnyEndorser) AcceptRelay(from *peer.Record) error {
	if from == nil {
		return fmt.Errorf("anonymous: %w", trust.ErrRejected)
	}
	return p.AcceptPeer(from)
}

func (p *policyAnyEndorser) AcceptValue(*peer.Record, *trust.Value) error { return nil }

func (p *policyAnyEndorser) Refresh(ctx context.Context, fetch trust.Fetcher) error {
	p.mu.Lock()
	asked := slices.Collect(maps.Keys(p.asked))
	p.mu.Unlock()
	for _, id := range asked {
		vs, err := fetch(ctx, wot.EndorsementKey(peer.SHA256(), id))
		if err != nil {
			return err
		}
		if len(vs) > 0 {
			p.mu.Lock()
			p.trusted[id] = true
			p.mu.Unlock()
		}
	}
	return nil
}

// policyRootVouchesForAny trusts a peer once the DHT answers its key with
// any value a root published, whichever peer the vouch names.
type policyRootVouchesForAny struct {
	*policyAnyEndorser
	roots map[string]bool
}

func (p *policyRootVouchesForAny) Refresh(ctx context.Context, fetch trust.Fetcher) error {
	p.mu.Lock()
	asked := slices.Collect(maps.Keys(p.asked))
	p.mu.Unlock()
	for _, id := range asked {
		vs, err := fetch(ctx, wot.EndorsementKey(peer.SHA256(), id))
		if err != nil {
			return err
		}
		for _, v := range vs {
			if p.roots[string(v.Publisher)] {
				p.mu.Lock()
				p.trusted[id] = true
				p.mu.Unlock()
			}
		}
	}
	return nil
}

func TestCheckPolicyCatchesPoliciesThatLearnWrong(t *testing.T) {
	vouch := conformance.PolicyOptions{Vouch: func(endorser *peer.Identity, endorsee peer.ID) (*trust.Value, error) {
		return wot.NewEndorsement(endorser, peer.SHA256(), endorsee, wot.DefaultMaxLevel, time.Time{}, 1)
	}}
	for name, newPolicy := range map[string]func(*testing.T, []ed25519.PublicKey) trust.Policy{
		"Refresh reads nothing": func(t *testing.T, roots []ed25519.PublicKey) trust.Policy {
			p, err := wot.New(wot.Options{Roots: roots})
			if err != nil {
				t.Fatal(err)
			}
			return policyDeafRefresh{p}
		},
		"any endorser will do": func(*testing.T, []ed25519.PublicKey) trust.Policy {
			return &policyAnyEndorser{asked: map[peer.ID]bool{}, trusted: map[peer.ID]bool{}}
		},
		"a root's vouch for anyone will do": func(_ *testing.T, roots []ed25519.PublicKey) trust.Policy {
			p := &policyRootVouchesForAny{&policyAnyEndorser{asked: map[peer.ID]bool{}, trusted: map[peer.ID]bool{}}, map[string]bool{}}
			for _, r := range roots {
				p.roots[string(r)] = true
			}
			return p
		},
	} {
		t.Run(name, func(t *testing.T) {
			errs := conformance.CheckPolicy(t, newPolicy, vouch)
			var got []string
			for _, err := range errs {
				var v *conformance.Violation
				if errors.As(err, &v) {
					got = append(got, v.Rule)
				}
			}
			if !slices.Equal(got, []string{"refresh-learns-from-roots"}) {
				t.Errorf("CheckPolicy reported %q, want exactly [refresh-learns-from-roots]: %v", got, errs)
			}
		})
	}
}
