package memory

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
)

// ErrTooLarge is returned for a record whose byte fields together exceed
// 4 GiB, the most one entry can index.
var ErrTooLarge = errors.New("memory: record too large")

// shardCount is the number of independently locked maps. A power of two, so
// a key's shard is a mask of its hash; 32 shards keep lock contention low on
// machines with a few dozen cores at a cost of a few kilobytes, paid at the
// first write: a node that stores nothing (most nodes of a large network,
// most of the time) keeps no shards.
const shardCount = 32

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Now is the store's clock, used to decide expiry. Nil means time.Now.
	Now func() time.Time
}

// Store is an in-memory kvstore.Store. It is safe for concurrent use.
type Store struct {
	now    func() time.Time
	seed   maphash.Seed
	closed atomic.Bool // set by the first Close
	shards atomic.Pointer[[shardCount]shard]
}

var (
	_ kvstore.Store  = (*Store)(nil)
	_ kvstore.Ranger = (*Store)(nil)
)

// shard is one locked map, made by its first write. Every method reads
// Store.closed under the shard's lock, so that a call either ends before
// Close empties the shard or sees the store closed. The padding keeps
// neighbouring shards' locks on different cache lines.
type shard struct {
	mu sync.RWMutex
	m  map[string]entry
	_  [32]byte
}

// New returns an empty store.
func New(opts Options) *Store {
	s := &Store{now: opts.Now, seed: maphash.MakeSeed()}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// shardOf returns key's shard, or nil when nothing was ever written.
func (s *Store) shardOf(key []byte) *shard {
	t := s.shards.Load()
	if t == nil {
		return nil
	}
	return &t[maphash.Bytes(s.seed, key)&(shardCount-1)]
}

// writeShardOf returns key's shard, making the shards on the first write.
func (s *Store) writeShardOf(key []byte) *shard {
	if s.shards.Load() == nil {
		s.shards.CompareAndSwap(nil, new([shardCount]shard))
	}
	return s.shardOf(key)
}

// absent is what a read finds before the first write.
func (s *Store) absent(err error) error {
	if s.closed.Load() {
		return kvstore.ErrClosed
	}
	return err
}

// Get returns a copy of the live record under key, or kvstore.ErrNotFound.
func (s *Store) Get(ctx context.Context, key []byte) (kvstore.Record, error) {
	if err := check(ctx, key); err != nil {
		return kvstore.Record{}, err
	}
	sh := s.shardOf(key)
	if sh == nil {
		return kvstore.Record{}, s.absent(kvstore.ErrNotFound)
	}
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if s.closed.Load() {
		return kvstore.Record{}, kvstore.ErrClosed
	}
	e, ok := sh.m[string(key)]
	if !ok || e.expired(s.now()) {
		return kvstore.Record{}, kvstore.ErrNotFound
	}
	return e.record(), nil
}

// Put stores a copy of rec under key.
func (s *Store) Put(ctx context.Context, key []byte, rec kvstore.Record) error {
	if err := check(ctx, key); err != nil {
		return err
	}
	e, err := newEntry(&rec)
	if err != nil {
		return err
	}
	sh := s.writeShardOf(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s.closed.Load() {
		return kvstore.ErrClosed
	}
	sh.put(key, e)
	return nil
}

// put stores e under key. Called with sh.mu held for writing.
func (sh *shard) put(key []byte, e entry) {
	if sh.m == nil {
		sh.m = make(map[string]entry)
	}
	sh.m[string(key)] = e
}

// Update applies fn under the key's shard lock, so fn is called exactly once
// and must not call the store itself (that would deadlock). A panic in fn
// leaves the store unchanged and propagates to the caller.
func (s *Store) Update(ctx context.Context, key []byte, fn kvstore.UpdateFunc) error {
	if err := check(ctx, key); err != nil {
		return err
	}
	sh := s.writeShardOf(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s.closed.Load() {
		return kvstore.ErrClosed
	}
	var cur *kvstore.Record
	if e, ok := sh.m[string(key)]; ok && !e.expired(s.now()) {
		r := e.record()
		cur = &r
	}
	next, err := fn(cur)
	if err != nil {
		return err
	}
	if next == nil {
		delete(sh.m, string(key))
		return nil
	}
	e, err := newEntry(next)
	if err != nil {
		return err
	}
	sh.put(key, e)
	return nil
}

// Delete removes key; an absent key is not an error.
func (s *Store) Delete(ctx context.Context, key []byte) error {
	if err := check(ctx, key); err != nil {
		return err
	}
	sh := s.shardOf(key)
	if sh == nil {
		return s.absent(nil)
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s.closed.Load() {
		return kvstore.ErrClosed
	}
	delete(sh.m, string(key))
	return nil
}

// Sweep removes every expired record and returns how many it removed. It
// locks one shard at a time, so other keys stay available meanwhile.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	t := s.shards.Load()
	if t == nil {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		return 0, s.absent(nil)
	}
	n := 0
	for i := range t {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		removed, err := s.sweepShard(&t[i])
		n += removed
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (s *Store) sweepShard(sh *shard) (int, error) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s.closed.Load() {
		return 0, kvstore.ErrClosed
	}
	now := s.now()
	n := 0
	for k, e := range sh.m {
		if e.expired(now) {
			delete(sh.m, k)
			n++
		}
	}
	return n, nil
}

// Len returns the number of records held, expired ones not yet swept
// included.
func (s *Store) Len(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	t := s.shards.Load()
	if t == nil {
		return 0, s.absent(nil)
	}
	n := 0
	for i := range t {
		sh := &t[i]
		sh.mu.RLock()
		n += len(sh.m)
		closed := s.closed.Load()
		sh.mu.RUnlock()
		if closed {
			return 0, kvstore.ErrClosed
		}
	}
	return n, nil
}

// Range calls fn with a copy of each live record until fn returns false. It
// copies one shard's live records under the shard's read lock and calls fn
// with no lock held, so fn may write to the store; such writes may or may
// not be seen.
func (s *Store) Range(ctx context.Context, fn func(key []byte, rec kvstore.Record) bool) error {
	type item struct {
		key string
		rec kvstore.Record
	}
	t := s.shards.Load()
	if t == nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		return s.absent(nil)
	}
	var items []item
	for i := range t {
		if err := ctx.Err(); err != nil {
			return err
		}
		sh := &t[i]
		now := s.now()
		items = items[:0]
		sh.mu.RLock()
		closed := s.closed.Load()
		for k, e := range sh.m {
			if !e.expired(now) {
				items = append(items, item{k, e.record()})
			}
		}
		sh.mu.RUnlock()
		if closed {
			return kvstore.ErrClosed
		}
		for _, it := range items {
			if !fn([]byte(it.key), it.rec) {
				return nil
			}
		}
	}
	return nil
}

// Close drops every record and returns nil. After it every method returns
// kvstore.ErrClosed, Close included.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return kvstore.ErrClosed
	}
	// A first write racing with Close made the shards after the flag was
	// set, and sees it under the shard's lock.
	if t := s.shards.Load(); t != nil {
		for i := range t {
			sh := &t[i]
			sh.mu.Lock()
			sh.m = nil
			sh.mu.Unlock()
		}
	}
	return nil
}

// check validates the arguments every keyed method shares.
func check(ctx context.Context, key []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(key) == 0 {
		return kvstore.ErrEmptyKey
	}
	return nil
}

// entry is a record as held in a shard: the four byte fields concatenated in
// one buffer (value, publisher, salt, signature) and the offsets where the
// last three start.
type entry struct {
	buf            []byte
	pub, salt, sig uint32
	seq            uint64
	expires        time.Time
}

func newEntry(r *kvstore.Record) (entry, error) {
	total := uint64(len(r.Value)) + uint64(len(r.Publisher)) + uint64(len(r.Salt)) + uint64(len(r.Signature))
	if total > math.MaxUint32 {
		return entry{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, total)
	}
	e := entry{seq: r.Seq, expires: r.Expires}
	if total > 0 {
		e.buf = make([]byte, 0, total)
		e.buf = append(e.buf, r.Value...)
		e.pub = uint32(len(e.buf))
		e.buf = append(e.buf, r.Publisher...)
		e.salt = uint32(len(e.buf))
		e.buf = append(e.buf, r.Salt...)
		e.sig = uint32(len(e.buf))
		e.buf = append(e.buf, r.Signature...)
	}
	return e, nil
}

func (e *entry) expired(now time.Time) bool {
	return !e.expires.IsZero() && !now.Before(e.expires)
}

// record returns a copy of e. The fields share one fresh allocation, each
// capped at its length so that appending to one cannot overwrite the next.
func (e *entry) record() kvstore.Record {
	r := kvstore.Record{Seq: e.seq, Expires: e.expires}
	if len(e.buf) == 0 {
		return r
	}
	b := append([]byte(nil), e.buf...)
	r.Value = field(b, 0, e.pub)
	r.Publisher = field(b, e.pub, e.salt)
	r.Salt = field(b, e.salt, e.sig)
	r.Signature = field(b, e.sig, uint32(len(b)))
	return r
}

func field(b []byte, from, to uint32) []byte {
	if from == to {
		return nil
	}
	return b[from:to:to]
}
