package linkemu

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// chanPort is an in-memory port: frames pushed to in are read; frames
// written are kept.
type chanPort struct {
	in      chan []byte
	mu      sync.Mutex
	written [][]byte
	closed  chan struct{}
	once    sync.Once
}

func newChanPort() *chanPort {
	return &chanPort{in: make(chan []byte, 16), closed: make(chan struct{})}
}

func (p *chanPort) ReadFrame(buf []byte) (int, error) {
	select {
	case f := <-p.in:
		return copy(buf, f), nil
	case <-p.closed:
		return 0, errors.New("closed")
	}
}

func (p *chanPort) WriteFrame(f []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.written = append(p.written, append([]byte(nil), f...))
	return nil
}

func (p *chanPort) Close() error { p.once.Do(func() { close(p.closed) }); return nil }

func (p *chanPort) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.written)
}

// frame returns an Ethernet frame from src to dst (one-byte addresses).
func frame(dst, src byte) []byte {
	f := make([]byte, 60)
	f[5], f[11] = dst, src
	return f
}

var broadcast = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// newTestSwitch returns a switch over n chanPorts whose delays are
// recorded and applied at once.
func newTestSwitch(t *testing.T, n int, link Link) (*Switch, []*chanPort, *[]time.Duration) {
	t.Helper()
	ports := make([]*chanPort, n)
	as := make([]Port, n)
	for i := range ports {
		ports[i] = newChanPort()
		as[i] = ports[i]
	}
	var delays []time.Duration
	s, err := New(as, Options{Link: link, Seed: 7, After: func(d time.Duration, f func()) {
		delays = append(delays, d)
		f()
	}})
	require.NoError(t, err)
	return s, ports, &delays
}

func TestFramesGoWhereTheirDestinationWasSeenAndFloodOtherwise(t *testing.T) {
	s, ports, _ := newTestSwitch(t, 3, Link{})
	s.Handle(0, frame(2, 1)) // 2 unknown: flooded to 1 and 2
	require.Equal(t, []int{0, 1, 1}, counts(ports))
	s.Handle(2, frame(1, 2)) // 1 was seen on port 0
	require.Equal(t, []int{1, 1, 1}, counts(ports))
	b := frame(0, 2)
	copy(b, broadcast)
	s.Handle(2, b) // a broadcast goes everywhere but back
	require.Equal(t, []int{2, 2, 1}, counts(ports))
	require.Equal(t, uint64(2), s.Stats().Flooded)
}

func TestLossAndDelayFollowTheLink(t *testing.T) {
	link := Link{Delay: 20 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 0.1}
	s, ports, delays := newTestSwitch(t, 2, link)
	s.Handle(1, frame(1, 2)) // teach the switch where 2 is
	const sent = 10000
	for range sent {
		s.Handle(0, frame(2, 1))
	}
	got := ports[1].count()
	require.InDelta(t, sent*0.9, got, sent*0.02, "about 10%% lost")
	st := s.Stats()
	require.Equal(t, st.Received, st.Delivered+st.Lost, "every frame delivered or lost")
	var below, above bool
	for _, d := range *delays {
		require.GreaterOrEqual(t, d, link.Delay-link.Jitter)
		require.LessOrEqual(t, d, link.Delay+link.Jitter)
		below = below || d < link.Delay-link.Jitter/2
		above = above || d > link.Delay+link.Jitter/2
	}
	require.True(t, below && above, "delays spread over the jitter")
}

func TestAPartitionCutsBetweenGroupsUntilHealed(t *testing.T) {
	s, ports, _ := newTestSwitch(t, 4, Link{})
	require.NoError(t, s.Partition([]int{0, 1}, []int{2, 3}))
	b := frame(0, 1)
	copy(b, broadcast)
	s.Handle(0, b)
	require.Equal(t, []int{0, 1, 0, 0}, counts(ports), "the other group hears nothing")
	require.Equal(t, uint64(2), s.Stats().Cut)
	s.Heal()
	s.Handle(0, b)
	require.Equal(t, []int{0, 2, 1, 1}, counts(ports))
	require.Error(t, s.Partition([]int{0, 1}, []int{1}), "a port in two groups")
	require.Error(t, s.Partition([]int{4}), "no such port")
}

func TestRunMovesFramesUntilClose(t *testing.T) {
	a, b := newChanPort(), newChanPort()
	s, err := New([]Port{a, b}, Options{})
	require.NoError(t, err)
	s.Run()
	a.in <- frame(2, 1)
	deadline := time.After(10 * time.Second)
	for b.count() == 0 {
		select {
		case <-deadline:
			t.Fatal("frame not moved")
		case <-time.After(time.Millisecond):
		}
	}
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close twice")
}

func TestBadLinksAreRefused(t *testing.T) {
	ports := []Port{newChanPort(), newChanPort()}
	for _, l := range []Link{{Delay: -1}, {Delay: time.Millisecond, Jitter: 2 * time.Millisecond}, {Loss: 1.5}} {
		_, err := New(ports, Options{Link: l})
		require.Error(t, err, "%+v", l)
	}
	_, err := New(ports[:1], Options{})
	require.Error(t, err, "one port")
}

func TestFillChecksumCompletesAnOffloadedUDPChecksum(t *testing.T) {
	// An IPv4 UDP datagram 10.0.0.1:1000 → 10.0.0.2:2000, payload "hi",
	// as a veth hands it over: the checksum field holds the pseudo-header
	// sum (not complemented).
	f := []byte{
		0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x08, 0x00, // Ethernet
		0x45, 0, 0, 30, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, // IPv4
		0x03, 0xe8, 0x07, 0xd0, 0, 10, 0, 0, 'h', 'i', // UDP
	}
	// pseudo-header: 10.0.0.1 + 10.0.0.2 + proto 17 + length 10
	pseudo := uint32(0x0a00+0x0001+0x0a00+0x0002) + 17 + 10
	f[40], f[41] = byte(pseudo>>8), byte(pseudo)
	require.True(t, fillChecksum(f, 34, 6))
	// The one's-complement sum over pseudo-header and datagram, with the
	// checksum in place, is 0xffff.
	sum := uint32(0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + 10)
	for i := 34; i < len(f); i += 2 {
		sum += uint32(f[i])<<8 | uint32(f[i+1])
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	require.Equal(t, uint32(0xffff), sum)
	require.False(t, fillChecksum(f[:36], 34, 6), "too short")
}

func counts(ports []*chanPort) []int {
	out := make([]int, len(ports))
	for i, p := range ports {
		out[i] = p.count()
	}
	return out
}
