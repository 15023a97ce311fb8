package bbolt_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/kvstore/bbolt"
	bolt "go.etcd.io/bbolt"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestReopenKeepsUnexpiredRecordsAndNeverReturnsExpiredOnes(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "store.db")
	clk := newFakeClock()
	want := make(map[string]kvstore.Record)
	var expiring []string

	s, err := bbolt.Open(path, bbolt.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		key := fmt.Sprintf("key-%02d", i)
		rec := kvstore.Record{Value: []byte("value of " + key), Seq: uint64(i), Publisher: []byte("pub"), Signature: []byte("sig")}
		switch i % 3 {
		case 0:
			rec.Expires = clk.Now().Add(time.Minute)
			expiring = append(expiring, key)
		case 1:
			rec.Expires = clk.Now().Add(time.Hour)
			want[key] = rec
		case 2:
			want[key] = rec // never expires
		}
		if err := s.Put(ctx, []byte(key), rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}

	clk.advance(2 * time.Minute)
	s, err = bbolt.Open(path, bbolt.Options{Now: clk.Now})
	if err != nil {
		t.Fatalf("reopen = %v", err)
	}
	defer s.Close()
	for key, rec := range want {
		got, err := s.Get(ctx, []byte(key))
		if err != nil || !got.Equal(rec) {
			t.Fatalf("after reopen Get(%s) = %+v, %v, want %+v", key, got, err, rec)
		}
	}
	for _, key := range expiring {
		if _, err := s.Get(ctx, []byte(key)); !errors.Is(err, kvstore.ErrNotFound) {
			t.Fatalf("after reopen Get(expired %s) = %v, want ErrNotFound", key, err)
		}
	}
	if n, err := s.Len(ctx); err != nil || n != 60 {
		t.Fatalf("after reopen Len = %d, %v, want 60 (expired records not yet swept)", n, err)
	}
	if n, err := s.Sweep(ctx); err != nil || n != len(expiring) {
		t.Fatalf("Sweep = %d, %v, want %d", n, err, len(expiring))
	}
	if n, err := s.Len(ctx); err != nil || n != len(want) {
		t.Fatalf("after Sweep Len = %d, %v, want %d", n, err, len(want))
	}
}

func TestSweepFollowsChangedExpiry(t *testing.T) {
	ctx := t.Context()
	clk := newFakeClock()
	s := open(t, "", clk.Now)
	short, never := []byte("short-then-long"), []byte("short-then-never")
	for _, k := range [][]byte{short, never} {
		if err := s.Put(ctx, k, kvstore.Record{Value: k, Expires: clk.Now().Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(ctx, short, kvstore.Record{Value: short, Expires: clk.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	err := s.Update(ctx, never, func(cur *kvstore.Record) (*kvstore.Record, error) {
		cur.Expires = time.Time{}
		return cur, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	clk.advance(2 * time.Minute)
	if n, err := s.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("Sweep = %d, %v, want 0: both records were extended", n, err)
	}
	for _, k := range [][]byte{short, never} {
		if _, err := s.Get(ctx, k); err != nil {
			t.Fatalf("Get(%s) after Sweep = %v", k, err)
		}
	}
	clk.advance(time.Hour)
	if n, err := s.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("Sweep an hour later = %d, %v, want 1", n, err)
	}
}

func TestRangeVisitsEveryRecordAcrossChunks(t *testing.T) {
	ctx := t.Context()
	clk := newFakeClock()
	s := open(t, "", clk.Now)
	const n = 1500 // several read transactions' worth
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Go(func() {
			for i := w; i < n; i += 32 {
				rec := kvstore.Record{Value: fmt.Appendf(nil, "%d", i)}
				if i%2 == 0 {
					rec.Expires = clk.Now().Add(time.Minute) // expired below
				}
				if err := s.Put(ctx, fmt.Appendf(nil, "key-%05d", i), rec); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	clk.advance(time.Minute)
	seen := make(map[string]bool)
	err := s.Range(ctx, func(key []byte, rec kvstore.Record) bool {
		if seen[string(key)] {
			t.Errorf("Range visited %s twice", key)
		}
		seen[string(key)] = true
		for i := range key {
			key[i] = 0xff // must not move where Range resumes
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != n/2 {
		t.Fatalf("Range visited %d records, want the %d live ones", len(seen), n/2)
	}
}

func TestUpdateErrorsAndPanicsInOneBatchAffectOnlyTheirCallers(t *testing.T) {
	ctx := t.Context()
	s := open(t, "", nil)
	errOwn := errors.New("caller's own error")
	const n = 64
	start := make(chan struct{})
	results := make([]error, n)
	panicked := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			key := fmt.Appendf(nil, "key-%02d", i)
			<-start
			defer func() { panicked[i] = recover() != nil }()
			results[i] = s.Update(ctx, key, func(*kvstore.Record) (*kvstore.Record, error) {
				switch i % 4 {
				case 1:
					return &kvstore.Record{Value: key}, errOwn
				case 2:
					panic("fn panics")
				}
				return &kvstore.Record{Value: key}, nil
			})
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		key := fmt.Appendf(nil, "key-%02d", i)
		_, getErr := s.Get(ctx, key)
		switch i % 4 {
		case 1:
			if !errors.Is(results[i], errOwn) || !errors.Is(getErr, kvstore.ErrNotFound) {
				t.Errorf("failing update %d: Update = %v, Get = %v; want its own error and nothing stored", i, results[i], getErr)
			}
		case 2:
			if !panicked[i] || !errors.Is(getErr, kvstore.ErrNotFound) {
				t.Errorf("panicking update %d: panicked = %v, Get = %v; want the panic re-raised and nothing stored", i, panicked[i], getErr)
			}
		default:
			if results[i] != nil || panicked[i] || getErr != nil {
				t.Errorf("good update %d: Update = %v, panicked = %v, Get = %v; want it stored", i, results[i], panicked[i], getErr)
			}
		}
	}
}

func TestCloseCommitsQueuedWrites(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	acked := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := s.Put(ctx, fmt.Appendf(nil, "key-%02d", i), kvstore.Record{Value: []byte("v")})
			switch {
			case err == nil:
				acked[i] = true
			case !errors.Is(err, kvstore.ErrClosed):
				t.Errorf("Put racing Close = %v, want nil or ErrClosed", err)
			}
		})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	s = open(t, path, nil)
	for i, ok := range acked {
		if _, err := s.Get(ctx, fmt.Appendf(nil, "key-%02d", i)); ok && err != nil {
			t.Errorf("Put %d was acknowledged before Close, but after reopen Get = %v", i, err)
		}
	}
}

func TestSecondOpenOfALockedFileFailsQuickly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	open(t, path, nil)
	start := time.Now()
	s, err := bbolt.Open(path, bbolt.Options{LockTimeout: 50 * time.Millisecond})
	if err == nil {
		s.Close()
		t.Fatal("second Open of a file in use succeeded")
	}
	if !errors.Is(err, bbolt.ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if waited := time.Since(start); waited > 10*time.Second {
		t.Fatalf("second Open gave up after %v, want about its 50ms LockTimeout", waited)
	}
}

func TestOpenRejectsFilesThatAreNotStores(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		garbage[i] = byte(i*7 + i>>8)
	}
	foreign := filepath.Join(dir, "foreign.db")
	boltFile(t, foreign, func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("someone-else"))
		return err
	})
	otherVersion := filepath.Join(dir, "v9.db")
	boltFile(t, otherVersion, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("meta"))
		if err != nil {
			return err
		}
		return b.Put([]byte("format"), []byte("dhtkit/kvstore/bbolt v9"))
	})
	damaged := filepath.Join(dir, "damaged.db")
	open(t, damaged, nil).Close()
	f, err := os.OpenFile(damaged, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range []int64{0, 1} { // both meta pages
		if _, err := f.WriteAt([]byte("scribbled over the meta page"), page*int64(os.Getpagesize())+64); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()

	for _, tc := range []struct {
		name, path string
		want       error
	}{
		{"text file", write("text", []byte("hello, I am not a database\n")), bbolt.ErrCorrupt},
		{"one page of garbage", write("short", garbage[:4096]), bbolt.ErrCorrupt},
		{"garbage", write("garbage", garbage), bbolt.ErrCorrupt},
		{"damaged meta pages", damaged, bbolt.ErrCorrupt},
		{"another application's bbolt file", foreign, bbolt.ErrForeign},
		{"another version of the format", otherVersion, bbolt.ErrForeign},
	} {
		s, err := bbolt.Open(tc.path, bbolt.Options{})
		if err == nil {
			s.Close()
			t.Errorf("%s: Open succeeded, want %v", tc.name, tc.want)
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Open = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestCorruptRecordIsReportedAndReplaceable(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "store.db")
	s := open(t, path, nil)
	for _, k := range []string{"a", "bad", "c"} {
		if err := s.Put(ctx, []byte(k), kvstore.Record{Value: []byte(k)}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	boltFile(t, path, func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("records")).Put([]byte("bad"), []byte("not a record"))
	})
	s = open(t, path, nil)

	if _, err := s.Get(ctx, []byte("bad")); !errors.Is(err, bbolt.ErrCorrupt) {
		t.Fatalf("Get of a corrupt record = %v, want ErrCorrupt", err)
	}
	called := false
	err := s.Update(ctx, []byte("bad"), func(cur *kvstore.Record) (*kvstore.Record, error) {
		called = true
		return cur, nil
	})
	if !errors.Is(err, bbolt.ErrCorrupt) || called {
		t.Fatalf("Update of a corrupt record = %v (fn called: %v), want ErrCorrupt without calling fn", err, called)
	}
	var seen []string
	if err := s.Range(ctx, func(k []byte, _ kvstore.Record) bool { seen = append(seen, string(k)); return true }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seen) != "[a c]" {
		t.Fatalf("Range visited %v, want [a c]: the corrupt record skipped", seen)
	}
	if err := s.Put(ctx, []byte("bad"), kvstore.Record{Value: []byte("fixed")}); err != nil {
		t.Fatalf("Put over a corrupt record = %v", err)
	}
	if got, err := s.Get(ctx, []byte("bad")); err != nil || string(got.Value) != "fixed" {
		t.Fatalf("Get after replacing = %q, %v", got.Value, err)
	}
}

func TestKeyTooLargeIsRejected(t *testing.T) {
	s := open(t, "", nil)
	err := s.Put(t.Context(), make([]byte, bbolt.MaxKeySize+1), kvstore.Record{})
	if !errors.Is(err, bbolt.ErrTooLarge) {
		t.Fatalf("Put with a key of MaxKeySize+1 bytes = %v, want ErrTooLarge", err)
	}
	if err := s.Put(t.Context(), make([]byte, bbolt.MaxKeySize), kvstore.Record{Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatalf("Put with a key of MaxKeySize bytes = %v, want nil", err)
	}
}

// boltFile runs fn in a write transaction on the bbolt file at path,
// bypassing the store, to make files the store must cope with.
func boltFile(t *testing.T, path string, fn func(*bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func TestOpenInAMissingDirectoryNamesThePathOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "records.db")
	_, err := bbolt.Open(path, bbolt.Options{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open = %v, want an error matching os.ErrNotExist", err)
	}
	if want := "bbolt: open " + path + ": no such file or directory"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}
