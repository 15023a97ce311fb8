package conformance

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
)

// TestPolicy checks that the policies newPolicy builds keep the
// trust.Policy contract, and the trust.Refresher and trust.Leveler
// contracts when they implement those; rules of an optional interface a
// policy lacks are skipped with the reason.
//
// newPolicy is called once per rule with the public keys of the rule's
// roots: peers the policy should trust as it trusts its own node (a web of
// trust takes them as its roots). A policy that trusts everyone, or judges
// by something else, may ignore them. The suite does not say which peers
// or values a policy must accept: that is the policy's own business, left
// to its own tests. It checks what every policy owes the node: refusals
// that wrap trust.ErrRejected, answers for senders that did not identify
// themselves, values neither modified nor kept, safety and speed under
// concurrent use, a Refresh that ends with its context and survives
// whatever the DHT holds, and level 0 for unknown peers.
//
// opts is optional, at most one.
func TestPolicy(t *testing.T, newPolicy func(t *testing.T, roots []ed25519.PublicKey) trust.Policy, opts ...PolicyOptions) {
	t.Helper()
	runSuite(t, "policy", policyRules, policySuiteOf(t, newPolicy, opts))
}

// CheckPolicy runs the TestPolicy rules and returns the violations, each a
// *Violation. Rules that do not apply to the policy are left out.
func CheckPolicy(t *testing.T, newPolicy func(t *testing.T, roots []ed25519.PublicKey) trust.Policy, opts ...PolicyOptions) []error {
	t.Helper()
	return checkSuite(t, "policy", policyRules, policySuiteOf(t, newPolicy, opts))
}

// PolicyOptions tell TestPolicy what it cannot learn from a policy.
type PolicyOptions struct {
	// Hasher is the key space the policy serves: peer IDs and value keys
	// are made with it. Default: peer.SHA256().
	Hasher peer.Hasher
	// Vouch, for a trust.Refresher that learns whom to trust from values
	// in the DHT (a web of trust), returns the value by which endorser
	// vouches for endorsee as fully as it can. With it the rule
	// refresh-learns-from-roots checks that trust flows from the roots
	// and only from them; without it that rule is skipped.
	Vouch func(endorser *peer.Identity, endorsee peer.ID) (*trust.Value, error)
}

type policyFactory = func(t *testing.T, roots []ed25519.PublicKey) trust.Policy

type policySuite struct {
	newPolicy policyFactory
	h         peer.Hasher
	vouch     func(endorser *peer.Identity, endorsee peer.ID) (*trust.Value, error)
}

func policySuiteOf(t *testing.T, newPolicy policyFactory, opts []PolicyOptions) policySuite {
	t.Helper()
	if len(opts) > 1 {
		t.Fatalf("conformance: TestPolicy takes at most one PolicyOptions, got %d", len(opts))
	}
	s := policySuite{newPolicy: newPolicy, h: peer.SHA256()}
	if len(opts) == 1 && opts[0].Hasher != nil {
		s.h = opts[0].Hasher
	}
	if len(opts) == 1 {
		s.vouch = opts[0].Vouch
	}
	return s
}

// policyWorld is what a rule asks a policy about: roots and strangers, their
// records, and values of every kind from each, at the edges of their sizes.
type policyWorld struct {
	p         trust.Policy
	h         peer.Hasher
	roots     []*peer.Identity
	strangers []*peer.Identity
	// senders are the records a gate may be asked about, nil (a sender
	// that did not identify itself) first.
	senders []*peer.Record
	values  []*trust.Value
}

// policyRoots and policyStrangers are how many of each a world holds.
const (
	policyRoots     = 2
	policyStrangers = 4
)

// policyIdentity returns an identity drawn from the rule's seed.
func policyIdentity(e *env) (*peer.Identity, error) {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(e.rng.Uint32())
	}
	return peer.IdentityFromSeed(seed)
}

// policyRecord returns id's record with n addresses: 1, or
// peer.MaxRecordAddrs, the most a record carries.
func policyRecord(id *peer.Identity, h peer.Hasher, n int) (*peer.Record, error) {
	addrs := make([]ma.Multiaddr, n)
	for i := range addrs {
		a, err := ma.NewMultiaddr(fmt.Sprintf("/ip4/127.0.0.%d/udp/%d", 1+i, 4000+i))
		if err != nil {
			return nil, err
		}
		addrs[i] = a
	}
	return peer.NewRecord(id, h, uint64(n), addrs...)
}

// policyValues returns values of every kind published by id: empty and
// large, unsalted and with the longest salt.
func policyValues(e *env, id *peer.Identity, h peer.Hasher) ([]*trust.Value, error) {
	large := storeBytes(e.rng, 4096)
	salt := storeBytes(e.rng, trust.MaxSaltSize)
	var vs []*trust.Value
	for _, mk := range []func() (*trust.Value, error){
		func() (*trust.Value, error) { return trust.NewMutable(id, h, nil, 1, storeBytes(e.rng, 40)) },
		func() (*trust.Value, error) { return trust.NewMutable(id, h, salt, e.rng.Uint64(), large) },
		func() (*trust.Value, error) { return trust.NewMutable(id, h, salt[:1], 0, nil) },
		func() (*trust.Value, error) {
			return trust.NewPlain(id, h.Sum(storeBytes(e.rng, 8)), 1, storeBytes(e.rng, 40))
		},
		func() (*trust.Value, error) {
			return trust.NewPlain(id, h.Sum(storeBytes(e.rng, 8)), ^uint64(0), large)
		},
	} {
		v, err := mk()
		if err != nil {
			return nil, fmt.Errorf("making a value: %w", err)
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// policyBuild makes a world and the policy under test.
func policyBuild(e *env, s policySuite) (*policyWorld, error) {
	w := &policyWorld{h: s.h, senders: []*peer.Record{nil}}
	var keys []ed25519.PublicKey
	for i := range policyRoots + policyStrangers {
		id, err := policyIdentity(e)
		if err != nil {
			return nil, err
		}
		addrs := 1
		if i%2 == 1 {
			addrs = peer.MaxRecordAddrs
		}
		rec, err := policyRecord(id, s.h, addrs)
		if err != nil {
			return nil, fmt.Errorf("making a peer record: %w", err)
		}
		w.senders = append(w.senders, rec)
		vs, err := policyValues(e, id, s.h)
		if err != nil {
			return nil, err
		}
		w.values = append(w.values, vs...)
		if i < policyRoots {
			w.roots = append(w.roots, id)
			keys = append(keys, id.PublicKey())
		} else {
			w.strangers = append(w.strangers, id)
		}
	}
	w.values = append(w.values,
		trust.NewImmutable(s.h, nil),
		trust.NewImmutable(s.h, storeBytes(e.rng, 40)),
		trust.NewImmutable(s.h, storeBytes(e.rng, 4096)))
	for _, v := range w.values {
		if err := v.Verify(s.h); err != nil {
			return nil, fmt.Errorf("the suite made a value that does not verify: %w", err)
		}
	}
	w.p = s.newPolicy(e.t, keys)
	if w.p == nil {
		return nil, errors.New("factory returned a nil policy")
	}
	return w, nil
}

// policyAnswer checks one gate's answer: nil, or a refusal that wraps
// trust.ErrRejected.
func policyAnswer(err error, what string) error {
	if err != nil && !errors.Is(err, trust.ErrRejected) {
		return fmt.Errorf("%s = %v, a refusal that does not wrap trust.ErrRejected", what, err)
	}
	return nil
}

// policyName names a sender in failure messages.
func policyName(rec *peer.Record) string {
	if rec == nil {
		return "nil"
	}
	return "peer " + rec.ID.Short()
}

// policyAsk asks every gate about everything in w once, and returns the
// first answer that breaks the refusal rule; check, when not nil, sees
// every answer first.
func policyAsk(w *policyWorld, check func(err error, what string) error) error {
	if check == nil {
		check = policyAnswer
	}
	for _, rec := range w.senders {
		if rec != nil {
			if err := check(w.p.AcceptPeer(rec), "AcceptPeer("+policyName(rec)+")"); err != nil {
				return err
			}
		}
		if err := check(w.p.AcceptRelay(rec), "AcceptRelay("+policyName(rec)+")"); err != nil {
			return err
		}
		for _, v := range w.values {
			what := fmt.Sprintf("AcceptValue(%s, %s value under %s)", policyName(rec), v.Kind, v.Key.Short())
			if err := check(w.p.AcceptValue(rec, v), what); err != nil {
				return err
			}
		}
	}
	return nil
}
