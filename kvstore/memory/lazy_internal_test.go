package memory

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/dhtkit/dhtkit/kvstore"
)

func TestShardsAreMadeByTheFirstWriteOnly(t *testing.T) {
	ctx := context.Background()
	s := New(Options{})
	if _, err := s.Get(ctx, []byte("k")); !errors.Is(err, kvstore.ErrNotFound) {
		t.Fatalf("Get on an empty store: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, []byte("k")); err != nil {
		t.Fatalf("Delete on an empty store: %v", err)
	}
	if n, err := s.Len(ctx); n != 0 || err != nil {
		t.Fatalf("Len on an empty store: %d, %v", n, err)
	}
	if _, err := s.Sweep(ctx); err != nil {
		t.Fatalf("Sweep on an empty store: %v", err)
	}
	if err := s.Range(ctx, func([]byte, kvstore.Record) bool { return true }); err != nil {
		t.Fatalf("Range on an empty store: %v", err)
	}
	if s.shards.Load() != nil {
		t.Fatal("reads made the shards: an idle store should hold none")
	}
	if err := s.Put(ctx, []byte("k"), kvstore.Record{Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	made := 0
	for i := range s.shards.Load() {
		if s.shards.Load()[i].m != nil {
			made++
		}
	}
	if made != 1 {
		t.Fatalf("one write made %d shard maps, want 1", made)
	}
}

func TestAStoreClosedBeforeItsFirstWriteRefusesEverything(t *testing.T) {
	ctx := context.Background()
	s := New(Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"Put":    s.Put(ctx, []byte("k"), kvstore.Record{}),
		"Update": s.Update(ctx, []byte("k"), func(*kvstore.Record) (*kvstore.Record, error) { return &kvstore.Record{}, nil }),
		"Delete": s.Delete(ctx, []byte("k")),
		"Range":  s.Range(ctx, func([]byte, kvstore.Record) bool { return true }),
		"Close":  s.Close(),
	} {
		if !errors.Is(err, kvstore.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if _, err := s.Get(ctx, []byte("k")); !errors.Is(err, kvstore.ErrClosed) {
		t.Errorf("Get after Close: %v, want ErrClosed", err)
	}
}

// A first write racing with Close either lands before Close empties the
// store or is refused: nothing is left in a closed store.
func TestAFirstWriteRacingCloseLeavesNothingBehind(t *testing.T) {
	ctx := context.Background()
	for range 200 {
		s := New(Options{})
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() { _ = s.Put(ctx, []byte{byte(i)}, kvstore.Record{Value: []byte("v")}) })
		}
		wg.Go(func() { _ = s.Close() })
		wg.Wait()
		if tbl := s.shards.Load(); tbl != nil {
			for i := range tbl {
				if tbl[i].m != nil {
					t.Fatal("a write landed in a closed store")
				}
			}
		}
	}
}
