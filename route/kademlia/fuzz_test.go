package kademlia_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/kademlia"
)

// FuzzOperations drives a small table with any sequence of updates,
// failures and removals over a few crowded buckets and checks after each
// step that Len agrees with Get, that no bucket overflows, and that Closest
// agrees with a full sort of what Get finds.
func FuzzOperations(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 0, 3, 0, 4, 1, 1, 2, 2})
	f.Add([]byte{0, 10, 0, 11, 0, 12, 0, 13, 0, 14, 1, 10, 1, 10, 1, 10, 0, 15})
	f.Add([]byte{0, 200, 0, 201, 0, 202, 2, 200, 0, 203, 3, 0, 0, 255})
	f.Fuzz(func(t *testing.T, ops []byte) {
		self := selfID(t, 20)
		const k = 2
		tbl := mustNew(t, self, kademlia.Options{K: k, ReplacementCache: 2, MaxFailures: 2})
		// Peers live in buckets 0 to 3, 8 candidates each: buckets overflow.
		var universe []peer.ID
		for cpl := range 4 {
			for salt := range 8 {
				universe = append(universe, in(t, self, cpl, uint64(salt+1)).ID)
			}
		}
		now := t0
		for i := 0; i+1 < len(ops); i += 2 {
			id := universe[int(ops[i+1])%len(universe)]
			now = now.Add(time.Second)
			switch ops[i] % 4 {
			case 0:
				tbl.Update(&peer.Record{ID: id, Seq: uint64(ops[i+1])}, now)
			case 1:
				tbl.Fail(id, now)
			case 2:
				tbl.Remove(id)
			case 3:
				tbl.Refreshed(id, now)
				tbl.DueForRefresh(now, time.Minute)
			}
			var held []peer.ID
			perBucket := map[int]int{}
			for _, u := range universe {
				if _, ok := tbl.Get(u); ok {
					held = append(held, u)
					perBucket[self.CommonPrefixLen(u)]++
				}
			}
			if tbl.Len() != len(held) {
				t.Fatalf("step %d: Len = %d, Get finds %d", i/2, tbl.Len(), len(held))
			}
			for b, n := range perBucket {
				if n > k {
					t.Fatalf("step %d: bucket %d holds %d peers, K = %d", i/2, b, n, k)
				}
			}
			target := route.Range{Prefix: self}.Random(newRand(ops, i))
			peer.SortByDistance(target, held)
			var got []peer.ID
			for _, r := range tbl.Closest(target, len(held)) {
				got = append(got, r.ID)
			}
			if !slices.Equal(got, held) {
				t.Fatalf("step %d: Closest differs from a full sort", i/2)
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
