package bbolt

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
	bolt "go.etcd.io/bbolt"
)

const (
	// opQueue is how many writes may wait for the committer before
	// writers block.
	opQueue = 1024
	// maxBatch caps the writes of one transaction, so that a flood of
	// writers still sees commits at a steady pace.
	maxBatch = 1024
)

// op is one write waiting for the committer.
type op struct {
	// apply makes the write in w's transaction. Its error is the op's own
	// (the op then changed nothing); failures of bbolt go to w.fail.
	apply    func(w *writer, o *op) error
	err      error
	panicked any // a panic of an UpdateFunc, re-raised by the caller
	done     chan struct{}
}

// submit queues an op and waits until its transaction is durable or failed.
// Once queued an op always runs, so submit does not give up when ctx ends
// after that: the caller could not tell whether the write happened.
func (s *Store) submit(ctx context.Context, apply func(w *writer, o *op) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o := &op{apply: apply, done: make(chan struct{})}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return kvstore.ErrClosed
	}
	select {
	case s.ops <- o:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	<-o.done
	if o.panicked != nil {
		panic(o.panicked)
	}
	return o.err
}

// loop is the committer: it takes every op waiting, applies them in one
// transaction and commits it. It ends when Close closes the queue, after
// committing what was queued.
func (s *Store) loop() {
	defer close(s.loopDone)
	batch := make([]*op, 0, maxBatch)
	for o := range s.ops {
		batch = append(batch[:0], o)
		// The writers of the last batch were just woken; let them queue
		// their next writes before taking the batch, or it would catch
		// only the few that ran first. Yield while the queue grows: a lone
		// writer costs one yield, and no timer delays anybody.
		for n := -1; n != len(s.ops); {
			n = len(s.ops)
			runtime.Gosched()
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case o, ok := <-s.ops:
				if !ok {
					break fill
				}
				batch = append(batch, o)
			default:
				break fill
			}
		}
		s.commit(batch)
		clear(batch)
	}
}

// commit runs batch in one read-write transaction. Ops that fail on their
// own change nothing and get their error; if bbolt fails, every op does.
func (s *Store) commit(batch []*op) {
	var delta int
	start := time.Now()
	err := s.update(func(tx *bolt.Tx) error {
		w := &writer{records: tx.Bucket(bucketRecords), expiry: tx.Bucket(bucketExpiry), now: s.now()}
		for _, o := range batch {
			o.err, o.panicked = nil, nil
			o.err = o.apply(w, o)
			if w.err != nil {
				return w.err
			}
		}
		delta = w.delta
		return nil
	})
	if err != nil {
		s.log.Error("bbolt: commit failed", "writes", len(batch), "err", err)
		err = fmt.Errorf("bbolt: commit: %w", err)
	} else {
		s.count.Add(int64(delta))
		s.log.Debug("bbolt: committed", "writes", len(batch), "took", time.Since(start))
	}
	for _, o := range batch {
		if err != nil && o.err == nil && o.panicked == nil {
			o.err = err
		}
		close(o.done)
	}
}

// update is db.Update that turns a panic inside bbolt (a damaged file) into
// ErrCorrupt; bbolt rolls the transaction back on the way out.
func (s *Store) update(fn func(*bolt.Tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, p)
		}
	}()
	return s.db.Update(fn)
}

// writer is what an op sees of the transaction.
type writer struct {
	records, expiry *bolt.Bucket
	now             time.Time
	delta           int   // change in the number of records
	err             error // a bbolt failure: aborts the transaction
}

func (w *writer) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// current returns the live record under key, or nil.
func (w *writer) current(key []byte) (*kvstore.Record, error) {
	v := w.records.Get(key)
	if v == nil {
		return nil, nil
	}
	r, err := decodeRecord(v)
	if err != nil {
		return nil, fmt.Errorf("bbolt: key %q: %w", key, err)
	}
	if r.Expired(w.now) {
		return nil, nil
	}
	return &r, nil
}

// put stores an encoded record, keeping the expiry index in step.
func (w *writer) put(key, enc []byte, exp time.Time) {
	if !w.unindex(key) {
		w.delta++
	}
	if err := w.records.Put(key, enc); err != nil {
		w.fail(err)
		return
	}
	if !exp.IsZero() {
		if err := w.expiry.Put(indexKey(exp, key), nil); err != nil {
			w.fail(err)
		}
	}
}

// del removes key and its index entry.
func (w *writer) del(key []byte) {
	if !w.unindex(key) {
		return
	}
	w.delta--
	if err := w.records.Delete(key); err != nil {
		w.fail(err)
	}
}

// unindex removes the index entry of the record under key and reports
// whether there is a record. The entry of a corrupt record cannot be found;
// Sweep drops such stale entries when their time comes.
func (w *writer) unindex(key []byte) bool {
	v := w.records.Get(key)
	if v == nil {
		return false
	}
	if old, err := decodeRecord(v); err == nil && !old.Expires.IsZero() {
		if err := w.expiry.Delete(indexKey(old.Expires, key)); err != nil {
			w.fail(err)
		}
	}
	return true
}

// sweep removes up to limit expired records, walking the expiry index from
// its oldest entry. more reports that the limit cut it short.
func (w *writer) sweep(limit int) (removed int, more bool) {
	var due [][]byte
	c := w.expiry.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		t, ok := indexTime(k)
		if ok && w.now.Before(t) {
			break
		}
		if len(due) == limit {
			more = true
			break
		}
		due = append(due, bytes.Clone(k))
	}
	for _, k := range due {
		if err := w.expiry.Delete(k); err != nil {
			w.fail(err)
			return removed, false
		}
		t, ok := indexTime(k)
		if !ok {
			continue
		}
		key := k[indexPrefixLen:]
		v := w.records.Get(key)
		if v == nil {
			continue
		}
		// Remove the record only if it still carries this expiry: an
		// entry left by a corrupt record may be stale.
		if r, err := decodeRecord(v); err == nil && r.Expires.Equal(t) {
			if err := w.records.Delete(key); err != nil {
				w.fail(err)
				return removed, false
			}
			w.delta--
			removed++
		}
	}
	return removed, more
}
