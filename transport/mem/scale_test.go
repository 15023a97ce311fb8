package mem_test

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/transport/mem"
)

func TestTenThousandEndpointsEachSendOneFrame(t *testing.T) {
	const k = 10000
	n := newNet(t, mem.Options{})
	eps := listen(t, n, k)
	rng := rand.New(rand.NewPCG(1, 2))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Endpoint i sends its index to a random other endpoint.
	incoming := make([]int, k) // frames expected per endpoint
	dst := make([]int, k)
	for i, e := range eps {
		j := rng.IntN(k - 1)
		if j >= i {
			j++
		}
		dst[i] = j
		incoming[j]++
		if err := e.Send(ctx, eps[j].Addr(), binary.BigEndian.AppendUint32(nil, uint32(i))); err != nil {
			t.Fatalf("Send from endpoint %d: %v", i, err)
		}
	}
	for j, e := range eps {
		for range incoming[j] {
			p, err := e.Receive(ctx)
			if err != nil {
				t.Fatalf("endpoint %d expected %d frames: %v", j, incoming[j], err)
			}
			i := int(binary.BigEndian.Uint32(p.Data))
			if dst[i] != j || !p.From.Equal(eps[i].Addr()) {
				t.Fatalf("endpoint %d received endpoint %d's frame (sent to %d) from %v", j, i, dst[i], p.From)
			}
		}
	}
	if st := n.Stats(); st.Sent != k || st.Delivered != k {
		t.Fatalf("stats %+v, want %d sent and delivered", st, k)
	}
	for j, e := range eps {
		if !inboxEmpty(t, e) {
			t.Fatalf("endpoint %d has an unexpected frame", j)
		}
	}
}

// An idle endpoint must stay cheap enough for simulations of many thousands:
// no goroutine, no preallocated inbox or channel. About 160 bytes today; the
// bound leaves room for runtime changes but not for a preallocated inbox.
func TestIdleEndpointsCostUnder400Bytes(t *testing.T) {
	const k = 10000
	goroutines := runtime.NumGoroutine()
	before := heapAlloc()
	n := mem.NewNetwork(mem.Options{})
	defer n.Close()
	eps := listen(t, n, k)
	after := heapAlloc()
	per := (float64(after) - float64(before) - 8*k) / k
	runtime.KeepAlive(eps)
	if per > 400 {
		t.Fatalf("an idle endpoint holds %.0f bytes of heap, want at most 400", per)
	}
	if got := runtime.NumGoroutine(); got > goroutines {
		t.Fatalf("%d endpoints started %d goroutines", k, got-goroutines)
	}
	t.Logf("%.0f bytes per idle endpoint", per)
}
