package memory_test

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/kvstore/memory"
)

const benchKeys = 1 << 14

func benchKey(i int) []byte {
	return binary.BigEndian.AppendUint64([]byte("bench/"), uint64(i%benchKeys))
}

func benchRecord() kvstore.Record {
	return kvstore.Record{Value: make([]byte, 1024), Publisher: make([]byte, 32), Seq: 1, Signature: make([]byte, 64)}
}

func BenchmarkPut(b *testing.B) {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	defer s.Close()
	rec := benchRecord()
	b.ReportAllocs()
	b.SetBytes(int64(len(rec.Value)))
	i := 0
	for b.Loop() {
		if err := s.Put(ctx, benchKey(i), rec); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	defer s.Close()
	rec := benchRecord()
	for i := range benchKeys {
		if err := s.Put(ctx, benchKey(i), rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(rec.Value)))
	i := 0
	for b.Loop() {
		if _, err := s.Get(ctx, benchKey(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkPutParallel(b *testing.B) {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	defer s.Close()
	rec := benchRecord()
	b.ReportAllocs()
	b.SetBytes(int64(len(rec.Value)))
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if err := s.Put(ctx, benchKey(i), rec); err != nil {
				b.Error(err)
				return
			}
			i += 7
		}
	})
}
