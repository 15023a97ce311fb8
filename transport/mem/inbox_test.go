package mem_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/dhtkit/dhtkit/transport/mem"
)

func TestFullInboxDropsAndCountsFrames(t *testing.T) {
	const queue, sent = 8, 1000
	n := newNet(t, mem.Options{QueueLen: queue})
	eps := listen(t, n, 2)
	a, b := eps[0], eps[1]
	for i := range sent {
		send(t, a, b, string(rune('a'+i%26)))
	}
	st := n.Stats()
	if st.Delivered != queue || st.DroppedQueueFull != sent-queue {
		t.Fatalf("stats %+v, want %d delivered and %d dropped as queue-full", st, queue, sent-queue)
	}
	// The first QueueLen frames are kept, in order.
	for i := range queue {
		if p := receive(t, b); string(p.Data) != string(rune('a'+i)) {
			t.Fatalf("frame %d is %q", i, p.Data)
		}
	}
	if !inboxEmpty(t, b) {
		t.Fatal("more than QueueLen frames were kept")
	}
	// Room again once read.
	send(t, a, b, "room")
	if p := receive(t, b); string(p.Data) != "room" {
		t.Fatalf("got %q", p.Data)
	}
}

func heapAlloc() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func TestFloodingASilentEndpointDoesNotGrowMemory(t *testing.T) {
	n := newNet(t, mem.Options{QueueLen: 16})
	eps := listen(t, n, 2)
	a, to := eps[0], eps[1].Addr()
	frame := make([]byte, 4096)
	ctx := context.Background()
	flood := func(k int) {
		for range k {
			if err := a.Send(ctx, to, frame); err != nil {
				t.Fatal(err)
			}
		}
	}
	flood(100) // fill the inbox
	before := heapAlloc()
	flood(20000) // 80 MiB offered
	after := heapAlloc()
	if after > before && after-before > 1<<20 {
		t.Fatalf("heap grew by %d bytes while a full inbox refused 80 MiB", after-before)
	}
	if got := n.Stats().DroppedQueueFull; got != 20084 {
		t.Fatalf("DroppedQueueFull = %d, want 20084", got)
	}
}

func TestSendCopiesAndReceiveOwnsData(t *testing.T) {
	n := newNet(t, mem.Options{})
	eps := listen(t, n, 2)
	a, b := eps[0], eps[1]
	frame := []byte("original")
	if err := a.Send(context.Background(), b.Addr(), frame); err != nil {
		t.Fatal(err)
	}
	copy(frame, "CHANGED!")
	p := receive(t, b)
	if string(p.Data) != "original" {
		t.Fatalf("the receiver saw the sender's later write: %q", p.Data)
	}
	p.From[0] = mem.Addr(99)[0]
	if got := a.Addr().String(); got != "/memory/1" {
		t.Fatalf("writing to Packet.From changed the sender's address to %s", got)
	}
}
