package node

import (
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
)

func TestHistogramPutsABoundInItsOwnBucket(t *testing.T) {
	var h histogram
	bounds := &hopBounds
	for _, v := range []int64{-1, 0, 1, 2, 11, 12, 32, 33, 1000} {
		h.observe(bounds, v)
	}
	s := h.snapshot(bounds, 1)
	want := map[int]uint64{
		0:           2, // -1 counts as 0, and 0 itself
		1:           1,
		2:           1,
		11:          2, // 11 and 12 are in (10, 12]
		15:          1, // 32 is the last bound
		histBuckets: 2, // above it
	}
	for i, c := range s.Counts {
		if c != want[i] {
			t.Errorf("bucket %d (bound %v): count %d, want %d", i, bucketBound(s, i), c, want[i])
		}
	}
	if s.Count != 9 || s.Sum != 0+0+1+2+11+12+32+33+1000 {
		t.Errorf("count %d sum %v, want 9 and 1091", s.Count, s.Sum)
	}
}

func bucketBound(h Histogram, i int) any {
	if i < len(h.Bounds) {
		return h.Bounds[i]
	}
	return "+Inf"
}

func TestLatencySnapshotIsInSeconds(t *testing.T) {
	var h histogram
	h.observe(&latencyBounds, int64(3*time.Millisecond))
	s := h.snapshot(&latencyBounds, 1/float64(time.Second))
	if s.Bounds[0] != 0.0001 || s.Bounds[len(s.Bounds)-1] != 10 {
		t.Errorf("bounds run from %v to %v, want 0.0001 to 10 seconds", s.Bounds[0], s.Bounds[len(s.Bounds)-1])
	}
	if s.Sum != 0.003 || s.Counts[5] != 1 {
		t.Errorf("3ms: sum %v, counts %v; want 0.003 in (2.5ms, 5ms]", s.Sum, s.Counts)
	}
}

// Counting on the path of every frame must not allocate.
func TestCountingAFrameAllocatesNothing(t *testing.T) {
	var c counters
	msg := &msgenc.Message{Kind: msgenc.KindError, Error: &msgenc.Error{Code: msgenc.CodeRejected}}
	allocs := testing.AllocsPerRun(100, func() {
		c.sentMsg(msg)
		c.receivedMsg(msgenc.KindPing)
		c.answered(msgenc.KindFindNode, time.Millisecond)
		c.lookup(3, 2, time.Millisecond, true)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per frame, want 0", allocs)
	}
	if c.sentKinds[msgenc.KindError].Load() == 0 || c.rare.peek().refused[msgenc.CodeRejected].Load() == 0 {
		t.Error("the error reply was not counted by kind and code")
	}
}

func TestUnknownKindsAndCodesCountApart(t *testing.T) {
	var c counters
	c.sentMsg(&msgenc.Message{Kind: 200, Error: &msgenc.Error{Code: 7}})
	c.sentMsg(&msgenc.Message{Kind: msgenc.KindError, Error: &msgenc.Error{Code: 999}})
	c.receivedMsg(0)
	if c.sentKinds[0].Load() != 1 || c.receivedKinds[0].Load() != 1 {
		t.Error("an unknown kind must count in slot 0, not index past the array")
	}
	if c.rare.peek().refused[0].Load() != 1 {
		t.Error("an unknown code must count as unknown")
	}
}

// Histograms are made on first use; each request kind keeps its own, and
// one never used still reads as empty buckets with their bounds.
func TestEachRequestKindTimesApartAndUnusedHistogramsReadEmpty(t *testing.T) {
	var c counters
	for i := range c.rpcLatency {
		if c.rpcLatency[i].p.Load() != nil {
			t.Fatal("a fresh node holds a latency histogram it never used")
		}
	}
	if c.lookupHists.p.Load() != nil {
		t.Fatal("a fresh node holds lookup histograms")
	}
	for i, k := range requestKinds {
		for range i + 1 {
			c.answered(k, time.Millisecond)
		}
	}
	for i, k := range requestKinds {
		s := c.rpcLatency[i].peek().snapshot(&latencyBounds, 1)
		if s.Count != uint64(i+1) {
			t.Errorf("%s: %d answers timed, want %d", k, s.Count, i+1)
		}
	}
	var fresh counters
	s := fresh.lookupHists.peek().rpcs.snapshot(&countBounds, 1)
	if s.Count != 0 || len(s.Bounds) != histBuckets || len(s.Counts) != histBuckets+1 {
		t.Errorf("an unused histogram reads %+v, want empty buckets with bounds", s)
	}
	if fresh.lookupHists.p.Load() != nil {
		t.Error("reading an unused histogram made it")
	}
	c.lookup(7, 3, time.Millisecond, true)
	c.lookup(9, 2, time.Millisecond, false)
	lh := c.lookupHists.peek()
	if lh.rpcs.sum.Load() != 16 || lh.hops.sum.Load() != 5 || lh.latency.snapshot(&latencyBounds, 1).Count != 2 {
		t.Error("lookups were not counted in their histograms")
	}
}

func TestDropAndRefusalCountsAreMadeOnTheFirst(t *testing.T) {
	var c counters
	if c.rare.p.Load() != nil || c.refusedTotal() != 0 {
		t.Fatal("a fresh node holds drop and refusal counts")
	}
	c.drop(DropDecode)
	c.drop(DropDecode)
	c.refuse(msgenc.CodeQuota)
	rare := c.rare.peek()
	if rare.drops[DropDecode].Load() != 2 || rare.refused[msgenc.CodeQuota].Load() != 1 || c.refusedTotal() != 1 {
		t.Errorf("drops %d, refusals %d: want 2 and 1", rare.drops[DropDecode].Load(), c.refusedTotal())
	}
}
