package conformance_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/kvstore/memory"
)

// Broken stores for the boundaries of concurrency: reads that see half a
// write, and operations in flight when Close is called.

// storeTorn keeps a record's value and sequence number in memory.Store and
// its expiry, publisher, salt and signature in a second map of its own,
// written after the first: a Get between the two writes returns the value
// of the new record with the metadata of the old one.
type storeTorn struct {
	*memory.Store
	mu   sync.Mutex
	meta map[string]kvstore.Record
}

func (s *storeTorn) setMeta(key []byte, rec *kvstore.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec == nil {
		delete(s.meta, string(key))
		return
	}
	m := rec.Clone()
	m.Value, m.Seq = nil, 0
	s.meta[string(key)] = m
}

func (s *storeTorn) Put(ctx context.Context, key []byte, rec kvstore.Record) error {
	if err := s.Store.Put(ctx, key, rec); err != nil {
		return err
	}
	runtime.Gosched() // the window a real store would have between two writes
	s.setMeta(key, &rec)
	return nil
}

func (s *storeTorn) Update(ctx context.Context, key []byte, fn kvstore.UpdateFunc) error {
	var next *kvstore.Record
	err := s.Store.Update(ctx, key, func(cur *kvstore.Record) (*kvstore.Record, error) {
		n, err := fn(cur)
		next = n
		return n, err
	})
	if err == nil {
		runtime.Gosched()
		s.setMeta(key, next)
	}
	return err
}

func (s *storeTorn) Delete(ctx context.Context, key []byte) error {
	if err := s.Store.Delete(ctx, key); err != nil {
		return err
	}
	s.setMeta(key, nil)
	return nil
}

func (s *storeTorn) Get(ctx context.Context, key []byte) (kvstore.Record, error) {
	rec, err := s.Store.Get(ctx, key)
	if err != nil {
		return rec, err
	}
	s.mu.Lock()
	m, ok := s.meta[string(key)]
	s.mu.Unlock()
	if ok {
		m = m.Clone()
		rec.Expires, rec.Publisher, rec.Salt, rec.Signature = m.Expires, m.Publisher, m.Salt, m.Signature
	}
	return rec, nil
}

// storeCloseAbandons fails an Update that was running when Close was
// called with an error of its own, though the write was made: neither the
// acknowledgement nor kvstore.ErrClosed.
type storeCloseAbandons struct {
	*memory.Store
	closing atomic.Bool
}

var errStoreAbandoned = errors.New("store: update abandoned at close")

func (s *storeCloseAbandons) Update(ctx context.Context, key []byte, fn kvstore.UpdateFunc) error {
	err := s.Store.Update(ctx, key, fn)
	if err == nil && s.closing.Load() {
		return errStoreAbandoned
	}
	return err
}

func (s *storeCloseAbandons) Close() error {
	s.closing.Store(true)
	return s.Store.Close()
}

// storeKeyLimit refuses keys of limit bytes and more: with a stated limit
// of limit it is off by one at the edge, and with a stated limit of
// limit-2 it accepts a key one byte over it.
type storeKeyLimit struct {
	*memory.Store
	limit int
}

var errStoreKeyTooLong = errors.New("store: key too long")

func (s storeKeyLimit) Put(ctx context.Context, key []byte, rec kvstore.Record) error {
	if len(key) >= s.limit {
		return errStoreKeyTooLong
	}
	return s.Store.Put(ctx, key, rec)
}

func (s storeKeyLimit) Update(ctx context.Context, key []byte, fn kvstore.UpdateFunc) error {
	if len(key) >= s.limit {
		return errStoreKeyTooLong
	}
	return s.Store.Update(ctx, key, fn)
}

func TestCheckStoreCatchesKeyLimitsOffByOne(t *testing.T) {
	const limit = 100
	for name, newStore := range map[string]func(now func() time.Time) kvstore.Store{
		"refuses the longest key": func(now func() time.Time) kvstore.Store { return storeKeyLimit{storeMemory(now), limit} },
		"accepts one byte more":   func(now func() time.Time) kvstore.Store { return storeKeyLimit{storeMemory(now), limit + 2} },
	} {
		t.Run(name, func(t *testing.T) {
			errs := conformance.CheckStore(t, func(t *testing.T, now func() time.Time) kvstore.Store {
				return newStore(now)
			}, conformance.StoreOptions{MaxKeySize: limit})
			var got []string
			for _, err := range errs {
				var v *conformance.Violation
				if errors.As(err, &v) {
					got = append(got, v.Rule)
				}
			}
			if !slices.Equal(got, []string{"longest-key-exact-edge"}) {
				t.Errorf("CheckStore reported %q, want exactly [longest-key-exact-edge]: %v", got, errors.Join(errs...))
			}
		})
	}
}
