package conformance_test

import (
	"errors"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/kademlia"
)

// More broken tables, one for each rule table_test.go's do not break: the
// toy map with one flaw each.

// tableNewIsRefreshed reports a new peer as Refreshed.
type tableNewIsRefreshed struct{ route.Table }

func (s tableNewIsRefreshed) Update(rec *peer.Record, now time.Time) route.Result {
	r := s.Table.Update(rec, now)
	if r.Status == route.Added {
		r.Status = route.Refreshed
	}
	return r
}

// tableBareKeySpace rejects a foreign key space with an error of its own.
type tableBareKeySpace struct{ route.Table }

func (s tableBareKeySpace) Update(rec *peer.Record, now time.Time) route.Result {
	r := s.Table.Update(rec, now)
	if errors.Is(r.Err, route.ErrKeySpace) {
		r.Err = errors.New("table: wrong ID length")
	}
	return r
}

// tableKnownIsAdded reports a held peer as Added again.
type tableKnownIsAdded struct{ route.Table }

func (s tableKnownIsAdded) Update(rec *peer.Record, now time.Time) route.Result {
	r := s.Table.Update(rec, now)
	if r.Status == route.Refreshed {
		r.Status = route.Added
	}
	return r
}

// tableRemoveNoop says it removed a peer and keeps it.
type tableRemoveNoop struct{ route.Table }

func (s tableRemoveNoop) Remove(id peer.ID) bool {
	_, ok := s.Get(id)
	return ok
}

// tableLenCountsAdds counts every Added, and never less.
type tableLenCountsAdds struct {
	route.Table
	adds *atomic.Int64
}

func (s tableLenCountsAdds) Update(rec *peer.Record, now time.Time) route.Result {
	r := s.Table.Update(rec, now)
	if r.Status == route.Added {
		s.adds.Add(1)
	}
	return r
}

func (s tableLenCountsAdds) Len() int { return int(s.adds.Load()) }

// tableKeepsFirstRecord never replaces the record it holds for a peer.
type tableKeepsFirstRecord struct{ route.Table }

func (s tableKeepsFirstRecord) Update(rec *peer.Record, now time.Time) route.Result {
	if rec != nil {
		if held, ok := s.Get(rec.ID); ok {
			return s.Table.Update(held, now)
		}
	}
	return s.Table.Update(rec, now)
}

// tableNotConcurrent breaks when two calls of Closest overlap, as a table
// with an unguarded cache would (without the data race).
type tableNotConcurrent struct {
	route.Table
	inFlight *atomic.Int32
}

func (s tableNotConcurrent) Closest(target peer.ID, n int) []*peer.Record {
	if s.inFlight.Add(1) > 1 {
		s.inFlight.Add(-1)
		panic("concurrent map read and map write")
	}
	runtime.Gosched()
	defer s.inFlight.Add(-1)
	return s.Table.Closest(target, n)
}

// tableBroken is a flaw of the toy map and the rules it breaks.
type tableBroken struct {
	name  string
	rules []string // every rule the table breaks, sorted
	table func(route.Table) route.Table
}

func tableMoreBroken() []tableBroken {
	return []tableBroken{
		{"new peer Refreshed", []string{"add-then-get", "closest-is-consistent", "closest-is-exact", "closest-is-sorted", "closest-n-bounds", "closest-returns-held", "due-for-refresh", "fail-eventually-removes", "higher-seq-record-replaces-lower", "lower-seq-does-not-replace", "most-peers", "refresh-known-peer", "remove", "self-rejected"}, func(t route.Table) route.Table { return tableNewIsRefreshed{t} }},
		{"foreign key space, bare error", []string{"wrong-key-space-rejected"}, func(t route.Table) route.Table { return tableBareKeySpace{t} }},
		{"known peer Added", []string{"higher-seq-record-replaces-lower", "lower-seq-does-not-replace", "refresh-known-peer"}, func(t route.Table) route.Table { return tableKnownIsAdded{t} }},
		{"Remove keeps the peer", []string{"remove"}, func(t route.Table) route.Table { return tableRemoveNoop{t} }},
		{"Len counts adds", []string{"concurrent-use", "len-counts", "most-peers", "remove"}, func(t route.Table) route.Table { return tableLenCountsAdds{t, new(atomic.Int64)} }},
		{"first record kept", []string{"higher-seq-record-replaces-lower"}, func(t route.Table) route.Table { return tableKeepsFirstRecord{t} }},
		{"not safe for concurrent use", []string{"concurrent-use", "most-peers"}, func(t route.Table) route.Table { return tableNotConcurrent{t, new(atomic.Int32)} }},
	}
}

// tableRemoveKeepsWaiting drops held peers on Remove, but not those
// waiting in the replacement cache.
type tableRemoveKeepsWaiting struct{ route.Table }

func (s tableRemoveKeepsWaiting) Remove(id peer.ID) bool {
	if _, held := s.Get(id); !held {
		return false
	}
	return s.Table.Remove(id)
}

// tableWantsHeldOnly says it wants only the peers it holds already, as if
// every bucket were full: Update still adds newcomers where there is room.
type tableWantsHeldOnly struct{ route.Table }

func (s tableWantsHeldOnly) Wants(id peer.ID) bool {
	_, ok := s.Get(id)
	return ok
}

// tableWantsNothing says it wants no peer, not even those it holds.
type tableWantsNothing struct{ route.Table }

func (tableWantsNothing) Wants(peer.ID) bool { return false }

func TestCheckTableCatchesAdmissionThatLies(t *testing.T) {
	tableLiesCaughtBy(t, "admission-is-honest", map[string]func(route.Table) route.Table{
		"wants held peers only": func(t route.Table) route.Table { return tableWantsHeldOnly{t} },
		"wants nothing":         func(t route.Table) route.Table { return tableWantsNothing{t} },
	})
}

// tableLiesCaughtBy runs the suite over Kademlia tables wrapped by each of
// wraps, and requires exactly rule to report each.
func tableLiesCaughtBy(t *testing.T, rule string, wraps map[string]func(route.Table) route.Table) {
	for name, wrap := range wraps {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			errs := conformance.CheckTable(t, func(t *testing.T, self peer.ID) route.Table {
				return wrap(tableKademlia(kademlia.Options{})(t, self))
			})
			var got []string
			for _, err := range errs {
				var v *conformance.Violation
				if errors.As(err, &v) {
					got = append(got, v.Rule)
				}
			}
			if !slices.Equal(got, []string{rule}) {
				t.Errorf("CheckTable reported %q, want exactly [%s]: %v", got, rule, errs)
			}
		})
	}
}

// tableContendsAlways names a held peer for every peer it does not hold,
// as if every bucket were full.
type tableContendsAlways struct{ route.Table }

func (s tableContendsAlways) Contender(id peer.ID) (*peer.Record, bool) {
	if _, held := s.Get(id); held || id == s.Self() {
		return nil, false
	}
	if c := s.Closest(id, 1); len(c) == 1 {
		return c[0], true
	}
	return nil, false
}

// tableContendsWithClosest says true when its bucket is full but names the
// held peer closest to the newcomer, not the one Update would have pinged.
type tableContendsWithClosest struct{ route.Table }

func (s tableContendsWithClosest) Contender(id peer.ID) (*peer.Record, bool) {
	if _, ok := s.Table.(route.Contention).Contender(id); !ok {
		return nil, false
	}
	return s.Closest(id, 1)[0], true
}

func TestCheckTableCatchesContentionThatLies(t *testing.T) {
	tableLiesCaughtBy(t, "contention-is-honest", map[string]func(route.Table) route.Table{
		"contends for every newcomer": func(t route.Table) route.Table { return tableContendsAlways{t} },
		"names the closest peer":      func(t route.Table) route.Table { return tableContendsWithClosest{t} },
	})
}

func TestCheckTableCatchesRemoveKeepingAWaitingPeer(t *testing.T) {
	errs := conformance.CheckTable(t, func(t *testing.T, self peer.ID) route.Table {
		return tableRemoveKeepsWaiting{tableKademlia(kademlia.Options{K: 2})(t, self)}
	})
	var got []string
	for _, err := range errs {
		var v *conformance.Violation
		if errors.As(err, &v) {
			got = append(got, v.Rule)
		}
	}
	if !slices.Equal(got, []string{"remove-drops-waiting-peer"}) {
		t.Errorf("CheckTable reported %q, want exactly [remove-drops-waiting-peer]: %v", got, errs)
	}
}

func TestCheckTableCatchesMoreBrokenTables(t *testing.T) {
	wrap := func(w func(route.Table) route.Table) func(*testing.T, peer.ID) route.Table {
		return func(t *testing.T, self peer.ID) route.Table { return w(tableToymap(t, self)) }
	}
	for _, c := range tableMoreBroken() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			errs := conformance.CheckTable(t, wrap(c.table))
			var got []string
			for _, err := range errs {
				var v *conformance.Violation
				if errors.As(err, &v) {
					got = append(got, v.Rule)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, c.rules) {
				t.Errorf("CheckTable reported %q, want exactly %q: %v", got, c.rules, errs)
			}
		})
	}
}

// Every table rule is broken by some broken table above or in
// table_test.go.
func TestEveryTableRuleHasABrokenTable(t *testing.T) {
	var wants [][]string
	for _, c := range tableMoreBroken() {
		wants = append(wants, c.rules)
	}
	everyRuleBroken(t, "table", append(wants,
		[]string{"closest-is-sorted", "closest-is-consistent", "closest-is-exact", "closest-returns-held", "closest-n-bounds"},
		[]string{"self-rejected", "lower-seq-does-not-replace", "fail-eventually-removes", "due-for-refresh", "pending-names-candidate"},
		[]string{"remove-drops-waiting-peer"},
		[]string{"admission-is-honest"},
		[]string{"contention-is-honest"})...)
}
