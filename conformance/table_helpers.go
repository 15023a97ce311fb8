package conformance

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
)

// tableFactory builds the table under test for the key space of self.
type tableFactory = func(t *testing.T, self peer.ID) route.Table

// tableSuite is what each table rule receives.
type tableSuite struct {
	newTable tableFactory
	opts     TableOptions
}

// tableT0 is the suite's starting time: tables read no clock, so any fixed
// instant will do.
var tableT0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// tableHashers are the key spaces the rules that depend on geometry run in:
// 256-bit (the default) and 160-bit (SHA-1 networks).
var tableHashers = []peer.Hasher{peer.SHA256(), peer.SHA1()}

// tableFixture is a fresh table and the identity of its own peer.
type tableFixture struct {
	tbl  route.Table
	self *peer.Identity
	h    peer.Hasher
}

// tableNew builds a table for a seeded identity in h's key space.
func tableNew(e *env, s tableSuite, h peer.Hasher) (*tableFixture, error) {
	self, err := tableIdentity(e)
	if err != nil {
		return nil, err
	}
	id := self.ID(h)
	tbl := s.newTable(e.t, id)
	if tbl == nil {
		return nil, errors.New("factory returned a nil table")
	}
	if got := tbl.Self(); got != id {
		return nil, fmt.Errorf("Self() = %s, want the ID the factory was given, %s", got.Short(), id.Short())
	}
	return &tableFixture{tbl: tbl, self: self, h: h}, nil
}

func tableIdentity(e *env) (*peer.Identity, error) {
	seed := make([]byte, 32)
	for i := range seed {
		seed[i] = byte(e.rng.Uint32())
	}
	return peer.IdentityFromSeed(seed)
}

// peers returns n records of new seeded identities, Seq 1.
func (f *tableFixture) peers(e *env, n int) ([]*peer.Record, error) {
	recs := make([]*peer.Record, 0, n)
	for range n {
		id, err := tableIdentity(e)
		if err != nil {
			return nil, err
		}
		rec, err := peer.NewRecord(id, f.h, 1)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// fill adds n new peers at tableT0 and returns them with the number of
// updates that came back Pending. Any other status than Added or Pending
// for a new valid peer is an error.
func (f *tableFixture) fill(e *env, n int) ([]*peer.Record, int, error) {
	recs, err := f.peers(e, n)
	if err != nil {
		return nil, 0, err
	}
	pending := 0
	for _, rec := range recs {
		switch res := f.tbl.Update(rec, tableT0); res.Status {
		case route.Added:
		case route.Pending:
			pending++
		default:
			return nil, 0, fmt.Errorf("Update of new peer %s: status %v (err %v), want added or pending", rec.ID.Short(), res.Status, res.Err)
		}
	}
	return recs, pending, nil
}

// held returns the records among recs that the table holds, as Get returns
// them.
func (f *tableFixture) held(recs []*peer.Record) []*peer.Record {
	var out []*peer.Record
	for _, r := range recs {
		if got, ok := f.tbl.Get(r.ID); ok {
			out = append(out, got)
		}
	}
	return out
}

// someHeld returns the held records among recs, or an error when the
// table holds none of them.
func (f *tableFixture) someHeld(recs []*peer.Record) ([]*peer.Record, error) {
	held := f.held(recs)
	if len(held) == 0 {
		return nil, fmt.Errorf("Get finds none of the %d peers added", len(recs))
	}
	return held, nil
}

// targets returns random IDs of the key space: some anywhere, some sharing
// a long prefix with self (where a bucketed table's deep buckets matter),
// self itself and the IDs of a few held peers.
func (f *tableFixture) targets(e *env, held []*peer.Record) []peer.ID {
	self := f.tbl.Self()
	ts := []peer.ID{self}
	for range 6 {
		ts = append(ts, route.Range{Prefix: self, Bits: 0}.Random(e.rng))
	}
	for _, bits := range []int{1, 2, 4, 8, self.Bits() - 3} {
		ts = append(ts, route.Range{Prefix: self, Bits: bits}.Random(e.rng))
	}
	for i := 0; i < len(held) && i < 3; i++ {
		ts = append(ts, held[e.rng.IntN(len(held))].ID)
	}
	return ts
}

// tableOrder is the order in which Closest ranks peers for a target:
// negative when a ranks before b.
type tableOrder func(target, a, b peer.ID) int

// order returns the order the table states: XOR distance for an
// XOR-ordered table, else TableOptions.Compare; without either, the rules
// that check the order do not apply.
func (f *tableFixture) order(s tableSuite) (tableOrder, error) {
	if route.XOROrdered(f.tbl) {
		return peer.CompareDistance, nil
	}
	if s.opts.Compare == nil {
		return nil, skip("the table is not XOR-ordered (route.Ordering) and TableOptions.Compare does not state its order")
	}
	return s.opts.Compare, nil
}

// tableBrute returns the IDs of the n records that rank first for target,
// by a full sort.
func tableBrute(order tableOrder, target peer.ID, recs []*peer.Record, n int) []peer.ID {
	ids := tableIDs(recs)
	slices.SortFunc(ids, func(a, b peer.ID) int { return order(target, a, b) })
	return ids[:min(n, len(ids))]
}

func tableIDs(recs []*peer.Record) []peer.ID {
	ids := make([]peer.ID, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	return ids
}

// tableShort prints IDs for error messages.
func tableShort(ids []peer.ID) []string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.Short()
	}
	return s
}

// tableCheckSorted checks that res is strictly in order, which rules out
// duplicates, and holds no nil records.
func tableCheckSorted(order tableOrder, target peer.ID, res []*peer.Record) error {
	for i, r := range res {
		if r == nil {
			return fmt.Errorf("Closest(%s) returned a nil record at %d", target.Short(), i)
		}
		if i > 0 && order(target, res[i-1].ID, r.ID) >= 0 {
			return fmt.Errorf("Closest(%s) is out of order: %s at %d does not rank before %s at %d (all: %v)",
				target.Short(), res[i-1].ID.Short(), i-1, r.ID.Short(), i, tableShort(tableIDs(res)))
		}
	}
	return nil
}

// tableHas reports whether id is among recs.
func tableHas(recs []*peer.Record, id peer.ID) bool {
	return slices.ContainsFunc(recs, func(r *peer.Record) bool { return r != nil && r.ID == id })
}

// tableSameSet reports whether a and b hold the same IDs.
func tableSameSet(a, b []peer.ID) bool {
	if len(a) != len(b) {
		return false
	}
	sa, sb := slices.Clone(a), slices.Clone(b)
	slices.SortFunc(sa, peer.Compare)
	slices.SortFunc(sb, peer.Compare)
	return slices.Equal(sa, sb)
}
