package memory_test

import (
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/kvstore/memory"
)

func TestStoreConformance(t *testing.T) {
	conformance.TestStore(t, func(t *testing.T, now func() time.Time) kvstore.Store {
		s := memory.New(memory.Options{Now: now})
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestUpdatePanicLeavesStoreUnchangedAndUnlocked(t *testing.T) {
	ctx := t.Context()
	s := memory.New(memory.Options{})
	defer s.Close()
	key := []byte("k")
	if err := s.Put(ctx, key, kvstore.Record{Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Update did not propagate fn's panic")
			}
		}()
		s.Update(ctx, key, func(cur *kvstore.Record) (*kvstore.Record, error) {
			cur.Value[0] = 'x'
			panic("boom")
		})
	}()
	// The shard lock must have been released: this would deadlock otherwise.
	got, err := s.Get(ctx, key)
	if err != nil || string(got.Value) != "v" {
		t.Fatalf("Get after a panicking Update = %q, %v, want \"v\", nil", got.Value, err)
	}
}

func TestReturnedFieldsDoNotOverlap(t *testing.T) {
	// Fields of a returned record share one allocation; appending to one
	// must not overwrite the next.
	ctx := t.Context()
	s := memory.New(memory.Options{})
	defer s.Close()
	want := kvstore.Record{Value: []byte("val"), Publisher: []byte("pub"), Salt: []byte("salt"), Signature: []byte("sig")}
	if err := s.Put(ctx, []byte("k"), want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, []byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	_ = append(got.Value, "XXXXXXXX"...)
	_ = append(got.Publisher, "XXXXXXXX"...)
	_ = append(got.Salt, "XXXXXXXX"...)
	got.Value = nil
	want.Value = nil
	if !got.Equal(want) {
		t.Fatalf("after appending to returned fields: got %+v, want %+v", got, want)
	}
}
