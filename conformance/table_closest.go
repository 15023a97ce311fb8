package conformance

import (
	"fmt"
	"slices"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
)

func tableClosestSorted(e *env, factory tableFactory) error {
	for _, h := range tableHashers {
		f, err := tableNew(e, factory, h)
		if err != nil {
			return err
		}
		recs, _, err := f.fill(e, 60)
		if err != nil {
			return err
		}
		held := f.held(recs)
		for _, target := range f.targets(e, held) {
			for _, n := range []int{2, 8, 20, len(held) + 5} {
				res := f.tbl.Closest(target, n)
				if err := tableCheckSorted(target, res); err != nil {
					return fmt.Errorf("%s, n=%d: %w", h.Name(), n, err)
				}
			}
		}
	}
	return nil
}

func tableClosestExact(e *env, factory tableFactory) error {
	for _, h := range tableHashers {
		f, err := tableNew(e, factory, h)
		if err != nil {
			return err
		}
		recs, _, err := f.fill(e, 60)
		if err != nil {
			return err
		}
		held := f.held(recs)
		for _, target := range f.targets(e, held) {
			for _, n := range []int{1, 5, 20, len(held), len(held) + 3} {
				got := tableIDs(f.tbl.Closest(target, n))
				want := tableBrute(target, held, n)
				if !tableSameSet(got, want) {
					return fmt.Errorf("%s: Closest(%s, %d) over %d held peers returned %v, want %v",
						h.Name(), target.Short(), n, len(held), tableShort(got), tableShort(want))
				}
			}
		}
	}
	return nil
}

func tableClosestBounds(e *env, factory tableFactory) error {
	f, err := tableNew(e, factory, peer.SHA256())
	if err != nil {
		return err
	}
	target := route.Range{Prefix: f.tbl.Self()}.Random(e.rng)
	if res := f.tbl.Closest(target, 5); len(res) != 0 {
		return fmt.Errorf("Closest on an empty table returned %d peers, want 0", len(res))
	}
	if _, _, err := f.fill(e, 20); err != nil {
		return err
	}
	for _, n := range []int{0, -1} {
		if res := f.tbl.Closest(target, n); len(res) != 0 {
			return fmt.Errorf("Closest(target, %d) returned %d peers, want 0", n, len(res))
		}
	}
	size := f.tbl.Len()
	for _, n := range []int{3, size + 10} {
		if res := f.tbl.Closest(target, n); len(res) > min(n, size) {
			return fmt.Errorf("Closest(target, %d) with Len %d returned %d peers", n, size, len(res))
		}
	}
	first := f.tbl.Closest(target, size)
	want := tableIDs(first)
	for i := range first { // the caller owns the slice: scribble on it
		first[i] = nil
	}
	if got := f.tbl.Closest(target, size); !slices.Equal(tableIDsOrZero(got), want) {
		return fmt.Errorf("after the caller cleared a returned slice, Closest returned %v, want %v: the table returns its own storage",
			tableShort(tableIDsOrZero(got)), tableShort(want))
	}
	return nil
}

// tableIDsOrZero is tableIDs tolerating nil records, which show as zero IDs.
func tableIDsOrZero(recs []*peer.Record) []peer.ID {
	ids := make([]peer.ID, len(recs))
	for i, r := range recs {
		if r != nil {
			ids[i] = r.ID
		}
	}
	return ids
}
