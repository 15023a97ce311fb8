package conformance_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/kvstore/memory"
)

// More broken stores, one for each rule the stores of store_test.go do
// not break: memory.Store with one flaw each.

// storeDropsSignature forgets the signature of what it stores.
type storeDropsSignature struct{ *memory.Store }

func (s storeDropsSignature) Put(ctx context.Context, key []byte, rec kvstore.Record) error {
	rec.Signature = nil
	return s.Store.Put(ctx, key, rec)
}

// storeMerges keeps the old value of every field a Put leaves empty.
type storeMerges struct{ *memory.Store }

func (s storeMerges) Put(ctx context.Context, key []byte, rec kvstore.Record) error {
	if old, err := s.Store.Get(ctx, key); err == nil {
		for _, f := range []struct {
			dst *[]byte
			old []byte
		}{{&rec.Publisher, old.Publisher}, {&rec.Salt, old.Salt}, {&rec.Signature, old.Signature}} {
			if len(*f.dst) == 0 {
				*f.dst = f.old
			}
		}
	}
	return s.Store.Put(ctx, key, rec)
}

// storeUnknownKey answers Get of a key it never held with an error of its
// own, not kvstore.ErrNotFound.
type storeUnknownKey struct {
	*memory.Store
	mu   sync.Mutex
	seen map[string]bool
}

func (s *storeUnknownKey) Put(ctx context.Context, key []byte, rec kvstore.Record) error {
	s.mu.Lock()
	s.seen[string(key)] = true
	s.mu.Unlock()
	return s.Store.Put(ctx, key, rec)
}

func (s *storeUnknownKey) Get(ctx context.Context, key []byte) (kvstore.Record, error) {
	s.mu.Lock()
	seen := s.seen[string(key)]
	s.mu.Unlock()
	if !seen && len(key) > 0 && ctx.Err() == nil {
		return kvstore.Record{}, errors.New("store: unknown key")
	}
	return s.Store.Get(ctx, key)
}

// storeEmptyKeyIgnored acknowledges a Put with an empty key and stores
// nothing.
type storeEmptyKeyIgnored struct{ *memory.Store }

func (s storeEmptyKeyIgnored) Put(ctx context.Context, key []byte, rec kvstore.Record) error {
	if len(key) == 0 && ctx.Err() == nil {
		return nil
	}
	return s.Store.Put(ctx, key, rec)
}

// storeDeletesTwo deletes, with a key, the key put last before it.
type storeDeletesTwo struct {
	*memory.Store
	mu   sync.Mutex
	last []byte
}

func (s *storeDeletesTwo) Put(ctx context.Context, key []byte, rec kvstore.Record) error {
	s.mu.Lock()
	s.last = append([]byte(nil), key...)
	s.mu.Unlock()
	return s.Store.Put(ctx, key, rec)
}

func (s *storeDeletesTwo) Delete(ctx context.Context, key []byte) error {
	s.mu.Lock()
	last := s.last
	s.mu.Unlock()
	if last != nil {
		if err := s.Store.Delete(ctx, last); err != nil {
			return err
		}
	}
	return s.Store.Delete(ctx, key)
}

// storeDeleteAbsentFails returns kvstore.ErrNotFound from Delete of an
// absent key.
type storeDeleteAbsentFails struct{ *memory.Store }

func (s storeDeleteAbsentFails) Delete(ctx context.Context, key []byte) error {
	if _, err := s.Store.Get(ctx, key); errors.Is(err, kvstore.ErrNotFound) {
		return err
	}
	return s.Store.Delete(ctx, key)
}

// storeCountsWrites counts Puts, not keys: an overwrite adds one.
type storeCountsWrites struct {
	*memory.Store
	overwrites atomic.Int64
}

func (s *storeCountsWrites) Put(ctx context.Context, key []byte, rec kvstore.Record) error {
	if _, err := s.Store.Get(ctx, key); err == nil {
		s.overwrites.Add(1)
	}
	return s.Store.Put(ctx, key, rec)
}

func (s *storeCountsWrites) Len(ctx context.Context) (int, error) {
	n, err := s.Store.Len(ctx)
	return n + int(s.overwrites.Load()), err
}

// storeUpdateEmptyCur hands fn an empty record, not nil, for an absent key.
type storeUpdateEmptyCur struct{ *memory.Store }

func (s storeUpdateEmptyCur) Update(ctx context.Context, key []byte, fn kvstore.UpdateFunc) error {
	return s.Store.Update(ctx, key, func(cur *kvstore.Record) (*kvstore.Record, error) {
		if cur == nil {
			cur = &kvstore.Record{}
		}
		return fn(cur)
	})
}

// storeUpdateNoSignature hands fn the live record without its signature.
type storeUpdateNoSignature struct{ *memory.Store }

func (s storeUpdateNoSignature) Update(ctx context.Context, key []byte, fn kvstore.UpdateFunc) error {
	return s.Store.Update(ctx, key, func(cur *kvstore.Record) (*kvstore.Record, error) {
		if cur != nil {
			cur.Signature = nil
		}
		return fn(cur)
	})
}

// storeUpdateSwallowsError leaves the store unchanged when fn fails, but
// returns nil.
type storeUpdateSwallowsError struct{ *memory.Store }

func (s storeUpdateSwallowsError) Update(ctx context.Context, key []byte, fn kvstore.UpdateFunc) error {
	err := s.Store.Update(ctx, key, fn)
	if err != nil && ctx.Err() == nil && !errors.Is(err, kvstore.ErrClosed) && !errors.Is(err, kvstore.ErrEmptyKey) {
		return nil
	}
	return err
}

// storeUpdateNilKeeps keeps the key when fn returns nil.
type storeUpdateNilKeeps struct{ *memory.Store }

func (s storeUpdateNilKeeps) Update(ctx context.Context, key []byte, fn kvstore.UpdateFunc) error {
	return s.Store.Update(ctx, key, func(cur *kvstore.Record) (*kvstore.Record, error) {
		next, err := fn(cur)
		if next == nil && err == nil {
			return cur, nil
		}
		return next, err
	})
}

// storeUpdateKeepsResult serves Get from the very record fn returned, so
// the caller's later changes to it leak in.
type storeUpdateKeepsResult struct {
	*memory.Store
	mu   sync.Mutex
	kept map[string]*kvstore.Record
}

func (s *storeUpdateKeepsResult) Update(ctx context.Context, key []byte, fn kvstore.UpdateFunc) error {
	var next *kvstore.Record
	err := s.Store.Update(ctx, key, func(cur *kvstore.Record) (*kvstore.Record, error) {
		n, err := fn(cur)
		next = n
		return n, err
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && next != nil {
		s.kept[string(key)] = next
	} else {
		delete(s.kept, string(key))
	}
	return err
}

func (s *storeUpdateKeepsResult) forget(key []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.kept, string(key))
}

func (s *storeUpdateKeepsResult) Put(ctx context.Context, key []byte, rec kvstore.Record) error {
	s.forget(key)
	return s.Store.Put(ctx, key, rec)
}

func (s *storeUpdateKeepsResult) Delete(ctx context.Context, key []byte) error {
	s.forget(key)
	return s.Store.Delete(ctx, key)
}

func (s *storeUpdateKeepsResult) Get(ctx context.Context, key []byte) (kvstore.Record, error) {
	rec, err := s.Store.Get(ctx, key)
	if err != nil {
		return rec, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.kept[string(key)]; ok {
		return k.Clone(), nil
	}
	return rec, nil
}

// storeZeroExpiryIsADay stores a record that never expires as one that
// expires a day after it is put, and hands the zero time back.
type storeZeroExpiryIsADay struct {
	*memory.Store
	now func() time.Time
}

func (s storeZeroExpiryIsADay) Put(ctx context.Context, key []byte, rec kvstore.Record) error {
	if rec.Expires.IsZero() {
		rec.Expires = s.now().Add(24 * time.Hour).Add(time.Nanosecond * 7)
	}
	return s.Store.Put(ctx, key, rec)
}

func (s storeZeroExpiryIsADay) Get(ctx context.Context, key []byte) (kvstore.Record, error) {
	rec, err := s.Store.Get(ctx, key)
	if err == nil && rec.Expires.Nanosecond()%1000 == 7 {
		rec.Expires = time.Time{}
	}
	return rec, err
}

// storeRangeSkipsOne never visits the first record it comes to.
type storeRangeSkipsOne struct{ *memory.Store }

func (s storeRangeSkipsOne) Range(ctx context.Context, fn func([]byte, kvstore.Record) bool) error {
	first := true
	return s.Store.Range(ctx, func(k []byte, r kvstore.Record) bool {
		if first {
			first = false
			return true
		}
		return fn(k, r)
	})
}

// storeRangeBusy refuses writes while a Range runs.
type storeRangeBusy struct {
	*memory.Store
	ranging atomic.Int32
}

var errStoreBusy = errors.New("store: busy ranging")

func (s *storeRangeBusy) Range(ctx context.Context, fn func([]byte, kvstore.Record) bool) error {
	s.ranging.Add(1)
	defer s.ranging.Add(-1)
	return s.Store.Range(ctx, fn)
}

func (s *storeRangeBusy) Put(ctx context.Context, key []byte, rec kvstore.Record) error {
	if s.ranging.Load() > 0 {
		return errStoreBusy
	}
	return s.Store.Put(ctx, key, rec)
}

// storeRangeShares passes fn the records it keeps itself, not copies.
type storeRangeShares struct {
	*memory.Store
	mu     sync.Mutex
	shadow map[string]kvstore.Record
}

func (s *storeRangeShares) Put(ctx context.Context, key []byte, rec kvstore.Record) error {
	if err := s.Store.Put(ctx, key, rec); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shadow[string(key)] = rec.Clone()
	return nil
}

func (s *storeRangeShares) Get(ctx context.Context, key []byte) (kvstore.Record, error) {
	rec, err := s.Store.Get(ctx, key)
	if err != nil {
		return rec, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sh, ok := s.shadow[string(key)]; ok && sh.Seq == rec.Seq {
		return sh.Clone(), nil
	}
	return rec, nil
}

func (s *storeRangeShares) Range(ctx context.Context, fn func([]byte, kvstore.Record) bool) error {
	return s.Store.Range(ctx, func(k []byte, r kvstore.Record) bool {
		s.mu.Lock()
		sh, ok := s.shadow[string(k)]
		s.mu.Unlock()
		if ok && sh.Seq == r.Seq {
			r = sh
		}
		return fn(k, r)
	})
}
