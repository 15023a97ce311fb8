package bbolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

const (
	// sweepChunk caps the records one Sweep transaction removes, so that
	// a huge backlog does not hold up other writers for long.
	sweepChunk = 4096
	// rangeChunk caps the records Range copies per read transaction. fn is
	// called between transactions, never inside one: a write from fn
	// could otherwise wait forever for bbolt to remap the file.
	rangeChunk = 256
)

// Store is a durable kvstore.Store in a bbolt file. It is safe for
// concurrent use; reads run in parallel with each other and with the
// committer.
type Store struct {
	db    *bolt.DB
	now   func() time.Time
	log   *slog.Logger
	count atomic.Int64 // records in the file, expired ones included

	mu     sync.RWMutex // closed, and sending on ops
	closed bool
	ops    chan *op

	loopDone  chan struct{}
	closeOnce sync.Once
	closeErr  error
}

var (
	_ kvstore.Store  = (*Store)(nil)
	_ kvstore.Ranger = (*Store)(nil)
)

// Get returns a copy of the live record under key, or kvstore.ErrNotFound.
// A record that does not decode gives an error wrapping ErrCorrupt.
func (s *Store) Get(ctx context.Context, key []byte) (kvstore.Record, error) {
	var rec kvstore.Record
	if err := check(ctx.Err(), key); err != nil {
		return rec, err
	}
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRecords).Get(key)
		if v == nil {
			return kvstore.ErrNotFound
		}
		var err error
		if rec, err = decodeRecord(v); err != nil {
			return fmt.Errorf("bbolt: key %q: %w", key, err)
		}
		return nil
	})
	if err != nil {
		return kvstore.Record{}, err
	}
	if rec.Expired(s.now()) {
		return kvstore.Record{}, kvstore.ErrNotFound
	}
	return rec, nil
}

// Put stores rec under key and returns once the write is durable.
func (s *Store) Put(ctx context.Context, key []byte, rec kvstore.Record) error {
	if err := check(ctx.Err(), key); err != nil {
		return err
	}
	enc, err := encode(&rec)
	if err != nil {
		return err
	}
	key = bytes.Clone(key)
	return s.submit(ctx, func(w *writer, _ *op) error {
		w.put(key, enc, rec.Expires)
		return nil
	})
}

// Update applies fn atomically and returns once the result is durable. fn
// runs exactly once, in the committer's transaction (see the package doc).
// A current record that does not decode gives an error wrapping ErrCorrupt
// without calling fn; Put or Delete replace such a record.
func (s *Store) Update(ctx context.Context, key []byte, fn kvstore.UpdateFunc) error {
	if err := check(ctx.Err(), key); err != nil {
		return err
	}
	key = bytes.Clone(key)
	return s.submit(ctx, func(w *writer, o *op) error {
		cur, err := w.current(key)
		if err != nil {
			return err
		}
		next, err := callUpdate(fn, cur, o)
		if err != nil || o.panicked != nil {
			return err
		}
		if next == nil {
			w.del(key)
			return nil
		}
		enc, err := encode(next)
		if err != nil {
			return err
		}
		w.put(key, enc, next.Expires)
		return nil
	})
}

// callUpdate calls fn, catching a panic into o.panicked so that the
// committer survives it.
func callUpdate(fn kvstore.UpdateFunc, cur *kvstore.Record, o *op) (next *kvstore.Record, err error) {
	defer func() {
		if p := recover(); p != nil {
			o.panicked = p
			next, err = nil, nil
		}
	}()
	return fn(cur)
}

// Delete removes key and returns once the removal is durable.
func (s *Store) Delete(ctx context.Context, key []byte) error {
	if err := check(ctx.Err(), key); err != nil {
		return err
	}
	key = bytes.Clone(key)
	return s.submit(ctx, func(w *writer, _ *op) error {
		w.del(key)
		return nil
	})
}

// Sweep removes every expired record, reading only the expiry index's
// expired entries, in transactions of at most a few thousand records.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	total := 0
	for {
		var removed int
		var more bool
		err := s.submit(ctx, func(w *writer, _ *op) error {
			removed, more = w.sweep(sweepChunk)
			return nil
		})
		if err != nil {
			return total, err
		}
		total += removed
		if !more {
			return total, nil
		}
	}
}

// Len returns the number of records in the file, expired ones not yet swept
// included. It is kept in memory and costs nothing.
func (s *Store) Len(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if s.isClosed() {
		return 0, kvstore.ErrClosed
	}
	return int(s.count.Load()), nil
}

// Range calls fn with a copy of each live record, in key order, until fn
// returns false. Records are read in chunks, each in its own read
// transaction, and fn is called with no transaction open, so fn may write to
// the store. A record that does not decode is logged and skipped.
func (s *Store) Range(ctx context.Context, fn func(key []byte, rec kvstore.Record) bool) error {
	type item struct {
		key []byte
		rec kvstore.Record
	}
	var after []byte
	items := make([]item, 0, rangeChunk)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		items = items[:0]
		now, done := s.now(), true
		err := s.view(func(tx *bolt.Tx) error {
			var last []byte
			c := tx.Bucket(bucketRecords).Cursor()
			k, v := c.First()
			if after != nil {
				k, v = c.Seek(after)
				if bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for scanned := 0; k != nil; k, v = c.Next() {
				if scanned == 4*rangeChunk || len(items) == rangeChunk {
					done = false
					break
				}
				scanned++
				last = k
				rec, err := decodeRecord(v)
				if err != nil {
					s.log.Warn("bbolt: skipping corrupt record", "key", k, "err", err)
					continue
				}
				if !rec.Expired(now) {
					items = append(items, item{bytes.Clone(k), rec})
				}
			}
			// A copy of its own: fn may scribble on the keys it gets.
			after = bytes.Clone(last)
			return nil
		})
		if err != nil {
			return err
		}
		for _, it := range items {
			if !fn(it.key, it.rec) {
				return nil
			}
		}
		if done {
			return nil
		}
	}
}

// Close commits every write already queued, stops the committer and closes
// the file. After it every method returns kvstore.ErrClosed, Close
// included; a Close concurrent with the first returns once the file is
// closed.
func (s *Store) Close() error {
	first := false
	s.closeOnce.Do(func() {
		first = true
		s.mu.Lock()
		s.closed = true
		close(s.ops) // no sender is inside submit's critical section now
		s.mu.Unlock()
		<-s.loopDone
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("bbolt: close: %w", err)
		}
	})
	if first {
		return s.closeErr
	}
	return kvstore.ErrClosed
}

func (s *Store) isClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}

// view runs fn in a read transaction, mapping a closed database to
// kvstore.ErrClosed and a panic inside bbolt (a damaged file) to ErrCorrupt.
func (s *Store) view(fn func(*bolt.Tx) error) (err error) {
	if s.isClosed() {
		return kvstore.ErrClosed
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, p)
		}
	}()
	err = s.db.View(fn)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return kvstore.ErrClosed
	}
	return err
}

// encode checks a record's size and encodes it.
func encode(r *kvstore.Record) ([]byte, error) {
	n := recordLen(r)
	if n > maxRecordSize {
		return nil, fmt.Errorf("%w: record of %d bytes encoded, limit %d", ErrTooLarge, n, maxRecordSize)
	}
	return appendRecord(make([]byte, 0, n), r), nil
}
