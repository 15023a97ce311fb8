package conformance_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/kademlia"
	"github.com/dhtkit/dhtkit/route/toymap"
)

// tableToymap builds a correct table for the broken wrappers to break.
func tableToymap(t *testing.T, self peer.ID) route.Table {
	tbl, err := toymap.New(self, toymap.Options{})
	if err != nil {
		t.Fatalf("toymap.New: %v", err)
	}
	return tbl
}

func tableKademlia(opts kademlia.Options) func(t *testing.T, self peer.ID) route.Table {
	return func(t *testing.T, self peer.ID) route.Table {
		tbl, err := kademlia.New(self, opts)
		if err != nil {
			t.Fatalf("kademlia.New: %v", err)
		}
		return tbl
	}
}

// tableReversed returns Closest farthest-first.
type tableReversed struct{ route.Table }

func (r tableReversed) Closest(target peer.ID, n int) []*peer.Record {
	res := r.Table.Closest(target, n)
	slices.Reverse(res)
	return res
}

// tableDropsClosest leaves the closest peer out of every answer.
type tableDropsClosest struct{ route.Table }

func (d tableDropsClosest) Closest(target peer.ID, n int) []*peer.Record {
	if n <= 0 {
		return nil
	}
	res := d.Table.Closest(target, n+1)
	if len(res) == 0 {
		return res
	}
	return res[1:min(len(res), n+1)]
}

// tableAliased memoises Closest and hands every caller the same slice, so a
// caller that modifies its result corrupts the next one. Writes clear the
// memo, so answers are otherwise right.
type tableAliased struct {
	route.Table
	mu   sync.Mutex
	memo map[tableQuery][]*peer.Record
}

type tableQuery struct {
	target peer.ID
	n      int
}

func (a *tableAliased) Closest(target peer.ID, n int) []*peer.Record {
	a.mu.Lock()
	defer a.mu.Unlock()
	q := tableQuery{target, n}
	if res, ok := a.memo[q]; ok {
		return res
	}
	res := a.Table.Closest(target, n)
	a.memo[q] = res
	return res
}

func (a *tableAliased) forget() {
	a.mu.Lock()
	clear(a.memo)
	a.mu.Unlock()
}

func (a *tableAliased) Update(rec *peer.Record, now time.Time) route.Result {
	defer a.forget()
	return a.Table.Update(rec, now)
}

func (a *tableAliased) Fail(id peer.ID, now time.Time) bool {
	defer a.forget()
	return a.Table.Fail(id, now)
}

func (a *tableAliased) Remove(id peer.ID) bool {
	defer a.forget()
	return a.Table.Remove(id)
}

// tableAcceptsSelf says Added to its own record.
type tableAcceptsSelf struct{ route.Table }

func (s tableAcceptsSelf) Update(rec *peer.Record, now time.Time) route.Result {
	if rec != nil && rec.ID == s.Self() {
		return route.Result{Status: route.Added}
	}
	return s.Table.Update(rec, now)
}

// tableLowerSeqWins lets any record replace the held one.
type tableLowerSeqWins struct{ route.Table }

func (l tableLowerSeqWins) Update(rec *peer.Record, now time.Time) route.Result {
	if held, ok := l.Get(rec.ID); ok && rec.Seq < held.Seq {
		l.Remove(rec.ID)
		l.Table.Update(rec, now)
		return route.Result{Status: route.Refreshed}
	}
	return l.Table.Update(rec, now)
}

// tableNeverFails ignores failed contacts.
type tableNeverFails struct{ route.Table }

func (tableNeverFails) Fail(peer.ID, time.Time) bool { return false }

// tableNeverDue never asks for a refresh.
type tableNeverDue struct{ route.Table }

func (tableNeverDue) DueForRefresh(time.Time, time.Duration) []route.Range { return nil }

// tableNoCandidate defers newcomers without saying whom to ping.
type tableNoCandidate struct{ route.Table }

func (c tableNoCandidate) Update(rec *peer.Record, now time.Time) route.Result {
	res := c.Table.Update(rec, now)
	res.Candidate = nil
	return res
}

func TestCheckTableCatchesBrokenTables(t *testing.T) {
	wrap := func(w func(route.Table) route.Table) func(*testing.T, peer.ID) route.Table {
		return func(t *testing.T, self peer.ID) route.Table { return w(tableToymap(t, self)) }
	}
	cases := []struct {
		name    string
		rule    string
		factory func(*testing.T, peer.ID) route.Table
	}{
		{"closest out of order", "closest-is-sorted", wrap(func(t route.Table) route.Table { return tableReversed{t} })},
		{"closest drops the closest peer", "closest-is-exact", wrap(func(t route.Table) route.Table { return tableDropsClosest{t} })},
		{"closest returns shared storage", "closest-n-bounds", wrap(func(t route.Table) route.Table {
			return &tableAliased{Table: t, memo: map[tableQuery][]*peer.Record{}}
		})},
		{"accepts self", "self-rejected", wrap(func(t route.Table) route.Table { return tableAcceptsSelf{t} })},
		{"lower seq replaces higher", "lower-seq-does-not-replace", wrap(func(t route.Table) route.Table { return tableLowerSeqWins{t} })},
		{"fail never removes", "fail-eventually-removes", wrap(func(t route.Table) route.Table { return tableNeverFails{t} })},
		{"never due for refresh", "due-for-refresh", wrap(func(t route.Table) route.Table { return tableNeverDue{t} })},
		{"pending without candidate", "pending-names-candidate", func(t *testing.T, self peer.ID) route.Table {
			return tableNoCandidate{tableKademlia(kademlia.Options{K: 2})(t, self)}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := conformance.CheckTable(t, c.factory)
			if !conformance.Broken(errs, c.rule) {
				t.Errorf("CheckTable did not report rule %q; reported %v", c.rule, errs)
			}
			if len(errs) != 1 {
				t.Errorf("CheckTable reported %d violations, want only %q: %v", len(errs), c.rule, errs)
			}
		})
	}
}

func TestCheckTablePassesBuiltins(t *testing.T) {
	for name, factory := range map[string]func(*testing.T, peer.ID) route.Table{
		"toymap":                 tableToymap,
		"kademlia":               tableKademlia(kademlia.Options{}),
		"kademlia small buckets": tableKademlia(kademlia.Options{K: 3}),
	} {
		t.Run(name, func(t *testing.T) {
			if errs := conformance.CheckTable(t, factory); len(errs) != 0 {
				t.Errorf("CheckTable reported violations of a correct table: %v", errs)
			}
		})
	}
}
