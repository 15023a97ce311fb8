package conformance

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
)

// Size of the update-is-atomic race: storeWriters goroutines each increment
// one key's Seq storeIncrements times.
const (
	storeWriters    = 16
	storeIncrements = 25
)

// storeUpdateRules: Update is an atomic read-modify-write, and the patterns
// a node builds on it.
func storeUpdateRules() []rule[storeFactory] {
	return []rule[storeFactory]{
		{
			name: "update-sees-nil-when-absent",
			doc:  "Update's fn gets nil for an absent key, and the record it returns is stored.",
			check: func(e *env, f storeFactory) error {
				s, clk, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				defer s.Close()
				key, rec := storeKey(e.rng, 0), storeRecord(e.rng, clk.Now().Add(time.Hour))
				err = s.Update(e.ctx, key, func(cur *kvstore.Record) (*kvstore.Record, error) {
					if cur != nil {
						return nil, fmt.Errorf("fn got %s for an absent key, want nil", storeFmt(*cur))
					}
					next := rec.Clone()
					return &next, nil
				})
				if err != nil {
					return fmt.Errorf("Update = %w", err)
				}
				return storeExpect(e.ctx, s, key, rec, "after Update created the key")
			},
		},
		{
			name: "update-sees-current",
			doc:  "Update's fn gets a copy of the live record.",
			check: func(e *env, f storeFactory) error {
				s, clk, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				defer s.Close()
				key, rec := storeKey(e.rng, 0), storeRecord(e.rng, clk.Now().Add(time.Hour))
				if err := s.Put(e.ctx, key, rec); err != nil {
					return fmt.Errorf("Put = %w", err)
				}
				err = s.Update(e.ctx, key, func(cur *kvstore.Record) (*kvstore.Record, error) {
					switch {
					case cur == nil:
						return nil, errors.New("fn got nil for a stored key, want the record")
					case !cur.Equal(rec):
						return nil, fmt.Errorf("fn got %s, want %s", storeFmt(*cur), storeFmt(rec))
					}
					return nil, storeErrAbort
				})
				if !errors.Is(err, storeErrAbort) {
					return fmt.Errorf("Update = %v, want fn's error", err)
				}
				return nil
			},
		},
		{
			name: "update-error-leaves-unchanged",
			doc:  "When fn returns an error, Update returns it and the store is unchanged, even if fn changed the bytes of cur.",
			check: func(e *env, f storeFactory) error {
				s, clk, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				defer s.Close()
				key, rec := storeKey(e.rng, 0), storeRecord(e.rng, clk.Now().Add(time.Hour))
				if err := s.Put(e.ctx, key, rec); err != nil {
					return fmt.Errorf("Put = %w", err)
				}
				scribble := func(cur *kvstore.Record) (*kvstore.Record, error) {
					if cur != nil {
						storeScribble(cur)
						cur.Seq++
					}
					return cur, storeErrAbort
				}
				if err := s.Update(e.ctx, key, scribble); !errors.Is(err, storeErrAbort) {
					return fmt.Errorf("Update = %v, want fn's error", err)
				}
				if err := storeExpect(e.ctx, s, key, rec, "after a failed Update"); err != nil {
					return err
				}
				absent := storeKey(e.rng, 1)
				err = s.Update(e.ctx, absent, func(*kvstore.Record) (*kvstore.Record, error) {
					return &kvstore.Record{Value: []byte("v")}, storeErrAbort
				})
				if !errors.Is(err, storeErrAbort) {
					return fmt.Errorf("Update of an absent key = %v, want fn's error", err)
				}
				if err := storeExpectMissing(e.ctx, s, absent, "after a failed Update of an absent key"); err != nil {
					return err
				}
				return storeExpectLen(e.ctx, s, 1, "after failed Updates")
			},
		},
		{
			name: "update-nil-deletes",
			doc:  "When fn returns a nil record, Update deletes the key; for an absent key it is a no-op.",
			check: func(e *env, f storeFactory) error {
				s, _, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				defer s.Close()
				key := storeKey(e.rng, 0)
				if err := s.Put(e.ctx, key, storeRecord(e.rng, time.Time{})); err != nil {
					return fmt.Errorf("Put = %w", err)
				}
				del := func(*kvstore.Record) (*kvstore.Record, error) { return nil, nil }
				if err := s.Update(e.ctx, key, del); err != nil {
					return fmt.Errorf("Update returning nil = %w, want nil", err)
				}
				if err := storeExpectMissing(e.ctx, s, key, "after Update returned nil"); err != nil {
					return err
				}
				if err := s.Update(e.ctx, storeKey(e.rng, 1), del); err != nil {
					return fmt.Errorf("Update returning nil for an absent key = %w, want nil", err)
				}
				return storeExpectLen(e.ctx, s, 0, "after Update deleted the only key")
			},
		},
		{
			name: "update-copies-result",
			doc:  "Update copies the record fn returns: changing its bytes after Update does not change the store.",
			check: func(e *env, f storeFactory) error {
				s, clk, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				defer s.Close()
				key, rec := storeKey(e.rng, 0), storeRecord(e.rng, clk.Now().Add(time.Hour))
				var out *kvstore.Record
				err = s.Update(e.ctx, key, func(*kvstore.Record) (*kvstore.Record, error) {
					next := rec.Clone()
					out = &next
					return out, nil
				})
				if err != nil {
					return fmt.Errorf("Update = %w", err)
				}
				storeScribble(out)
				return storeExpect(e.ctx, s, key, rec, "after changing the bytes fn returned")
			},
		},
		{
			name: "update-is-atomic",
			doc:  "Concurrent Updates of one key are serialised: no increment is lost.",
			check: func(e *env, f storeFactory) error {
				s, _, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				defer s.Close()
				key := storeKey(e.rng, 0)
				incr := func(cur *kvstore.Record) (*kvstore.Record, error) {
					next := kvstore.Record{Value: []byte("counter"), Seq: 1}
					if cur != nil {
						next.Seq = cur.Seq + 1
					}
					return &next, nil
				}
				start := make(chan struct{})
				errs := make(chan error, storeWriters)
				var wg sync.WaitGroup
				for range storeWriters {
					wg.Go(func() {
						defer catch(func(err error) { errs <- err })
						<-start
						for range storeIncrements {
							if err := s.Update(e.ctx, key, incr); err != nil {
								errs <- fmt.Errorf("Update = %w", err)
								return
							}
						}
					})
				}
				close(start)
				wg.Wait()
				close(errs)
				if err := <-errs; err != nil {
					return err
				}
				got, err := s.Get(e.ctx, key)
				if err != nil {
					return fmt.Errorf("Get = %w", err)
				}
				if want := uint64(storeWriters * storeIncrements); got.Seq != want {
					return fmt.Errorf("%d goroutines × %d increments left Seq = %d, want %d (lost updates)",
						storeWriters, storeIncrements, got.Seq, want)
				}
				return nil
			},
		},
		{
			name: "higher-seq-wins",
			doc:  "Update can keep the highest sequence number: an offer no newer than the stored record is refused and changes nothing.",
			check: func(e *env, f storeFactory) error {
				s, clk, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				defer s.Close()
				key := storeKey(e.rng, 0)
				offer := func(seq uint64) kvstore.Record {
					r := storeRecord(e.rng, clk.Now().Add(time.Hour))
					r.Seq = seq
					return r
				}
				v5 := offer(5)
				if err := storeHigherSeq(e.ctx, s, key, v5); err != nil {
					return fmt.Errorf("first offer (seq 5) = %w, want nil", err)
				}
				for _, seq := range []uint64{3, 5} {
					if err := storeHigherSeq(e.ctx, s, key, offer(seq)); !errors.Is(err, storeErrStale) {
						return fmt.Errorf("offer of seq %d over seq 5 = %v, want it refused", seq, err)
					}
					if err := storeExpect(e.ctx, s, key, v5, fmt.Sprintf("after refusing seq %d", seq)); err != nil {
						return err
					}
				}
				v7 := offer(7)
				if err := storeHigherSeq(e.ctx, s, key, v7); err != nil {
					return fmt.Errorf("offer of seq 7 over seq 5 = %w, want nil", err)
				}
				return storeExpect(e.ctx, s, key, v7, "after accepting seq 7")
			},
		},
		{
			name: "compare-and-swap",
			doc:  "Update can swap only when the live record is the expected one (or absent when none is expected).",
			check: func(e *env, f storeFactory) error {
				s, clk, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				defer s.Close()
				key := storeKey(e.rng, 0)
				v1, v2 := storeRecord(e.rng, clk.Now().Add(time.Hour)), storeRecord(e.rng, time.Time{})
				v1.Seq, v2.Seq = 1, 2
				if err := storeCAS(e.ctx, s, key, nil, v1); err != nil {
					return fmt.Errorf("CAS(absent → seq 1) on an absent key = %w, want nil", err)
				}
				if err := storeCAS(e.ctx, s, key, nil, v2); !errors.Is(err, storeErrMismatch) {
					return fmt.Errorf("CAS(absent → seq 2) on a stored key = %v, want a mismatch", err)
				}
				wrong := uint64(9)
				if err := storeCAS(e.ctx, s, key, &wrong, v2); !errors.Is(err, storeErrMismatch) {
					return fmt.Errorf("CAS(seq 9 → seq 2) on seq 1 = %v, want a mismatch", err)
				}
				if err := storeExpect(e.ctx, s, key, v1, "after failed swaps"); err != nil {
					return err
				}
				if err := storeCAS(e.ctx, s, key, &v1.Seq, v2); err != nil {
					return fmt.Errorf("CAS(seq 1 → seq 2) on seq 1 = %w, want nil", err)
				}
				return storeExpect(e.ctx, s, key, v2, "after a successful swap")
			},
		},
	}
}
