package bbolt_test

import (
	"context"
	"encoding/binary"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/kvstore/bbolt"
)

const benchKeys = 1 << 14

func benchKey(i int) []byte {
	return binary.BigEndian.AppendUint64([]byte("bench/"), uint64(i%benchKeys))
}

func benchRecord() kvstore.Record {
	return kvstore.Record{Value: make([]byte, 1024), Publisher: make([]byte, 32), Seq: 1, Signature: make([]byte, 64)}
}

// BenchmarkPut is one writer: every Put pays a whole commit and its fsyncs.
func BenchmarkPut(b *testing.B) {
	ctx := context.Background()
	s := open(b, "", nil)
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
	s := open(b, "", nil)
	rec := benchRecord()
	var wg sync.WaitGroup
	for w := range 64 {
		wg.Go(func() {
			for i := w; i < benchKeys; i += 64 {
				if err := s.Put(ctx, benchKey(i), rec); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
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

// BenchmarkPutParallel64 is 64 writers doing durable Puts (with GOMAXPROCS
// dividing 64; otherwise the next multiple); group commit lets them share
// fsyncs. It reports puts/s, and puts/commit and ms/commit from the store's
// debug log, which say whether batching or the disk is the limit.
func BenchmarkPutParallel64(b *testing.B) {
	ctx := context.Background()
	commits := &commitCounter{}
	s, err := bbolt.Open(filepath.Join(b.TempDir(), "store.db"), bbolt.Options{Logger: slog.New(commits)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rec := benchRecord()
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((64 + procs - 1) / procs)
	b.ReportAllocs()
	b.SetBytes(int64(len(rec.Value)))
	var next atomic.Int64
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.Put(ctx, benchKey(int(next.Add(1))), rec); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "puts/s")
	n, writes, took := commits.totals()
	if n > 0 {
		b.ReportMetric(float64(writes)/float64(n), "puts/commit")
		b.ReportMetric(took.Seconds()*1000/float64(n), "ms/commit")
	}
}

// commitCounter is a slog.Handler that adds up the store's debug records of
// commits.
type commitCounter struct {
	mu     sync.Mutex
	n      int
	writes int64
	took   time.Duration
}

func (c *commitCounter) Enabled(_ context.Context, l slog.Level) bool { return l == slog.LevelDebug }

func (c *commitCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "bbolt: committed" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "writes":
			c.writes += a.Value.Int64()
		case "took":
			c.took += a.Value.Duration()
		}
		return true
	})
	return nil
}

func (c *commitCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *commitCounter) WithGroup(string) slog.Handler      { return c }

func (c *commitCounter) totals() (int, int64, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n, c.writes, c.took
}

// BenchmarkFsync is the floor under every durable commit: one 4 KiB write
// and fsync in the directory the other benchmarks use. A bbolt commit
// makes two (data pages, then the meta page), so one writer cannot beat
// 1/(2·fsync) Puts per second and 64 writers about 64 times that.
func BenchmarkFsync(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "fsync"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	page := make([]byte, 4096)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := f.WriteAt(page, int64(i%16)*4096); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
