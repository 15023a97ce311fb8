package conformance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
)

// Size of the concurrent-mixed-use workload: a mixed phase over several
// keys, then a hot phase in which writers take turns on one key while
// readers read it as fast as they can, so that a store whose reads can
// see half a write is caught in nearly every run.
const (
	storeMixedWorkers = 8
	storeMixedOps     = 60
	storeMixedKeys    = 12
	storeHotWriters   = 3
	storeHotReaders   = 3
	storeHotWrites    = 40
)

// storeStamp is the record the concurrent workload writes with seq and
// exp: every field is made from the key, seq and exp, so a torn record
// (one field from one write, another from a second) is detected on read.
func storeStamp(key []byte, seq uint64, exp time.Time) kvstore.Record {
	var ns int64
	if !exp.IsZero() {
		ns = exp.UnixNano()
	}
	v := binary.BigEndian.AppendUint64(bytes.Clone(key), seq)
	v = binary.BigEndian.AppendUint64(v, uint64(ns))
	h := sha256.Sum256(v)
	return kvstore.Record{
		Value:     v,
		Expires:   exp,
		Publisher: h[:],
		Salt:      h[:8],
		Seq:       seq,
		Signature: append(h[:], v...),
	}
}

// storeCheckStamp reports a record that is not the one storeStamp makes
// from its key, Seq and Expires.
func storeCheckStamp(key []byte, rec kvstore.Record) error {
	if want := storeStamp(key, rec.Seq, rec.Expires); !rec.Equal(want) {
		return fmt.Errorf("record under %q is torn: %s is not the record written with its seq and expiry, %s", key, storeFmt(rec), storeFmt(want))
	}
	return nil
}

// storeLifecycleRules: concurrency, contexts and Close.
func storeLifecycleRules() []rule[storeFactory] {
	return []rule[storeFactory]{
		{
			name: "concurrent-mixed-use",
			doc:  "Concurrent Get, Put, Update, Delete, Sweep, Len and Range never fail unexpectedly nor return a torn record, one whose fields come from two writes, not even while writers take turns on one key (run under -race).",
			check: func(e *env, f storeFactory) error {
				s, clk, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				defer s.Close()
				keys := make([][]byte, storeMixedKeys)
				for i := range keys {
					keys[i] = storeKey(e.rng, i)
				}
				errs := make(chan error, storeMixedWorkers)
				var wg sync.WaitGroup
				for w := range storeMixedWorkers {
					rng := rand.New(rand.NewPCG(e.rng.Uint64(), uint64(w)))
					wg.Go(func() {
						defer catch(func(err error) { errs <- err })
						for range storeMixedOps {
							if err := storeMixedOp(e.ctx, s, clk, rng, keys); err != nil {
								errs <- err
								return
							}
						}
					})
				}
				wg.Wait()
				close(errs)
				if err := <-errs; err != nil {
					return err
				}
				return storeHotKey(e, s, clk)
			},
		},
		{
			name: "context-done",
			doc:  "Every method called with a context already done returns an error matching ctx.Err() and does no work.",
			check: func(e *env, f storeFactory) error {
				s, _, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				defer s.Close()
				key, rec := storeKey(e.rng, 0), storeRecord(e.rng, time.Time{})
				if err := s.Put(e.ctx, key, rec); err != nil {
					return fmt.Errorf("Put = %w", err)
				}
				done, cancel := context.WithCancel(e.ctx)
				cancel()
				other := storeKey(e.rng, 1)
				if err := storeEveryMethod(done, s, other, context.Canceled); err != nil {
					return err
				}
				if err := s.Delete(done, key); !errors.Is(err, context.Canceled) {
					return fmt.Errorf("Delete with a cancelled context = %v, want context.Canceled", err)
				}
				if err := storeExpectMissing(e.ctx, s, other, "Put and Update with a cancelled context"); err != nil {
					return err
				}
				return storeExpect(e.ctx, s, key, rec, "Delete with a cancelled context")
			},
		},
		{
			name: "close-once",
			doc:  "Of concurrent calls to Close exactly one returns nil; the others, and every later call, return kvstore.ErrClosed.",
			check: func(e *env, f storeFactory) error {
				s, _, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				if err := s.Put(e.ctx, storeKey(e.rng, 0), storeRecord(e.rng, time.Time{})); err != nil {
					return fmt.Errorf("Put = %w", err)
				}
				return closeOnce(s.Close, kvstore.ErrClosed)
			},
		},
		{
			name: "use-after-close",
			doc:  "After Close every method returns kvstore.ErrClosed, and Update does not call fn.",
			check: func(e *env, f storeFactory) error {
				s, _, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				key := storeKey(e.rng, 0)
				if err := s.Put(e.ctx, key, storeRecord(e.rng, time.Time{})); err != nil {
					return fmt.Errorf("Put = %w", err)
				}
				if err := s.Close(); err != nil {
					return fmt.Errorf("Close = %w", err)
				}
				if err := storeEveryMethod(e.ctx, s, key, kvstore.ErrClosed); err != nil {
					return err
				}
				if err := s.Delete(e.ctx, key); !errors.Is(err, kvstore.ErrClosed) {
					return fmt.Errorf("Delete after Close = %v, want kvstore.ErrClosed", err)
				}
				return nil
			},
		},
	}
}

// storeEveryMethod calls every method but Delete and Close on key and
// expects each to fail with want, without calling any fn.
func storeEveryMethod(ctx context.Context, s kvstore.Store, key []byte, want error) error {
	if rec, err := s.Get(ctx, key); !errors.Is(err, want) {
		return fmt.Errorf("Get = %s, %v, want %v", storeFmt(rec), err, want)
	}
	if err := s.Put(ctx, key, kvstore.Record{Value: []byte("v")}); !errors.Is(err, want) {
		return fmt.Errorf("Put = %v, want %v", err, want)
	}
	called := false
	err := s.Update(ctx, key, func(*kvstore.Record) (*kvstore.Record, error) {
		called = true
		return &kvstore.Record{Value: []byte("v")}, nil
	})
	if !errors.Is(err, want) || called {
		return fmt.Errorf("Update = %v with fn called: %v, want %v without calling fn", err, called, want)
	}
	if n, err := s.Sweep(ctx); !errors.Is(err, want) {
		return fmt.Errorf("Sweep = %d, %v, want %v", n, err, want)
	}
	if n, err := s.Len(ctx); !errors.Is(err, want) {
		return fmt.Errorf("Len = %d, %v, want %v", n, err, want)
	}
	if r, ok := s.(kvstore.Ranger); ok {
		called := false
		err := r.Range(ctx, func([]byte, kvstore.Record) bool { called = true; return true })
		if !errors.Is(err, want) || called {
			return fmt.Errorf("Range = %v with fn called: %v, want %v without calling fn", err, called, want)
		}
	}
	return nil
}

// storeMixedOp runs one random operation of the concurrent workload.
func storeMixedOp(ctx context.Context, s kvstore.Store, clk *storeClock, rng *rand.Rand, keys [][]byte) error {
	key := keys[rng.IntN(len(keys))]
	switch op := rng.IntN(10); op {
	case 0, 1, 2:
		rec, err := s.Get(ctx, key)
		if errors.Is(err, kvstore.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("Get = %w", err)
		}
		return storeCheckStamp(key, rec)
	case 3, 4:
		seq := rng.Uint64N(1 << 32)
		exp := time.Time{}
		if rng.IntN(2) == 0 {
			exp = clk.Now().Add(time.Duration(rng.IntN(3)) * time.Second)
		}
		if err := s.Put(ctx, key, storeStamp(key, seq, exp)); err != nil {
			return fmt.Errorf("Put = %w", err)
		}
	case 5, 6:
		err := s.Update(ctx, key, func(cur *kvstore.Record) (*kvstore.Record, error) {
			seq := uint64(1)
			if cur != nil {
				if err := storeCheckStamp(key, *cur); err != nil {
					return nil, err
				}
				seq = cur.Seq + 1
			}
			next := storeStamp(key, seq, time.Time{})
			return &next, nil
		})
		if err != nil {
			return fmt.Errorf("Update = %w", err)
		}
	case 7:
		if err := s.Delete(ctx, key); err != nil {
			return fmt.Errorf("Delete = %w", err)
		}
	case 8:
		if rng.IntN(2) == 0 {
			clk.advance(time.Second)
		}
		if _, err := s.Sweep(ctx); err != nil {
			return fmt.Errorf("Sweep = %w", err)
		}
		if n, err := s.Len(ctx); err != nil || n < 0 || n > len(keys) {
			return fmt.Errorf("Len = %d, %v, want 0..%d, nil", n, err, len(keys))
		}
	case 9:
		r, ok := s.(kvstore.Ranger)
		if !ok {
			return nil
		}
		var bad error
		err := r.Range(ctx, func(k []byte, rec kvstore.Record) bool {
			bad = storeCheckStamp(k, rec)
			return bad == nil
		})
		if err != nil {
			return fmt.Errorf("Range = %w", err)
		}
		return bad
	}
	return nil
}

// storeHotKey is the hot phase of concurrent-mixed-use: writers Put and
// Update one key with records that differ in every field while readers
// Get and Range it until the writers are done; every record read must be
// one that was written whole.
func storeHotKey(e *env, s kvstore.Store, clk *storeClock) error {
	key := storeKey(e.rng, storeMixedKeys)
	errs := make(chan error, storeHotWriters+storeHotReaders)
	stop := make(chan struct{})
	var writers, readers sync.WaitGroup
	for w := range storeHotWriters {
		writers.Go(func() {
			defer catch(func(err error) { errs <- err })
			for i := range storeHotWrites {
				// Distinct in seq and expiry across writers and writes;
				// expiries lie far past the clock, which this phase does
				// not move.
				seq := uint64(1+w)<<32 | uint64(i)
				exp := clk.Now().Add(time.Duration(seq%1000+1) * time.Hour)
				var err error
				if i%4 == 3 {
					err = s.Update(e.ctx, key, func(cur *kvstore.Record) (*kvstore.Record, error) {
						if cur != nil {
							if err := storeCheckStamp(key, *cur); err != nil {
								return nil, err
							}
						}
						next := storeStamp(key, seq, exp)
						return &next, nil
					})
				} else {
					err = s.Put(e.ctx, key, storeStamp(key, seq, exp))
				}
				if err != nil {
					errs <- fmt.Errorf("write to the hot key = %w", err)
					return
				}
			}
		})
	}
	for r := range storeHotReaders {
		readers.Go(func() {
			defer catch(func(err error) { errs <- err })
			ranger, _ := s.(kvstore.Ranger)
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if ranger != nil && r == 0 && n%8 == 7 {
					var bad error
					err := ranger.Range(e.ctx, func(k []byte, rec kvstore.Record) bool {
						bad = storeCheckStamp(k, rec)
						return bad == nil
					})
					if err == nil {
						err = bad
					}
					if err != nil {
						errs <- fmt.Errorf("Range while writers take turns on one key: %w", err)
						return
					}
					continue
				}
				rec, err := s.Get(e.ctx, key)
				if errors.Is(err, kvstore.ErrNotFound) {
					continue
				}
				if err == nil {
					err = storeCheckStamp(key, rec)
				}
				if err != nil {
					errs <- fmt.Errorf("Get while writers take turns on one key: %w", err)
					return
				}
			}
		})
	}
	writers.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	return <-errs
}
