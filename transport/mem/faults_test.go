package mem_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/dhtkit/dhtkit/transport"
	"github.com/dhtkit/dhtkit/transport/mem"
	ma "github.com/multiformats/go-multiaddr"
)

// lossPattern sends frames one at a time over a lossy link and returns
// which arrived.
func lossPattern(t *testing.T, seed uint64, frames int, loss float64) []bool {
	t.Helper()
	n := newNet(t, mem.Options{Seed: seed, Loss: loss, QueueLen: 1})
	eps := listen(t, n, 2)
	a, b, to := eps[0], eps[1], eps[1].Addr()
	ctx := context.Background()
	polled, cancel := context.WithCancel(ctx)
	cancel()
	got := make([]bool, frames)
	for i := range got {
		if err := a.Send(ctx, to, []byte("x")); err != nil {
			t.Fatal(err)
		}
		_, err := b.Receive(polled) // returns at once: the frame is there or lost
		got[i] = err == nil
	}
	st := n.Stats()
	if st.Sent != uint64(frames) || st.Delivered+st.DroppedLoss != st.Sent {
		t.Fatalf("stats %+v do not add up for %d frames", st, frames)
	}
	return got
}

func countTrue(bs []bool) int {
	c := 0
	for _, b := range bs {
		if b {
			c++
		}
	}
	return c
}

func TestLossIsSeededAndNearTheConfiguredRate(t *testing.T) {
	const frames, loss = 10000, 0.3
	first := lossPattern(t, 42, frames, loss)
	second := lossPattern(t, 42, frames, loss)
	for i := range first {
		if first[i] != second[i] {
			t.Fatalf("seed 42 lost different frames in two runs, first difference at frame %d", i)
		}
	}
	lost := frames - countTrue(first)
	// 4 standard deviations of a binomial: a correct generator fails this
	// about once in 15,000 seeds, and this seed is fixed.
	sd := math.Sqrt(frames * loss * (1 - loss))
	if want := frames * loss; math.Abs(float64(lost)-want) > 4*sd {
		t.Fatalf("lost %d of %d frames at loss %.2f, want %.0f ± %.0f", lost, frames, loss, want, 4*sd)
	}
	other := lossPattern(t, 43, frames, loss)
	same := 0
	for i := range first {
		if first[i] == other[i] {
			same++
		}
	}
	if same == frames {
		t.Fatal("seeds 42 and 43 lost exactly the same frames: the seed is ignored")
	}
}

func TestLossExtremes(t *testing.T) {
	if got := countTrue(lossPattern(t, 1, 1000, 1)); got != 0 {
		t.Fatalf("loss 1 delivered %d of 1000 frames", got)
	}
	if got := countTrue(lossPattern(t, 1, 1000, 0)); got != 1000 {
		t.Fatalf("loss 0 delivered %d of 1000 frames", got)
	}
}

func TestSetLinkOverridesOneDirectionOnly(t *testing.T) {
	n := newNet(t, mem.Options{})
	eps := listen(t, n, 2)
	a, b := eps[0], eps[1]
	if err := n.SetLink(a.Addr(), b.Addr(), mem.LinkConfig{Loss: 1}); err != nil {
		t.Fatal(err)
	}
	send(t, a, b, "lost")
	if !inboxEmpty(t, b) {
		t.Fatal("a frame crossed a link with loss 1")
	}
	send(t, b, a, "back")
	if p := receive(t, a); string(p.Data) != "back" {
		t.Fatalf("reverse link delivered %q", p.Data)
	}
	if err := n.ResetLink(a.Addr(), b.Addr()); err != nil {
		t.Fatal(err)
	}
	send(t, a, b, "again")
	if p := receive(t, b); string(p.Data) != "again" {
		t.Fatalf("after ResetLink got %q", p.Data)
	}
	if err := n.SetLink(a.Addr(), b.Addr(), mem.LinkConfig{Loss: 1.5}); !errors.Is(err, mem.ErrBadOptions) {
		t.Fatalf("SetLink with loss 1.5 returned %v, want ErrBadOptions", err)
	}
	if err := n.SetLink(ma.StringCast("/ip4/1.2.3.4/udp/1"), b.Addr(), mem.LinkConfig{}); !errors.Is(err, mem.ErrBadAddr) {
		t.Fatalf("SetLink from a udp address returned %v, want ErrBadAddr", err)
	}
}

// reaches reports whether a frame from one endpoint arrives at another.
func reaches(t *testing.T, from, to *mem.Endpoint) bool {
	t.Helper()
	send(t, from, to, "probe")
	return !inboxEmpty(t, to)
}

func TestPartitionBlocksBothWaysAndHealRestores(t *testing.T) {
	n := newNet(t, mem.Options{})
	eps := listen(t, n, 4)
	a, b, c, d := eps[0], eps[1], eps[2], eps[3] // d is in no group
	if err := n.Partition([]ma.Multiaddr{a.Addr(), b.Addr()}, []ma.Multiaddr{c.Addr()}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from, to *mem.Endpoint
		want     bool
	}{
		{a, b, true}, {b, a, true},
		{a, c, false}, {c, a, false},
		{b, c, false}, {c, b, false},
		{a, d, false}, {d, a, false},
		{c, d, false}, {d, c, false},
		{d, d, true},
	} {
		if got := reaches(t, tc.from, tc.to); got != tc.want {
			t.Errorf("partitioned: %s -> %s delivered %v, want %v", tc.from.Addr(), tc.to.Addr(), got, tc.want)
		}
	}
	if got := n.Stats().DroppedPartition; got != 8 {
		t.Errorf("DroppedPartition = %d, want 8", got)
	}
	n.Heal()
	for _, from := range eps {
		for _, to := range eps {
			if !reaches(t, from, to) {
				t.Errorf("healed: %s -> %s lost a frame", from.Addr(), to.Addr())
			}
		}
	}
	if err := n.Partition([]ma.Multiaddr{a.Addr()}, []ma.Multiaddr{a.Addr()}); !errors.Is(err, mem.ErrBadOptions) {
		t.Fatalf("Partition with an address in two groups returned %v, want ErrBadOptions", err)
	}
}

func TestCrashSilencesEndpointAndRestartRecoversIt(t *testing.T) {
	n := newNet(t, mem.Options{})
	eps := listen(t, n, 2)
	a, b := eps[0], eps[1]
	send(t, a, b, "unread before crash")
	if err := n.Crash(b.Addr()); err != nil {
		t.Fatal(err)
	}
	send(t, a, b, "to a crashed peer") // nil: a crashed host is silent
	if !inboxEmpty(t, b) {
		t.Fatal("a crashed endpoint received a frame")
	}
	if err := b.Send(context.Background(), a.Addr(), []byte("x")); !errors.Is(err, mem.ErrCrashed) {
		t.Fatalf("Send from a crashed endpoint returned %v, want ErrCrashed", err)
	}
	st := n.Stats()
	if st.DroppedCrash != 1 || st.Discarded != 1 {
		t.Fatalf("after crash: DroppedCrash %d, Discarded %d, want 1 and 1", st.DroppedCrash, st.Discarded)
	}

	if err := n.Restart(b.Addr()); err != nil {
		t.Fatal(err)
	}
	send(t, a, b, "after restart")
	if p := receive(t, b); string(p.Data) != "after restart" {
		t.Fatalf("after restart received %q", p.Data)
	}
	send(t, b, a, "reply")
	if p := receive(t, a); string(p.Data) != "reply" || !p.From.Equal(b.Addr()) {
		t.Fatalf("after restart a received %q from %v", p.Data, p.From)
	}

	if err := n.Crash(mem.Addr(999)); !errors.Is(err, mem.ErrNoEndpoint) {
		t.Fatalf("Crash of an unused address returned %v, want ErrNoEndpoint", err)
	}
}

func TestSendToUnusedAddressIsUnreachable(t *testing.T) {
	n := newNet(t, mem.Options{})
	a := listen(t, n, 1)[0]
	err := a.Send(context.Background(), mem.Addr(12345), []byte("x"))
	if !errors.Is(err, transport.ErrUnreachable) {
		t.Fatalf("Send to /memory/12345 returned %v, want ErrUnreachable", err)
	}
	if st := n.Stats(); st.Unreachable != 1 || st.Sent != 0 {
		t.Fatalf("stats %+v, want Unreachable 1, Sent 0", st)
	}
}

func TestListenAllocatesInOrderAndRejectsTakenAddresses(t *testing.T) {
	n := newNet(t, mem.Options{})
	fixed, err := n.Listen(mem.Addr(2))
	if err != nil {
		t.Fatal(err)
	}
	eps := listen(t, n, 2)
	for i, want := range []string{"/memory/1", "/memory/3"} {
		if got := eps[i].Addr().String(); got != want {
			t.Errorf("automatic address %d = %s, want %s", i, got, want)
		}
	}
	if _, err := n.Listen(mem.Addr(2)); !errors.Is(err, mem.ErrAddrInUse) {
		t.Fatalf("Listen on a taken address returned %v, want ErrAddrInUse", err)
	}
	if _, err := n.Listen(ma.StringCast("/ip4/127.0.0.1/udp/1")); !errors.Is(err, mem.ErrBadAddr) {
		t.Fatalf("Listen on a udp address returned %v, want ErrBadAddr", err)
	}
	if err := fixed.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := n.Listen(mem.Addr(2))
	if err != nil {
		t.Fatalf("Listen on a closed endpoint's address: %v", err)
	}
	send(t, eps[0], again, "new owner")
	if p := receive(t, again); string(p.Data) != "new owner" {
		t.Fatalf("got %q", p.Data)
	}
}

func TestNetworkCloseClosesEverything(t *testing.T) {
	n := mem.NewNetwork(mem.Options{})
	eps := listen(t, n, 3)
	send(t, eps[0], eps[1], "unread")
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	for _, e := range eps {
		if _, err := e.Receive(context.Background()); !errors.Is(err, transport.ErrClosed) {
			t.Errorf("Receive after network Close returned %v, want ErrClosed", err)
		}
		if err := e.Close(); !errors.Is(err, transport.ErrClosed) {
			t.Errorf("endpoint Close after network Close returned %v, want ErrClosed", err)
		}
	}
	if _, err := n.Listen(nil); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Listen after Close returned %v, want ErrClosed", err)
	}
	if err := n.Close(); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("second network Close returned %v, want ErrClosed", err)
	}
	if got := n.Stats().Discarded; got != 1 {
		t.Errorf("Discarded = %d, want 1", got)
	}
}

func TestOptionsOutOfRangeAreClamped(t *testing.T) {
	for _, o := range []mem.Options{
		{Loss: math.NaN()}, {Loss: -1}, {Latency: -1, QueueLen: -3, MaxFrameSize: -1},
	} {
		t.Run(fmt.Sprintf("%+v", o), func(t *testing.T) {
			n := newNet(t, o)
			eps := listen(t, n, 2)
			if got := eps[0].MaxFrameSize(); got != mem.DefaultMaxFrameSize {
				t.Fatalf("MaxFrameSize = %d, want the default", got)
			}
			send(t, eps[0], eps[1], "through")
			if p := receive(t, eps[1]); string(p.Data) != "through" {
				t.Fatalf("got %q", p.Data)
			}
		})
	}
}
