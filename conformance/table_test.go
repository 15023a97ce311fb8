package conformance_test

import (
	"crypto/sha256"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/kademlia"
	"github.com/dhtkit/dhtkit/route/toymap"
	"github.com/dhtkit/dhtkit/route/trustorder"
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

// tableLevel spreads peers over trust levels -1 to 3 by the last byte of
// their ID.
func tableLevel(id peer.ID) int {
	b := id.Bytes()
	return int(b[len(b)-1]%5) - 1
}

// tableTrustOrder is the order trustorder documents for tableLevel: higher
// level first, levels <= 0 as one, then XOR distance.
func tableTrustOrder(target, a, b peer.ID) int {
	if la, lb := max(tableLevel(a), 0), max(tableLevel(b), 0); la != lb {
		return lb - la
	}
	return peer.CompareDistance(target, a, b)
}

// tableTrust builds a correct table that is not XOR-ordered.
func tableTrust(t *testing.T, self peer.ID) route.Table {
	tbl, err := trustorder.New(self, trustorder.Options{Level: tableLevel, Capacity: 24})
	if err != nil {
		t.Fatalf("trustorder.New: %v", err)
	}
	return tbl
}

// tableReversed returns Closest farthest-first.
type tableReversed struct{ route.Table }

func (r tableReversed) Closest(target peer.ID, n int) []*peer.Record {
	res := r.Table.Closest(target, n)
	slices.Reverse(res)
	return res
}

// tableCapsClosest answers at most 1,000 peers, as a table with a fixed
// result buffer would: right for every table the other rules build, wrong
// for one that holds more.
type tableCapsClosest struct{ route.Table }

func (c tableCapsClosest) Closest(target peer.ID, n int) []*peer.Record {
	return c.Table.Closest(target, min(n, 1000))
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

// tableUnordered is a correct table that says it is not XOR-ordered. Its
// Closest is still in XOR order, which the suite checks only when
// TableOptions.Compare says so.
type tableUnordered struct{ route.Table }

func (tableUnordered) XOROrdered() bool { return false }

// tableReturnsUnheld ranks first, for any target, a peer it does not hold.
type tableReturnsUnheld struct{ tableUnordered }

func (u tableReturnsUnheld) Closest(target peer.ID, n int) []*peer.Record {
	sum := sha256.Sum256(target.Bytes())
	stranger, err := peer.IDFromBytes(sum[:target.Len()])
	if err != nil {
		return nil
	}
	return tablePrepend(u.tableUnordered.Closest(target, n), &peer.Record{ID: stranger})
}

// tableReturnsSelf ranks itself first for any target.
type tableReturnsSelf struct{ tableUnordered }

func (s tableReturnsSelf) Closest(target peer.ID, n int) []*peer.Record {
	return tablePrepend(s.tableUnordered.Closest(target, n), &peer.Record{ID: s.Self()})
}

// tableUnorderedReversed ranks farthest-first.
type tableUnorderedReversed struct{ tableUnordered }

func (r tableUnorderedReversed) Closest(target peer.ID, n int) []*peer.Record {
	res := r.tableUnordered.Closest(target, n)
	slices.Reverse(res)
	return res
}

// tableSelfFirst is a correct table in an order other than XOR distance
// to the target: it ranks by distance to self, whatever the target.
type tableSelfFirst struct{ tableUnordered }

func (f tableSelfFirst) Closest(target peer.ID, n int) []*peer.Record {
	if target.Len() != f.Self().Len() {
		return nil
	}
	return f.tableUnordered.Closest(f.Self(), n)
}

// tablePrepend puts r first and drops the last peer, so that the answer
// keeps its length and each answer is a prefix of a longer one.
func tablePrepend(res []*peer.Record, r *peer.Record) []*peer.Record {
	if len(res) == 0 {
		return res
	}
	return append([]*peer.Record{r}, res[:len(res)-1]...)
}

// tableXOR states XOR order through TableOptions, for tables that do not
// say they are XOR-ordered.
var tableXOR = conformance.TableOptions{Compare: peer.CompareDistance}

func TestCheckTableCatchesBrokenTables(t *testing.T) {
	wrap := func(w func(route.Table) route.Table) func(*testing.T, peer.ID) route.Table {
		return func(t *testing.T, self peer.ID) route.Table { return w(tableToymap(t, self)) }
	}
	cases := []struct {
		name    string
		rules   []string // every rule the table breaks
		factory func(*testing.T, peer.ID) route.Table
		opts    []conformance.TableOptions
	}{
		{"closest out of order", []string{"closest-is-sorted", "closest-is-consistent", "most-peers"}, wrap(func(t route.Table) route.Table { return tableReversed{t} }), nil},
		{"closest drops the closest peer", []string{"closest-is-exact", "closest-returns-held", "most-peers"}, wrap(func(t route.Table) route.Table { return tableDropsClosest{t} }), nil},
		{"closest returns shared storage", []string{"closest-n-bounds"}, wrap(func(t route.Table) route.Table {
			return &tableAliased{Table: t, memo: map[tableQuery][]*peer.Record{}}
		}), nil},
		// Only a table far fuller than the other rules make shows this.
		{"closest caps its answer", []string{"most-peers"}, wrap(func(t route.Table) route.Table { return tableCapsClosest{t} }), nil},
		{"accepts self", []string{"self-rejected"}, wrap(func(t route.Table) route.Table { return tableAcceptsSelf{t} }), nil},
		{"lower seq replaces higher", []string{"lower-seq-does-not-replace"}, wrap(func(t route.Table) route.Table { return tableLowerSeqWins{t} }), nil},
		{"fail never removes", []string{"fail-eventually-removes"}, wrap(func(t route.Table) route.Table { return tableNeverFails{t} }), nil},
		{"never due for refresh", []string{"due-for-refresh"}, wrap(func(t route.Table) route.Table { return tableNeverDue{t} }), nil},
		{"pending without candidate", []string{"pending-names-candidate", "most-peers"}, func(t *testing.T, self peer.ID) route.Table {
			return tableNoCandidate{tableKademlia(kademlia.Options{K: 2})(t, self)}
		}, nil},
		// Tables not ordered by XOR distance: with no order stated, the
		// rules valid for any order still catch what no order excuses.
		{"not XOR-ordered, closest returns an unheld peer", []string{"closest-returns-held", "most-peers"}, func(t *testing.T, self peer.ID) route.Table {
			return tableReturnsUnheld{tableUnordered{tableTrust(t, self)}}
		}, nil},
		{"not XOR-ordered, closest returns self", []string{"self-rejected", "closest-returns-held", "most-peers"}, func(t *testing.T, self peer.ID) route.Table {
			return tableReturnsSelf{tableUnordered{tableTrust(t, self)}}
		}, nil},
		{"not XOR-ordered, out of the order stated", []string{"closest-is-sorted", "closest-is-consistent", "most-peers"}, wrap(func(t route.Table) route.Table {
			return tableUnorderedReversed{tableUnordered{t}}
		}), []conformance.TableOptions{tableXOR}},
		{"not XOR-ordered, in another order than stated", []string{"closest-is-sorted", "closest-is-exact", "most-peers"}, wrap(func(t route.Table) route.Table {
			return tableSelfFirst{tableUnordered{t}}
		}), []conformance.TableOptions{tableXOR}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := conformance.CheckTable(t, c.factory, c.opts...)
			for _, rule := range c.rules {
				if !conformance.Broken(errs, rule) {
					t.Errorf("CheckTable did not report rule %q; reported %v", rule, errs)
				}
			}
			if len(errs) != len(c.rules) {
				t.Errorf("CheckTable reported %d violations, want only %q: %v", len(errs), c.rules, errs)
			}
		})
	}
}

func TestCheckTablePassesBuiltins(t *testing.T) {
	unordered := func(t *testing.T, self peer.ID) route.Table { return tableUnordered{tableToymap(t, self)} }
	for name, c := range map[string]struct {
		factory func(*testing.T, peer.ID) route.Table
		opts    []conformance.TableOptions
	}{
		"toymap":                 {tableToymap, nil},
		"kademlia":               {tableKademlia(kademlia.Options{}), nil},
		"kademlia small buckets": {tableKademlia(kademlia.Options{K: 3}), nil},
		// Ranked by distance to self, this table would break the order
		// rules; not XOR-ordered by its own say, it is not held to them.
		"not XOR-ordered, order not stated": {func(t *testing.T, self peer.ID) route.Table {
			return tableSelfFirst{tableUnordered{tableToymap(t, self)}}
		}, nil},
		"not XOR-ordered, order stated": {unordered, []conformance.TableOptions{tableXOR}},
		"trustorder, order stated":      {tableTrust, []conformance.TableOptions{{Compare: tableTrustOrder}}},
		"trustorder, order not stated":  {tableTrust, nil},
		// A wrong Compare does not matter to a table that is XOR-ordered.
		"XOR-ordered, Compare not used": {tableToymap, []conformance.TableOptions{{Compare: func(target, a, b peer.ID) int {
			return peer.CompareDistance(target, b, a)
		}}}},
	} {
		t.Run(name, func(t *testing.T) {
			if errs := conformance.CheckTable(t, c.factory, c.opts...); len(errs) != 0 {
				t.Errorf("CheckTable reported violations of a correct table: %v", errs)
			}
		})
	}
}
