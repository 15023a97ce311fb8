package conformance

import (
	"bytes"
	"fmt"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
)

// storeKeyLimitRules: the exact edge of the keys a store accepts.
func storeKeyLimitRules() []rule[storeFactory] {
	return []rule[storeFactory]{{
		name: "longest-key-exact-edge",
		doc:  "A store with a key limit (StoreOptions.MaxKeySize) keeps a key of exactly that many bytes like any other (Put, Get, Update, Range, Delete), and refuses one byte more with an error from Put and Update, storing nothing.",
		check: func(e *env, f storeFactory) error {
			if f.maxKey <= 0 {
				return skip("StoreOptions.MaxKeySize is not set: the store states no key limit")
			}
			s, _, err := storeOpen(e, f)
			if err != nil {
				return err
			}
			defer s.Close()
			longest := storeBytes(e.rng, f.maxKey)
			rec := storeRecord(e.rng, time.Time{})
			if err := s.Put(e.ctx, longest, rec); err != nil {
				return fmt.Errorf("Put of a %d-byte key, the limit = %w, want nil", len(longest), err)
			}
			if err := storeExpect(e.ctx, s, longest, rec, fmt.Sprintf("a %d-byte key", len(longest))); err != nil {
				return err
			}
			seen := false
			next := storeRecord(e.rng, time.Time{})
			err = s.Update(e.ctx, longest, func(cur *kvstore.Record) (*kvstore.Record, error) {
				seen = cur != nil && cur.Equal(rec)
				return &next, nil
			})
			if err != nil || !seen {
				return fmt.Errorf("Update of a %d-byte key = %v, fn saw the record: %v; want nil, true", len(longest), err, seen)
			}
			if got, ok, err := storeRange(e.ctx, s); err != nil {
				return err
			} else if ok {
				if err := storeSameSet(got, map[string]kvstore.Record{string(longest): next}); err != nil {
					return fmt.Errorf("a %d-byte key: %w", len(longest), err)
				}
			}
			if err := s.Delete(e.ctx, longest); err != nil {
				return fmt.Errorf("Delete of a %d-byte key = %w", len(longest), err)
			}
			if err := storeExpectMissing(e.ctx, s, longest, "after Delete of the longest key"); err != nil {
				return err
			}
			over := append(bytes.Clone(longest), 'x')
			if err := s.Put(e.ctx, over, rec); err == nil {
				return fmt.Errorf("Put of a %d-byte key, one over the limit = nil, want an error", len(over))
			}
			err = s.Update(e.ctx, over, func(*kvstore.Record) (*kvstore.Record, error) { return &rec, nil })
			if err == nil {
				return fmt.Errorf("Update of a %d-byte key, one over the limit = nil, want an error", len(over))
			}
			if got, err := s.Get(e.ctx, over); err == nil {
				return fmt.Errorf("Get of a %d-byte key, one over the limit, after refused writes = %s, want an error", len(over), storeFmt(got))
			}
			return storeExpectLen(e.ctx, s, 0, "after refused writes of a key over the limit")
		},
	}}
}
