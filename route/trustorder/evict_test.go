package trustorder_test

import (
	"math/rand/v2"
	"testing"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/trustorder"
)

// peersAt adds one new peer per level given, in that order, and returns
// their records.
func peersAt(t *testing.T, rng *rand.Rand, tbl *trustorder.Table, lv *levels, lvls ...int) []*peer.Record {
	t.Helper()
	recs := make([]*peer.Record, len(lvls))
	for i, l := range lvls {
		recs[i] = &peer.Record{ID: randomID(rng, 32)}
		lv.set(recs[i].ID, l)
		if res := tbl.Update(recs[i], t0); res.Status != route.Added {
			t.Fatalf("Update of peer %d (level %d) = %v, want added", i, l, res.Status)
		}
	}
	return recs
}

func held(tbl *trustorder.Table, id peer.ID) bool {
	_, ok := tbl.Get(id)
	return ok
}

func TestCapacityBoundHoldsUnderManyInserts(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	lv := newLevels()
	const capacity, waiting = 32, 4
	tbl := mustNew(t, randomID(rng, 32), trustorder.Options{Level: lv.Level, Capacity: capacity, ReplacementCache: waiting})
	var all []peer.ID
	for i := range 10_000 {
		id := randomID(rng, 32)
		lv.set(id, rng.IntN(12)-4) // -4..7: a third untrusted
		all = append(all, id)
		tbl.Update(&peer.Record{ID: id}, t0)
		if tbl.Len() > capacity {
			t.Fatalf("after %d inserts Len = %d, over the capacity %d", i+1, tbl.Len(), capacity)
		}
	}
	if tbl.Len() != capacity {
		t.Fatalf("Len = %d after 10,000 inserts, want the capacity, %d", tbl.Len(), capacity)
	}
	// Levels did not change, so no peer left out ranks above the least
	// trusted peer held: the table keeps the most trusted peers it met.
	low := 1 << 30
	for _, r := range tbl.Closest(all[0], capacity) {
		low = min(low, rank(lv.Level(r.ID)))
	}
	for _, id := range all {
		if !held(tbl, id) && rank(lv.Level(id)) > low {
			t.Fatalf("peer %s at level %d is not held, but a peer of rank %d is", id.Short(), lv.Level(id), low)
		}
	}
	// The replacement cache is bounded too: removing every held peer
	// promotes exactly the peers waiting, no more than ReplacementCache.
	for _, r := range tbl.Closest(all[0], capacity) {
		tbl.Remove(r.ID)
	}
	if tbl.Len() != waiting {
		t.Fatalf("after removing the %d held peers Len = %d, want the %d that waited", capacity, tbl.Len(), waiting)
	}
}

func TestFullTableEvictsLeastRecentlySeenOfLowestLevelForMoreTrustedNewcomer(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	lv := newLevels()
	tbl := mustNew(t, randomID(rng, 32), trustorder.Options{Level: lv.Level, Capacity: 4})
	p := peersAt(t, rng, tbl, lv, 1, -2, 0, 3) // p[1] and p[2] are both untrusted
	tbl.Update(p[1], t0)                       // p[2] is now the least recently seen untrusted peer
	newcomer := &peer.Record{ID: randomID(rng, 32)}
	lv.set(newcomer.ID, 1)
	if res := tbl.Update(newcomer, t0); res.Status != route.Added {
		t.Fatalf("Update of a level-1 newcomer to a full table holding untrusted peers = %v, want added", res.Status)
	}
	if held(tbl, p[2].ID) {
		t.Fatal("the least recently seen untrusted peer was not evicted")
	}
	for _, r := range []*peer.Record{p[0], p[1], p[3], newcomer} {
		if !held(tbl, r.ID) {
			t.Fatalf("peer %s was evicted, want only the least recently seen of the least trusted", r.ID.Short())
		}
	}
	if tbl.Len() != 4 {
		t.Fatalf("Len = %d, want the capacity, 4", tbl.Len())
	}
}

func TestNewcomerNoMoreTrustedWaitsAndReplacesAFailedCandidate(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	lv := newLevels()
	tbl := mustNew(t, randomID(rng, 32), trustorder.Options{Level: lv.Level, Capacity: 2})
	p := peersAt(t, rng, tbl, lv, 2, 2)
	newcomer := &peer.Record{ID: randomID(rng, 32)}
	lv.set(newcomer.ID, 2)
	res := tbl.Update(newcomer, t0)
	if res.Status != route.Pending || res.Candidate == nil || res.Candidate.ID != p[0].ID {
		t.Fatalf("Update of a newcomer of the lowest held level = %v, candidate %v; want pending, candidate %s", res.Status, res.Candidate, p[0].ID.Short())
	}
	if held(tbl, newcomer.ID) {
		t.Fatal("a pending newcomer is held")
	}
	// The candidate answers: it stays, and the next newcomer names the other.
	tbl.Update(p[0], t0)
	if res := tbl.Update(newcomer, t0); res.Status != route.Pending || res.Candidate.ID != p[1].ID {
		t.Fatalf("after the candidate answered, Update = %v, candidate %v; want pending, candidate %s", res.Status, res.Candidate, p[1].ID.Short())
	}
	// It does not: one failure gives its place to the waiting peer of its level.
	if !tbl.Fail(p[1].ID, t0) {
		t.Fatal("the candidate's first failure, with a peer of its level waiting, did not remove it")
	}
	if !held(tbl, newcomer.ID) {
		t.Fatal("the waiting peer was not promoted")
	}
}

func TestTrustedPeerOutlastsOneFailureAgainstLessTrustedWaiting(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	lv := newLevels()
	tbl := mustNew(t, randomID(rng, 32), trustorder.Options{Level: lv.Level, Capacity: 1, MaxFailures: 3})
	trusted := peersAt(t, rng, tbl, lv, 5)[0]
	stranger := &peer.Record{ID: randomID(rng, 32)}
	if res := tbl.Update(stranger, t0); res.Status != route.Pending {
		t.Fatalf("Update of an untrusted newcomer to a full trusted table = %v, want pending", res.Status)
	}
	for i := 1; i < 3; i++ {
		if tbl.Fail(trusted.ID, t0) {
			t.Fatalf("failure %d of a level-5 peer gave its place to an untrusted one, want removal at MaxFailures (3)", i)
		}
	}
	if !tbl.Fail(trusted.ID, t0) || !held(tbl, stranger.ID) {
		t.Fatal("the 3rd failure did not remove the peer and promote the waiting one")
	}
}

func TestReplacementCacheDropsLeastTrustedAndPromotesMostTrusted(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	lv := newLevels()
	tbl := mustNew(t, randomID(rng, 32), trustorder.Options{Level: lv.Level, Capacity: 1, ReplacementCache: 2})
	top := peersAt(t, rng, tbl, lv, 9)[0]
	wait := func(level int) *peer.Record {
		r := &peer.Record{ID: randomID(rng, 32)}
		lv.set(r.ID, level)
		if res := tbl.Update(r, t0); res.Status != route.Pending {
			t.Fatalf("Update at level %d = %v, want pending", level, res.Status)
		}
		return r
	}
	trusted, u1, u2 := wait(2), wait(0), wait(-1) // the cache is full at u2: u1 makes room
	tbl.Remove(top.ID)
	if !held(tbl, trusted.ID) {
		t.Fatal("removal promoted a less trusted waiting peer first")
	}
	tbl.Remove(trusted.ID)
	if !held(tbl, u2.ID) {
		t.Fatal("the newest untrusted peer was not kept waiting")
	}
	tbl.Remove(u2.ID)
	if held(tbl, u1.ID) || tbl.Len() != 0 {
		t.Fatalf("Len = %d: the least trusted, least recently seen waiting peer was not the one dropped", tbl.Len())
	}
}
