package bbolt_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/kvstore/bbolt"
)

// open opens a store in a fresh file, closed when the test ends.
func open(t testing.TB, path string, now func() time.Time) *bbolt.Store {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "store.db")
	}
	s, err := bbolt.Open(path, bbolt.Options{Now: now})
	if err != nil {
		t.Fatalf("Open(%s) = %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStoreConformance(t *testing.T) {
	conformance.TestStore(t, func(t *testing.T, now func() time.Time) kvstore.Store {
		return open(t, "", now)
	}, conformance.StoreOptions{Durable: durable, Files: files, MaxKeySize: bbolt.MaxKeySize})
}

// durable opens stores, one at a time, in one file of t's.
func durable(t *testing.T, now func() time.Time) func() (kvstore.Store, error) {
	path := filepath.Join(t.TempDir(), "store.db")
	return func() (kvstore.Store, error) {
		return bbolt.Open(path, bbolt.Options{Now: now})
	}
}

// files opens stores, one at a time, in one file of a directory of t's,
// for the suite's damaged-files rules.
func files(t *testing.T, now func() time.Time) (string, func() (kvstore.Store, error)) {
	dir := t.TempDir()
	return dir, func() (kvstore.Store, error) {
		return bbolt.Open(filepath.Join(dir, "store.db"), bbolt.Options{Now: now})
	}
}
