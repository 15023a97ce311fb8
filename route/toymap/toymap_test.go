package toymap_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/toymap"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func randomID(rng *rand.Rand, size int) peer.ID {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	id, _ := peer.IDFromBytes(b)
	return id
}

func mustNew(t testing.TB, self peer.ID, opts toymap.Options) *toymap.Table {
	tbl, err := toymap.New(self, opts)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func TestFullTableEvictsLeastRecentlySeen(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	tbl := mustNew(t, randomID(rng, 32), toymap.Options{MaxPeers: 3})
	a, b, c, d := &peer.Record{ID: randomID(rng, 32)}, &peer.Record{ID: randomID(rng, 32)},
		&peer.Record{ID: randomID(rng, 32)}, &peer.Record{ID: randomID(rng, 32)}
	for _, r := range []*peer.Record{a, b, c} {
		tbl.Update(r, t0)
	}
	tbl.Update(a, t0) // a is now the most recently seen; b the least
	if res := tbl.Update(d, t0); res.Status != route.Added {
		t.Fatalf("Update on a full table = %v, want added", res.Status)
	}
	if _, ok := tbl.Get(b.ID); ok {
		t.Fatal("the least recently seen peer was not evicted")
	}
	for _, r := range []*peer.Record{a, c, d} {
		if _, ok := tbl.Get(r.ID); !ok {
			t.Fatalf("peer %s was evicted, want only the least recently seen gone", r.ID.Short())
		}
	}
	if tbl.Len() != 3 {
		t.Fatalf("Len = %d, want the bound, 3", tbl.Len())
	}
}

func TestFailRemovesAtMaxFailuresAndContactResets(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	tbl := mustNew(t, randomID(rng, 32), toymap.Options{MaxFailures: 2})
	a := &peer.Record{ID: randomID(rng, 32)}
	tbl.Update(a, t0)
	if tbl.Fail(a.ID, t0) {
		t.Fatal("first failure removed the peer, want removal at the 2nd")
	}
	tbl.Update(a, t0)
	if tbl.Fail(a.ID, t0) {
		t.Fatal("first failure after contact removed the peer")
	}
	if !tbl.Fail(a.ID, t0) {
		t.Fatal("2nd consecutive failure did not remove the peer")
	}
}

func TestWholeKeySpaceIsOneRefreshRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	self := randomID(rng, 20)
	tbl := mustNew(t, self, toymap.Options{})
	due := tbl.DueForRefresh(t0, time.Hour)
	if len(due) != 1 || due[0].Bits != 0 || due[0].Prefix.Len() != 20 {
		t.Fatalf("new table: due = %v, want the whole 20-byte key space", due)
	}
	tbl.Refreshed(randomID(rng, 20), t0)
	if due := tbl.DueForRefresh(t0.Add(59*time.Minute), time.Hour); len(due) != 0 {
		t.Fatalf("due = %v within the interval of a lookup, want none", due)
	}
	if due := tbl.DueForRefresh(t0.Add(time.Hour), time.Hour); len(due) != 1 {
		t.Fatalf("due = %v an interval after the lookup, want the whole key space", due)
	}
}

func TestClosestMatchesFullSortInBothKeySpaces(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, size := range []int{peer.IDLen160, peer.IDLen256} {
		tbl := mustNew(t, randomID(rng, size), toymap.Options{MaxPeers: 500})
		var ids []peer.ID
		for range 2000 {
			id := randomID(rng, size)
			tbl.Update(&peer.Record{ID: id}, t0)
			ids = append(ids, id)
		}
		held := ids[len(ids)-500:] // the bound keeps the most recently seen
		for range 50 {
			target := randomID(rng, size)
			want := slices.Clone(held)
			peer.SortByDistance(target, want)
			for _, n := range []int{1, 20, 500, 600} {
				var got []peer.ID
				for _, r := range tbl.Closest(target, n) {
					got = append(got, r.ID)
				}
				if !slices.Equal(got, want[:min(n, len(want))]) {
					t.Fatalf("%d bytes: Closest(_, %d) differs from a full sort", size, n)
				}
			}
		}
	}
}

func TestNewRejectsInvalidOptions(t *testing.T) {
	self := randomID(rand.New(rand.NewPCG(5, 5)), 32)
	for name, c := range map[string]struct {
		self peer.ID
		opts toymap.Options
	}{
		"negative MaxPeers":    {self, toymap.Options{MaxPeers: -1}},
		"negative MaxFailures": {self, toymap.Options{MaxFailures: -2}},
		"zero self":            {peer.ID{}, toymap.Options{}},
	} {
		tbl, err := toymap.New(c.self, c.opts)
		if !errors.Is(err, toymap.ErrInvalidOptions) || tbl != nil {
			t.Errorf("%s: New = %v, %v; want nil and ErrInvalidOptions", name, tbl, err)
		}
	}
}

func TestUpdateRejectsNil(t *testing.T) {
	tbl := mustNew(t, randomID(rand.New(rand.NewPCG(6, 6)), 32), toymap.Options{})
	if res := tbl.Update(nil, t0); res.Status != route.Rejected || !errors.Is(res.Err, toymap.ErrNilRecord) {
		t.Fatalf("Update(nil) = %v, %v; want rejected, ErrNilRecord", res.Status, res.Err)
	}
}
