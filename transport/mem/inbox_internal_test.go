package mem

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

// The inbox slice stays within twice QueueLen whatever the pattern of
// sends and reads, and is released once drained after a burst.
func TestInboxCapacityStaysBounded(t *testing.T) {
	const queue = 16
	n := NewNetwork(Options{QueueLen: queue})
	defer n.Close()
	a, _ := n.Listen(nil)
	b, _ := n.Listen(nil)
	ctx := context.Background()
	polled, cancel := context.WithCancel(ctx)
	cancel()
	for round := range 500 {
		for range round % (2 * queue) {
			if err := a.Send(ctx, b.Addr(), []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		for range round % 7 {
			_, _ = b.Receive(polled)
		}
		b.mu.Lock()
		c, waiting := cap(b.inbox), len(b.inbox)-b.head
		b.mu.Unlock()
		if c > 2*queue || waiting > queue {
			t.Fatalf("round %d: inbox capacity %d holding %d, want at most %d and %d", round, c, waiting, 2*queue, queue)
		}
	}
	for {
		if _, err := b.Receive(polled); err != nil {
			break
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if cap(b.inbox) > keepCap {
		t.Fatalf("a drained inbox kept capacity %d, want at most %d", cap(b.inbox), keepCap)
	}
}

func TestPendingHeapPopsByDueThenSendOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var h pendingHeap
	base := time.Unix(0, 0)
	for seq := range uint64(2000) {
		h.push(pending{due: base.Add(time.Duration(rng.IntN(50))), seq: seq})
	}
	prev := h.pop()
	for len(h) > 0 {
		p := h.pop()
		if p.due.Before(prev.due) || p.due.Equal(prev.due) && p.seq < prev.seq {
			t.Fatalf("popped (%v, %d) after (%v, %d)", p.due, p.seq, prev.due, prev.seq)
		}
		prev = p
	}
}
