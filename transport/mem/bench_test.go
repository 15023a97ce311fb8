package mem_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/dhtkit/dhtkit/transport/mem"
)

// BenchmarkIdleEndpoints10k reports the heap held per idle endpoint of a
// network of 10,000.
func BenchmarkIdleEndpoints10k(b *testing.B) {
	const k = 10000
	b.ReportAllocs()
	var perEndpoint float64
	for b.Loop() {
		before := heapAlloc()
		n := mem.NewNetwork(mem.Options{})
		eps := make([]*mem.Endpoint, k)
		for i := range eps {
			eps[i], _ = n.Listen(nil)
		}
		after := heapAlloc()
		// The eps slice itself is the benchmark's, not the network's.
		perEndpoint = (float64(after) - float64(before) - 8*k) / k
		runtime.KeepAlive(eps)
		_ = n.Close()
	}
	b.ReportMetric(perEndpoint, "B/endpoint")
}

// BenchmarkRoundTrip sends a 1 KiB frame A→B and B echoes it back.
func BenchmarkRoundTrip(b *testing.B) {
	n := mem.NewNetwork(mem.Options{})
	defer n.Close()
	a, _ := n.Listen(nil)
	bb, _ := n.Listen(nil)
	to := bb.Addr()
	ctx := context.Background()
	frame := make([]byte, 1024)
	b.ReportAllocs()
	b.SetBytes(2 * int64(len(frame)))
	for b.Loop() {
		if err := a.Send(ctx, to, frame); err != nil {
			b.Fatal(err)
		}
		p, err := bb.Receive(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := bb.Send(ctx, p.From, p.Data); err != nil {
			b.Fatal(err)
		}
		if _, err := a.Receive(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSend is one way of the round trip: a 1 KiB Send and the Receive
// that takes it.
func BenchmarkSend(b *testing.B) {
	n := mem.NewNetwork(mem.Options{})
	defer n.Close()
	src, _ := n.Listen(nil)
	dst, _ := n.Listen(nil)
	to := dst.Addr()
	ctx := context.Background()
	frame := make([]byte, 1024)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if err := src.Send(ctx, to, frame); err != nil {
			b.Fatal(err)
		}
		if _, err := dst.Receive(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSendParallel sends 1 KiB frames from parallel senders to one
// endpoint drained by a receiver goroutine, as many nodes flooding one;
// frames a full inbox refuses still count.
func BenchmarkSendParallel(b *testing.B) {
	n := mem.NewNetwork(mem.Options{QueueLen: 1024})
	defer n.Close()
	dst, _ := n.Listen(nil)
	to := dst.Addr()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, err := dst.Receive(context.Background()); err != nil {
				return
			}
		}
	}()
	b.ReportAllocs()
	b.SetBytes(1024)
	b.RunParallel(func(pb *testing.PB) {
		src, err := n.Listen(nil)
		if err != nil {
			b.Error(err)
			return
		}
		frame := make([]byte, 1024)
		ctx := context.Background()
		for pb.Next() {
			if err := src.Send(ctx, to, frame); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	st := n.Stats()
	b.ReportMetric(float64(st.Delivered)/float64(st.Sent), "delivered/op")
	_ = dst.Close()
	<-done
}
