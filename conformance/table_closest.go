package conformance

import (
	"fmt"
	"slices"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
)

func tableClosestHeld(e *env, s tableSuite) error {
	for _, h := range tableHashers {
		f, err := tableNew(e, s, h)
		if err != nil {
			return err
		}
		recs, _, err := f.fill(e, 60)
		if err != nil {
			return err
		}
		heldRecs := f.held(recs)
		held := make(map[peer.ID]*peer.Record, len(heldRecs))
		for _, r := range heldRecs {
			held[r.ID] = r
		}
		self := f.tbl.Self()
		for _, target := range f.targets(e, heldRecs) {
			for _, n := range []int{1, 5, 20, len(held), len(held) + 3} {
				res := f.tbl.Closest(target, n)
				if err := tableCheckHeld(res, n, held, self); err != nil {
					return fmt.Errorf("%s: Closest(%s, %d) over %d held peers: %w", h.Name(), target.Short(), n, len(held), err)
				}
			}
		}
	}
	return nil
}

// tableCheckHeld checks one answer of Closest(_, n) against the held
// records by ID.
func tableCheckHeld(res []*peer.Record, n int, held map[peer.ID]*peer.Record, self peer.ID) error {
	if len(res) > n {
		return fmt.Errorf("returned %d peers, more than n", len(res))
	}
	seen := make(map[peer.ID]bool, len(res))
	for i, r := range res {
		switch {
		case r == nil:
			return fmt.Errorf("returned a nil record at %d", i)
		case r.ID == self:
			return fmt.Errorf("returned the table's own peer at %d", i)
		case seen[r.ID]:
			return fmt.Errorf("returned %s twice", r.ID.Short())
		}
		seen[r.ID] = true
		got, ok := held[r.ID]
		if !ok {
			return fmt.Errorf("returned %s at %d, which Get does not find", r.ID.Short(), i)
		}
		if got.Seq != r.Seq {
			return fmt.Errorf("returned %s with Seq %d, but Get holds Seq %d", r.ID.Short(), r.Seq, got.Seq)
		}
	}
	if n >= len(held) && len(res) != len(held) {
		return fmt.Errorf("returned %d peers, want every held peer", len(res))
	}
	return nil
}

func tableClosestConsistent(e *env, s tableSuite) error {
	f, err := tableNew(e, s, peer.SHA256())
	if err != nil {
		return err
	}
	recs, _, err := f.fill(e, 60)
	if err != nil {
		return err
	}
	held := f.held(recs)
	size := f.tbl.Len()
	for _, target := range f.targets(e, held) {
		full := tableIDsOrZero(f.tbl.Closest(target, size+1))
		if again := tableIDsOrZero(f.tbl.Closest(target, size+1)); !slices.Equal(again, full) {
			return fmt.Errorf("Closest(%s, %d) returned %v, then %v with the table unchanged",
				target.Short(), size+1, tableShort(full), tableShort(again))
		}
		for _, m := range []int{1, 2, 5, size / 2, size} {
			got := tableIDsOrZero(f.tbl.Closest(target, m))
			if want := full[:min(m, len(full))]; !slices.Equal(got, want) {
				return fmt.Errorf("Closest(%s, %d) returned %v, want the first %d of Closest(%s, %d), %v",
					target.Short(), m, tableShort(got), m, target.Short(), size+1, tableShort(want))
			}
		}
	}
	return nil
}

func tableClosestSorted(e *env, s tableSuite) error {
	for _, h := range tableHashers {
		f, err := tableNew(e, s, h)
		if err != nil {
			return err
		}
		order, err := f.order(s)
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
				if err := tableCheckSorted(order, target, res); err != nil {
					return fmt.Errorf("%s, n=%d: %w", h.Name(), n, err)
				}
			}
		}
	}
	return nil
}

func tableClosestExact(e *env, s tableSuite) error {
	for _, h := range tableHashers {
		f, err := tableNew(e, s, h)
		if err != nil {
			return err
		}
		order, err := f.order(s)
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
				want := tableBrute(order, target, held, n)
				if !tableSameSet(got, want) {
					return fmt.Errorf("%s: Closest(%s, %d) over %d held peers returned %v, want %v",
						h.Name(), target.Short(), n, len(held), tableShort(got), tableShort(want))
				}
			}
		}
	}
	return nil
}

func tableClosestBounds(e *env, s tableSuite) error {
	f, err := tableNew(e, s, peer.SHA256())
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
