package kvstore

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"time"
)

// Store errors.
var (
	// ErrNotFound: no live record under the key.
	ErrNotFound = errors.New("kvstore: not found")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("kvstore: closed")
	// ErrEmptyKey: keys must be at least one byte.
	ErrEmptyKey = errors.New("kvstore: empty key")
)

// Record is a stored value and its metadata.
type Record struct {
	Value []byte
	// Expires is when the record stops being returned. The zero time means
	// it never expires.
	Expires time.Time
	// Publisher is the publisher's public key, empty for unsigned values.
	Publisher []byte
	// Salt separates several mutable values of one publisher.
	Salt []byte
	// Seq orders versions of a mutable value.
	Seq       uint64
	Signature []byte
}

// Expired reports whether r has expired at now.
func (r *Record) Expired(now time.Time) bool {
	return !r.Expires.IsZero() && !now.Before(r.Expires)
}

// Clone returns a deep copy of r. Empty byte fields become nil.
func (r Record) Clone() Record {
	r.Value = cloneBytes(r.Value)
	r.Publisher = cloneBytes(r.Publisher)
	r.Salt = cloneBytes(r.Salt)
	r.Signature = cloneBytes(r.Signature)
	return r
}

// Equal reports whether a and b hold the same data; nil and empty byte
// fields are equal, and expiry is compared to the instant.
func (r Record) Equal(o Record) bool {
	return bytes.Equal(r.Value, o.Value) && r.Expires.Equal(o.Expires) &&
		bytes.Equal(r.Publisher, o.Publisher) && bytes.Equal(r.Salt, o.Salt) &&
		r.Seq == o.Seq && bytes.Equal(r.Signature, o.Signature)
}

func cloneBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return slices.Clone(b)
}

// UpdateFunc computes a key's new record from its current one. cur is a copy
// of the live record, or nil when there is none (absent or expired). Return
// the record to store, or nil to delete the key. Returning an error aborts
// the update and leaves the store unchanged; Update returns that error. fn
// runs while the store holds the key: it must not call the store.
type UpdateFunc func(cur *Record) (*Record, error)

// Store keeps records by key. Implementations are safe for concurrent use.
//
// Keys and records passed in are copied; the caller may reuse them. Records
// returned are copies the caller owns. A record whose Expires is at or
// before the store's clock is never returned.
//
// Close is the same in every dhtkit part (stores, transports, node.Node):
// the first call releases the store and returns nil or the error of
// releasing it; after it every method returns ErrClosed, and so does every
// later call to Close, which does nothing else. Of concurrent calls, one is
// the first.
//
// A durable store whose files are found damaged says so with an error: it
// never returns a damaged record as if it were whole.
//
// A method called with a context that is already done returns the context's
// error and changes nothing. A write already under way when the context ends
// may still complete: the caller cannot tell, so stores do not abandon it.
type Store interface {
	// Get returns the live record under key, or ErrNotFound.
	Get(ctx context.Context, key []byte) (Record, error)
	// Put stores rec under key, replacing whatever was there.
	Put(ctx context.Context, key []byte, rec Record) error
	// Update applies fn atomically: no other write to key happens between
	// fn reading the current record and its result being stored. fn may be
	// called more than once and must not have side effects beyond its result.
	Update(ctx context.Context, key []byte, fn UpdateFunc) error
	// Delete removes key. Deleting an absent key is not an error.
	Delete(ctx context.Context, key []byte) error
	// Sweep removes every expired record and returns how many it removed.
	Sweep(ctx context.Context) (int, error)
	// Len returns the number of records held, expired ones not yet swept
	// included.
	Len(ctx context.Context) (int, error)
	// Close releases the store; later calls return ErrClosed (see above).
	// Acknowledged writes are durable by then for stores that promise
	// durability.
	Close() error
}

// Ranger is implemented by stores that can iterate over their records.
type Ranger interface {
	// Range calls fn with each live record, in no particular order, until
	// fn returns false. key and rec are copies the caller owns. Writes from
	// fn to the same store are allowed and may or may not be seen.
	Range(ctx context.Context, fn func(key []byte, rec Record) bool) error
}
