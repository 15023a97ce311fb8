package conformance

import (
	"fmt"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
)

// storeRanger opens a store and fills it with n records (every third never
// expiring), returning them by key. r is nil when the store is not a
// kvstore.Ranger; the caller then passes the rule. The caller must defer
// s.Close().
func storeRanger(e *env, f storeFactory, n int) (s kvstore.Store, r kvstore.Ranger, recs map[string]kvstore.Record, err error) {
	s, clk, err := storeOpen(e, f)
	if err != nil {
		return nil, nil, nil, err
	}
	r, ok := s.(kvstore.Ranger)
	if !ok {
		return s, nil, nil, skip("the store does not implement kvstore.Ranger")
	}
	recs = make(map[string]kvstore.Record, n)
	for i := range n {
		key, rec := storeKey(e.rng, i), storeRecord(e.rng, clk.Now().Add(time.Hour))
		if i%3 == 0 {
			rec.Expires = time.Time{}
		}
		if err := s.Put(e.ctx, key, rec); err != nil {
			return s, nil, nil, fmt.Errorf("Put = %w", err)
		}
		recs[string(key)] = rec
	}
	return s, r, recs, nil
}

// storeRangeRules: the optional kvstore.Ranger. For a store without it they
// are skipped.
func storeRangeRules() []rule[storeFactory] {
	return []rule[storeFactory]{
		{
			name: "range-visits-live-records",
			doc:  "Range (if implemented) visits every live record exactly once, deleted ones not at all.",
			check: func(e *env, f storeFactory) error {
				s, _, recs, err := storeRanger(e, f, 30)
				if s != nil {
					defer s.Close()
				}
				if err != nil {
					return err
				}
				deleted := 0
				for k := range recs {
					if deleted == 5 {
						break
					}
					if err := s.Delete(e.ctx, []byte(k)); err != nil {
						return fmt.Errorf("Delete = %w", err)
					}
					delete(recs, k)
					deleted++
				}
				got, _, err := storeRange(e.ctx, s)
				if err != nil {
					return err
				}
				return storeSameSet(got, recs)
			},
		},
		{
			name: "range-returns-copies",
			doc:  "The key and record Range (if implemented) passes to fn are copies: changing them does not change the store.",
			check: func(e *env, f storeFactory) error {
				s, r, recs, err := storeRanger(e, f, 10)
				if s != nil {
					defer s.Close()
				}
				if err != nil {
					return err
				}
				err = r.Range(e.ctx, func(key []byte, rec kvstore.Record) bool {
					storeScribble(&rec)
					for i := range key {
						key[i] ^= 0xff
					}
					return true
				})
				if err != nil {
					return fmt.Errorf("Range = %w", err)
				}
				for k, rec := range recs {
					if err := storeExpect(e.ctx, s, []byte(k), rec, "after changing what Range passed to fn"); err != nil {
						return err
					}
				}
				got, _, err := storeRange(e.ctx, s)
				if err != nil {
					return err
				}
				if err := storeSameSet(got, recs); err != nil {
					return fmt.Errorf("second Range, after the first one's fn changed its arguments: %w", err)
				}
				return nil
			},
		},
		{
			name: "range-stops-early",
			doc:  "Range (if implemented) stops as soon as fn returns false, and returns nil.",
			check: func(e *env, f storeFactory) error {
				s, r, _, err := storeRanger(e, f, 10)
				if s != nil {
					defer s.Close()
				}
				if err != nil {
					return err
				}
				calls := 0
				err = r.Range(e.ctx, func([]byte, kvstore.Record) bool {
					calls++
					return calls < 3
				})
				if err != nil {
					return fmt.Errorf("Range stopped by fn = %w, want nil", err)
				}
				if calls != 3 {
					return fmt.Errorf("Range called fn %d times after it returned false on call 3, want 3 calls", calls)
				}
				return nil
			},
		},
		{
			name: "range-allows-writes",
			doc:  "fn may write to the store during Range (if implemented) without deadlock or error.",
			check: func(e *env, f storeFactory) error {
				s, r, recs, err := storeRanger(e, f, 20)
				if s != nil {
					defer s.Close()
				}
				if err != nil {
					return err
				}
				var werr error
				i := len(recs)
				err = r.Range(e.ctx, func(key []byte, rec kvstore.Record) bool {
					if _, orig := recs[string(key)]; !orig {
						return true // a key fn added: writes may or may not be seen
					}
					if werr = s.Delete(e.ctx, key); werr != nil {
						werr = fmt.Errorf("Delete from fn = %w", werr)
						return false
					}
					i++
					if werr = s.Put(e.ctx, storeKey(e.rng, i), rec); werr != nil {
						werr = fmt.Errorf("Put from fn = %w", werr)
						return false
					}
					return true
				})
				if err != nil {
					return fmt.Errorf("Range whose fn writes = %w", err)
				}
				if werr != nil {
					return werr
				}
				for k := range recs {
					if err := storeExpectMissing(e.ctx, s, []byte(k), "a key fn deleted during Range"); err != nil {
						return err
					}
				}
				return nil
			},
		},
	}
}
