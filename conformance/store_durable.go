package conformance

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
)

// storeDurable opens a store through StoreOptions.Durable, or returns a
// skip when the store claims no durability. reopen closes nothing: the
// caller closes what it opened.
func storeDurable(e *env, f storeFactory) (reopen func() (kvstore.Store, error), clk *storeClock, err error) {
	if f.durable == nil {
		return nil, nil, skip("StoreOptions.Durable is not set: the store does not claim durability")
	}
	clk = &storeClock{now: time.Date(2030, time.January, 1, 0, 0, 0, 0, time.UTC)}
	open := f.durable(e.t, clk.Now)
	if open == nil {
		return nil, nil, errors.New("StoreOptions.Durable returned a nil open func")
	}
	return func() (kvstore.Store, error) {
		s, err := open()
		if err != nil {
			return nil, fmt.Errorf("open = %w", err)
		}
		if s == nil {
			return nil, errors.New("open returned a nil store")
		}
		return s, nil
	}, clk, nil
}

// storeDurableWrites is how many keys the durable rules write.
const storeDurableWrites = 40

// storeDurableRules: what a durable store keeps across Close and reopen.
func storeDurableRules() []rule[storeFactory] {
	return []rule[storeFactory]{
		{
			name: "durable-reopen-keeps-writes",
			doc:  "A durable store, closed and reopened, holds exactly the acknowledged writes: every Put and Update, no deleted key, no write an Update's error refused; and so again after writes and deletes in a second session.",
			check: func(e *env, f storeFactory) error {
				reopen, clk, err := storeDurable(e, f)
				if err != nil {
					return err
				}
				s, err := reopen()
				if err != nil {
					return err
				}
				want := make(map[string]kvstore.Record)
				var gone [][]byte
				for i := range storeDurableWrites {
					key, rec := storeKey(e.rng, i), storeRecord(e.rng, time.Time{})
					if i%2 == 1 {
						rec.Expires = clk.Now().Add(time.Hour)
					}
					switch i % 5 {
					case 0, 1, 2:
						err = s.Put(e.ctx, key, rec)
					case 3:
						err = s.Update(e.ctx, key, func(*kvstore.Record) (*kvstore.Record, error) { return &rec, nil })
					case 4:
						if err = s.Put(e.ctx, key, rec); err == nil {
							err = s.Delete(e.ctx, key)
						}
						gone = append(gone, key)
					}
					if err != nil {
						s.Close()
						return fmt.Errorf("write %d = %w", i, err)
					}
					if i%5 != 4 {
						want[string(key)] = rec
					}
				}
				// A refused Update is not a write: what it replaced and what
				// it would have created must come back as they were.
				for k := range want {
					if err := s.Update(e.ctx, []byte(k), func(*kvstore.Record) (*kvstore.Record, error) { return nil, storeErrMismatch }); !errors.Is(err, storeErrMismatch) {
						s.Close()
						return fmt.Errorf("refused Update = %v, want its fn's error", err)
					}
					break
				}
				refused := storeKey(e.rng, storeDurableWrites)
				_ = s.Update(e.ctx, refused, func(*kvstore.Record) (*kvstore.Record, error) { return nil, storeErrMismatch })
				gone = append(gone, refused)
				if err := s.Close(); err != nil {
					return fmt.Errorf("Close = %w", err)
				}
				for round := 1; round <= 2; round++ {
					s, err = reopen()
					if err != nil {
						return fmt.Errorf("reopen %d: %w", round, err)
					}
					err := storeDurableHolds(e, s, want, gone, fmt.Sprintf("after reopen %d", round))
					if err == nil && round == 1 {
						// A write made after a reopen survives the next, and so
						// does the delete of a record the last session saved.
						key, rec := storeKey(e.rng, storeDurableWrites+1), storeRecord(e.rng, time.Time{})
						if err = s.Put(e.ctx, key, rec); err == nil {
							want[string(key)] = rec
						}
						for k := range want {
							if k == string(key) || err != nil {
								continue
							}
							if err = s.Delete(e.ctx, []byte(k)); err == nil {
								delete(want, k)
								gone = append(gone, []byte(k))
							}
							break
						}
					}
					if cerr := s.Close(); err == nil && cerr != nil {
						err = fmt.Errorf("Close after reopen %d = %w", round, cerr)
					}
					if err != nil {
						return err
					}
				}
				return nil
			},
		},
		{
			name: "durable-reopen-keeps-expiry",
			doc:  "A durable store keeps each record's expiry across a reopen: a record that expires while it is closed is never returned afterwards, the others are.",
			check: func(e *env, f storeFactory) error {
				reopen, clk, err := storeDurable(e, f)
				if err != nil {
					return err
				}
				s, err := reopen()
				if err != nil {
					return err
				}
				want := make(map[string]kvstore.Record)
				var gone [][]byte
				for i := range storeDurableWrites / 2 {
					key, rec := storeKey(e.rng, i), storeRecord(e.rng, clk.Now().Add(time.Duration(1+i%4)*time.Minute))
					if err := s.Put(e.ctx, key, rec); err != nil {
						s.Close()
						return fmt.Errorf("Put = %w", err)
					}
					if i%4 < 2 {
						gone = append(gone, key) // expires at +1 or +2 minutes
					} else {
						want[string(key)] = rec
					}
				}
				if err := s.Close(); err != nil {
					return fmt.Errorf("Close = %w", err)
				}
				clk.advance(2 * time.Minute)
				if s, err = reopen(); err != nil {
					return err
				}
				err = storeDurableHolds(e, s, want, gone, "after two minutes closed")
				if cerr := s.Close(); err == nil && cerr != nil {
					err = fmt.Errorf("Close after reopen = %w", cerr)
				}
				return err
			},
		},
		{
			name: "durable-concurrent-writes-survive",
			doc:  "Writes acknowledged to many goroutines at once all survive a reopen of a durable store.",
			check: func(e *env, f storeFactory) error {
				reopen, _, err := storeDurable(e, f)
				if err != nil {
					return err
				}
				s, err := reopen()
				if err != nil {
					return err
				}
				const workers = 4
				keys := make([][][]byte, workers)
				recs := make([][]kvstore.Record, workers)
				for w := range workers {
					for i := range storeDurableWrites / workers {
						keys[w] = append(keys[w], storeKey(e.rng, w*1000+i))
						recs[w] = append(recs[w], storeRecord(e.rng, time.Time{}))
					}
				}
				errs := make([]error, workers)
				var wg sync.WaitGroup
				for w := range workers {
					wg.Go(func() {
						defer catch(func(err error) { errs[w] = err })
						for i := range keys[w] {
							if err := s.Put(e.ctx, keys[w][i], recs[w][i]); err != nil {
								errs[w] = fmt.Errorf("Put = %w", err)
								return
							}
						}
					})
				}
				wg.Wait()
				cerr := s.Close()
				if err := errors.Join(errs...); err != nil {
					return err
				}
				if cerr != nil {
					return fmt.Errorf("Close = %w", cerr)
				}
				want := make(map[string]kvstore.Record)
				for w := range workers {
					for i := range keys[w] {
						want[string(keys[w][i])] = recs[w][i]
					}
				}
				if s, err = reopen(); err != nil {
					return err
				}
				err = storeDurableHolds(e, s, want, nil, "after reopen")
				if cerr := s.Close(); err == nil && cerr != nil {
					err = fmt.Errorf("Close after reopen = %w", cerr)
				}
				return err
			},
		},
	}
}

// storeDurableHolds checks that s holds exactly want among the keys it was
// given, and none of gone; Len counts the live records.
func storeDurableHolds(e *env, s kvstore.Store, want map[string]kvstore.Record, gone [][]byte, what string) error {
	for k, rec := range want {
		if err := storeExpect(e.ctx, s, []byte(k), rec, what); err != nil {
			return err
		}
	}
	for _, k := range gone {
		if err := storeExpectMissing(e.ctx, s, k, what); err != nil {
			return err
		}
	}
	if _, err := s.Sweep(e.ctx); err != nil {
		return fmt.Errorf("%s: Sweep = %w", what, err)
	}
	return storeExpectLen(e.ctx, s, len(want), what+", after Sweep")
}
