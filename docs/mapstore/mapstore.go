// Package mapstore is the store the tutorial (docs/tutorial.md) writes: the
// smallest kvstore.Store that keeps the whole contract, one map behind one
// mutex.
package mapstore

import (
	"context"
	"sync"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
)

// Store keeps records in a map. It is safe for concurrent use.
type Store struct {
	now     func() time.Time
	mu      sync.Mutex
	records map[string]kvstore.Record // nil once closed
}

var _ kvstore.Store = (*Store)(nil)

// New returns an empty store that reads the time from now.
func New(now func() time.Time) *Store {
	return &Store{now: now, records: make(map[string]kvstore.Record)}
}

// check returns why a call cannot go on: a done context or a closed
// store. The caller holds s.mu.
func (s *Store) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.records == nil {
		return kvstore.ErrClosed
	}
	return nil
}

// live returns a copy of the unexpired record under key. The caller holds
// s.mu.
func (s *Store) live(key []byte) (kvstore.Record, bool) {
	r, ok := s.records[string(key)]
	if !ok || r.Expired(s.now()) {
		return kvstore.Record{}, false
	}
	return r.Clone(), true
}

// Get returns a copy of the live record under key.
func (s *Store) Get(ctx context.Context, key []byte) (kvstore.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return kvstore.Record{}, err
	}
	if len(key) == 0 {
		return kvstore.Record{}, kvstore.ErrEmptyKey
	}
	if r, ok := s.live(key); ok {
		return r, nil
	}
	return kvstore.Record{}, kvstore.ErrNotFound
}

// Put stores a copy of rec under key.
func (s *Store) Put(ctx context.Context, key []byte, rec kvstore.Record) error {
	return s.Update(ctx, key, func(*kvstore.Record) (*kvstore.Record, error) { return &rec, nil })
}

// Delete removes key.
func (s *Store) Delete(ctx context.Context, key []byte) error {
	return s.Update(ctx, key, func(*kvstore.Record) (*kvstore.Record, error) { return nil, nil })
}

// Update runs fn on a copy of the live record and stores a copy of what it
// returns, all under the lock, so no other write comes between.
func (s *Store) Update(ctx context.Context, key []byte, fn kvstore.UpdateFunc) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	if len(key) == 0 {
		return kvstore.ErrEmptyKey
	}
	var cur *kvstore.Record
	if r, ok := s.live(key); ok {
		cur = &r
	}
	next, err := fn(cur)
	switch {
	case err != nil:
		return err
	case next == nil:
		delete(s.records, string(key))
	default:
		s.records[string(key)] = next.Clone()
	}
	return nil
}

// Sweep removes the expired records.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	swept := 0
	for k, r := range s.records {
		if r.Expired(s.now()) {
			delete(s.records, k)
			swept++
		}
	}
	return swept, nil
}

// Len counts the records, expired ones not yet swept included.
func (s *Store) Len(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	return len(s.records), nil
}

// Close drops every record. Every later call returns kvstore.ErrClosed,
// Close included.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.records == nil {
		return kvstore.ErrClosed
	}
	s.records = nil
	return nil
}
