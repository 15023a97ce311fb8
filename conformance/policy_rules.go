package conformance

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
)

// policyFast bounds one call to a gate or to Level: they run on the
// node's receive path and must not wait on the network or on a Refresh.
// It is far above what any honest policy takes, even under -race on a
// loaded machine.
const policyFast = 2 * time.Second

// policyRefreshSlack is how long after its context ends Refresh may take
// to return.
const policyRefreshSlack = 2 * time.Second

var policyRules = []rule[policySuite]{
	{"refusal-wraps-rejected", "Every refusal of AcceptPeer, AcceptRelay and AcceptValue, for any peer and any kind of value, wraps trust.ErrRejected, before and after a Refresh.", policyCheckRefusals},
	{"anonymous-sender-answered", "AcceptRelay(nil) and AcceptValue(nil, v), for a sender that did not identify itself or the node's own puts, answer nil or a refusal wrapping trust.ErrRejected.", policyCheckAnonymous},
	{"value-not-modified", "AcceptValue leaves v, and the sender's record, exactly as it found them.", policyCheckNotModified},
	{"value-not-kept", "AcceptValue keeps no reference to v or its bytes once it returns.", policyCheckNotKept},
	{"concurrent-use", "Every method may be called from many goroutines at once, Refresh included, and each answer keeps the contract.", policyCheckConcurrent},
	{"gates-never-wait", "The gates and Level answer within " + policyFast.String() + " each, even while a Refresh waits on the network.", policyCheckNeverWait},
	{"unresolved-only-from-refresher", "Only a trust.Refresher refuses with trust.ErrUnresolved: a refusal that no Refresh can change must not invite the node to refresh and ask again.", policyCheckUnresolved},
	{"refresh-ends-with-ctx", "Refresh (if implemented) passes fetch a context that ends with its own, and returns soon after ctx ends, even when fetch blocks until then.", policyCheckRefreshCtx},
	{"refresh-survives-any-values", "Refresh (if implemented) survives fetch errors and whatever verified values the DHT holds (empty, large, under other keys, in large numbers), and the gates keep the contract after it.", policyCheckRefreshHostile},
	{"refresh-learns-from-roots", "With PolicyOptions.Vouch, a peer a root vouches for, refused before, is accepted at every gate (and graded above 0) once a Refresh has read the vouch from the DHT; a peer only a stranger vouches for, or no one, refused before, stays refused, even when fetch answers every key with every vouch the DHT holds.", policyCheckLearns},
	{"level-unknown-is-zero", "Level (if implemented) is 0 for a peer the policy never heard of, and never negative.", policyCheckLevel},
}

func policyCheckRefusals(e *env, s policySuite) error {
	w, err := policyBuild(e, s)
	if err != nil {
		return err
	}
	if err := policyAsk(w, nil); err != nil {
		return err
	}
	if r, ok := w.p.(trust.Refresher); ok {
		// A Refresh may fail; the gates still owe the contract.
		_ = r.Refresh(e.ctx, policyFetchNothing)
		if err := policyAsk(w, nil); err != nil {
			return fmt.Errorf("after Refresh: %w", err)
		}
	}
	return nil
}

// policyFetchNothing is a DHT that holds nothing.
func policyFetchNothing(context.Context, peer.ID) ([]*trust.Value, error) { return nil, nil }

func policyCheckAnonymous(e *env, s policySuite) error {
	w, err := policyBuild(e, s)
	if err != nil {
		return err
	}
	if err := policyAnswer(w.p.AcceptRelay(nil), "AcceptRelay(nil)"); err != nil {
		return err
	}
	for _, v := range w.values {
		if err := policyAnswer(w.p.AcceptValue(nil, v), fmt.Sprintf("AcceptValue(nil, %s value)", v.Kind)); err != nil {
			return err
		}
	}
	return nil
}

func policyCheckNotModified(e *env, s policySuite) error {
	w, err := policyBuild(e, s)
	if err != nil {
		return err
	}
	for _, rec := range w.senders {
		for _, v := range w.values {
			before := v.Clone()
			var recBefore *peer.Record
			if rec != nil {
				recBefore = rec.Clone()
			}
			_ = w.p.AcceptValue(rec, v)
			if err := policySameValue(v, before); err != nil {
				return fmt.Errorf("AcceptValue(%s, %s value) modified it: %w", policyName(rec), v.Kind, err)
			}
			if rec != nil && !policySameRecord(rec, recBefore) {
				return fmt.Errorf("AcceptValue(%s, %s value) modified the sender's record", policyName(rec), v.Kind)
			}
		}
	}
	return nil
}

// policySameValue compares every field of a value, lengths included, so
// that a policy that truncates or appends in place is seen.
func policySameValue(got, want *trust.Value) error {
	switch {
	case got.Kind != want.Kind:
		return fmt.Errorf("kind %v, was %v", got.Kind, want.Kind)
	case got.Key != want.Key:
		return fmt.Errorf("key %s, was %s", got.Key.Short(), want.Key.Short())
	case got.Seq != want.Seq:
		return fmt.Errorf("seq %d, was %d", got.Seq, want.Seq)
	case !policySameBytes(got.Value, want.Value):
		return errors.New("value bytes changed")
	case !policySameBytes(got.Publisher, want.Publisher):
		return errors.New("publisher changed")
	case !policySameBytes(got.Salt, want.Salt):
		return errors.New("salt changed")
	case !policySameBytes(got.Signature, want.Signature):
		return errors.New("signature changed")
	}
	return nil
}

func policySameBytes(a, b []byte) bool {
	return len(a) == len(b) && string(a) == string(b)
}

func policySameRecord(a, b *peer.Record) bool {
	if a.ID != b.ID || a.Seq != b.Seq || !policySameBytes(a.PublicKey, b.PublicKey) ||
		!policySameBytes(a.Signature, b.Signature) || len(a.Addrs) != len(b.Addrs) {
		return false
	}
	for i := range a.Addrs {
		if !a.Addrs[i].Equal(b.Addrs[i]) {
			return false
		}
	}
	return true
}

func policyCheckNotKept(e *env, s policySuite) error {
	w, err := policyBuild(e, s)
	if err != nil {
		return err
	}
	// Ask about everything first and collect once: a collection per
	// question would make the rule slow.
	var asked []string
	var refs []map[string]func() bool
	for _, rec := range w.senders {
		for _, v := range w.values {
			asked = append(asked, fmt.Sprintf("AcceptValue(%s, %s value)", policyName(rec), v.Kind))
			refs = append(refs, policyAskAndForget(w.p, rec, v.Clone()))
		}
	}
	// Two cycles: a weak pointer is cleared in the cycle that finds its
	// object unreachable.
	runtime.GC()
	runtime.GC()
	defer runtime.KeepAlive(w.p) // the node keeps its policy, and what it holds
	for i, r := range refs {
		for name, alive := range r {
			if alive() {
				return fmt.Errorf("%s kept a reference to its %s after it returned", asked[i], name)
			}
		}
	}
	return nil
}

// policyAskAndForget asks p about v and returns, for v and each of its
// byte fields, a func that reports whether it is still reachable. The
// caller holds no reference to v afterwards.
//
//go:noinline
func policyAskAndForget(p trust.Policy, from *peer.Record, v *trust.Value) map[string]func() bool {
	refs := map[string]func() bool{}
	wv := weak.Make(v)
	refs["*Value"] = func() bool { return wv.Value() != nil }
	for name, b := range map[string][]byte{"Value": v.Value, "Publisher": v.Publisher, "Salt": v.Salt, "Signature": v.Signature} {
		if len(b) == 0 {
			continue
		}
		wb := weak.Make(&b[0])
		refs[name+" bytes"] = func() bool { return wb.Value() != nil }
	}
	_ = p.AcceptValue(from, v)
	return refs
}

// policyWorkers and policyRounds size the concurrent workload.
const (
	policyWorkers = 8
	policyRounds  = 20
)

func policyCheckConcurrent(e *env, s policySuite) error {
	w, err := policyBuild(e, s)
	if err != nil {
		return err
	}
	refresher, _ := w.p.(trust.Refresher)
	leveler, _ := w.p.(trust.Leveler)
	start := make(chan struct{})
	errs := make([]error, policyWorkers)
	var wg sync.WaitGroup
	for i := range policyWorkers {
		seed := e.rng.Uint64()
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					errs[i] = fmt.Errorf("panic under concurrent use: %v", p)
				}
			}()
			<-start
			for round := range policyRounds {
				switch {
				case refresher != nil && i == 0:
					_ = refresher.Refresh(e.ctx, policyFetchNothing)
				case leveler != nil && i == 1:
					for _, rec := range w.senders[1:] {
						if l := leveler.Level(rec.ID); l < 0 {
							errs[i] = fmt.Errorf("Level(%s) = %d under concurrent use, want >= 0", rec.ID.Short(), l)
							return
						}
					}
				default:
					rec := w.senders[(seed+uint64(round))%uint64(len(w.senders))]
					v := w.values[(seed>>8+uint64(round))%uint64(len(w.values))]
					if rec != nil {
						if err := policyAnswer(w.p.AcceptPeer(rec), "AcceptPeer"); err != nil {
							errs[i] = err
							return
						}
					}
					if err := policyAnswer(w.p.AcceptRelay(rec), "AcceptRelay"); err != nil {
						errs[i] = err
						return
					}
					// A copy each: a policy that writes to v is another rule's
					// business, not a data race here.
					if err := policyAnswer(w.p.AcceptValue(rec, v.Clone()), "AcceptValue"); err != nil {
						errs[i] = err
						return
					}
				}
			}
		})
	}
	close(start)
	wg.Wait()
	return errors.Join(errs...)
}

// policyTimed runs call and fails if it takes longer than policyFast. A
// call that overruns is left to finish on its own.
func policyTimed(what string, call func()) error {
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		call()
	}()
	timer := time.NewTimer(policyFast)
	defer timer.Stop()
	select {
	case p := <-done:
		if p != nil {
			return fmt.Errorf("%s panicked: %v", what, p)
		}
		return nil
	case <-timer.C:
		return fmt.Errorf("%s did not return within %v", what, policyFast)
	}
}

func policyCheckNeverWait(e *env, s policySuite) error {
	w, err := policyBuild(e, s)
	if err != nil {
		return err
	}
	// A Refresh stuck on the network for the whole check, once it fetches.
	release := make(chan struct{})
	refreshed := make(chan struct{})
	if r, ok := w.p.(trust.Refresher); ok {
		// Meet every peer first, so that a policy that fetches only what it
		// was asked about has something to fetch.
		_ = policyAsk(w, func(error, string) error { return nil })
		go func() {
			defer close(refreshed)
			defer catch(func(error) {}) // the gates are this rule's business
			_ = r.Refresh(e.ctx, func(ctx context.Context, _ peer.ID) ([]*trust.Value, error) {
				select {
				case <-release:
					return nil, errors.New("the network is down")
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			})
		}()
	} else {
		close(refreshed)
	}
	defer func() {
		close(release)
		<-refreshed
	}()
	leveler, _ := w.p.(trust.Leveler)
	for _, rec := range w.senders {
		if rec != nil {
			if err := policyTimed("AcceptPeer("+policyName(rec)+")", func() { _ = w.p.AcceptPeer(rec) }); err != nil {
				return err
			}
			if leveler != nil {
				if err := policyTimed("Level("+rec.ID.Short()+")", func() { _ = leveler.Level(rec.ID) }); err != nil {
					return err
				}
			}
		}
		if err := policyTimed("AcceptRelay("+policyName(rec)+")", func() { _ = w.p.AcceptRelay(rec) }); err != nil {
			return err
		}
		for _, v := range w.values {
			if err := policyTimed(fmt.Sprintf("AcceptValue(%s, %s value)", policyName(rec), v.Kind), func() { _ = w.p.AcceptValue(rec, v) }); err != nil {
				return err
			}
		}
	}
	return nil
}

func policyCheckUnresolved(e *env, s policySuite) error {
	w, err := policyBuild(e, s)
	if err != nil {
		return err
	}
	if _, ok := w.p.(trust.Refresher); ok {
		return skip("the policy is a trust.Refresher: it may refuse as unresolved")
	}
	return policyAsk(w, func(err error, what string) error {
		if errors.Is(err, trust.ErrUnresolved) {
			return fmt.Errorf("%s = %v, which matches trust.ErrUnresolved, but the policy is not a trust.Refresher", what, err)
		}
		return nil
	})
}

// policyRefreshTimeout is the context a Refresh rule gives Refresh.
const policyRefreshTimeout = 200 * time.Millisecond

func policyCheckRefreshCtx(e *env, s policySuite) error {
	w, err := policyBuild(e, s)
	if err != nil {
		return err
	}
	r, ok := w.p.(trust.Refresher)
	if !ok {
		return skip("the policy does not implement trust.Refresher")
	}
	_ = policyAsk(w, func(error, string) error { return nil })
	// A fetch that blocks until its context ends, or until the rule gives
	// up on the policy.
	giveUp := make(chan struct{})
	var fetches, ignored atomic.Int64
	fetch := func(ctx context.Context, _ peer.ID) ([]*trust.Value, error) {
		fetches.Add(1)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-giveUp:
			ignored.Add(1)
			return nil, errors.New("fetch: the context Refresh passed never ended")
		}
	}
	for _, name := range []string{"a context already done", "a context that ends during Refresh"} {
		ctx, cancel := context.WithTimeout(e.ctx, policyRefreshTimeout)
		if name == "a context already done" {
			cancel()
		}
		returned := make(chan struct{})
		var panicked error
		go func() {
			defer close(returned)
			defer catch(func(err error) { panicked = err })
			_ = r.Refresh(ctx, fetch)
		}()
		timer := time.NewTimer(policyRefreshTimeout + policyRefreshSlack)
		select {
		case <-returned:
			if panicked != nil {
				timer.Stop()
				cancel()
				return fmt.Errorf("Refresh with %s: %w", name, panicked)
			}
		case <-timer.C:
			close(giveUp)
			<-returned
			cancel()
			return fmt.Errorf("Refresh with %s did not return within %v of it ending (%d fetches)", name, policyRefreshSlack, fetches.Load())
		}
		timer.Stop()
		cancel()
	}
	return nil
}

// policyHostileFetch serves, for every key, a different bad answer in
// turn: an error, nothing, values of every kind under other keys, and many
// copies of them.
func policyHostileFetch(w *policyWorld) trust.Fetcher {
	var n atomic.Int64
	return func(ctx context.Context, key peer.ID) ([]*trust.Value, error) {
		switch n.Add(1) % 4 {
		case 0:
			return nil, errors.New("fetch failed")
		case 1:
			return []*trust.Value{}, nil
		case 2:
			out := make([]*trust.Value, len(w.values))
			for i, v := range w.values {
				out[i] = v.Clone()
			}
			return out, nil
		default:
			out := make([]*trust.Value, 0, 1024)
			for len(out) < cap(out) {
				out = append(out, w.values[len(out)%len(w.values)].Clone())
			}
			return out, nil
		}
	}
}

func policyCheckRefreshHostile(e *env, s policySuite) error {
	w, err := policyBuild(e, s)
	if err != nil {
		return err
	}
	r, ok := w.p.(trust.Refresher)
	if !ok {
		return skip("the policy does not implement trust.Refresher")
	}
	fetch := policyHostileFetch(w)
	for round := range 4 {
		_ = policyAsk(w, func(error, string) error { return nil })
		if err := r.Refresh(e.ctx, fetch); err != nil && e.ctx.Err() != nil {
			return fmt.Errorf("Refresh round %d: %w", round, err)
		}
		if err := policyAsk(w, nil); err != nil {
			return fmt.Errorf("after Refresh round %d: %w", round, err)
		}
	}
	return nil
}

func policyCheckLevel(e *env, s policySuite) error {
	w, err := policyBuild(e, s)
	if err != nil {
		return err
	}
	l, ok := w.p.(trust.Leveler)
	if !ok {
		return skip("the policy does not implement trust.Leveler")
	}
	for range 8 {
		id, err := policyIdentity(e)
		if err != nil {
			return err
		}
		if got := l.Level(id.ID(s.h)); got != 0 {
			return fmt.Errorf("Level(%s) = %d for a peer the policy never heard of, want 0", id.ID(s.h).Short(), got)
		}
	}
	for _, rec := range w.senders[1:] {
		if got := l.Level(rec.ID); got < 0 {
			return fmt.Errorf("Level(%s) = %d, want >= 0", rec.ID.Short(), got)
		}
	}
	return nil
}

func policyCheckLearns(e *env, s policySuite) error {
	if s.vouch == nil {
		return skip("PolicyOptions.Vouch is not set")
	}
	w, err := policyBuild(e, s)
	if err != nil {
		return err
	}
	r, ok := w.p.(trust.Refresher)
	if !ok {
		return skip("the policy does not implement trust.Refresher")
	}
	// senders[0] is nil, then the roots, then the strangers.
	vouched, other := w.senders[1+policyRoots], w.senders[2+policyRoots]
	byRoot, err := s.vouch(w.roots[0], vouched.ID)
	if err != nil {
		return fmt.Errorf("Vouch(root, %s) = %w", vouched.ID.Short(), err)
	}
	byStranger, err := s.vouch(w.strangers[len(w.strangers)-1], other.ID)
	if err != nil {
		return fmt.Errorf("Vouch(stranger, %s) = %w", other.ID.Short(), err)
	}
	for _, v := range []*trust.Value{byRoot, byStranger} {
		if err := v.Verify(s.h); err != nil {
			return fmt.Errorf("Vouch returned a value that does not verify: %w", err)
		}
	}
	// The DHT: what is stored under the key asked for, as a node fetches,
	// and then, as a lying replica may add, every other value it holds:
	// each verifies, but names another peer than the one asked about.
	held := []*trust.Value{byRoot, byStranger}
	fetch := func(_ context.Context, key peer.ID) ([]*trust.Value, error) {
		var out, misfiled []*trust.Value
		for _, v := range held {
			if v.Key == key {
				out = append(out, v.Clone())
			} else {
				misfiled = append(misfiled, v.Clone())
			}
		}
		return append(out, misfiled...), nil
	}
	nobody := w.senders[3+policyRoots] // no one vouches for it
	refusedBefore := w.p.AcceptPeer(vouched) != nil
	otherRefusedBefore := w.p.AcceptPeer(other) != nil
	nobodyRefusedBefore := w.p.AcceptPeer(nobody) != nil
	_ = w.p.AcceptRelay(vouched)
	_ = w.p.AcceptRelay(other)
	if !refusedBefore && !otherRefusedBefore {
		return skip("the policy accepts strangers before any Refresh: nothing to learn")
	}
	// Resolution may take a few rounds (the endorsee, then its endorsers).
	for range 3 {
		if err := r.Refresh(e.ctx, fetch); err != nil {
			return fmt.Errorf("Refresh = %w", err)
		}
	}
	if refusedBefore {
		if err := w.p.AcceptPeer(vouched); err != nil {
			return fmt.Errorf("AcceptPeer of a peer a root vouches for, after Refresh read the vouch = %w, want nil", err)
		}
		if err := w.p.AcceptRelay(vouched); err != nil {
			return fmt.Errorf("AcceptRelay of a peer a root vouches for, after Refresh = %w, want nil", err)
		}
		if l, ok := w.p.(trust.Leveler); ok && l.Level(vouched.ID) <= 0 {
			return fmt.Errorf("Level of a peer a root vouches for, after Refresh = %d, want above 0", l.Level(vouched.ID))
		}
	}
	if otherRefusedBefore {
		if err := w.p.AcceptPeer(other); err == nil {
			return errors.New("AcceptPeer of a peer only a stranger vouches for is nil after Refresh: trust must flow from the roots")
		}
	}
	if nobodyRefusedBefore {
		if err := w.p.AcceptPeer(nobody); err == nil {
			return errors.New("AcceptPeer of a peer no one vouches for is nil after a Refresh whose fetch answered its key with a root's vouch for another peer: a vouch counts only for the peer it names")
		}
	}
	return nil
}
