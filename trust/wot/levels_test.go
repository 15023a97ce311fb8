package wot

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dhtkit/dhtkit/peer"
)

func testIDs(n int) []peer.ID {
	ids := make([]peer.ID, n)
	for i := range ids {
		ids[i] = peer.SHA1().Sum([]byte(fmt.Sprint("peer ", i)))
	}
	return ids
}

// leastFixpoint is the rule of the package doc applied naively: start every
// non-root at 0 and recompute every level from the last round's until
// nothing changes. derive must agree with it.
func leastFixpoint(roots map[peer.ID]struct{}, maxLevel, threshold int, vouches map[peer.ID][]vouch) map[peer.ID]int {
	level := func(m map[peer.ID]int, id peer.ID) int {
		if _, ok := roots[id]; ok {
			return maxLevel
		}
		return m[id]
	}
	cur := map[peer.ID]int{}
	for {
		next := map[peer.ID]int{}
		for to, vs := range vouches {
			if _, root := roots[to]; root {
				continue
			}
			var counts []int
			for _, v := range vs {
				if v.by != to {
					counts = append(counts, min(v.level, maxLevel, level(cur, v.by)))
				}
			}
			slices.Sort(counts)
			slices.Reverse(counts)
			if len(counts) >= threshold && counts[threshold-1] > 0 {
				next[to] = counts[threshold-1]
			}
		}
		if maps.Equal(cur, next) {
			return cur
		}
		cur = next
	}
}

func TestDeriveMatchesTheNaiveFixpoint(t *testing.T) {
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 1))
	for round := range 300 {
		n := 2 + rng.IntN(30)
		ids := testIDs(n)
		roots := map[peer.ID]struct{}{}
		for _, id := range ids[:1+rng.IntN(min(3, n-1))] {
			roots[id] = struct{}{}
		}
		maxLevel, threshold := 1+rng.IntN(5), 1+rng.IntN(3)
		vouches := map[peer.ID][]vouch{}
		for _, to := range ids {
			for _, by := range ids {
				if by != to && rng.IntN(4) == 0 {
					vouches[to] = append(vouches[to], vouch{by, 1 + rng.IntN(maxLevel+1)})
				}
			}
		}
		got := derive(roots, maxLevel, threshold, vouches)
		want := leastFixpoint(roots, maxLevel, threshold, vouches)
		if !maps.Equal(got, want) {
			t.Fatalf("seed %d round %d (max %d, threshold %d): derive %v, fixpoint %v", seed, round, maxLevel, threshold, got, want)
		}
	}
}

func TestDeriveThresholdTakesTheKthHighestCount(t *testing.T) {
	ids := testIDs(5)
	r1, r2, r3, a := ids[0], ids[1], ids[2], ids[3]
	roots := map[peer.ID]struct{}{r1: {}, r2: {}, r3: {}}
	vouches := map[peer.ID][]vouch{a: {{r1, 3}, {r2, 1}, {r3, 2}}}
	for threshold, want := range map[int]int{1: 3, 2: 2, 3: 1, 4: 0} {
		if got := derive(roots, 3, threshold, vouches)[a]; got != want {
			t.Errorf("threshold %d: level %d, want %d", threshold, got, want)
		}
	}
}

func TestInsertDesc(t *testing.T) {
	var s []int
	for _, c := range []int{2, 5, 1, 3, 5, 4} {
		s = insertDesc(s, c, 3)
	}
	if !slices.Equal(s, []int{5, 5, 4}) {
		t.Fatalf("insertDesc kept %v, want [5 5 4]", s)
	}
}
