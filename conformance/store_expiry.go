package conformance

import (
	"errors"
	"fmt"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
)

// storeErrAbort is what the suite's update functions return to look at the
// current record without changing it.
var storeErrAbort = errors.New("conformance: update aborted on purpose")

// storeExpiryRules: records stop being returned at their expiry, by the
// store's clock, and Sweep frees them.
func storeExpiryRules() []rule[storeFactory] {
	return []rule[storeFactory]{
		{
			name: "expired-never-returned",
			doc:  "From its Expires instant on, by the store's clock, a record is not returned by Get, Range or Update.",
			check: func(e *env, f storeFactory) error {
				s, clk, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				defer s.Close()
				exp := clk.Now().Add(time.Minute)
				short, long := storeKey(e.rng, 0), storeKey(e.rng, 1)
				shortRec, longRec := storeRecord(e.rng, exp), storeRecord(e.rng, exp.Add(time.Hour))
				if err := s.Put(e.ctx, short, shortRec); err != nil {
					return fmt.Errorf("Put = %w", err)
				}
				if err := s.Put(e.ctx, long, longRec); err != nil {
					return fmt.Errorf("Put = %w", err)
				}
				if err := storeExpect(e.ctx, s, short, shortRec, "before expiry"); err != nil {
					return err
				}
				clk.advance(time.Minute) // now == Expires: expired
				if err := storeExpectMissing(e.ctx, s, short, "at its Expires instant"); err != nil {
					return err
				}
				var seen *kvstore.Record
				err = s.Update(e.ctx, short, func(cur *kvstore.Record) (*kvstore.Record, error) {
					seen = cur
					return nil, storeErrAbort
				})
				if !errors.Is(err, storeErrAbort) {
					return fmt.Errorf("Update returned %v, want fn's error", err)
				}
				if seen != nil {
					return fmt.Errorf("Update's fn saw expired record %s, want nil", storeFmt(*seen))
				}
				got, ok, err := storeRange(e.ctx, s)
				if err != nil {
					return err
				}
				if ok {
					want := map[string]kvstore.Record{string(long): longRec}
					if err := storeSameSet(got, want); err != nil {
						return fmt.Errorf("after expiry: %w", err)
					}
				}
				past := storeKey(e.rng, 2)
				if err := s.Put(e.ctx, past, storeRecord(e.rng, clk.Now().Add(-time.Second))); err != nil {
					return fmt.Errorf("Put of an already expired record = %w, want nil", err)
				}
				return storeExpectMissing(e.ctx, s, past, "a record Put already expired")
			},
		},
		{
			name: "sweep-removes-expired",
			doc:  "Sweep removes exactly the expired records, returns how many, and Len drops by as many.",
			check: func(e *env, f storeFactory) error {
				s, clk, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				defer s.Close()
				now := clk.Now()
				live := make(map[string]kvstore.Record)
				for i, exp := range []time.Time{
					now.Add(time.Minute), now.Add(30 * time.Second), now.Add(time.Millisecond),
					now.Add(time.Hour), now.Add(2 * time.Hour), {}, {},
				} {
					key, rec := storeKey(e.rng, i), storeRecord(e.rng, exp)
					if err := s.Put(e.ctx, key, rec); err != nil {
						return fmt.Errorf("Put = %w", err)
					}
					if i >= 3 {
						live[string(key)] = rec
					}
				}
				clk.advance(time.Minute)
				if err := storeExpectLen(e.ctx, s, 7, "before Sweep (expired records still held)"); err != nil {
					return err
				}
				n, err := s.Sweep(e.ctx)
				if err != nil {
					return fmt.Errorf("Sweep = %w", err)
				}
				if n != 3 {
					return fmt.Errorf("Sweep removed %d records, want 3", n)
				}
				if err := storeExpectLen(e.ctx, s, 4, "after Sweep"); err != nil {
					return err
				}
				if n, err := s.Sweep(e.ctx); err != nil || n != 0 {
					return fmt.Errorf("second Sweep = %d, %v, want 0, nil", n, err)
				}
				for k, rec := range live {
					if err := storeExpect(e.ctx, s, []byte(k), rec, "live record after Sweep"); err != nil {
						return err
					}
				}
				return nil
			},
		},
		{
			name: "zero-expiry-never-expires",
			doc:  "A record whose Expires is the zero time is returned however far the clock moves, and Sweep keeps it.",
			check: func(e *env, f storeFactory) error {
				s, clk, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				defer s.Close()
				key, rec := storeKey(e.rng, 0), storeRecord(e.rng, time.Time{})
				if err := s.Put(e.ctx, key, rec); err != nil {
					return fmt.Errorf("Put = %w", err)
				}
				clk.advance(200 * 365 * 24 * time.Hour)
				if err := storeExpect(e.ctx, s, key, rec, "200 years later"); err != nil {
					return err
				}
				if n, err := s.Sweep(e.ctx); err != nil || n != 0 {
					return fmt.Errorf("Sweep = %d, %v, want 0, nil", n, err)
				}
				return storeExpect(e.ctx, s, key, rec, "after Sweep")
			},
		},
	}
}
