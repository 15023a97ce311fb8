package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
)

// storeBasicRules: reading and writing single records, and who owns the
// bytes.
func storeBasicRules() []rule[storeFactory] {
	return []rule[storeFactory]{
		{
			name: "put-then-get",
			doc:  "Get returns the record Put stored, every field intact.",
			check: func(e *env, f storeFactory) error {
				s, clk, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				defer s.Close()
				for i := range 8 {
					key, rec := storeKey(e.rng, i), storeRecord(e.rng, clk.Now().Add(time.Hour))
					if i%2 == 0 {
						rec.Expires = time.Time{}
					}
					if err := s.Put(e.ctx, key, rec); err != nil {
						return fmt.Errorf("Put = %w, want nil", err)
					}
					if err := storeExpect(e.ctx, s, key, rec, "after Put"); err != nil {
						return err
					}
				}
				return nil
			},
		},
		{
			name: "put-replaces",
			doc:  "A Put replaces the whole record under its key, fields it leaves empty included.",
			check: func(e *env, f storeFactory) error {
				s, clk, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				defer s.Close()
				key := storeKey(e.rng, 0)
				if err := s.Put(e.ctx, key, storeRecord(e.rng, clk.Now().Add(time.Hour))); err != nil {
					return fmt.Errorf("first Put = %w", err)
				}
				second := kvstore.Record{Value: []byte("second"), Seq: 1}
				if err := s.Put(e.ctx, key, second); err != nil {
					return fmt.Errorf("second Put = %w", err)
				}
				if err := storeExpect(e.ctx, s, key, second, "after the second Put"); err != nil {
					return err
				}
				return storeExpectLen(e.ctx, s, 1, "after two Puts to one key")
			},
		},
		{
			name: "get-missing-is-not-found",
			doc:  "Get of a key never stored returns kvstore.ErrNotFound.",
			check: func(e *env, f storeFactory) error {
				s, _, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				defer s.Close()
				if err := storeExpectMissing(e.ctx, s, storeKey(e.rng, 0), "empty store"); err != nil {
					return err
				}
				if err := s.Put(e.ctx, storeKey(e.rng, 1), kvstore.Record{Value: []byte("v")}); err != nil {
					return fmt.Errorf("Put = %w", err)
				}
				return storeExpectMissing(e.ctx, s, storeKey(e.rng, 2), "store holding another key")
			},
		},
		{
			name: "empty-key-rejected",
			doc:  "Get, Put, Update and Delete with a nil or empty key return kvstore.ErrEmptyKey and store nothing.",
			check: func(e *env, f storeFactory) error {
				s, _, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				defer s.Close()
				rec := kvstore.Record{Value: []byte("v")}
				for _, key := range [][]byte{nil, {}} {
					if _, err := s.Get(e.ctx, key); !errors.Is(err, kvstore.ErrEmptyKey) {
						return fmt.Errorf("Get(%#v) = %v, want kvstore.ErrEmptyKey", key, err)
					}
					if err := s.Put(e.ctx, key, rec); !errors.Is(err, kvstore.ErrEmptyKey) {
						return fmt.Errorf("Put(%#v) = %v, want kvstore.ErrEmptyKey", key, err)
					}
					called := false
					err := s.Update(e.ctx, key, func(*kvstore.Record) (*kvstore.Record, error) {
						called = true
						return &rec, nil
					})
					if !errors.Is(err, kvstore.ErrEmptyKey) {
						return fmt.Errorf("Update(%#v) = %v, want kvstore.ErrEmptyKey", key, err)
					}
					if called {
						return fmt.Errorf("Update(%#v) called fn, want it rejected first", key)
					}
					if err := s.Delete(e.ctx, key); !errors.Is(err, kvstore.ErrEmptyKey) {
						return fmt.Errorf("Delete(%#v) = %v, want kvstore.ErrEmptyKey", key, err)
					}
				}
				return storeExpectLen(e.ctx, s, 0, "after rejected writes")
			},
		},
		{
			name: "get-returns-copy",
			doc:  "A record Get returns is a copy: changing its bytes does not change the store.",
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
				got, err := s.Get(e.ctx, key)
				if err != nil {
					return fmt.Errorf("Get = %w", err)
				}
				storeScribble(&got)
				return storeExpect(e.ctx, s, key, rec, "after changing the bytes of an earlier Get's record")
			},
		},
		{
			name: "put-copies-input",
			doc:  "Put copies the key and record: changing the caller's bytes after Put does not change the store.",
			check: func(e *env, f storeFactory) error {
				s, clk, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				defer s.Close()
				key, rec := storeKey(e.rng, 0), storeRecord(e.rng, clk.Now().Add(time.Hour))
				keyIn, recIn := bytes.Clone(key), rec.Clone()
				if err := s.Put(e.ctx, keyIn, recIn); err != nil {
					return fmt.Errorf("Put = %w", err)
				}
				storeScribble(&recIn)
				keyIn[0] ^= 0xff
				if err := storeExpect(e.ctx, s, key, rec, "after changing the bytes passed to Put"); err != nil {
					return err
				}
				return storeExpectMissing(e.ctx, s, keyIn, "the key's buffer, changed after Put")
			},
		},
		{
			name: "delete-removes-only-its-key",
			doc:  "Delete removes its key and no other.",
			check: func(e *env, f storeFactory) error {
				s, clk, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				defer s.Close()
				k1, k2 := storeKey(e.rng, 1), storeKey(e.rng, 2)
				r1, r2 := storeRecord(e.rng, clk.Now().Add(time.Hour)), storeRecord(e.rng, time.Time{})
				for _, kv := range []struct {
					k []byte
					r kvstore.Record
				}{{k1, r1}, {k2, r2}} {
					if err := s.Put(e.ctx, kv.k, kv.r); err != nil {
						return fmt.Errorf("Put = %w", err)
					}
				}
				if err := s.Delete(e.ctx, k1); err != nil {
					return fmt.Errorf("Delete = %w, want nil", err)
				}
				if err := storeExpectMissing(e.ctx, s, k1, "after Delete"); err != nil {
					return err
				}
				if err := storeExpect(e.ctx, s, k2, r2, "the other key, after Delete"); err != nil {
					return err
				}
				return storeExpectLen(e.ctx, s, 1, "after deleting one of two keys")
			},
		},
		{
			name: "delete-absent-is-ok",
			doc:  "Deleting a key that is absent, or already deleted, returns nil.",
			check: func(e *env, f storeFactory) error {
				s, _, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				defer s.Close()
				key := storeKey(e.rng, 0)
				if err := s.Delete(e.ctx, key); err != nil {
					return fmt.Errorf("Delete of a key never stored = %w, want nil", err)
				}
				if err := s.Put(e.ctx, key, kvstore.Record{Value: []byte("v")}); err != nil {
					return fmt.Errorf("Put = %w", err)
				}
				for i := range 2 {
					if err := s.Delete(e.ctx, key); err != nil {
						return fmt.Errorf("Delete #%d of a stored key = %w, want nil", i+1, err)
					}
				}
				return storeExpectMissing(e.ctx, s, key, "after Delete")
			},
		},
		{
			name: "len-counts-records",
			doc:  "Len counts keys: an overwrite adds nothing and a Delete takes one away.",
			check: func(e *env, f storeFactory) error {
				s, _, err := storeOpen(e, f)
				if err != nil {
					return err
				}
				defer s.Close()
				if err := storeExpectLen(e.ctx, s, 0, "empty store"); err != nil {
					return err
				}
				keys := make([][]byte, 5)
				for i := range keys {
					keys[i] = storeKey(e.rng, i)
					if err := s.Put(e.ctx, keys[i], storeRecord(e.rng, time.Time{})); err != nil {
						return fmt.Errorf("Put = %w", err)
					}
				}
				if err := storeExpectLen(e.ctx, s, 5, "after 5 Puts"); err != nil {
					return err
				}
				if err := s.Put(e.ctx, keys[0], storeRecord(e.rng, time.Time{})); err != nil {
					return fmt.Errorf("Put = %w", err)
				}
				if err := storeExpectLen(e.ctx, s, 5, "after overwriting a key"); err != nil {
					return err
				}
				if err := s.Delete(e.ctx, keys[1]); err != nil {
					return fmt.Errorf("Delete = %w", err)
				}
				return storeExpectLen(e.ctx, s, 4, "after a Delete")
			},
		},
	}
}
