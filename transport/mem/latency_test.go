package mem_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dhtkit/dhtkit/transport/mem"
	ma "github.com/multiformats/go-multiaddr"
)

func TestLatencyDeliversExactlyWhenDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := mem.NewNetwork(mem.Options{Latency: 50 * time.Millisecond})
		defer n.Close()
		eps := listen(t, n, 2)
		a, b := eps[0], eps[1]
		start := time.Now()
		send(t, a, b, "late")

		time.Sleep(50*time.Millisecond - time.Nanosecond)
		synctest.Wait()
		if !inboxEmpty(t, b) {
			t.Fatal("a frame with 50ms latency arrived before 50ms")
		}
		if got := n.Stats().Pending; got != 1 {
			t.Fatalf("Pending = %d before the frame is due, want 1", got)
		}
		p, err := b.Receive(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 50*time.Millisecond {
			t.Fatalf("frame arrived after %v of fake time, want exactly 50ms", got)
		}
		if string(p.Data) != "late" || !p.From.Equal(a.Addr()) {
			t.Fatalf("got %q from %v", p.Data, p.From)
		}
	})
}

func TestLatencyOrdersFramesByDueTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := mem.NewNetwork(mem.Options{Latency: 50 * time.Millisecond})
		defer n.Close()
		eps := listen(t, n, 4)
		slow, mid, fast, dst := eps[0], eps[1], eps[2], eps[3]
		if err := n.SetLink(mid.Addr(), dst.Addr(), mem.LinkConfig{Latency: 30 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		if err := n.SetLink(fast.Addr(), dst.Addr(), mem.LinkConfig{Latency: 10 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		send(t, slow, dst, "slow-1")
		send(t, mid, dst, "mid")
		send(t, slow, dst, "slow-2") // same due time as slow-1: send order kept
		send(t, fast, dst, "fast")
		time.Sleep(5 * time.Millisecond)
		send(t, fast, dst, "fast-later") // sent at 5ms, due at 15ms

		want := []struct {
			data string
			at   time.Duration
		}{
			{"fast", 10 * time.Millisecond},
			{"fast-later", 15 * time.Millisecond},
			{"mid", 30 * time.Millisecond},
			{"slow-1", 50 * time.Millisecond},
			{"slow-2", 50 * time.Millisecond},
		}
		for _, w := range want {
			p, err := dst.Receive(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := time.Since(start); string(p.Data) != w.data || got != w.at {
				t.Fatalf("received %q at %v, want %q at %v", p.Data, got, w.data, w.at)
			}
		}
		if st := n.Stats(); st.Delivered != 5 || st.Pending != 0 {
			t.Fatalf("stats %+v, want 5 delivered, none pending", st)
		}
	})
}

func TestFramesInFlightToACrashedEndpointAreLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := mem.NewNetwork(mem.Options{Latency: 20 * time.Millisecond})
		defer n.Close()
		eps := listen(t, n, 2)
		a, b := eps[0], eps[1]
		send(t, a, b, "in flight")
		if err := n.Crash(b.Addr()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
		if err := n.Restart(b.Addr()); err != nil {
			t.Fatal(err)
		}
		send(t, a, b, "after restart") // due at 30ms
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		// The first frame was due at 20ms, when b was up again: a crash
		// only loses frames that arrive while the endpoint is down.
		if p, ok := poll(t, b); !ok || string(p.Data) != "in flight" {
			t.Fatalf("at 20ms got %q (ok %v), want the in-flight frame", p.Data, ok)
		}
		if err := n.Crash(b.Addr()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		if st := n.Stats(); st.DroppedCrash != 1 || st.Delivered != 1 {
			t.Fatalf("stats %+v, want 1 delivered and 1 lost to the crash", st)
		}
	})
}

func TestNetworkCloseDropsFramesInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := mem.NewNetwork(mem.Options{Latency: time.Second})
		eps := listen(t, n, 2)
		for range 3 {
			send(t, eps[0], eps[1], "never")
		}
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
		if st := n.Stats(); st.DroppedClosed != 3 || st.Pending != 0 || st.Delivered != 0 {
			t.Fatalf("stats %+v, want 3 dropped as closed", st)
		}
		// Nothing fires later: synctest.Test would report a delivery
		// goroutine still running at the end.
		time.Sleep(2 * time.Second)
		if st := n.Stats(); st.Delivered != 0 {
			t.Fatalf("a frame was delivered after Close: %+v", st)
		}
	})
}

func TestStatsAccountForEveryFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := mem.NewNetwork(mem.Options{Seed: 5, Loss: 0.1, QueueLen: 4})
		defer n.Close()
		eps := listen(t, n, 5)
		if err := n.SetLink(eps[0].Addr(), eps[1].Addr(), mem.LinkConfig{Latency: time.Second}); err != nil {
			t.Fatal(err)
		}
		if err := n.Partition([]ma.Multiaddr{eps[4].Addr()}); err != nil {
			t.Fatal(err)
		}
		if err := n.Crash(eps[3].Addr()); err != nil {
			t.Fatal(err)
		}
		for range 50 {
			for _, from := range eps[:3] {
				for _, to := range eps {
					send(t, from, to, "x")
				}
			}
		}
		time.Sleep(500 * time.Millisecond) // the 0 -> 1 frames are halfway
		st := n.Stats()
		sum := func(st mem.Stats) uint64 {
			return st.Delivered + st.Pending + st.DroppedLoss + st.DroppedPartition +
				st.DroppedCrash + st.DroppedQueueFull + st.DroppedClosed
		}
		if st.Sent != 750 || sum(st) != st.Sent {
			t.Fatalf("stats %+v: sent %d, accounted for %d, want 750", st, st.Sent, sum(st))
		}
		for name, c := range map[string]uint64{"Pending": st.Pending, "DroppedLoss": st.DroppedLoss,
			"DroppedPartition": st.DroppedPartition, "DroppedCrash": st.DroppedCrash, "DroppedQueueFull": st.DroppedQueueFull} {
			if c == 0 {
				t.Errorf("%s is 0; the workload should exercise it", name)
			}
		}
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
		if st := n.Stats(); sum(st) != st.Sent || st.Pending != 0 {
			t.Fatalf("after Close, stats %+v do not account for every frame", st)
		}
	})
}
