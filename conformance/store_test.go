package conformance_test

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/kvstore/bbolt"
	"github.com/dhtkit/dhtkit/kvstore/memory"
)

// Each broken store below is memory.Store with one flaw. The suite must
// report exactly the rules that flaw breaks.

// storeAliasing returns, from Get, the very slices it returned last time
// for the key, unless the key was written since: callers share buffers.
type storeAliasing struct {
	*memory.Store
	mu   sync.Mutex
	last map[string]kvstore.Record
}

func (s *storeAliasing) Get(ctx context.Context, key []byte) (kvstore.Record, error) {
	rec, err := s.Store.Get(ctx, key)
	if err != nil {
		return rec, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.last[string(key)]; ok {
		return prev, nil
	}
	s.last[string(key)] = rec
	return rec, nil
}

func (s *storeAliasing) forget(key []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.last, string(key))
}

func (s *storeAliasing) Put(ctx context.Context, key []byte, rec kvstore.Record) error {
	s.forget(key)
	return s.Store.Put(ctx, key, rec)
}

func (s *storeAliasing) Update(ctx context.Context, key []byte, fn kvstore.UpdateFunc) error {
	s.forget(key)
	return s.Store.Update(ctx, key, fn)
}

func (s *storeAliasing) Delete(ctx context.Context, key []byte) error {
	s.forget(key)
	return s.Store.Delete(ctx, key)
}

// storeNoCopyIn keeps the record a caller passes to Put as it is, slices
// and all, and returns copies of it: the caller's later changes leak in.
type storeNoCopyIn struct {
	*memory.Store
	mu   sync.Mutex
	kept map[string]kvstore.Record
}

func (s *storeNoCopyIn) Put(ctx context.Context, key []byte, rec kvstore.Record) error {
	if err := s.Store.Put(ctx, key, rec); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kept[string(key)] = rec
	return nil
}

func (s *storeNoCopyIn) Get(ctx context.Context, key []byte) (kvstore.Record, error) {
	rec, err := s.Store.Get(ctx, key)
	if err != nil {
		return rec, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if kept, ok := s.kept[string(key)]; ok {
		return kept.Clone(), nil
	}
	return rec, nil
}

func (s *storeNoCopyIn) Update(ctx context.Context, key []byte, fn kvstore.UpdateFunc) error {
	s.mu.Lock()
	delete(s.kept, string(key))
	s.mu.Unlock()
	return s.Store.Update(ctx, key, fn)
}

func (s *storeNoCopyIn) Delete(ctx context.Context, key []byte) error {
	s.mu.Lock()
	delete(s.kept, string(key))
	s.mu.Unlock()
	return s.Store.Delete(ctx, key)
}

// storeNonAtomic implements Update as Get, fn, Put with nothing held in
// between, so concurrent Updates of one key lose writes.
type storeNonAtomic struct{ *memory.Store }

func (s storeNonAtomic) Update(ctx context.Context, key []byte, fn kvstore.UpdateFunc) error {
	var cur *kvstore.Record
	rec, err := s.Get(ctx, key)
	switch {
	case err == nil:
		cur = &rec
	case !errors.Is(err, kvstore.ErrNotFound):
		return err
	}
	next, err := fn(cur)
	if err != nil {
		return err
	}
	runtime.Gosched() // widen the window another writer slips into
	if next == nil {
		return s.Delete(ctx, key)
	}
	return s.Put(ctx, key, *next)
}

// storeIgnoresExpiry returns expired records from Get, Update and Range,
// because its inner store's clock never moves. Sweep and Len, which it
// computes by the real clock, are right.
type storeIgnoresExpiry struct {
	*memory.Store
	now func() time.Time
}

func (s storeIgnoresExpiry) Sweep(ctx context.Context) (int, error) {
	var expired [][]byte
	err := s.Range(ctx, func(key []byte, rec kvstore.Record) bool {
		if rec.Expired(s.now()) {
			expired = append(expired, key)
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	for _, k := range expired {
		if err := s.Delete(ctx, k); err != nil {
			return 0, err
		}
	}
	return len(expired), nil
}

// storeNilAfterClose returns nil errors, and zero results, after Close.
type storeNilAfterClose struct{ *memory.Store }

func (s storeNilAfterClose) Get(ctx context.Context, key []byte) (kvstore.Record, error) {
	rec, err := s.Store.Get(ctx, key)
	if errors.Is(err, kvstore.ErrClosed) {
		return kvstore.Record{}, nil
	}
	return rec, err
}

func (s storeNilAfterClose) Put(ctx context.Context, key []byte, rec kvstore.Record) error {
	return storeHideClosed(s.Store.Put(ctx, key, rec))
}

func (s storeNilAfterClose) Update(ctx context.Context, key []byte, fn kvstore.UpdateFunc) error {
	return storeHideClosed(s.Store.Update(ctx, key, fn))
}

func (s storeNilAfterClose) Delete(ctx context.Context, key []byte) error {
	return storeHideClosed(s.Store.Delete(ctx, key))
}

func (s storeNilAfterClose) Sweep(ctx context.Context) (int, error) {
	n, err := s.Store.Sweep(ctx)
	return n, storeHideClosed(err)
}

func (s storeNilAfterClose) Len(ctx context.Context) (int, error) {
	n, err := s.Store.Len(ctx)
	return n, storeHideClosed(err)
}

func (s storeNilAfterClose) Range(ctx context.Context, fn func([]byte, kvstore.Record) bool) error {
	return storeHideClosed(s.Store.Range(ctx, fn))
}

func storeHideClosed(err error) error {
	if errors.Is(err, kvstore.ErrClosed) {
		return nil
	}
	return err
}

// storeIgnoresContext runs every call with context.Background().
type storeIgnoresContext struct{ *memory.Store }

func (s storeIgnoresContext) Get(_ context.Context, key []byte) (kvstore.Record, error) {
	return s.Store.Get(context.Background(), key)
}

func (s storeIgnoresContext) Put(_ context.Context, key []byte, rec kvstore.Record) error {
	return s.Store.Put(context.Background(), key, rec)
}

// storeRangeOverruns keeps calling fn after it returned false.
type storeRangeOverruns struct{ *memory.Store }

func (s storeRangeOverruns) Range(ctx context.Context, fn func([]byte, kvstore.Record) bool) error {
	return s.Store.Range(ctx, func(k []byte, r kvstore.Record) bool { fn(k, r); return true })
}

// storeSweepMiscounts sweeps but reports nothing removed.
type storeSweepMiscounts struct{ *memory.Store }

func (s storeSweepMiscounts) Sweep(ctx context.Context) (int, error) {
	_, err := s.Store.Sweep(ctx)
	return 0, err
}

// storeCloseAlwaysNil returns nil from every Close, the first or not.
type storeCloseAlwaysNil struct{ *memory.Store }

func (s storeCloseAlwaysNil) Close() error {
	if err := s.Store.Close(); !errors.Is(err, kvstore.ErrClosed) {
		return err
	}
	return nil
}

func storeMemory(now func() time.Time) *memory.Store {
	return memory.New(memory.Options{Now: now})
}

// storeBroken is a broken store and the rules its flaw breaks.
type storeBroken struct {
	name  string
	want  []string // the rules the flaw breaks, sorted
	store func(now func() time.Time) kvstore.Store
	// maybe are rules the flaw breaks only when a concurrent workload
	// happens to hit it: they may be reported or not.
	maybe []string
}

// storeBrokenStores are the broken stores the suite must catch.
func storeBrokenStores() []storeBroken {
	frozen := func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }
	return []storeBroken{
		{"aliased slices from Get", []string{"get-returns-copy"}, func(now func() time.Time) kvstore.Store {
			return &storeAliasing{Store: storeMemory(now), last: map[string]kvstore.Record{}}
		}, nil},
		{"input not copied", []string{"put-copies-input"}, func(now func() time.Time) kvstore.Store {
			return &storeNoCopyIn{Store: storeMemory(now), kept: map[string]kvstore.Record{}}
		}, nil},
		{"non-atomic Update", []string{"update-excludes-put-and-delete", "update-is-atomic"}, func(now func() time.Time) kvstore.Store {
			return storeNonAtomic{storeMemory(now)}
		}, nil},
		{"expiry ignored on read", []string{"expired-never-returned", "expiry-exact-to-the-nanosecond"}, func(now func() time.Time) kvstore.Store {
			return storeIgnoresExpiry{Store: storeMemory(frozen), now: now}
		}, nil},
		{"nil instead of ErrClosed", []string{"close-during-use", "use-after-close"}, func(now func() time.Time) kvstore.Store {
			return storeNilAfterClose{storeMemory(now)}
		}, nil},
		{"context ignored", []string{"context-done"}, func(now func() time.Time) kvstore.Store {
			return storeIgnoresContext{storeMemory(now)}
		}, nil},
		{"Range ignores stop", []string{"range-stops-early"}, func(now func() time.Time) kvstore.Store {
			return storeRangeOverruns{storeMemory(now)}
		}, nil},
		{"Sweep miscounts", []string{"sweep-removes-expired"}, func(now func() time.Time) kvstore.Store {
			return storeSweepMiscounts{storeMemory(now)}
		}, nil},
		{"abandons writes half done", []string{"cancelled-write-whole-or-absent"}, func(now func() time.Time) kvstore.Store {
			return storeHalfWrites{storeMemory(now)}
		}, nil},
		{"Update exclusive of Updates only", []string{"update-excludes-put-and-delete"}, func(now func() time.Time) kvstore.Store {
			return &storeUpdateLockOnly{Store: storeMemory(now)}
		}, nil},
		{"values cut at 256 KiB", []string{"largest-record-round-trips"}, func(now func() time.Time) kvstore.Store {
			return storeCapsValues{storeMemory(now)}
		}, nil},
		{"clock read to the second", []string{"expiry-exact-to-the-nanosecond"}, func(now func() time.Time) kvstore.Store {
			return storeMemory(func() time.Time { return now().Truncate(time.Second) })
		}, nil},
		{"second Close returns nil", []string{"close-during-use", "close-once"}, func(now func() time.Time) kvstore.Store {
			return storeCloseAlwaysNil{storeMemory(now)}
		}, nil},
		{"signature dropped", []string{"cancelled-write-whole-or-absent", "concurrent-mixed-use", "context-done", "delete-removes-only-its-key", "expired-never-returned", "expiry-exact-to-the-nanosecond", "get-returns-copy", "largest-record-round-trips", "put-copies-input", "put-then-get", "range-returns-copies", "range-visits-live-records", "sweep-removes-expired", "update-error-leaves-unchanged", "update-sees-current", "zero-expiry-never-expires"}, func(now func() time.Time) kvstore.Store {
			return storeDropsSignature{storeMemory(now)}
		}, nil},
		{"Put merges with the old record", []string{"put-replaces"}, func(now func() time.Time) kvstore.Store {
			return storeMerges{storeMemory(now)}
		}, nil},
		{"unknown keys not ErrNotFound", []string{"cancelled-write-whole-or-absent", "compare-and-swap", "concurrent-mixed-use", "get-missing-is-not-found", "higher-seq-wins", "put-copies-input", "update-copies-result", "update-error-leaves-unchanged", "update-is-atomic", "update-sees-nil-when-absent"}, func(now func() time.Time) kvstore.Store {
			return &storeUnknownKey{Store: storeMemory(now), seen: map[string]bool{}}
		}, nil},
		{"empty key acknowledged", []string{"empty-key-rejected"}, func(now func() time.Time) kvstore.Store {
			return storeEmptyKeyIgnored{storeMemory(now)}
		}, nil},
		// The range rule deletes five of its keys in map order: when the
		// last one put is among them the extra Delete goes unseen.
		{"Delete takes two keys", []string{"delete-removes-only-its-key", "len-counts-records"}, func(now func() time.Time) kvstore.Store {
			return &storeDeletesTwo{Store: storeMemory(now)}
		}, []string{"range-visits-live-records"}},
		{"Delete of an absent key fails", []string{"concurrent-mixed-use", "delete-absent-is-ok"}, func(now func() time.Time) kvstore.Store {
			return storeDeleteAbsentFails{storeMemory(now)}
		}, []string{"close-during-use"}},
		{name: "Len counts writes", want: []string{"len-counts-records", "put-replaces"}, store: func(now func() time.Time) kvstore.Store {
			return &storeCountsWrites{Store: storeMemory(now)}
		}, maybe: []string{"concurrent-mixed-use"}},
		{"Update hands fn an empty record", []string{"compare-and-swap", "concurrent-mixed-use", "expired-never-returned", "update-sees-nil-when-absent"}, func(now func() time.Time) kvstore.Store {
			return storeUpdateEmptyCur{storeMemory(now)}
		}, nil},
		{"Update hides the signature", []string{"concurrent-mixed-use", "largest-record-round-trips", "update-sees-current"}, func(now func() time.Time) kvstore.Store {
			return storeUpdateNoSignature{storeMemory(now)}
		}, nil},
		{"Update swallows fn's error", []string{"compare-and-swap", "expired-never-returned", "higher-seq-wins", "largest-record-round-trips", "update-error-leaves-unchanged", "update-sees-current"}, func(now func() time.Time) kvstore.Store {
			return storeUpdateSwallowsError{storeMemory(now)}
		}, nil},
		{"Update keeps the key for nil", []string{"update-nil-deletes"}, func(now func() time.Time) kvstore.Store {
			return storeUpdateNilKeeps{storeMemory(now)}
		}, nil},
		{"Update keeps fn's record", []string{"update-copies-result", "update-excludes-put-and-delete"}, func(now func() time.Time) kvstore.Store {
			return &storeUpdateKeepsResult{Store: storeMemory(now), kept: map[string]*kvstore.Record{}}
		}, []string{"update-is-atomic"}},
		{"zero expiry lasts a day", []string{"largest-record-round-trips", "range-returns-copies", "range-visits-live-records", "zero-expiry-never-expires"}, func(now func() time.Time) kvstore.Store {
			return storeZeroExpiryIsADay{Store: storeMemory(now), now: now}
		}, []string{"concurrent-mixed-use"}},
		{"Range skips one", []string{"expired-never-returned", "largest-record-round-trips", "range-allows-writes", "range-returns-copies", "range-visits-live-records"}, func(now func() time.Time) kvstore.Store {
			return storeRangeSkipsOne{storeMemory(now)}
		}, nil},
		{name: "writes refused during Range", want: []string{"close-during-use", "range-allows-writes"}, store: func(now func() time.Time) kvstore.Store {
			return &storeRangeBusy{Store: storeMemory(now)}
		}, maybe: []string{"concurrent-mixed-use"}},
		{"Range shares its records", []string{"range-returns-copies"}, func(now func() time.Time) kvstore.Store {
			return &storeRangeShares{Store: storeMemory(now), shadow: map[string]kvstore.Record{}}
		}, nil},
		{"reads see half a write", []string{"concurrent-mixed-use"}, func(now func() time.Time) kvstore.Store {
			return &storeTorn{Store: storeMemory(now), meta: map[string]kvstore.Record{}}
		}, nil},
		{"Update at Close fails with its own error", []string{"close-during-use"}, func(now func() time.Time) kvstore.Store {
			return &storeCloseAbandons{Store: storeMemory(now)}
		}, nil},
	}
}

func TestCheckStoreCatchesBrokenStores(t *testing.T) {
	for _, tc := range storeBrokenStores() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // the exclusive-write rule waits on each store
			errs := conformance.CheckStore(t, func(t *testing.T, now func() time.Time) kvstore.Store {
				return tc.store(now)
			})
			var got []string
			for _, err := range errs {
				var v *conformance.Violation
				if !errors.As(err, &v) {
					t.Fatalf("CheckStore returned %v, not a *Violation", err)
				}
				got = append(got, v.Rule)
			}
			slices.Sort(got)
			got = slices.DeleteFunc(got, func(r string) bool { return slices.Contains(tc.maybe, r) && !slices.Contains(tc.want, r) })
			if !slices.Equal(got, tc.want) {
				t.Errorf("CheckStore reported rules %q, want exactly %q (and perhaps %q); violations:\n%v", got, tc.want, tc.maybe, errors.Join(errs...))
			}
			for _, rule := range tc.want {
				if !conformance.Broken(errs, rule) {
					t.Errorf("Broken(errs, %q) = false", rule)
				}
			}
		})
	}
}

func TestCheckStorePassesBuiltInStores(t *testing.T) {
	for name, factory := range map[string]func(t *testing.T, now func() time.Time) kvstore.Store{
		"memory": func(t *testing.T, now func() time.Time) kvstore.Store {
			return storeMemory(now)
		},
		"bbolt": func(t *testing.T, now func() time.Time) kvstore.Store {
			s, err := bbolt.Open(filepath.Join(t.TempDir(), "store.db"), bbolt.Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	} {
		t.Run(name, func(t *testing.T) {
			var opts []conformance.StoreOptions
			if name == "bbolt" {
				opts = append(opts, conformance.StoreOptions{Durable: func(t *testing.T, now func() time.Time) func() (kvstore.Store, error) {
					path := filepath.Join(t.TempDir(), "store.db")
					return func() (kvstore.Store, error) { return bbolt.Open(path, bbolt.Options{Now: now}) }
				}, Files: func(t *testing.T, now func() time.Time) (string, func() (kvstore.Store, error)) {
					dir := t.TempDir()
					return dir, func() (kvstore.Store, error) {
						return bbolt.Open(filepath.Join(dir, "store.db"), bbolt.Options{Now: now})
					}
				}, MaxKeySize: bbolt.MaxKeySize})
			}
			if errs := conformance.CheckStore(t, factory, opts...); len(errs) > 0 {
				t.Errorf("CheckStore found %d violations in %s, want none:\n%v", len(errs), name, errors.Join(errs...))
			}
		})
	}
}

// storeDisk is a fake disk for durable stores built on memory.Store: what
// the last Close saved, loaded again by the next open. flaw, when set,
// changes what Close saves.
type storeDisk struct {
	mu   sync.Mutex
	recs map[string]kvstore.Record
	flaw func(saved map[string]kvstore.Record, old map[string]kvstore.Record, last string)
}

// open returns a store holding what the disk holds.
func (d *storeDisk) open(now func() time.Time) (kvstore.Store, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := storeMemory(now)
	for k, rec := range d.recs {
		if err := m.Put(context.Background(), []byte(k), rec); err != nil {
			return nil, err
		}
	}
	return &storeOnDisk{Store: m, disk: d}, nil
}

// storeOnDisk saves its records to its disk when closed.
type storeOnDisk struct {
	*memory.Store
	disk *storeDisk
	mu   sync.Mutex
	last string // the last key written
}

func (s *storeOnDisk) wrote(key []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = string(key)
}

func (s *storeOnDisk) Put(ctx context.Context, key []byte, rec kvstore.Record) error {
	s.wrote(key)
	return s.Store.Put(ctx, key, rec)
}

func (s *storeOnDisk) Update(ctx context.Context, key []byte, fn kvstore.UpdateFunc) error {
	s.wrote(key)
	return s.Store.Update(ctx, key, fn)
}

func (s *storeOnDisk) Close() error {
	saved := make(map[string]kvstore.Record)
	err := s.Store.Range(context.Background(), func(k []byte, rec kvstore.Record) bool {
		saved[string(k)] = rec
		return true
	})
	if err != nil {
		return s.Store.Close()
	}
	if err := s.Store.Close(); err != nil {
		return err
	}
	s.disk.mu.Lock()
	defer s.disk.mu.Unlock()
	if s.disk.flaw != nil {
		s.mu.Lock()
		s.disk.flaw(saved, s.disk.recs, s.last)
		s.mu.Unlock()
	}
	s.disk.recs = saved
	return nil
}

// storeLossyDisk is a fake disk's flaw and the rules it breaks.
type storeLossyDisk struct {
	name string
	want []string // the rules the flaw breaks, sorted
	flaw func(saved, old map[string]kvstore.Record, last string)
}

// storeLossyDisks are the durable stores the suite must catch, and one
// honest one it must pass.
func storeLossyDisks() []storeLossyDisk {
	return []storeLossyDisk{
		{"honest", nil, nil},
		{"loses the last write", []string{"durable-concurrent-writes-survive", "durable-reopen-keeps-expiry", "durable-reopen-keeps-writes"}, func(saved, _ map[string]kvstore.Record, last string) {
			delete(saved, last)
		}},
		// A log that never records deletes of what an earlier session saved.
		{"brings back deleted keys", []string{"durable-reopen-keeps-writes"}, func(saved, old map[string]kvstore.Record, _ string) {
			for k, rec := range old {
				if _, ok := saved[k]; !ok {
					saved[k] = rec
				}
			}
		}},
		{"forgets expiry", []string{"durable-reopen-keeps-expiry", "durable-reopen-keeps-writes"}, func(saved, _ map[string]kvstore.Record, _ string) {
			for k, rec := range saved {
				rec.Expires = time.Time{}
				saved[k] = rec
			}
		}},
	}
}

func TestCheckStoreCatchesStoresThatLoseWritesOnReopen(t *testing.T) {
	for _, tc := range storeLossyDisks() {
		t.Run(tc.name, func(t *testing.T) {
			errs := conformance.CheckStore(t, func(t *testing.T, now func() time.Time) kvstore.Store {
				return storeMemory(now)
			}, conformance.StoreOptions{Durable: func(t *testing.T, now func() time.Time) func() (kvstore.Store, error) {
				d := &storeDisk{flaw: tc.flaw}
				return func() (kvstore.Store, error) { return d.open(now) }
			}})
			var got []string
			for _, err := range errs {
				var v *conformance.Violation
				if !errors.As(err, &v) {
					t.Fatalf("CheckStore returned %v, not a *Violation", err)
				}
				got = append(got, v.Rule)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("CheckStore reported rules %q, want exactly %q; violations:\n%v", got, tc.want, errors.Join(errs...))
			}
		})
	}
}

// storeHalfWrites writes a record's value first and its metadata second,
// and gives up between the two when the context has ended by then.
type storeHalfWrites struct{ *memory.Store }

func (s storeHalfWrites) Put(ctx context.Context, key []byte, rec kvstore.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return s.Store.Put(context.Background(), key, kvstore.Record{Value: rec.Value})
	}
	return s.Store.Put(ctx, key, rec)
}

// storeUpdateLockOnly serialises Updates with a lock of its own, built on
// Get and Put, but Put and Delete do not take that lock: Updates exclude
// each other and nothing else.
type storeUpdateLockOnly struct {
	*memory.Store
	mu sync.Mutex
}

func (s *storeUpdateLockOnly) Update(ctx context.Context, key []byte, fn kvstore.UpdateFunc) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return storeNonAtomic{s.Store}.Update(ctx, key, fn)
}

// storeCapsValues keeps only the first 256 KiB of a value, as a store with
// a smaller page or field limit than the node needs would.
type storeCapsValues struct{ *memory.Store }

func (s storeCapsValues) Put(ctx context.Context, key []byte, rec kvstore.Record) error {
	if len(rec.Value) > 256<<10 {
		rec.Value = rec.Value[:256<<10]
	}
	return s.Store.Put(ctx, key, rec)
}

// everyRuleBroken fails unless each of the suite's rules is in some want
// list of its broken parts: every rule is shown to catch something.
func everyRuleBroken(t *testing.T, suite string, wants ...[]string) {
	t.Helper()
	caught := map[string]bool{}
	for _, w := range wants {
		for _, r := range w {
			caught[r] = true
		}
	}
	for _, r := range conformance.Rules()[suite] {
		if !caught[r] {
			t.Errorf("%s rule %s is broken by none of the suite's broken parts", suite, r)
		}
	}
}

func TestEveryStoreRuleHasABrokenStore(t *testing.T) {
	var wants [][]string
	for _, b := range storeBrokenStores() {
		wants = append(wants, b.want)
	}
	for _, d := range storeLossyDisks() {
		wants = append(wants, d.want)
	}
	for _, f := range storeFileFlaws() {
		wants = append(wants, f.want)
	}
	wants = append(wants, []string{"longest-key-exact-edge"}) // TestCheckStoreCatchesKeyLimitsOffByOne
	everyRuleBroken(t, "store", wants...)
}
