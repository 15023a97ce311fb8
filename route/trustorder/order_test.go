package trustorder_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route/trustorder"
)

// flip returns target with bit i flipped: the larger i, the nearer.
func flip(t *testing.T, target peer.ID, i int) peer.ID {
	t.Helper()
	b := target.Bytes()
	b[i/8] ^= 0x80 >> (i % 8)
	id, err := peer.IDFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestHigherLevelComesFirstWhateverTheDistance(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	lv := newLevels()
	tbl := mustNew(t, randomID(rng, 32), trustorder.Options{Level: lv.Level})
	target := randomID(rng, 32)
	farthest := flip(t, target, 0)    // differs in the first bit
	nearest := flip(t, target, 255)   // differs in the last bit only
	untrusted := flip(t, target, 254) // nearer than all but nearest
	lv.set(farthest, 2)
	lv.set(nearest, 1)
	lv.set(untrusted, -3)
	for _, id := range []peer.ID{nearest, untrusted, farthest} {
		tbl.Update(&peer.Record{ID: id}, t0)
	}
	got := ids(tbl.Closest(target, 3))
	if want := []peer.ID{farthest, nearest, untrusted}; !slices.Equal(got, want) {
		t.Fatalf("Closest = %v, want level 2 (farthest) then level 1 (nearest) then untrusted: %v", shorts(got), shorts(want))
	}
	if got := ids(tbl.Closest(target, 1)); !slices.Equal(got, []peer.ID{farthest}) {
		t.Fatalf("Closest(_, 1) = %v, want the most trusted peer, %s, though it is the farthest", shorts(got), farthest.Short())
	}
}

func TestWithinALevelPeersRankByXORDistance(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	lv := newLevels()
	tbl := mustNew(t, randomID(rng, 32), trustorder.Options{Level: lv.Level})
	byLevel := map[int][]peer.ID{}
	for range 300 {
		id := randomID(rng, 32)
		level := rng.IntN(4) + 1 // 1..4: every level trusted, so none merge
		lv.set(id, level)
		byLevel[level] = append(byLevel[level], id)
		tbl.Update(&peer.Record{ID: id}, t0)
	}
	for range 20 {
		target := randomID(rng, 32)
		var want []peer.ID
		for level := 4; level >= 1; level-- {
			group := slices.Clone(byLevel[level])
			peer.SortByDistance(target, group)
			want = append(want, group...)
		}
		if got := ids(tbl.Closest(target, len(want))); !slices.Equal(got, want) {
			t.Fatalf("Closest(%s) is not each level in turn, by XOR distance within it", target.Short())
		}
	}
}

// Levels 0, -1 and -5 are one untrusted level: XOR distance alone orders
// them, and every trusted peer comes before them.
func TestUntrustedLevelsRankAsOneLevelAfterEveryTrustedPeer(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	lv := newLevels()
	tbl := mustNew(t, randomID(rng, 20), trustorder.Options{Level: lv.Level})
	var trusted, untrusted []peer.ID
	for i := range 60 {
		id := randomID(rng, 20)
		switch i % 4 {
		case 0:
			lv.set(id, 1)
			trusted = append(trusted, id)
		case 1:
			lv.set(id, -1)
			untrusted = append(untrusted, id)
		case 2:
			lv.set(id, -5)
			untrusted = append(untrusted, id)
		default: // never set: level 0
			untrusted = append(untrusted, id)
		}
		tbl.Update(&peer.Record{ID: id}, t0)
	}
	target := randomID(rng, 20)
	peer.SortByDistance(target, trusted)
	peer.SortByDistance(target, untrusted)
	if got, want := ids(tbl.Closest(target, 60)), append(trusted, untrusted...); !slices.Equal(got, want) {
		t.Fatalf("Closest = %v, want the trusted by distance, then levels <= 0 together by distance: %v", shorts(got), shorts(want))
	}
}

func TestLevelChangeShowsInNextClosest(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	lv := newLevels()
	tbl := mustNew(t, randomID(rng, 32), trustorder.Options{Level: lv.Level})
	var all []peer.ID
	for range 50 {
		id := randomID(rng, 32)
		lv.set(id, 1)
		all = append(all, id)
		tbl.Update(&peer.Record{ID: id}, t0)
	}
	target := randomID(rng, 32)
	peer.SortByDistance(target, all)
	far, near := all[len(all)-1], all[0]
	if got := tbl.Closest(target, 1); got[0].ID != near {
		t.Fatalf("before any change, Closest(_, 1) = %s, want the nearest, %s", got[0].ID.Short(), near.Short())
	}
	lv.set(far, 7) // promoted by the web of trust
	if got := tbl.Closest(target, 1); got[0].ID != far {
		t.Fatalf("after raising %s to level 7, Closest(_, 1) = %s, want it first", far.Short(), got[0].ID.Short())
	}
	lv.set(near, -1) // endorsement revoked
	lv.set(far, 1)
	got := ids(tbl.Closest(target, len(all)))
	if got[0] != all[1] || got[len(got)-1] != near {
		t.Fatalf("after lowering %s to -1, Closest = %v, want it last and the next nearest first", near.Short(), shorts(got))
	}
}
