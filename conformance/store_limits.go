package conformance

import (
	"bytes"
	"fmt"
	"math"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/trust"
)

// storeLimitRules: the largest records a node stores, and the exact edges
// of what a store keeps.
func storeLimitRules() []rule[storeFactory] {
	return []rule[storeFactory]{
		{
			name: "largest-record-round-trips",
			doc:  "The largest record a node stores (a msgenc.MaxValueSize value, the longest salt, Seq at its maximum, keys of 1 byte and of msgenc.MaxKeySize) and the smallest (every field empty) come back from Get, Update and Range exactly as put.",
			check: func(e *env, f storeFactory) error {
				s, clk, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				defer s.Close()
				large := kvstore.Record{
					Value:     storeBytes(e.rng, msgenc.MaxValueSize),
					Expires:   clk.Now().Add(100 * 365 * 24 * time.Hour),
					Publisher: storeBytes(e.rng, 32),
					Salt:      storeBytes(e.rng, trust.MaxSaltSize),
					Seq:       math.MaxUint64,
					Signature: storeBytes(e.rng, 64),
				}
				want := map[string]kvstore.Record{
					"\x00": large,
					string(bytes.Repeat([]byte{0xff}, msgenc.MaxKeySize)): large,
					"e": {},
				}
				for k, rec := range want {
					if err := s.Put(e.ctx, []byte(k), rec); err != nil {
						return fmt.Errorf("Put of a %d-byte key and a %d-byte value = %w", len(k), len(rec.Value), err)
					}
				}
				for k, rec := range want {
					if err := storeExpect(e.ctx, s, []byte(k), rec, fmt.Sprintf("a %d-byte key", len(k))); err != nil {
						return err
					}
					var seen kvstore.Record
					err := s.Update(e.ctx, []byte(k), func(cur *kvstore.Record) (*kvstore.Record, error) {
						if cur != nil {
							seen = cur.Clone()
						}
						return nil, storeErrAbort
					})
					if err == nil || !seen.Equal(rec) {
						return fmt.Errorf("Update of a %d-byte key saw %s (error %v), want %s", len(k), storeFmt(seen), err, storeFmt(rec))
					}
				}
				got, ok, err := storeRange(e.ctx, s)
				if err != nil {
					return err
				}
				if ok {
					return storeSameSet(got, want)
				}
				return nil
			},
		},
		{
			name: "expiry-exact-to-the-nanosecond",
			doc:  "A record is returned until one nanosecond before its Expires and not at it, and its Expires comes back to the nanosecond.",
			check: func(e *env, f storeFactory) error {
				s, clk, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				defer s.Close()
				key := storeKey(e.rng, 0)
				rec := storeRecord(e.rng, clk.Now().Add(time.Minute+123456789*time.Nanosecond))
				if err := s.Put(e.ctx, key, rec); err != nil {
					return fmt.Errorf("Put = %w", err)
				}
				clk.advance(time.Minute + 123456788*time.Nanosecond)
				if err := storeExpect(e.ctx, s, key, rec, "one nanosecond before its Expires"); err != nil {
					return err
				}
				clk.advance(time.Nanosecond)
				return storeExpectMissing(e.ctx, s, key, "at its Expires, to the nanosecond")
			},
		},
	}
}
