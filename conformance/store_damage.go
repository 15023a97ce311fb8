package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
)

// storeDamageWrites is how many records the damage rules write.
const storeDamageWrites = 12

// storeDamage is one way of damaging a closed store's files. It returns
// whether it changed anything.
type storeDamage struct {
	name string
	// values: the damage flips a byte of every copy of each stored value
	// the files hold, so that Get of its key must not succeed quietly.
	values bool
	apply  func(e *env, data []byte, want map[string]kvstore.Record) []byte
}

var storeDamages = []storeDamage{
	{"a byte of each stored value flipped", true, func(e *env, data []byte, want map[string]kvstore.Record) []byte {
		for _, rec := range want {
			for off := 0; ; {
				i := bytes.Index(data[off:], rec.Value)
				if i < 0 {
					break
				}
				data[off+i+len(rec.Value)/2] ^= 0x5a
				off += i + len(rec.Value)
			}
		}
		return data
	}},
	{"the files cut to half their length", false, func(e *env, data []byte, _ map[string]kvstore.Record) []byte {
		return data[:len(data)/2]
	}},
	{"the files' bytes replaced by garbage", false, func(e *env, data []byte, _ map[string]kvstore.Record) []byte {
		return storeBytes(e.rng, len(data))
	}},
}

// storeDamageRules: what a store that keeps files does with damaged ones.
func storeDamageRules() []rule[storeFactory] {
	check := func(values bool) func(e *env, f storeFactory) error {
		return func(e *env, f storeFactory) error {
			for _, d := range storeDamages {
				if d.values != values {
					continue
				}
				if err := storeDamageCheck(e, f, d); err != nil {
					return fmt.Errorf("%s: %w", d.name, err)
				}
			}
			return nil
		}
	}
	return []rule[storeFactory]{
		{
			name:  "damaged-value-never-misread",
			doc:   "A store whose files had a byte of each stored value flipped (StoreOptions.Files) refuses them on open with an error, or answers Get of each key with the record written or an error other than kvstore.ErrNotFound, never a damaged record, never silence, never a panic.",
			check: check(true),
		},
		{
			name:  "damaged-files-refused-or-read-whole",
			doc:   "A store whose files were cut short or overwritten with garbage (StoreOptions.Files) refuses them on open with an error, or opens and returns only records that were written, never panicking.",
			check: check(false),
		},
	}
}

// storeDamageCheck writes, closes, damages and reopens one store.
func storeDamageCheck(e *env, f storeFactory, d storeDamage) error {
	if f.files == nil {
		return skip("StoreOptions.Files is not set: the store keeps no files the suite may damage")
	}
	clk := &storeClock{now: time.Date(2030, time.January, 1, 0, 0, 0, 0, time.UTC)}
	dir, open := f.files(e.t, clk.Now)
	if open == nil || dir == "" {
		return errors.New("StoreOptions.Files returned no directory or a nil open func")
	}
	s, err := open()
	if err != nil {
		return fmt.Errorf("open = %w", err)
	}
	want := make(map[string]kvstore.Record, storeDamageWrites)
	for i := range storeDamageWrites {
		key, rec := storeKey(e.rng, i), storeRecord(e.rng, time.Time{})
		rec.Value = storeBytes(e.rng, 64+e.rng.IntN(64)) // long enough to be found only where it was stored
		if i%3 == 0 {
			rec.Expires = clk.Now().Add(time.Hour)
		}
		if err := s.Put(e.ctx, key, rec); err != nil {
			s.Close()
			return fmt.Errorf("Put = %w", err)
		}
		want[string(key)] = rec
	}
	if err := s.Close(); err != nil {
		return fmt.Errorf("Close = %w", err)
	}
	found := false
	err = filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
		if err != nil || !de.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		damaged := d.apply(e, bytes.Clone(data), want)
		if !bytes.Equal(damaged, data) {
			found = true
		}
		return os.WriteFile(path, damaged, de.Type().Perm()|0o600)
	})
	if err != nil {
		return fmt.Errorf("damaging the files in %s: %w", dir, err)
	}
	if !found {
		if d.values {
			return fmt.Errorf("no stored value found in the files under %s: the store keeps its records elsewhere, or encodes values (then leave StoreOptions.Files unset)", dir)
		}
		return fmt.Errorf("no file to damage under %s", dir)
	}
	s, err = open()
	if err != nil {
		return nil // refused, with an error: allowed
	}
	defer s.Close()
	for k, w := range want {
		got, err := s.Get(e.ctx, []byte(k))
		switch {
		case err == nil:
			if !got.Equal(w) {
				return fmt.Errorf("Get(%q) = %s, a record never written, want %s or an error", k, storeFmt(got), storeFmt(w))
			}
		case d.values && errors.Is(err, kvstore.ErrNotFound):
			return fmt.Errorf("Get(%q) of a damaged record = %w: the record is lost without a word, want an error saying it is damaged", k, err)
		}
	}
	if r, ok := s.(kvstore.Ranger); ok {
		var bad error
		// An error from Range is allowed: it reports the damage.
		_ = r.Range(e.ctx, func(key []byte, rec kvstore.Record) bool {
			if w, ok := want[string(key)]; !ok || !rec.Equal(w) {
				bad = fmt.Errorf("Range visited %q = %s, a record never written", key, storeFmt(rec))
			}
			return bad == nil
		})
		if bad != nil {
			return bad
		}
	}
	// Neither may panic; what they return is not checked.
	_, _ = s.Len(e.ctx)
	_, _ = s.Sweep(e.ctx)
	return nil
}
