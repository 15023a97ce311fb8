package conformance_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/kvstore/memory"
)

// storeFile is a store kept in one file of dir: memory.Store while open,
// saved by Close as a 4-byte length and a gob of every record, loaded by
// open. It has no checksum, so a damaged value is loaded as if good; with
// careless set it also trusts the stored length, so a file cut short or
// overwritten panics on open.
type storeFile struct {
	*memory.Store
	path string
}

func storeFileOpen(dir string, now func() time.Time, careless bool) (kvstore.Store, error) {
	s := &storeFile{Store: memory.New(memory.Options{Now: now}), path: filepath.Join(dir, "store.dat")}
	data, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	if !careless && len(data) < 4 {
		return nil, errors.New("store file too short")
	}
	n := binary.BigEndian.Uint32(data)
	if !careless && uint64(n) > uint64(len(data)-4) {
		return nil, fmt.Errorf("store file claims %d bytes, has %d", n, len(data)-4)
	}
	var recs map[string]kvstore.Record
	if err := gob.NewDecoder(bytes.NewReader(data[4 : 4+n])).Decode(&recs); err != nil {
		return nil, fmt.Errorf("store file: %w", err)
	}
	for k, rec := range recs {
		if err := s.Put(context.Background(), []byte(k), rec); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *storeFile) Close() error {
	recs := map[string]kvstore.Record{}
	_ = s.Range(context.Background(), func(k []byte, rec kvstore.Record) bool {
		recs[string(k)] = rec
		return true
	})
	if err := s.Store.Close(); err != nil {
		return err
	}
	var b bytes.Buffer
	b.Write(make([]byte, 4))
	if err := gob.NewEncoder(&b).Encode(recs); err != nil {
		return err
	}
	data := b.Bytes()
	binary.BigEndian.PutUint32(data, uint32(len(data)-4))
	return os.WriteFile(s.path, data, 0o600)
}

// storeFileFlaw is a file store's flaw and the rules it breaks.
type storeFileFlaw struct {
	name     string
	careless bool
	want     []string // sorted
}

func storeFileFlaws() []storeFileFlaw {
	return []storeFileFlaw{
		{"no checksum", false, []string{"damaged-value-never-misread"}},
		{"no checksum, stored length trusted", true, []string{"damaged-files-refused-or-read-whole", "damaged-value-never-misread"}},
	}
}

func TestCheckStoreCatchesStoresThatMisreadDamagedFiles(t *testing.T) {
	for _, tc := range storeFileFlaws() {
		t.Run(tc.name, func(t *testing.T) {
			errs := conformance.CheckStore(t, func(t *testing.T, now func() time.Time) kvstore.Store {
				return storeMemory(now)
			}, conformance.StoreOptions{Files: func(t *testing.T, now func() time.Time) (string, func() (kvstore.Store, error)) {
				dir := t.TempDir()
				return dir, func() (kvstore.Store, error) { return storeFileOpen(dir, now, tc.careless) }
			}})
			var got []string
			for _, err := range errs {
				var v *conformance.Violation
				if !errors.As(err, &v) {
					t.Fatalf("CheckStore returned %v, not a *Violation", err)
				}
				got = append(got, v.Rule)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("CheckStore reported rules %q, want exactly %q; violations:\n%v", got, tc.want, errors.Join(errs...))
			}
		})
	}
}
