package bbolt

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Errors of this package, besides the kvstore sentinels.
var (
	// ErrCorrupt: the file or a record in it does not decode.
	ErrCorrupt = errors.New("bbolt: corrupt data")
	// ErrForeign: the file is a bbolt database of some other application,
	// or of an unknown version of this format.
	ErrForeign = errors.New("bbolt: not a dhtkit store file")
	// ErrLocked: another Store (in this process or another) holds the file.
	ErrLocked = errors.New("bbolt: file locked by another store")
	// ErrTooLarge: a key longer than MaxKeySize, or a record whose encoding
	// exceeds bbolt's value limit.
	ErrTooLarge = errors.New("bbolt: key or record too large")
)

// DefaultLockTimeout is how long Open waits for another store to release the
// file when Options.LockTimeout is zero.
const DefaultLockTimeout = time.Second

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Now is the store's clock, used to decide expiry. Nil means time.Now.
	Now func() time.Time
	// Logger receives commit failures and corrupt records. Nil discards.
	Logger *slog.Logger
	// LockTimeout bounds how long Open waits for the file's lock, held by
	// any other open Store of the same file. Zero means DefaultLockTimeout.
	LockTimeout time.Duration
}

// Bucket names and the format tag stored in the meta bucket.
var (
	bucketMeta    = []byte("meta")
	bucketRecords = []byte("records")
	bucketExpiry  = []byte("expiry")
	keyFormat     = []byte("format")
	formatV1      = []byte("dhtkit/kvstore/bbolt v1")
)

// Open opens the store in the file at path, creating it if needed. A file
// that is not a bbolt database, or is damaged, gives an error wrapping
// ErrCorrupt; a bbolt file of another application gives ErrForeign; a file
// another Store holds open gives ErrLocked after Options.LockTimeout.
func Open(path string, opts Options) (*Store, error) {
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	db, err := openDB(path, timeout)
	if err != nil {
		return nil, err
	}
	n, err := prepare(db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("bbolt: open %s: %w", path, err)
	}
	s := &Store{
		db:       db,
		now:      opts.Now,
		log:      opts.Logger,
		ops:      make(chan *op, opQueue),
		loopDone: make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.count.Store(int64(n))
	go s.loop()
	s.log.Debug("bbolt: opened", "path", path, "records", n)
	return s, nil
}

// openDB opens the bbolt file, mapping its errors to this package's.
func openDB(path string, timeout time.Duration) (db *bolt.DB, err error) {
	defer func() {
		// bbolt trusts page contents once the meta page checksums; a file
		// damaged past them can make it panic.
		if p := recover(); p != nil {
			db, err = nil, fmt.Errorf("bbolt: open %s: %w: %v", path, ErrCorrupt, p)
		}
	}()
	info, statErr := os.Stat(path)
	existing := statErr == nil && info.Size() > 0
	if existing {
		err = checkLength(path, info.Size(), timeout)
	}
	if err == nil {
		db, err = bolt.Open(path, 0o600, &bolt.Options{
			Timeout: timeout,
			// The free list is rebuilt by a scan on Open instead of being
			// written by every commit: fewer pages per fsync. Durability is
			// the same.
			NoFreelistSync: true,
			FreelistType:   bolt.FreelistMapType,
		})
	}
	var tooShort *shortFileError
	var pathErr *fs.PathError
	switch {
	case err == nil:
		return db, nil
	case errors.As(err, &tooShort):
		return nil, fmt.Errorf("bbolt: open %s: %w: %w", path, ErrCorrupt, err)
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("%w: %s (waited %v): %w", ErrLocked, path, timeout, err)
	case errors.As(err, &pathErr) && pathErr.Op == "open" && pathErr.Path == path:
		// Its text would repeat what this message states.
		return nil, fmt.Errorf("bbolt: open %s: %w", path, pathErr.Err)
	case pathErr != nil || !existing:
		return nil, fmt.Errorf("bbolt: open %s: %w", path, err)
	default:
		// Invalid or mismatched meta pages, or a file too short to map.
		return nil, fmt.Errorf("bbolt: open %s: %w: not a valid bbolt file: %w", path, ErrCorrupt, err)
	}
}

// shortFileError: the file ends before the pages its meta page counts.
type shortFileError struct{ size, want int64 }

func (e *shortFileError) Error() string {
	return fmt.Sprintf("file of %d bytes, its meta page counts %d", e.size, e.want)
}

// checkLength refuses a file cut short of the pages its meta page counts:
// bbolt maps the file, and reading a page past its end faults (SIGBUS),
// which no recover catches. A read-only open maps it without reading any
// page but the meta pages.
func checkLength(path string, size int64, timeout time.Duration) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		if want := tx.Size(); size < want {
			return &shortFileError{size, want}
		}
		return nil
	})
}

// prepare checks that db holds this format, creating the buckets in an empty
// file, and returns the number of records.
func prepare(db *bolt.DB) (n int, err error) {
	defer func() {
		if p := recover(); p != nil {
			n, err = 0, fmt.Errorf("%w: %v", ErrCorrupt, p)
		}
	}()
	fresh := false
	err = db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			if c := tx.Cursor(); c != nil {
				if k, _ := c.First(); k != nil {
					return fmt.Errorf("%w: has bucket %q and no %q", ErrForeign, k, bucketMeta)
				}
			}
			fresh = true
			return nil
		}
		if f := meta.Get(keyFormat); !bytes.Equal(f, formatV1) {
			return fmt.Errorf("%w: format %q, want %q", ErrForeign, f, formatV1)
		}
		records, expiry := tx.Bucket(bucketRecords), tx.Bucket(bucketExpiry)
		if records == nil || expiry == nil {
			return fmt.Errorf("%w: missing bucket %q or %q", ErrCorrupt, bucketRecords, bucketExpiry)
		}
		n = records.Stats().KeyN
		return nil
	})
	if err != nil || !fresh {
		return n, err
	}
	return 0, db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if err := meta.Put(keyFormat, formatV1); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bucketRecords); err != nil {
			return err
		}
		_, err = tx.CreateBucket(bucketExpiry)
		return err
	})
}

// check validates the arguments every keyed method shares.
func check(ctxErr error, key []byte) error {
	if ctxErr != nil {
		return ctxErr
	}
	if len(key) == 0 {
		return kvstore.ErrEmptyKey
	}
	if len(key) > MaxKeySize {
		return fmt.Errorf("%w: key of %d bytes, limit %d", ErrTooLarge, len(key), MaxKeySize)
	}
	return nil
}
