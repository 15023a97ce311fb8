package conformance

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
)

// TestTable checks that the tables newTable builds keep the route.Table
// contract. newTable is called once per rule with the ID of the table's own
// peer, 32 bytes or, for rules that also run in the 160-bit key space, 20
// bytes. Rules that need a table's own policy (bucket sizes, eviction
// order) belong in the implementation's tests; a table that never returns
// route.Pending passes the pending rule trivially.
//
// The rules on the order of Closest check XOR distance for an XOR-ordered
// table (see route.XOROrdered). For a table that ranks by something else
// they check the order TableOptions.Compare states, and are skipped with
// the reason when it states none; the rules that hold for any order (held
// peers only, never self, a consistent ranking) run for every table.
//
// opts is optional, at most one: most tables need none.
func TestTable(t *testing.T, newTable func(t *testing.T, self peer.ID) route.Table, opts ...TableOptions) {
	t.Helper()
	runSuite(t, "table", tableRules, tableSuiteOf(t, newTable, opts))
}

// CheckTable runs the TestTable rules and returns the violations, each a
// *Violation. Rules that do not apply to the table are left out.
func CheckTable(t *testing.T, newTable func(t *testing.T, self peer.ID) route.Table, opts ...TableOptions) []error {
	t.Helper()
	return checkSuite(t, "table", tableRules, tableSuiteOf(t, newTable, opts))
}

// TableOptions tell TestTable what it cannot learn from a table.
type TableOptions struct {
	// Compare states the order of Closest for a table that is not
	// XOR-ordered: negative when a ranks before b for target, positive
	// when after. It must be a strict order of distinct IDs, zero only for
	// a == b (break ties as the table does, by XOR distance say), and
	// depend only on what the test controls, such as a trust table's
	// level function. With it the rules closest-is-sorted and
	// closest-is-exact check that order; without it they are skipped for
	// such a table. An XOR-ordered table is always checked against XOR
	// distance, and Compare is not used.
	Compare func(target, a, b peer.ID) int
}

func tableSuiteOf(t *testing.T, newTable tableFactory, opts []TableOptions) tableSuite {
	t.Helper()
	if len(opts) > 1 {
		t.Fatalf("conformance: TestTable takes at most one TableOptions, got %d", len(opts))
	}
	s := tableSuite{newTable: newTable}
	if len(opts) == 1 {
		s.opts = opts[0]
	}
	return s
}

var tableRules = []rule[tableSuite]{
	{"add-then-get", "A new peer is Added to an empty table, and every Added peer can be read back with Get at once.", tableAddThenGet},
	{"self-rejected", "Update of the table's own record is Rejected with an error matching route.ErrSelf, and self is never held.", tableSelfRejected},
	{"wrong-key-space-rejected", "Update of a record whose ID is of another key space is Rejected with an error matching route.ErrKeySpace.", tableWrongKeySpace},
	{"refresh-known-peer", "Update of a held peer is Refreshed and leaves Len unchanged.", tableRefreshKnown},
	{"closest-returns-held", "In any order, Closest returns at most n distinct peers, each held (as Get returns it), never self or nil, and every held peer when n >= Len.", tableClosestHeld},
	{"closest-is-consistent", "In any order, Closest answers a repeated call alike while the table is unchanged, and Closest(target, m) is the first m peers of Closest(target, n) for m < n.", tableClosestConsistent},
	{"closest-is-sorted", "Closest returns held peers in the table's order (XOR distance, or TableOptions.Compare for a table not XOR-ordered), strictly, without duplicates.", tableClosestSorted},
	{"closest-is-exact", "Closest(target, n) holds exactly the n held peers that rank first in the table's order (all of them when n >= Len).", tableClosestExact},
	{"closest-n-bounds", "Closest returns nothing for n <= 0, at most n peers, and a fresh slice the caller may modify.", tableClosestBounds},
	{"remove", "Remove drops a held peer (true once, then false), which Get and Closest no longer return.", tableRemove},
	{"fail-eventually-removes", "Repeated Fail removes a held peer and reports it; Fail of an unknown peer reports false.", tableFailRemoves},
	{"len-counts", "Len is the number of added peers the table holds (those Get returns), before and after removals.", tableLenCounts},
	{"higher-seq-record-replaces-lower", "Update with a higher Seq replaces the held record of the same peer.", tableHigherSeq},
	{"lower-seq-does-not-replace", "Update with a lower Seq is Refreshed but keeps the held record.", tableLowerSeq},
	{"concurrent-use", "Concurrent Update, Fail, Remove, Get, Closest and refresh calls are safe and leave Len consistent with Get.", tableConcurrent},
	{"due-for-refresh", "Ranges without contact for interval are due, cover every held peer, draw IDs inside themselves, and Refreshed or contact clears them.", tableDueForRefresh},
	{"pending-names-candidate", "A Pending update names a held Candidate, and once the candidate fails the newcomer is admitted.", tablePending},
	{"remove-drops-waiting-peer", "Remove of a peer waiting in the replacement cache (a Pending update) drops it: when the candidate then fails, that peer is not promoted.", tableRemoveWaiting},
	{"most-peers", "Offered 5,000 peers at every distance, far more than it keeps, a table answers each Update Added or Pending, Len counts the peers Get finds, Closest(n) returns at most n distinct held peers (all of them once n reaches Len) in its order, and Update, Remove and Closest stay consistent when run at once.", tableMost},
	{"admission-is-honest", "A table implementing route.Admission wants every peer it holds, and Update of a peer it does not want leaves its peers as they are.", tableAdmission},
	{"contention-is-honest", "A table implementing route.Contention names, for a newcomer to a full bucket, the held peer Update's Pending names, and says false (naming no peer) for self, held, waiting and admissible peers.", tableContention},
}

func tableAddThenGet(e *env, s tableSuite) error {
	for _, h := range tableHashers {
		f, err := tableNew(e, s, h)
		if err != nil {
			return err
		}
		recs, err := f.peers(e, 40)
		if err != nil {
			return err
		}
		if _, ok := f.tbl.Get(recs[0].ID); ok {
			return fmt.Errorf("%s: Get of a peer never added returned ok", h.Name())
		}
		for i, rec := range recs {
			res := f.tbl.Update(rec, tableT0)
			if i == 0 && res.Status != route.Added {
				return fmt.Errorf("%s: first Update on an empty table: status %v (err %v), want added", h.Name(), res.Status, res.Err)
			}
			if res.Status != route.Added && res.Status != route.Pending {
				return fmt.Errorf("%s: Update of new peer %s: status %v (err %v), want added or pending", h.Name(), rec.ID.Short(), res.Status, res.Err)
			}
			if res.Status != route.Added {
				continue
			}
			got, ok := f.tbl.Get(rec.ID)
			if !ok {
				return fmt.Errorf("%s: peer %s was Added but Get did not find it", h.Name(), rec.ID.Short())
			}
			if got == nil || got.ID != rec.ID || got.Seq != rec.Seq {
				return fmt.Errorf("%s: Get(%s) returned %v, want the record added", h.Name(), rec.ID.Short(), got)
			}
		}
	}
	return nil
}

func tableSelfRejected(e *env, s tableSuite) error {
	f, err := tableNew(e, s, peer.SHA256())
	if err != nil {
		return err
	}
	selfRec, err := peer.NewRecord(f.self, f.h, 1)
	if err != nil {
		return err
	}
	res := f.tbl.Update(selfRec, tableT0)
	if res.Status != route.Rejected || !errors.Is(res.Err, route.ErrSelf) {
		return fmt.Errorf("Update(self): status %v, err %v; want rejected with route.ErrSelf", res.Status, res.Err)
	}
	if _, _, err := f.fill(e, 10); err != nil {
		return err
	}
	if _, ok := f.tbl.Get(selfRec.ID); ok {
		return errors.New("Get(self) found the table's own peer")
	}
	if tableHas(f.tbl.Closest(selfRec.ID, 100), selfRec.ID) {
		return errors.New("Closest(self) returned the table's own peer")
	}
	return nil
}

func tableWrongKeySpace(e *env, s tableSuite) error {
	for i, h := range tableHashers {
		other := tableHashers[1-i]
		f, err := tableNew(e, s, h)
		if err != nil {
			return err
		}
		id, err := tableIdentity(e)
		if err != nil {
			return err
		}
		rec, err := peer.NewRecord(id, other, 1)
		if err != nil {
			return err
		}
		res := f.tbl.Update(rec, tableT0)
		if res.Status != route.Rejected || !errors.Is(res.Err, route.ErrKeySpace) {
			return fmt.Errorf("%d-byte table, Update of a %d-byte ID: status %v, err %v; want rejected with route.ErrKeySpace",
				h.Size(), other.Size(), res.Status, res.Err)
		}
		if n := f.tbl.Len(); n != 0 {
			return fmt.Errorf("Len = %d after a rejected update, want 0", n)
		}
	}
	return nil
}

func tableRefreshKnown(e *env, s tableSuite) error {
	f, err := tableNew(e, s, peer.SHA256())
	if err != nil {
		return err
	}
	recs, _, err := f.fill(e, 10)
	if err != nil {
		return err
	}
	held := f.held(recs)
	before := f.tbl.Len()
	for _, rec := range held {
		if res := f.tbl.Update(rec, tableT0.Add(time.Minute)); res.Status != route.Refreshed {
			return fmt.Errorf("second Update of held peer %s: status %v (err %v), want refreshed", rec.ID.Short(), res.Status, res.Err)
		}
	}
	if after := f.tbl.Len(); after != before {
		return fmt.Errorf("Len went from %d to %d on refreshing known peers, want unchanged", before, after)
	}
	return nil
}

func tableRemove(e *env, s tableSuite) error {
	f, err := tableNew(e, s, peer.SHA256())
	if err != nil {
		return err
	}
	recs, pending, err := f.fill(e, 20)
	if err != nil {
		return err
	}
	if f.tbl.Remove(route.Range{Prefix: f.tbl.Self()}.Random(e.rng)) {
		return errors.New("Remove of an unknown peer returned true")
	}
	held, err := f.someHeld(recs)
	if err != nil {
		return err
	}
	victim := held[e.rng.IntN(len(held))].ID
	before := f.tbl.Len()
	if !f.tbl.Remove(victim) {
		return fmt.Errorf("Remove(%s) of a held peer returned false", victim.Short())
	}
	if _, ok := f.tbl.Get(victim); ok {
		return fmt.Errorf("Get(%s) found the peer after Remove", victim.Short())
	}
	if tableHas(f.tbl.Closest(victim, before+1), victim) {
		return fmt.Errorf("Closest(%s) returned the peer after Remove", victim.Short())
	}
	// With no peer waiting, nothing can take the removed peer's place.
	if after := f.tbl.Len(); pending == 0 && after != before-1 {
		return fmt.Errorf("Len went from %d to %d on Remove, want %d", before, after, before-1)
	}
	if f.tbl.Remove(victim) {
		return fmt.Errorf("second Remove(%s) returned true", victim.Short())
	}
	return nil
}

func tableFailRemoves(e *env, s tableSuite) error {
	f, err := tableNew(e, s, peer.SHA256())
	if err != nil {
		return err
	}
	recs, _, err := f.fill(e, 20)
	if err != nil {
		return err
	}
	if f.tbl.Fail(route.Range{Prefix: f.tbl.Self()}.Random(e.rng), tableT0) {
		return errors.New("Fail of an unknown peer returned true")
	}
	held, err := f.someHeld(recs)
	if err != nil {
		return err
	}
	victim := held[e.rng.IntN(len(held))].ID
	const attempts = 100
	for i := 1; ; i++ {
		if f.tbl.Fail(victim, tableT0.Add(time.Duration(i)*time.Second)) {
			break
		}
		if i == attempts {
			return fmt.Errorf("peer %s still held after %d failures", victim.Short(), attempts)
		}
		if _, ok := f.tbl.Get(victim); !ok {
			return fmt.Errorf("Fail(%s) returned false but the peer was removed", victim.Short())
		}
	}
	if _, ok := f.tbl.Get(victim); ok {
		return fmt.Errorf("Fail(%s) reported removal but Get still finds it", victim.Short())
	}
	if tableHas(f.tbl.Closest(victim, f.tbl.Len()+1), victim) {
		return fmt.Errorf("Closest(%s) returned the peer after Fail removed it", victim.Short())
	}
	return nil
}

func tableLenCounts(e *env, s tableSuite) error {
	f, err := tableNew(e, s, peer.SHA256())
	if err != nil {
		return err
	}
	if n := f.tbl.Len(); n != 0 {
		return fmt.Errorf("Len of a new table = %d, want 0", n)
	}
	recs, err := f.peers(e, 30)
	if err != nil {
		return err
	}
	for i, rec := range recs {
		f.tbl.Update(rec, tableT0)
		if got, want := f.tbl.Len(), len(f.held(recs[:i+1])); got != want {
			return fmt.Errorf("after %d updates Len = %d, but Get finds %d of the peers", i+1, got, want)
		}
	}
	held := f.held(recs)
	for _, rec := range held[:min(2, len(held))] {
		f.tbl.Remove(rec.ID)
		if got, want := f.tbl.Len(), len(f.held(recs)); got != want {
			return fmt.Errorf("after Remove Len = %d, but Get finds %d of the peers", got, want)
		}
	}
	return nil
}

// tableSeqPair adds a record of one peer with Seq first, then one with Seq
// second, and returns the Update result of the second and the held record.
func tableSeqPair(e *env, s tableSuite, first, second uint64) (route.Result, *peer.Record, error) {
	f, err := tableNew(e, s, peer.SHA256())
	if err != nil {
		return route.Result{}, nil, err
	}
	id, err := tableIdentity(e)
	if err != nil {
		return route.Result{}, nil, err
	}
	a, err := peer.NewRecord(id, f.h, first)
	if err != nil {
		return route.Result{}, nil, err
	}
	b, err := peer.NewRecord(id, f.h, second)
	if err != nil {
		return route.Result{}, nil, err
	}
	if res := f.tbl.Update(a, tableT0); res.Status != route.Added {
		return route.Result{}, nil, fmt.Errorf("Update on an empty table: status %v (err %v), want added", res.Status, res.Err)
	}
	res := f.tbl.Update(b, tableT0.Add(time.Second))
	got, ok := f.tbl.Get(id.ID(f.h))
	if !ok {
		return res, nil, fmt.Errorf("Get after a second Update (status %v) found nothing", res.Status)
	}
	return res, got, nil
}

func tableHigherSeq(e *env, s tableSuite) error {
	res, got, err := tableSeqPair(e, s, 1, 2)
	if err != nil {
		return err
	}
	if res.Status != route.Refreshed || got.Seq != 2 {
		return fmt.Errorf("Update Seq 1 then Seq 2: status %v, held Seq %d; want refreshed, Seq 2", res.Status, got.Seq)
	}
	return nil
}

func tableLowerSeq(e *env, s tableSuite) error {
	res, got, err := tableSeqPair(e, s, 5, 3)
	if err != nil {
		return err
	}
	if res.Status != route.Refreshed || got.Seq != 5 {
		return fmt.Errorf("Update Seq 5 then Seq 3: status %v, held Seq %d; want refreshed, Seq 5", res.Status, got.Seq)
	}
	return nil
}

func tableConcurrent(e *env, s tableSuite) error {
	f, err := tableNew(e, s, peer.SHA256())
	if err != nil {
		return err
	}
	pool, err := f.peers(e, 40)
	if err != nil {
		return err
	}
	const workers, ops, reads = 4, 300, 50
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	start := make(chan struct{})
	for w := range workers {
		rng := rand.New(rand.NewPCG(e.rng.Uint64(), uint64(w)))
		wg.Go(func() {
			// A panic here would end the test binary, not fail the rule.
			defer func() {
				if p := recover(); p != nil {
					errc <- fmt.Errorf("panic under concurrent use: %v", p)
				}
			}()
			<-start
			// Readers together first, as a node's lookups are: a table whose
			// reads share unguarded state breaks here.
			for i := range reads {
				f.tbl.Closest(pool[(w+i)%len(pool)].ID, 8)
				f.tbl.Get(pool[i%len(pool)].ID)
			}
			for i := range ops {
				rec := pool[rng.IntN(len(pool))]
				now := tableT0.Add(time.Duration(i) * time.Second)
				switch rng.IntN(8) {
				case 0, 1, 2:
					f.tbl.Update(rec, now)
				case 3:
					f.tbl.Fail(rec.ID, now)
				case 4:
					f.tbl.Remove(rec.ID)
				case 5:
					f.tbl.Get(rec.ID)
					f.tbl.Len()
				case 6:
					n := 1 + rng.IntN(10)
					if res := f.tbl.Closest(rec.ID, n); len(res) > n || slices.Contains(res, nil) {
						errc <- fmt.Errorf("concurrent Closest(_, %d) returned %d peers, some nil: %v", n, len(res), slices.Contains(res, nil))
						return
					}
				case 7:
					f.tbl.DueForRefresh(now, time.Minute)
					f.tbl.Refreshed(rec.ID, now)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	if got, want := f.tbl.Len(), len(f.held(pool)); got != want {
		return fmt.Errorf("after concurrent use Len = %d, but Get finds %d peers", got, want)
	}
	return nil
}

func tableDueForRefresh(e *env, s tableSuite) error {
	const interval = time.Hour
	f, err := tableNew(e, s, peer.SHA256())
	if err != nil {
		return err
	}
	recs, _, err := f.fill(e, 30)
	if err != nil {
		return err
	}
	held, err := f.someHeld(recs)
	if err != nil {
		return err
	}
	self := f.tbl.Self()
	contains := func(rs []route.Range, id peer.ID) bool {
		return slices.ContainsFunc(rs, func(r route.Range) bool { return r.Contains(id) })
	}
	if due := f.tbl.DueForRefresh(tableT0, interval); contains(due, held[0].ID) {
		return fmt.Errorf("the range of peer %s is due although it was contacted just now", held[0].ID.Short())
	}
	now := tableT0.Add(2 * interval)
	due := f.tbl.DueForRefresh(now, interval)
	if len(due) == 0 {
		return fmt.Errorf("no range due after %v without contact", 2*interval)
	}
	for _, rec := range held {
		if !contains(due, rec.ID) {
			return fmt.Errorf("no due range holds peer %s, not contacted for %v", rec.ID.Short(), 2*interval)
		}
	}
	for _, r := range due {
		if r.Prefix.Len() != self.Len() || r.Bits < 0 || r.Bits > self.Bits() {
			return fmt.Errorf("range %s/%d is not of the table's %d-bit key space", r.Prefix, r.Bits, self.Bits())
		}
		for range 8 {
			if id := r.Random(e.rng); !r.Contains(id) {
				return fmt.Errorf("range %s/%d does not contain %s, drawn from it", r.Prefix, r.Bits, id)
			}
		}
	}
	for _, r := range due {
		target := r.Random(e.rng)
		f.tbl.Refreshed(target, now)
		if contains(f.tbl.DueForRefresh(now, interval), target) {
			return fmt.Errorf("the range of %s is still due after Refreshed(%s)", target.Short(), target.Short())
		}
	}
	later := now.Add(2 * interval)
	f.tbl.Update(held[0], later)
	if contains(f.tbl.DueForRefresh(later, interval), held[0].ID) {
		return fmt.Errorf("the range of peer %s is due although Update contacted it just now", held[0].ID.Short())
	}
	return nil
}

func tablePending(e *env, s tableSuite) error {
	f, err := tableNew(e, s, peer.SHA256())
	if err != nil {
		return err
	}
	recs, err := f.peers(e, 200)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		res := f.tbl.Update(rec, tableT0)
		if res.Status != route.Pending {
			continue
		}
		cand := res.Candidate
		if cand == nil {
			return fmt.Errorf("Update of %s is Pending with no Candidate", rec.ID.Short())
		}
		if cand.ID == rec.ID {
			return fmt.Errorf("Update of %s is Pending with itself as Candidate", rec.ID.Short())
		}
		if _, ok := f.tbl.Get(cand.ID); !ok {
			return fmt.Errorf("Candidate %s of a Pending update is not in the table", cand.ID.Short())
		}
		for i := 1; !f.tbl.Fail(cand.ID, tableT0.Add(time.Duration(i)*time.Second)); i++ {
			if i == 100 {
				return fmt.Errorf("Candidate %s still held after %d failures", cand.ID.Short(), i)
			}
		}
		if _, ok := f.tbl.Get(rec.ID); ok {
			return nil // promoted from the replacement cache
		}
		if res := f.tbl.Update(rec, tableT0.Add(time.Hour)); res.Status != route.Added {
			return fmt.Errorf("after Candidate %s failed, the waiting peer %s was not promoted and its next Update is %v, want added",
				cand.ID.Short(), rec.ID.Short(), res.Status)
		}
		return nil
	}
	return nil // the table never defers a newcomer
}

func tableRemoveWaiting(e *env, s tableSuite) error {
	f, err := tableNew(e, s, peer.SHA256())
	if err != nil {
		return err
	}
	recs, err := f.peers(e, 200)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		res := f.tbl.Update(rec, tableT0)
		if res.Status != route.Pending || res.Candidate == nil {
			continue
		}
		cand := res.Candidate
		f.tbl.Remove(rec.ID)
		for i := 1; !f.tbl.Fail(cand.ID, tableT0.Add(time.Duration(i)*time.Second)); i++ {
			if i == 100 {
				return fmt.Errorf("Candidate %s still held after %d failures", cand.ID.Short(), i)
			}
		}
		if _, ok := f.tbl.Get(rec.ID); ok {
			return fmt.Errorf("peer %s, removed while it waited for candidate %s, was promoted when the candidate failed", rec.ID.Short(), cand.ID.Short())
		}
		return nil
	}
	return skip("the table never deferred a newcomer (Pending) in 200 updates")
}
