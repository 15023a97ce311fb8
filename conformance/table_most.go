package conformance

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
)

// tableMostPeers is how many peers the rule most-peers offers a table: far
// more than a bucketed table keeps, spread over every distance from self.
const tableMostPeers = 5000

// tableCrowd returns n records whose IDs cover the whole key space as seen
// from self: half of them random (so the far buckets overflow, as in any
// network), half at each common-prefix length with self in turn, down to
// the deepest. The records carry only an ID and Seq 1: a table keeps what
// the node verified, so none checks a signature, and signing thousands of
// records would cost the suite seconds.
func tableCrowd(rng *rand.Rand, self peer.ID, n int) ([]*peer.Record, error) {
	bits := self.Bits()
	seen := map[peer.ID]bool{self: true}
	recs := make([]*peer.Record, 0, n)
	for i := 0; len(recs) < n; i++ {
		var id peer.ID
		if i%2 == 0 {
			id = route.Range{Prefix: self, Bits: 0}.Random(rng)
		} else {
			// Share exactly cpl bits with self: flip bit cpl, draw the rest.
			cpl := (i / 2) % bits
			b := route.Range{Prefix: self, Bits: cpl + 1}.Random(rng).Bytes()
			b[cpl/8] ^= 0x80 >> (cpl % 8)
			var err error
			if id, err = peer.IDFromBytes(b); err != nil {
				return nil, err
			}
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		recs = append(recs, &peer.Record{ID: id, Seq: 1})
	}
	return recs, nil
}

// tableMost fills a table with far more peers than it keeps and checks
// every bound route.Table states on it: Update answers Added or Pending
// (naming a held candidate), Len is the number of peers Get finds, and
// Closest returns at most n distinct held peers, never self, in the
// table's order and exactly the first ones when that order is known, and
// every held peer when n reaches Len. Then Update, Remove and Closest run
// at once against the full table. The bounds of a table's own policy
// (bucket sizes, capacity) are not route.Table's: its own tests check
// them.
func tableMost(e *env, s tableSuite) error {
	// The 256-bit key space alone: the other rules run both, and this one
	// costs a few seconds per table under the race detector otherwise.
	for _, h := range tableHashers[:1] {
		f, err := tableNew(e, s, h)
		if err != nil {
			return err
		}
		self := f.tbl.Self()
		recs, err := tableCrowd(e.rng, self, tableMostPeers)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			switch res := f.tbl.Update(rec, tableT0); res.Status {
			case route.Added:
			case route.Pending:
				if res.Candidate == nil {
					return fmt.Errorf("%s: Update of new peer %s was Pending without a candidate", h.Name(), rec.ID.Short())
				}
				if _, ok := f.tbl.Get(res.Candidate.ID); !ok {
					return fmt.Errorf("%s: Update of new peer %s was Pending with candidate %s, which Get does not find", h.Name(), rec.ID.Short(), res.Candidate.ID.Short())
				}
			default:
				return fmt.Errorf("%s: Update of new peer %s after %d others: status %v (err %v), want added or pending", h.Name(), rec.ID.Short(), f.tbl.Len(), res.Status, res.Err)
			}
		}
		if err := tableMostCheck(e, s, f, recs); err != nil {
			return fmt.Errorf("%s, %d peers offered: %w", h.Name(), len(recs), err)
		}
		if err := e.ctx.Err(); err != nil {
			return err
		}
	}
	f, err := tableNew(e, s, peer.SHA256())
	if err != nil {
		return err
	}
	return tableMostConcurrent(e, s, f)
}

// tableMostCheck checks Len and Closest on a full table.
func tableMostCheck(e *env, s tableSuite, f *tableFixture, recs []*peer.Record) error {
	self := f.tbl.Self()
	heldRecs := f.held(recs)
	if n := f.tbl.Len(); n != len(heldRecs) {
		return fmt.Errorf("Len = %d, but Get finds %d of the peers", n, len(heldRecs))
	}
	if len(heldRecs) == 0 {
		return errors.New("the table holds none of the peers offered")
	}
	held := make(map[peer.ID]*peer.Record, len(heldRecs))
	for _, r := range heldRecs {
		held[r.ID] = r
	}
	order, err := f.order(s)
	var sk *skipped
	if errors.As(err, &sk) {
		order = nil // the order is unknown: check what holds for any order
	} else if err != nil {
		return err
	}
	// Self, a random ID, a held peer's, and IDs ever nearer self: enough
	// to reach every part of a bucketed table; each costs a full sort.
	all := f.targets(e, heldRecs)
	targets := []peer.ID{all[0], all[1], all[len(all)-1]}
	for _, bits := range []int{16, self.Bits() - 1} {
		targets = append(targets, route.Range{Prefix: self, Bits: bits}.Random(e.rng))
	}
	l := len(held)
	for i, target := range targets {
		var want []peer.ID
		if order != nil {
			want = tableBrute(order, target, heldRecs, l)
		}
		ns := []int{0, 1, 20, 256}
		if i == 0 {
			// A whole-table answer costs a full sort: one target shows it.
			ns = append(ns, l-1, l, l+1, 2*tableMostPeers)
		}
		for _, n := range ns {
			res := f.tbl.Closest(target, n)
			if n <= 0 {
				if len(res) != 0 {
					return fmt.Errorf("Closest(%s, %d) returned %d peers, want none", target.Short(), n, len(res))
				}
				continue
			}
			if err := tableCheckHeld(res, n, held, self); err != nil {
				return fmt.Errorf("Closest(%s, %d) over %d held peers: %w", target.Short(), n, l, err)
			}
			if order == nil {
				continue
			}
			if err := tableCheckSorted(order, target, res); err != nil {
				return fmt.Errorf("over %d held peers, n %d: %w", l, n, err)
			}
			if got := tableIDs(res); !slices.Equal(got, want[:min(n, l)]) {
				return fmt.Errorf("Closest(%s, %d) over %d held peers returned %d peers, not the %d that rank first", target.Short(), n, l, len(got), min(n, l))
			}
		}
	}
	return nil
}

// tableMostConcurrent runs Update of newcomers, Remove of held peers and
// Closest at once against a full table, then checks that Len, Get and
// Closest agree.
func tableMostConcurrent(e *env, s tableSuite, f *tableFixture) error {
	self := f.tbl.Self()
	recs, err := tableCrowd(e.rng, self, tableMostPeers/5)
	if err != nil {
		return err
	}
	first, later := recs[:len(recs)/2], recs[len(recs)/2:]
	for _, rec := range first {
		f.tbl.Update(rec, tableT0)
	}
	offered := make(map[peer.ID]bool, len(recs))
	for _, r := range recs {
		offered[r.ID] = true
	}
	order, err := f.order(s)
	if errors.As(err, new(*skipped)) {
		order = nil
	} else if err != nil {
		return err
	}
	const workers = 4
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := range workers {
		rng := rand.New(rand.NewPCG(e.rng.Uint64(), uint64(w)))
		wg.Go(func() {
			defer catch(func(err error) { errc <- err })
			for i := w; i < len(later); i += workers {
				now := tableT0.Add(time.Duration(i) * time.Millisecond)
				f.tbl.Update(later[i], now)
				f.tbl.Remove(first[rng.IntN(len(first))].ID)
				target := route.Range{Prefix: self, Bits: rng.IntN(self.Bits())}.Random(rng)
				n := 1 + rng.IntN(64)
				if i%32 == w {
					n = 2 * tableMostPeers // now and then the whole table
				}
				res := f.tbl.Closest(target, n)
				if len(res) > n {
					errc <- fmt.Errorf("concurrent Closest(_, %d) returned %d peers", n, len(res))
					return
				}
				seen := make(map[peer.ID]bool, len(res))
				for _, r := range res {
					if r == nil || r.ID == self || seen[r.ID] || !offered[r.ID] {
						errc <- fmt.Errorf("concurrent Closest(_, %d) returned nil, self, a duplicate or a peer never offered among %d", n, len(res))
						return
					}
					seen[r.ID] = true
				}
				if order != nil {
					if err := tableCheckSorted(order, target, res); err != nil {
						errc <- fmt.Errorf("concurrent use: %w", err)
						return
					}
				}
				if e.ctx.Err() != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	heldRecs := f.held(recs)
	if got := f.tbl.Len(); got != len(heldRecs) {
		return fmt.Errorf("after concurrent Update, Remove and Closest, Len = %d but Get finds %d peers", got, len(heldRecs))
	}
	held := make(map[peer.ID]*peer.Record, len(heldRecs))
	for _, r := range heldRecs {
		held[r.ID] = r
	}
	if err := tableCheckHeld(f.tbl.Closest(self, 2*tableMostPeers), 2*tableMostPeers, held, self); err != nil {
		return fmt.Errorf("after concurrent use, Closest(self, %d): %w", 2*tableMostPeers, err)
	}
	return nil
}
