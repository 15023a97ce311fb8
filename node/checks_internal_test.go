package node

import (
	"sync"
	"testing"
	"unsafe"
)

// TestCheckCountsCountEveryCheck checks that checks counted from many
// goroutines at once, the first ones racing to make the counters, are
// all counted, each under its own reason.
func TestCheckCountsCountEveryCheck(t *testing.T) {
	var c checkCounts
	if got := c.load(checkSender); got != 0 {
		t.Fatalf("load before any check = %d, want 0", got)
	}
	const workers, each = 8, 100
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range each {
				c.add(checkReason(w % int(numCheckReasons)))
			}
		})
	}
	wg.Wait()
	var total uint64
	for r := range numCheckReasons {
		want := uint64(0)
		for w := range workers {
			if checkReason(w%int(numCheckReasons)) == r {
				want += each
			}
		}
		if got := c.load(r); got != want {
			t.Errorf("load(%s) = %d, want %d", r, got, want)
		}
		total += c.load(r)
	}
	if total != workers*each {
		t.Errorf("checks counted = %d, want %d", total, workers*each)
	}
}

// TestNodeSizeClass keeps a Node, which every idle node pays for, within
// the 1536-byte allocation size class: the next one up is 1792 bytes.
func TestNodeSizeClass(t *testing.T) {
	if size := unsafe.Sizeof(Node{}); size > 1536 {
		t.Errorf("a Node is %d bytes, over the 1536-byte size class", size)
	}
}
