package memory_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/kvstore/memory"
)

// errStale refuses a version no newer than the stored one.
var errStale = errors.New("stale")

// Update carries "higher sequence wins": the check and the write happen
// atomically, so two publishers racing cannot both win.
func ExampleStore_Update() {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	defer s.Close()

	offer := func(seq uint64, value string) error {
		return s.Update(ctx, []byte("mutable"), func(cur *kvstore.Record) (*kvstore.Record, error) {
			if cur != nil && cur.Seq >= seq {
				return nil, errStale
			}
			return &kvstore.Record{Value: []byte(value), Seq: seq}, nil
		})
	}
	fmt.Println(offer(2, "two"))
	fmt.Println(offer(1, "one"))
	rec, _ := s.Get(ctx, []byte("mutable"))
	fmt.Println(rec.Seq, string(rec.Value))
	// Output:
	// <nil>
	// stale
	// 2 two
}

// Expiry follows the injected clock, and Sweep frees what has expired.
func ExampleStore_Sweep() {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := memory.New(memory.Options{Now: func() time.Time { return now }})
	defer s.Close()

	s.Put(ctx, []byte("a"), kvstore.Record{Value: []byte("1"), Expires: now.Add(time.Minute)})
	s.Put(ctx, []byte("b"), kvstore.Record{Value: []byte("2")}) // never expires
	now = now.Add(time.Hour)

	_, err := s.Get(ctx, []byte("a"))
	fmt.Println(err)
	n, _ := s.Sweep(ctx)
	left, _ := s.Len(ctx)
	fmt.Println(n, left)
	// Output:
	// kvstore: not found
	// 1 1
}
