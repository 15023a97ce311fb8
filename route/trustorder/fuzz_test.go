package trustorder_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/trustorder"
)

// FuzzOperations drives a small table with any sequence of updates,
// failures, removals, refreshes and level changes over a crowded universe
// of peers, and checks after each step that Len agrees with Get, that the
// capacity holds, and that Closest agrees with a full sort of what Get
// finds by the documented order at the current levels, a shorter answer
// being its prefix.
func FuzzOperations(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 0, 3, 0, 4, 1, 1, 2, 2})
	f.Add([]byte{0, 10, 0, 11, 0, 12, 0, 13, 0, 14, 4, 10, 1, 10, 1, 10, 0, 15})
	f.Add([]byte{4, 200, 0, 200, 0, 201, 0, 202, 2, 200, 0, 203, 3, 0, 4, 201, 0, 255})
	f.Add([]byte{0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 4, 7, 4, 1, 1, 1, 0, 8, 2, 5})
	f.Fuzz(func(t *testing.T, ops []byte) {
		rng := rand.New(rand.NewPCG(1, 2))
		lv := newLevels()
		const capacity = 4
		tbl := mustNew(t, randomID(rng, 20), trustorder.Options{Level: lv.Level, Capacity: capacity, ReplacementCache: 2, MaxFailures: 2})
		universe := make([]peer.ID, 24)
		for i := range universe {
			universe[i] = randomID(rng, 20)
			lv.set(universe[i], i%5-1)
		}
		now := t0
		for i := 0; i+1 < len(ops); i += 2 {
			id := universe[int(ops[i+1])%len(universe)]
			now = now.Add(time.Second)
			switch ops[i] % 5 {
			case 0:
				tbl.Update(&peer.Record{ID: id, Seq: uint64(ops[i+1])}, now)
			case 1:
				tbl.Fail(id, now)
			case 2:
				tbl.Remove(id)
			case 3:
				tbl.Refreshed(id, now)
				tbl.DueForRefresh(now, time.Minute)
			case 4: // trust is refreshed: the peer moves to another level
				lv.set(id, int(ops[i+1]/24)%5-1)
			}
			var held []peer.ID
			for _, u := range universe {
				if _, ok := tbl.Get(u); ok {
					held = append(held, u)
				}
			}
			if tbl.Len() != len(held) {
				t.Fatalf("step %d: Len = %d, Get finds %d", i/2, tbl.Len(), len(held))
			}
			if len(held) > capacity {
				t.Fatalf("step %d: %d peers held, capacity %d", i/2, len(held), capacity)
			}
			target := route.Range{Prefix: tbl.Self()}.Random(newRand(ops, i))
			want := slices.Clone(held)
			slices.SortFunc(want, func(a, b peer.ID) int { return order(lv.Level)(target, a, b) })
			if got := ids(tbl.Closest(target, len(held)+1)); !slices.Equal(got, want) {
				t.Fatalf("step %d: Closest = %v, a full sort gives %v", i/2, shorts(got), shorts(want))
			}
			if got := ids(tbl.Closest(target, 2)); !slices.Equal(got, want[:min(2, len(want))]) {
				t.Fatalf("step %d: Closest(_, 2) = %v, want the first two of %v", i/2, shorts(got), shorts(want))
			}
		}
	})
}

// newRand derives a deterministic generator from the fuzz input.
func newRand(ops []byte, i int) *rand.Rand {
	var seed uint64
	for _, b := range ops {
		seed = seed*31 + uint64(b)
	}
	return rand.New(rand.NewPCG(seed, uint64(i)))
}
