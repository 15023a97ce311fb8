package wot_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
	"github.com/dhtkit/dhtkit/trust/wot"
)

func TestNewReportsEveryBadOptionAtOnce(t *testing.T) {
	_, err := wot.New(wot.Options{
		Roots:             []ed25519.PublicKey{make([]byte, 31)},
		MaxLevel:          256,
		Threshold:         wot.MaxEndorsements + 1,
		TableLevel:        -2,
		CacheTTL:          -time.Second,
		MaxCache:          -1,
		MaxPending:        -1,
		FetchesPerRefresh: -1,
	})
	if !errors.Is(err, wot.ErrOptions) {
		t.Fatalf("New = %v, want ErrOptions", err)
	}
	for _, field := range []string{"root 0", "MaxLevel", "Threshold", "TableLevel", "CacheTTL", "MaxCache", "MaxPending", "FetchesPerRefresh"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("the error does not mention %s:\n%v", field, err)
		}
	}
	if _, err := wot.New(wot.Options{}); !errors.Is(err, wot.ErrOptions) || !strings.Contains(err.Error(), "Roots") {
		t.Errorf("New without roots = %v, want ErrOptions naming Roots", err)
	}
	if _, err := wot.New(wot.Options{Roots: []ed25519.PublicKey{identity(t, 1).PublicKey()}, MaxLevel: 2, ValueLevel: 3}); !errors.Is(err, wot.ErrOptions) {
		t.Errorf("a gate above MaxLevel: %v, want ErrOptions", err)
	}
}

func TestNewCopiesItsOptionsAndFillsDefaults(t *testing.T) {
	root := identity(t, 1)
	roots := []ed25519.PublicKey{root.PublicKey()}
	opts := wot.Options{Roots: roots}
	p, err := wot.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	roots[0][0] ^= 1 // the caller changes its slice afterwards
	if opts.Hasher != nil || opts.Clock != nil || opts.MaxLevel != 0 {
		t.Fatal("New wrote defaults back into the caller's options")
	}
	if got := p.Level(root.ID(peer.SHA256())); got != wot.DefaultMaxLevel {
		t.Fatalf("root level %d, want DefaultMaxLevel %d under the default SHA-256 hasher", got, wot.DefaultMaxLevel)
	}
}

func TestRootsAreAcceptedAtOnce(t *testing.T) {
	root := identity(t, 1)
	w := newWeb(t, wot.Options{MaxLevel: 5, TableLevel: 5, RelayLevel: 5, ValueLevel: 5}, root)
	rec := record(t, w.h, root)
	if err := w.p.AcceptPeer(rec); err != nil {
		t.Fatalf("AcceptPeer(root): %v", err)
	}
	if err := w.p.AcceptRelay(rec); err != nil {
		t.Fatalf("AcceptRelay(root): %v", err)
	}
	v, err := trust.NewPlain(root, w.h.Sum([]byte("k")), 1, []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.p.AcceptValue(nil, v); err != nil {
		t.Fatalf("AcceptValue(root's value): %v", err)
	}
	w.wantLevel(root, "the root", 5)
	if s := w.p.Stats(); s.Pending != 0 || s.Roots != 1 || s.Rejected != 0 {
		t.Fatalf("stats after accepting a root: %+v", s)
	}
	// A root is never fetched, even when another peer names it.
	a := identity(t, 2)
	w.endorse(root, a, 3, 1)
	w.endorse(a, root, 3, 1)
	w.level(a)
	w.refresh()
	if n := w.d.fetchCount(wot.EndorsementKey(w.h, w.id(root))); n != 0 {
		t.Fatalf("the root's endorsements were fetched %d times", n)
	}
}

func TestUnknownPeerIsQueuedThenAcceptedWhenEndorsed(t *testing.T) {
	root, a := identity(t, 1), identity(t, 2)
	w := newWeb(t, wot.Options{}, root)
	rec := record(t, w.h, a)
	err := w.p.AcceptPeer(rec)
	if !errors.Is(err, trust.ErrRejected) || !errors.Is(err, wot.ErrUnresolved) {
		t.Fatalf("AcceptPeer(unknown) = %v, want ErrRejected and ErrUnresolved", err)
	}
	if !strings.HasPrefix(err.Error(), "wot: ") || !strings.Contains(err.Error(), "queued") {
		t.Fatalf("refusal %q does not say the peer is queued", err)
	}
	_ = w.p.AcceptPeer(rec) // asked twice, queued once
	if s := w.p.Stats(); s.Pending != 1 || s.Rejected != 2 {
		t.Fatalf("after two refusals of one peer: %+v", s)
	}

	w.endorse(root, a, 1, 1)
	w.refresh()
	if err := w.p.AcceptPeer(rec); err != nil {
		t.Fatalf("AcceptPeer after an endorsement and a Refresh: %v", err)
	}
	w.wantLevel(a, "A", 1)
	if s := w.p.Stats(); s.Pending != 0 || s.Known != 1 || s.Resolutions != 1 {
		t.Fatalf("stats after resolving: %+v", s)
	}
}

func TestUnendorsedPeerIsResolvedAtLevelZero(t *testing.T) {
	root, a := identity(t, 1), identity(t, 2)
	w := newWeb(t, wot.Options{}, root)
	w.level(a)
	w.refresh()
	err := w.p.AcceptPeer(record(t, w.h, a))
	if !errors.Is(err, trust.ErrRejected) || errors.Is(err, wot.ErrUnresolved) {
		t.Fatalf("AcceptPeer(resolved, unendorsed) = %v, want ErrRejected, not ErrUnresolved", err)
	}
	if !strings.Contains(err.Error(), "level 0") {
		t.Fatalf("refusal %q does not give the level", err)
	}
	if s := w.p.Stats(); s.Pending != 0 {
		t.Fatalf("a resolved peer was queued again: %+v", s)
	}
}

func TestThresholdTwoNeedsTwoEndorsers(t *testing.T) {
	r1, r2, a := identity(t, 1), identity(t, 2), identity(t, 3)
	w := newWeb(t, wot.Options{Threshold: 2, CacheTTL: time.Minute}, r1, r2)
	w.endorse(r1, a, 3, 1)
	w.level(a)
	w.refresh()
	w.wantLevel(a, "A with one endorser", 0)

	w.endorse(r2, a, 2, 1)
	w.clk.Advance(time.Minute)
	w.refresh()
	w.wantLevel(a, "A with endorsements at 3 and 2", 2)
	if err := w.p.AcceptPeer(record(t, w.h, a)); err != nil {
		t.Fatalf("AcceptPeer: %v", err)
	}
}

func TestChainRootToAToB(t *testing.T) {
	root, a, b := identity(t, 1), identity(t, 2), identity(t, 3)
	w := newWeb(t, wot.Options{MaxLevel: 3}, root)
	w.endorse(root, a, 2, 1)
	w.endorse(a, b, 3, 1) // A vouches for more than it has
	if l := w.level(b); l != 0 {
		t.Fatalf("B at %d before any Refresh", l)
	}
	w.refresh() // resolves B, learns of A, resolves A in the same Refresh
	w.wantLevel(a, "A", 2)
	w.wantLevel(b, "B (endorsed at 3 by A at 2)", 2)

	// A long chain: each link at the top level, all resolved at once.
	prev := b
	var last *peer.Identity
	for i := range 6 {
		last = identity(t, 10+i)
		w.endorse(prev, last, 3, 1)
		prev = last
	}
	w.level(last)
	w.refresh()
	w.wantLevel(last, "the end of a chain through B", 2)
}

func TestChainConvergesOverRefreshesWithASmallBudget(t *testing.T) {
	root, a, b := identity(t, 1), identity(t, 2), identity(t, 3)
	w := newWeb(t, wot.Options{FetchesPerRefresh: 1}, root)
	w.endorse(root, a, 1, 1)
	w.endorse(a, b, 1, 1)
	w.level(b)
	w.refresh() // fetches B, learns of A, has no budget left
	w.wantLevel(b, "B after one refresh", 0)
	if s := w.p.Stats(); s.Pending != 1 {
		t.Fatalf("A was not queued for the next refresh: %+v", s)
	}
	w.refresh()
	w.wantLevel(a, "A", 1)
	w.wantLevel(b, "B after two", 1)
}

func TestCyclesCannotRaiseAnyone(t *testing.T) {
	root, a, b, c := identity(t, 1), identity(t, 2), identity(t, 3), identity(t, 4)
	w := newWeb(t, wot.Options{MaxLevel: 3}, root)
	w.endorse(root, a, 1, 1)
	for _, pair := range [][2]*peer.Identity{{a, b}, {b, c}, {c, a}, {b, a}, {c, b}} {
		w.endorse(pair[0], pair[1], 3, 1)
	}
	w.level(a)
	w.level(b)
	w.level(c)
	w.refresh()
	for name, i := range map[string]*peer.Identity{"A": a, "B": b, "C": c} {
		w.wantLevel(i, name, 1)
	}
}

func TestRevocationByHigherSeqTakesEffectAfterCacheTTL(t *testing.T) {
	root, a := identity(t, 1), identity(t, 2)
	ttl := 10 * time.Minute
	w := newWeb(t, wot.Options{CacheTTL: ttl}, root)
	old := w.endorse(root, a, 2, 1)
	w.level(a)
	w.refresh()
	w.wantLevel(a, "A endorsed", 2)

	w.endorse(root, a, 0, 2) // revoke
	w.clk.Advance(ttl - time.Second)
	w.refresh()
	w.wantLevel(a, "A before CacheTTL (cached)", 2)

	w.clk.Advance(time.Second)
	w.refresh()
	w.wantLevel(a, "A after the revocation", 0)
	if err := w.p.AcceptPeer(record(t, w.h, a)); !errors.Is(err, trust.ErrRejected) || errors.Is(err, wot.ErrUnresolved) {
		t.Fatalf("AcceptPeer of a revoked peer: %v", err)
	}

	// A stale replica returning the old endorsement cannot undo it.
	w.d.add(old)
	w.clk.Advance(ttl)
	w.refresh()
	w.wantLevel(a, "A with a stale replica", 0)

	// A new endorsement at a higher sequence number restores it.
	w.endorse(root, a, 1, 3)
	w.clk.Advance(ttl)
	w.refresh()
	w.wantLevel(a, "A endorsed again", 1)
}

func TestExpiredEndorsementsDoNotCount(t *testing.T) {
	root, a, b := identity(t, 1), identity(t, 2), identity(t, 3)
	w := newWeb(t, wot.Options{CacheTTL: 24 * time.Hour}, root)
	w.endorseUntil(root, a, 2, epoch.Add(time.Hour), 1)
	w.endorseUntil(root, b, 2, epoch.Add(-time.Second), 1) // already expired
	w.level(a)
	w.level(b)
	w.refresh()
	w.wantLevel(a, "A before expiry", 2)
	w.wantLevel(b, "B, expired from the start", 0)

	// Expiry needs no new fetch: the next Refresh after it drops the level.
	w.clk.Advance(time.Hour)
	w.refresh()
	w.wantLevel(a, "A at its expiry", 0)
	if n := w.d.fetchCount(wot.EndorsementKey(w.h, w.id(a))); n != 1 {
		t.Fatalf("A fetched %d times within CacheTTL, want 1", n)
	}
}

func TestForgedEndorsementsAreIgnored(t *testing.T) {
	root, a, c, mallory := identity(t, 1), identity(t, 2), identity(t, 3), identity(t, 4)
	w := newWeb(t, wot.Options{}, root)
	aKey := wot.EndorsementKey(w.h, w.id(a))

	// Signed by mallory, claiming to be the root's.
	forged, err := wot.NewEndorsement(mallory, w.h, w.id(a), 3, time.Time{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	forged.Publisher = root.PublicKey()
	w.d.add(forged)
	// The root's real endorsement of C, replayed under A's key.
	ofC, err := wot.NewEndorsement(root, w.h, w.id(c), 3, time.Time{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	moved := ofC.Clone()
	moved.Key = aKey
	w.d.add(moved)
	// The root's plain value under A's key that is not an endorsement, and
	// one signed over other bytes.
	notOne, err := trust.NewPlain(root, aKey, 1, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	w.d.add(notOne)
	raised := ofC.Clone()
	raised.Key, raised.Value = aKey, mustEndorsementBytes(t, w, root, a)
	w.d.add(raised)
	// Mallory's own, valid endorsement: not bad, but mallory stands at 0.
	w.endorse(mallory, a, 3, 1)

	w.level(a)
	w.refresh()
	w.wantLevel(a, "A, endorsed only by forgeries", 0)
	if s := w.p.Stats(); s.BadEndorsements != 4 {
		t.Fatalf("counted %d bad endorsements, want 4", s.BadEndorsements)
	}
}

// mustEndorsementBytes returns the value bytes of by's endorsement of of.
func mustEndorsementBytes(t *testing.T, w *web, by, of *peer.Identity) []byte {
	t.Helper()
	v, err := wot.NewEndorsement(by, w.h, w.id(of), 3, time.Time{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return v.Value
}

func TestSybilsNeverGetALevel(t *testing.T) {
	root, honest := identity(t, 1), identity(t, 2)
	w := newWeb(t, wot.Options{MaxLevel: 3, CacheTTL: time.Minute, FetchesPerRefresh: 1000}, root)
	w.endorse(root, honest, 1, 1)
	sybils := make([]*peer.Identity, 50)
	for i := range sybils {
		sybils[i] = identity(t, 100+i)
	}
	// Each sybil vouches at the top level for the next seven round a ring,
	// so they form cycles of every length, and all vouch for the honest
	// peer.
	for i, s := range sybils {
		for j := 1; j <= 7; j++ {
			w.endorse(s, sybils[(i+j)%len(sybils)], 3, 1)
		}
		w.endorse(s, honest, 3, 1)
	}
	for round := range 3 {
		for _, s := range sybils {
			w.level(s)
		}
		w.level(honest)
		w.refresh()
		for i, s := range sybils {
			if l := w.p.Level(w.id(s)); l != 0 {
				t.Fatalf("round %d: sybil %d is at level %d", round, i, l)
			}
		}
		w.wantLevel(honest, "the honest peer (sybils cannot raise it)", 1)
		w.clk.Advance(time.Minute)
	}
}

func TestTooManyEndorsementsKeepTheHighestStanding(t *testing.T) {
	root, a := identity(t, 1), identity(t, 2)
	w := newWeb(t, wot.Options{}, root)
	for i := range 300 { // more than one fetch is read, more than a peer keeps
		w.endorse(identity(t, 1000+i), a, 3, 1)
	}
	w.endorse(root, a, 1, 1)
	w.level(a)
	w.refresh()
	w.wantLevel(a, "A, endorsed by a root among a flood", 1)
	if s := w.p.Stats(); s.Excess == 0 {
		t.Fatalf("the flood was not counted: %+v", s)
	}
}

func TestMaxPendingBoundsTheQueue(t *testing.T) {
	root := identity(t, 1)
	w := newWeb(t, wot.Options{MaxPending: 3}, root)
	for i := range 5 {
		err := w.p.AcceptPeer(record(t, w.h, identity(t, 10+i)))
		if !errors.Is(err, wot.ErrUnresolved) || !errors.Is(err, trust.ErrRejected) {
			t.Fatalf("peer %d: %v, want ErrUnresolved", i, err)
		}
		if i >= 3 && !strings.Contains(err.Error(), "full") {
			t.Fatalf("peer %d: refusal %q does not say the queue is full", i, err)
		}
	}
	if s := w.p.Stats(); s.Pending != 3 || s.PendingDropped != 2 {
		t.Fatalf("stats: %+v, want 3 pending and 2 dropped", s)
	}
	w.refresh()
	if s := w.p.Stats(); s.Pending != 0 || s.Known != 3 {
		t.Fatalf("after Refresh: %+v, want the 3 queued resolved", s)
	}
	// A dropped peer is queued when met again.
	_ = w.p.AcceptPeer(record(t, w.h, identity(t, 14)))
	if s := w.p.Stats(); s.Pending != 1 {
		t.Fatalf("a dropped peer met again was not queued: %+v", s)
	}
}

func TestCacheIsBounded(t *testing.T) {
	root := identity(t, 1)
	w := newWeb(t, wot.Options{MaxCache: 5}, root)
	trusted := []*peer.Identity{identity(t, 2), identity(t, 3)}
	for _, p := range trusted {
		w.endorse(root, p, 1, 1)
		w.level(p)
	}
	for i := range 10 {
		w.level(identity(t, 100+i))
	}
	w.refresh()
	s := w.p.Stats()
	if s.Known != 5 || s.Evicted != 7 {
		t.Fatalf("stats: %+v, want 5 known and 7 evicted", s)
	}
	for i, p := range trusted {
		w.wantLevel(p, "trusted peer "+string(rune('0'+i)), 1)
	}
}

func TestRefreshReportsFailuresAndKeepsThePeerQueued(t *testing.T) {
	root, a, b := identity(t, 1), identity(t, 2), identity(t, 3)
	w := newWeb(t, wot.Options{}, root)
	w.endorse(root, a, 1, 1)
	w.endorse(root, b, 1, 1)
	boom := errors.New("no replica answered")
	w.d.fail[wot.EndorsementKey(w.h, w.id(a))] = boom
	w.level(a)
	w.level(b)
	err := w.p.Refresh(context.Background(), w.d.fetch)
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "wot: ") {
		t.Fatalf("Refresh = %v, want the fetch error with the package prefix", err)
	}
	w.wantLevel(b, "B (its fetch worked)", 1)
	if s := w.p.Stats(); s.FetchErrors != 1 || s.Pending != 1 {
		t.Fatalf("stats: %+v, want 1 fetch error and A still queued", s)
	}
	delete(w.d.fail, wot.EndorsementKey(w.h, w.id(a)))
	w.refresh()
	w.wantLevel(a, "A after a good fetch", 1)

	// A cancelled context stops Refresh before it fetches, and says so.
	c := identity(t, 4)
	w.level(c)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.p.Refresh(ctx, w.d.fetch); !errors.Is(err, context.Canceled) {
		t.Fatalf("Refresh with a cancelled context = %v", err)
	}
	if s := w.p.Stats(); s.Pending != 1 {
		t.Fatalf("C left the queue without being fetched: %+v", s)
	}
	if err := w.p.Refresh(context.Background(), nil); err == nil {
		t.Fatal("Refresh without a fetcher succeeded")
	}
}

func TestAcceptValue(t *testing.T) {
	root, a, mallory, stranger := identity(t, 1), identity(t, 2), identity(t, 3), identity(t, 4)
	w := newWeb(t, wot.Options{}, root)
	w.endorse(root, a, 1, 1)
	w.level(a)
	w.level(mallory)
	w.refresh()

	key := w.h.Sum([]byte("topic"))
	plain := func(by *peer.Identity) *trust.Value {
		v, err := trust.NewPlain(by, key, 1, []byte("v"))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	mutable := func(by *peer.Identity) *trust.Value {
		v, err := trust.NewMutable(by, w.h, []byte("s"), 1, []byte("v"))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	imm := trust.NewImmutable(w.h, []byte("chunk"))
	rec := func(i *peer.Identity) *peer.Record { return record(t, w.h, i) }

	for _, c := range []struct {
		name       string
		from       *peer.Record
		v          *trust.Value
		ok         bool
		unresolved bool
	}{
		{"plain by the root, no sender", nil, plain(root), true, false},
		{"plain by A, sent by mallory", rec(mallory), plain(a), true, false},
		{"plain by mallory, sent by the root", rec(root), plain(mallory), false, false},
		{"plain by a stranger", rec(root), plain(stranger), false, true},
		{"mutable by A, no sender", nil, mutable(a), true, false},
		{"mutable by mallory, sent by A", rec(a), mutable(mallory), false, false},
		{"immutable, no sender", nil, imm, false, false},
		{"immutable from the root", rec(root), imm, true, false},
		{"immutable from A", rec(a), imm, true, false},
		{"immutable from mallory", rec(mallory), imm, false, false},
		{"immutable from a stranger", rec(identity(t, 5)), imm, false, true},
		{"no value", rec(root), nil, false, false},
	} {
		err := w.p.AcceptValue(c.from, c.v)
		switch {
		case c.ok && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case !c.ok && !errors.Is(err, trust.ErrRejected):
			t.Errorf("%s: %v, want ErrRejected", c.name, err)
		case !c.ok && errors.Is(err, wot.ErrUnresolved) != c.unresolved:
			t.Errorf("%s: %v, unresolved should be %v", c.name, err, c.unresolved)
		case !c.ok && !strings.HasPrefix(err.Error(), "wot: "):
			t.Errorf("%s: refusal %q lacks the package prefix", c.name, err)
		}
	}

	// A higher minimum refuses A; Anyone opens the gate to all.
	high := newWeb(t, wot.Options{ValueLevel: 2}, root)
	high.endorse(root, a, 1, 1)
	high.level(a)
	high.refresh()
	if err := high.p.AcceptValue(nil, plain(a)); !errors.Is(err, trust.ErrRejected) || !strings.Contains(err.Error(), "level 1") {
		t.Errorf("ValueLevel 2, publisher at 1: %v", err)
	}
	open := newWeb(t, wot.Options{ValueLevel: wot.Anyone}, root)
	for _, v := range []*trust.Value{imm, plain(stranger), mutable(mallory)} {
		if err := open.p.AcceptValue(nil, v); err != nil {
			t.Errorf("ValueLevel Anyone refused a %v value: %v", v.Kind, err)
		}
	}
	if s := open.p.Stats(); s.Pending != 0 {
		t.Errorf("an open gate queued peers: %+v", s)
	}
}

func TestAcceptRelay(t *testing.T) {
	root, a, stranger := identity(t, 1), identity(t, 2), identity(t, 3)
	for _, forClients := range []bool{false, true} {
		w := newWeb(t, wot.Options{RelayForClients: forClients}, root)
		err := w.p.AcceptRelay(nil)
		if forClients && err != nil {
			t.Errorf("RelayForClients: a client was refused: %v", err)
		}
		if !forClients && (!errors.Is(err, trust.ErrRejected) || !strings.Contains(err.Error(), "RelayForClients")) {
			t.Errorf("no RelayForClients: a client got %v", err)
		}
		if err := w.p.AcceptRelay(record(t, w.h, root)); err != nil {
			t.Errorf("relay for the root: %v", err)
		}
		if err := w.p.AcceptRelay(record(t, w.h, stranger)); !errors.Is(err, wot.ErrUnresolved) {
			t.Errorf("relay for a stranger: %v, want ErrUnresolved", err)
		}
		w.endorse(root, a, 1, 1)
		w.level(a)
		w.refresh()
		if err := w.p.AcceptRelay(record(t, w.h, a)); err != nil {
			t.Errorf("relay for an endorsed peer: %v", err)
		}
	}
	w := newWeb(t, wot.Options{RelayLevel: 2}, root)
	w.endorse(root, a, 1, 1)
	w.level(a)
	w.refresh()
	if err := w.p.AcceptRelay(record(t, w.h, a)); !errors.Is(err, trust.ErrRejected) {
		t.Errorf("RelayLevel 2 relayed for a peer at 1: %v", err)
	}
	if err := w.p.AcceptPeer(record(t, w.h, a)); err != nil {
		t.Errorf("TableLevel 1 refused a peer at 1: %v", err)
	}
	if err := w.p.AcceptPeer(nil); !errors.Is(err, trust.ErrRejected) {
		t.Errorf("AcceptPeer(nil) = %v", err)
	}
}

func TestSHA1Network(t *testing.T) {
	root, a, b := identity(t, 1), identity(t, 2), identity(t, 3)
	w := newWeb(t, wot.Options{Hasher: peer.SHA1()}, root)
	w.endorse(root, a, 2, 1)
	w.endorse(a, b, 2, 1)
	w.level(b)
	w.refresh()
	w.wantLevel(b, "B", 2)
}

// TestConcurrentUse runs the gates, Level and Stats from many goroutines
// while Refresh runs and the clock moves; run it under -race.
func TestConcurrentUse(t *testing.T) {
	root := identity(t, 1)
	w := newWeb(t, wot.Options{CacheTTL: time.Minute, MaxCache: 20, MaxPending: 16}, root)
	peers := make([]*peer.Identity, 30)
	recs := make([]*peer.Record, len(peers))
	for i := range peers {
		peers[i] = identity(t, 10+i)
		recs[i] = record(t, w.h, peers[i])
		if i%2 == 0 {
			w.endorse(root, peers[i], 1+i%3, 1)
		}
	}
	imm := trust.NewImmutable(w.h, []byte("chunk"))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r := recs[(g+i)%len(recs)]
				_ = w.p.AcceptPeer(r)
				_ = w.p.AcceptRelay(r)
				_ = w.p.AcceptValue(r, imm)
				_ = w.p.Level(r.ID)
				_ = w.p.Stats()
			}
		})
	}
	var refreshers sync.WaitGroup
	for range 2 {
		refreshers.Go(func() {
			for range 20 {
				if err := w.p.Refresh(context.Background(), w.d.fetch); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for range 20 {
		w.clk.Advance(30 * time.Second)
	}
	refreshers.Wait()
	close(stop)
	wg.Wait()
	w.refresh()
	for i, p := range peers {
		if i%2 == 0 {
			continue
		}
		if l := w.p.Level(w.id(p)); l != 0 {
			t.Errorf("unendorsed peer %d is at level %d", i, l)
		}
	}
}
