package bbolt_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/kvstore/bbolt"
)

// A Put is durable once it returns: reopening the file finds the record.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "bbolt-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "records.db")
	ctx := context.Background()

	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		panic(err)
	}
	if err := s.Put(ctx, []byte("greeting"), kvstore.Record{Value: []byte("hello"), Seq: 1}); err != nil {
		panic(err)
	}
	s.Close()

	s, err = bbolt.Open(path, bbolt.Options{})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	rec, err := s.Get(ctx, []byte("greeting"))
	fmt.Println(string(rec.Value), rec.Seq, err)
	// Output: hello 1 <nil>
}
