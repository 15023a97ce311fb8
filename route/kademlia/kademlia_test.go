package kademlia_test

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/kademlia"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// selfID is a fixed own ID of n bytes: 0x5a repeated.
func selfID(t testing.TB, n int) peer.ID {
	id, err := peer.IDFromBytes(slices.Repeat([]byte{0x5a}, n))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// in returns a record whose ID shares exactly cpl leading bits with self
// (so it belongs in bucket cpl); salt varies the last bytes, which must lie
// past the prefix.
func in(t testing.TB, self peer.ID, cpl int, salt uint64) *peer.Record {
	b := self.Bytes()
	b[cpl/8] ^= 0x80 >> (cpl % 8)
	if salt != 0 {
		if cpl >= len(b)*8-64 {
			t.Fatalf("salt would overwrite the prefix of bucket %d", cpl)
		}
		binary.BigEndian.PutUint64(b[len(b)-8:], salt)
	}
	id, err := peer.IDFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return &peer.Record{ID: id, Seq: 1}
}

func mustNew(t testing.TB, self peer.ID, opts kademlia.Options) *kademlia.Table {
	tbl, err := kademlia.New(self, opts)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func mustUpdate(t *testing.T, tbl *kademlia.Table, rec *peer.Record, want route.Status) route.Result {
	t.Helper()
	res := tbl.Update(rec, t0)
	if res.Status != want {
		t.Fatalf("Update(%s) = %v (err %v), want %v", rec.ID.Short(), res.Status, res.Err, want)
	}
	return res
}

func mustHold(t *testing.T, tbl *kademlia.Table, want bool, recs ...*peer.Record) {
	t.Helper()
	for _, r := range recs {
		if _, ok := tbl.Get(r.ID); ok != want {
			t.Fatalf("Get(%s) found = %v, want %v", r.ID.Short(), ok, want)
		}
	}
}

// pendingCandidate adds a newcomer to a full bucket and returns the
// candidate it names.
func pendingCandidate(t *testing.T, tbl *kademlia.Table, rec *peer.Record) peer.ID {
	t.Helper()
	res := mustUpdate(t, tbl, rec, route.Pending)
	if res.Candidate == nil {
		t.Fatal("Pending without a Candidate")
	}
	return res.Candidate.ID
}

func TestFullBucketNamesLeastRecentlySeenCandidate(t *testing.T) {
	self := selfID(t, 32)
	tbl := mustNew(t, self, kademlia.Options{K: 3})
	a, b, c, d := in(t, self, 0, 1), in(t, self, 0, 2), in(t, self, 0, 3), in(t, self, 0, 4)
	for _, r := range []*peer.Record{a, b, c} {
		mustUpdate(t, tbl, r, route.Added)
	}
	if got := pendingCandidate(t, tbl, d); got != a.ID {
		t.Fatalf("candidate = %s, want the least recently seen %s", got.Short(), a.ID.Short())
	}
	mustHold(t, tbl, false, d)
	if tbl.Len() != 3 {
		t.Fatalf("Len = %d, want 3", tbl.Len())
	}
	// Another bucket is not affected by bucket 0 being full.
	mustUpdate(t, tbl, in(t, self, 1, 1), route.Added)
}

func TestUpdateMovesPeerToMostRecentlySeenEnd(t *testing.T) {
	self := selfID(t, 32)
	tbl := mustNew(t, self, kademlia.Options{K: 3, ReplacementCache: 10})
	a, b, c := in(t, self, 0, 1), in(t, self, 0, 2), in(t, self, 0, 3)
	for _, r := range []*peer.Record{a, b, c} {
		mustUpdate(t, tbl, r, route.Added)
	}
	mustUpdate(t, tbl, a, route.Refreshed) // order is now b, c, a
	// Remove candidates one by one: each newcomer's candidate is the head
	// of the least-recently-seen order.
	for i, want := range []*peer.Record{b, c, a} {
		if got := pendingCandidate(t, tbl, in(t, self, 0, uint64(100+i))); got != want.ID {
			t.Fatalf("candidate %d = %s, want %s", i, got.Short(), want.ID.Short())
		}
		if !tbl.Fail(want.ID, t0) {
			t.Fatalf("Fail(%s) with a replacement waiting did not remove it", want.ID.Short())
		}
	}
}

func TestCandidateFailurePromotesMostRecentReplacement(t *testing.T) {
	self := selfID(t, 32)
	tbl := mustNew(t, self, kademlia.Options{K: 2})
	a, b := in(t, self, 0, 1), in(t, self, 0, 2)
	older, newer := in(t, self, 0, 3), in(t, self, 0, 4)
	mustUpdate(t, tbl, a, route.Added)
	mustUpdate(t, tbl, b, route.Added)
	pendingCandidate(t, tbl, older)
	cand := pendingCandidate(t, tbl, newer)
	if !tbl.Fail(cand, t0) {
		t.Fatal("the candidate's first failure with peers waiting did not remove it")
	}
	mustHold(t, tbl, false, a)
	mustHold(t, tbl, true, b, newer)
	mustHold(t, tbl, false, older)
	if tbl.Len() != 2 {
		t.Fatalf("Len = %d, want 2", tbl.Len())
	}
	// The older newcomer still waits and takes the next free place.
	if !tbl.Remove(b.ID) {
		t.Fatal("Remove(b) = false")
	}
	mustHold(t, tbl, true, older)
}

func TestCandidateAnsweringStaysAndNewcomerWaits(t *testing.T) {
	self := selfID(t, 32)
	tbl := mustNew(t, self, kademlia.Options{K: 2})
	a, b, n := in(t, self, 0, 1), in(t, self, 0, 2), in(t, self, 0, 3)
	mustUpdate(t, tbl, a, route.Added)
	mustUpdate(t, tbl, b, route.Added)
	cand := pendingCandidate(t, tbl, n)
	candRec, _ := tbl.Get(cand)
	mustUpdate(t, tbl, candRec, route.Refreshed) // the ping was answered
	mustHold(t, tbl, true, a, b)
	mustHold(t, tbl, false, n)
	if got := pendingCandidate(t, tbl, in(t, self, 0, 4)); got != b.ID {
		t.Fatalf("after a answered, candidate = %s, want b %s", got.Short(), b.ID.Short())
	}
	// n heard from again stays waiting, still behind a full bucket.
	mustUpdate(t, tbl, n, route.Pending)
}

func TestReplacementCacheKeepsOnlyMostRecent(t *testing.T) {
	self := selfID(t, 32)
	tbl := mustNew(t, self, kademlia.Options{K: 1, ReplacementCache: 2})
	a := in(t, self, 0, 1)
	mustUpdate(t, tbl, a, route.Added)
	var waiting []*peer.Record
	for i := range 5 {
		w := in(t, self, 0, uint64(10+i))
		mustUpdate(t, tbl, w, route.Pending)
		waiting = append(waiting, w)
	}
	// Each removal promotes the most recent waiting peer; only two waited.
	for _, want := range []*peer.Record{waiting[4], waiting[3]} {
		held := tbl.Closest(a.ID, 1)
		if !tbl.Remove(held[0].ID) {
			t.Fatalf("Remove(%s) = false", held[0].ID.Short())
		}
		mustHold(t, tbl, true, want)
	}
	held := tbl.Closest(a.ID, 1)
	tbl.Remove(held[0].ID)
	if tbl.Len() != 0 {
		t.Fatalf("Len = %d after the cache ran dry, want 0: the cache held more than 2", tbl.Len())
	}
}

func TestFailWithoutReplacementRemovesAtMaxFailures(t *testing.T) {
	self := selfID(t, 32)
	tbl := mustNew(t, self, kademlia.Options{MaxFailures: 3})
	a := in(t, self, 0, 1)
	mustUpdate(t, tbl, a, route.Added)
	for i := range 2 {
		if tbl.Fail(a.ID, t0) {
			t.Fatalf("failure %d removed the peer, want removal at the 3rd", i+1)
		}
	}
	mustUpdate(t, tbl, a, route.Refreshed) // contact resets the count
	for i := range 2 {
		if tbl.Fail(a.ID, t0) {
			t.Fatalf("failure %d after contact removed the peer", i+1)
		}
	}
	if !tbl.Fail(a.ID, t0) {
		t.Fatal("3rd consecutive failure did not remove the peer")
	}
	mustHold(t, tbl, false, a)
}

func TestFailOfWaitingPeerDropsItFromCache(t *testing.T) {
	self := selfID(t, 32)
	tbl := mustNew(t, self, kademlia.Options{K: 1, MaxFailures: 3})
	a, w := in(t, self, 0, 1), in(t, self, 0, 2)
	mustUpdate(t, tbl, a, route.Added)
	mustUpdate(t, tbl, w, route.Pending)
	if tbl.Fail(w.ID, t0) {
		t.Fatal("Fail of a waiting peer reported a removal from the table")
	}
	// With nobody waiting any more, one failure no longer evicts a.
	if tbl.Fail(a.ID, t0) {
		t.Fatal("a was evicted although its replacement had been dropped")
	}
	mustHold(t, tbl, true, a)
}

func TestUpdateRejects(t *testing.T) {
	self := selfID(t, 32)
	tbl := mustNew(t, self, kademlia.Options{})
	for name, c := range map[string]struct {
		rec  *peer.Record
		want error
	}{
		"nil":            {nil, kademlia.ErrNilRecord},
		"self":           {&peer.Record{ID: self}, route.ErrSelf},
		"20-byte ID":     {in(t, selfID(t, 20), 3, 0), route.ErrKeySpace},
		"zero-length ID": {&peer.Record{}, route.ErrKeySpace},
	} {
		res := tbl.Update(c.rec, t0)
		if res.Status != route.Rejected || !errors.Is(res.Err, c.want) {
			t.Errorf("%s: Update = %v, %v; want rejected, %v", name, res.Status, res.Err, c.want)
		}
	}
}

func TestKeySpacesHaveOneBucketPerBit(t *testing.T) {
	for _, size := range []int{peer.IDLen160, peer.IDLen256} {
		self := selfID(t, size)
		bits := size * 8
		tbl := mustNew(t, self, kademlia.Options{K: 1})
		recs := make([]*peer.Record, bits)
		for cpl := range bits {
			recs[cpl] = in(t, self, cpl, 0)
			mustUpdate(t, tbl, recs[cpl], route.Added) // K=1: one peer per bucket
		}
		if tbl.Len() != bits {
			t.Fatalf("%d bits: Len = %d, want %d", bits, tbl.Len(), bits)
		}
		got := tbl.Closest(self, bits)
		for i, r := range got { // deepest bucket first
			if want := recs[bits-1-i]; r.ID != want.ID {
				t.Fatalf("%d bits: Closest(self)[%d] = %s, want %s", bits, i, r.ID.Short(), want.ID.Short())
			}
		}
		due := tbl.DueForRefresh(t0.Add(time.Hour), time.Minute)
		if len(due) != bits {
			t.Fatalf("%d bits: %d ranges due, want one per bucket (%d)", bits, len(due), bits)
		}
		for i, r := range due {
			if r.Bits != i+1 || !r.Contains(recs[i].ID) || r.Contains(self) {
				t.Fatalf("%d bits: range %d = %s/%d, want bucket %d's range", bits, i, r.Prefix, r.Bits, i)
			}
		}
	}
}

func TestKIsBucketCapacity(t *testing.T) {
	self := selfID(t, 32)
	for _, c := range []struct{ opt, want int }{{0, kademlia.DefaultK}, {5, 5}, {1, 1}} {
		tbl := mustNew(t, self, kademlia.Options{K: c.opt})
		for i := range c.want {
			mustUpdate(t, tbl, in(t, self, 2, uint64(i+1)), route.Added)
		}
		mustUpdate(t, tbl, in(t, self, 2, 9999), route.Pending)
	}
}

func TestNewRejectsInvalidOptions(t *testing.T) {
	self := selfID(t, 32)
	for name, c := range map[string]struct {
		self peer.ID
		opts kademlia.Options
	}{
		"negative K":                {self, kademlia.Options{K: -1}},
		"negative ReplacementCache": {self, kademlia.Options{ReplacementCache: -3}},
		"negative MaxFailures":      {self, kademlia.Options{MaxFailures: -1}},
		"zero self":                 {peer.ID{}, kademlia.Options{}},
	} {
		tbl, err := kademlia.New(c.self, c.opts)
		if !errors.Is(err, kademlia.ErrInvalidOptions) || tbl != nil {
			t.Errorf("%s: New = %v, %v; want nil and ErrInvalidOptions", name, tbl, err)
		}
	}
}

func TestDueForRefreshStopsOneBucketPastDeepest(t *testing.T) {
	self := selfID(t, 32)
	tbl := mustNew(t, self, kademlia.Options{})
	if due := tbl.DueForRefresh(t0, time.Minute); len(due) != 1 || due[0].Bits != 1 {
		t.Fatalf("empty table: due = %v, want bucket 0's range only", due)
	}
	mustUpdate(t, tbl, in(t, self, 0, 1), route.Added)
	mustUpdate(t, tbl, in(t, self, 3, 1), route.Added)
	due := tbl.DueForRefresh(t0.Add(time.Hour), time.Minute)
	var bits []int
	for _, r := range due {
		bits = append(bits, r.Bits)
	}
	if !slices.Equal(bits, []int{1, 2, 3, 4, 5}) {
		t.Fatalf("due range sizes = %v, want buckets 0..4 (Bits 1..5)", bits)
	}
	// Bucket 4, past the deepest peer, has never been looked up: due at
	// once; buckets 0 and 3 were contacted at t0.
	due = tbl.DueForRefresh(t0, time.Minute)
	bits = bits[:0]
	for _, r := range due {
		bits = append(bits, r.Bits)
	}
	if !slices.Equal(bits, []int{2, 3, 5}) {
		t.Fatalf("due range sizes at t0 = %v, want the never-contacted buckets 1, 2, 4", bits)
	}
}

// The bucket walk must agree with a full sort for targets anywhere,
// including targets deep in self's own subtree.
func TestClosestMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	self := route.Range{Prefix: selfID(t, 32)}.Random(rng)
	tbl := mustNew(t, self, kademlia.Options{K: 4})
	var all []peer.ID
	for range 3000 {
		// Random IDs fill the shallow buckets; IDs near self the deep ones.
		id := route.Range{Prefix: self, Bits: rng.IntN(24)}.Random(rng)
		if id == self {
			continue
		}
		tbl.Update(&peer.Record{ID: id}, t0)
		all = append(all, id)
	}
	var held []peer.ID
	for _, id := range all {
		if _, ok := tbl.Get(id); ok && !slices.Contains(held, id) {
			held = append(held, id)
		}
	}
	if len(held) != tbl.Len() {
		t.Fatalf("Get finds %d peers, Len = %d", len(held), tbl.Len())
	}
	for range 300 {
		target := route.Range{Prefix: self, Bits: rng.IntN(30)}.Random(rng)
		want := slices.Clone(held)
		peer.SortByDistance(target, want)
		for _, n := range []int{1, 7, 20, len(held)} {
			var got []peer.ID
			for _, r := range tbl.Closest(target, n) {
				got = append(got, r.ID)
			}
			if !slices.Equal(got, want[:n]) {
				t.Fatalf("Closest(%s, %d) differs from a full sort of %d peers", target.Short(), n, len(held))
			}
		}
	}
}

// TestWantsOnlyWhatUpdateWouldKeep checks Wants against what Update then
// does: it is true wherever Update would add or keep the peer, and false
// only when Update would leave the table's peers as they are.
func TestWantsOnlyWhatUpdateWouldKeep(t *testing.T) {
	self := selfID(t, 20)
	tbl := mustNew(t, self, kademlia.Options{K: 2, ReplacementCache: 2})
	var ins, waiting []*peer.Record
	for s := range uint64(2) {
		r := in(t, self, 0, s+1)
		if !tbl.Wants(r.ID) {
			t.Fatalf("bucket with room: Wants(%s) = false", r.ID.Short())
		}
		mustUpdate(t, tbl, r, route.Added)
		ins = append(ins, r)
	}
	for s := range uint64(2) {
		r := in(t, self, 0, s+10)
		if !tbl.Wants(r.ID) {
			t.Fatalf("replacement cache with room: Wants(%s) = false", r.ID.Short())
		}
		mustUpdate(t, tbl, r, route.Pending)
		waiting = append(waiting, r)
	}
	for _, r := range append(ins, waiting...) {
		if !tbl.Wants(r.ID) {
			t.Fatalf("held or waiting peer %s: Wants = false", r.ID.Short())
		}
	}
	if !tbl.Wants(in(t, self, 1, 1).ID) {
		t.Fatal("empty bucket: Wants = false")
	}
	stranger := in(t, self, 0, 99)
	if tbl.Wants(stranger.ID) {
		t.Fatal("full bucket and full cache: Wants = true")
	}
	mustUpdate(t, tbl, stranger, route.Pending)
	mustHold(t, tbl, true, ins...)
	if tbl.Len() != 2 {
		t.Fatalf("Len = %d after a stranger's update, want 2", tbl.Len())
	}
}

func TestContenderIsTheLeastRecentlySeenOfAFullBucket(t *testing.T) {
	self := selfID(t, 32)
	tbl := mustNew(t, self, kademlia.Options{K: 2, ReplacementCache: 2})
	a, b := in(t, self, 0, 1), in(t, self, 0, 2)
	newcomer := in(t, self, 0, 3)
	if c, ok := tbl.Contender(newcomer.ID); ok || c != nil {
		t.Fatalf("empty table: Contender = %v, %v; want nil, false", c, ok)
	}
	mustUpdate(t, tbl, a, route.Added)
	if _, ok := tbl.Contender(newcomer.ID); ok {
		t.Fatal("bucket with room: Contender reported one")
	}
	mustUpdate(t, tbl, b, route.Added)
	c, ok := tbl.Contender(newcomer.ID)
	if !ok || c.ID != a.ID {
		t.Fatalf("full bucket: Contender = %v, %v; want %s", c, ok, a.ID.Short())
	}
	// The contender is what Update would name as the candidate to ping.
	if got := pendingCandidate(t, tbl, in(t, self, 0, 4)); got != c.ID {
		t.Fatalf("Update names %s, Contender named %s", got.Short(), c.ID.Short())
	}
	mustUpdate(t, tbl, a, route.Refreshed) // b is now the least recently seen
	if c, _ := tbl.Contender(newcomer.ID); c == nil || c.ID != b.ID {
		t.Fatalf("after a's contact: Contender = %v, want %s", c, b.ID.Short())
	}
	for _, r := range []*peer.Record{a, b, in(t, self, 0, 4)} {
		if c, ok := tbl.Contender(r.ID); ok {
			t.Fatalf("held or waiting peer %s: Contender = %s", r.ID.Short(), c.ID.Short())
		}
	}
	if _, ok := tbl.Contender(in(t, self, 1, 1).ID); ok {
		t.Fatal("another, empty bucket: Contender reported one")
	}
	if _, ok := tbl.Contender(self); ok {
		t.Fatal("self: Contender reported one")
	}
}

// TestClosestOrdersPeersThatShareTheirFirst32Bits: Closest sorts a bucket
// by the first 32 bits of distance, then whole IDs on a tie; in a bucket
// deeper than 32 bits every key ties.
func TestClosestOrdersPeersThatShareTheirFirst32Bits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	self := selfID(t, 32)
	tbl := mustNew(t, self, kademlia.Options{K: 8})
	var held []peer.ID
	for salt := range uint64(8) {
		r := in(t, self, 40, rng.Uint64()|1<<63>>salt)
		mustUpdate(t, tbl, r, route.Added)
		held = append(held, r.ID)
	}
	for range 100 {
		target := route.Range{Prefix: held[0], Bits: 41}.Random(rng)
		want := slices.Clone(held)
		peer.SortByDistance(target, want)
		var got []peer.ID
		for _, r := range tbl.Closest(target, len(held)) {
			got = append(got, r.ID)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("Closest(%s) orders a bucket of tied prefixes wrongly", target.Short())
		}
	}
}

// TestBucketTimesOnlyMoveForward: a bucket is due interval after its
// latest contact, whatever order contacts arrive in, including times
// before the first the table saw and times on the monotonic clock.
func TestBucketTimesOnlyMoveForward(t *testing.T) {
	self := selfID(t, 32)
	dueAt := func(tbl *kademlia.Table, now time.Time) bool {
		for _, r := range tbl.DueForRefresh(now, time.Minute) {
			if r.Bits == 1 {
				return true
			}
		}
		return false
	}
	for _, base := range []time.Time{t0, time.Now(), {}} {
		tbl := mustNew(t, self, kademlia.Options{})
		tbl.Update(in(t, self, 0, 1), base)
		tbl.Update(in(t, self, 0, 2), base.Add(-time.Hour)) // older: no effect
		tbl.Refreshed(in(t, self, 0, 3).ID, base.Add(30*time.Second))
		tbl.Update(in(t, self, 0, 4), base.Add(10*time.Second)) // older again
		if dueAt(tbl, base.Add(90*time.Second-time.Nanosecond)) {
			t.Fatalf("base %v: due before a minute from the latest contact", base)
		}
		if !dueAt(tbl, base.Add(90*time.Second)) {
			t.Fatalf("base %v: not due a minute after the latest contact", base)
		}
		if dueAt(tbl, base.Add(-time.Hour)) {
			t.Fatalf("base %v: due at a time before its contacts", base)
		}
	}
}
