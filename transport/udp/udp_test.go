package udp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/transport"
	"github.com/dhtkit/dhtkit/transport/udp"
	ma "github.com/multiformats/go-multiaddr"
)

// listen opens a loopback endpoint closed when the test ends.
func listen(t testing.TB, opts udp.Options) *udp.Transport {
	t.Helper()
	tr, err := udp.Listen(ma.StringCast("/ip4/127.0.0.1/udp/0"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// rawSocket opens a raw UDP socket on loopback.
func rawSocket(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// udpAddr returns the net address of a transport.
func udpAddr(t testing.TB, tr *udp.Transport) netip.AddrPort {
	t.Helper()
	ap, err := transport.ToAddrPort(tr.Addrs()[0], transport.UDP)
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

func receive(t *testing.T, tr *udp.Transport) transport.Packet {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := tr.Receive(ctx)
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	return p
}

func TestOversizeDatagramIsDroppedAndCounted(t *testing.T) {
	tr := listen(t, udp.Options{MaxFrameSize: 1000})
	raw := rawSocket(t)
	to := udpAddr(t, tr)
	for _, size := range []int{1001, 5000} {
		if _, err := raw.WriteToUDPAddrPort(make([]byte, size), to); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.WriteToUDPAddrPort([]byte("marker"), to); err != nil {
		t.Fatal(err)
	}
	p := receive(t, tr)
	if string(p.Data) != "marker" {
		t.Fatalf("Receive returned %d bytes, want the 6-byte marker: oversize datagrams must be dropped", len(p.Data))
	}
	if got := tr.Stats().Dropped; got != 2 {
		t.Errorf("Stats().Dropped = %d, want 2", got)
	}
	if p.From.String() != fmt.Sprintf("/ip4/127.0.0.1/udp/%d", raw.LocalAddr().(*net.UDPAddr).Port) {
		t.Errorf("From = %v, want the raw socket's address %v", p.From, raw.LocalAddr())
	}
}

func TestFrameAtTheLimitIsDelivered(t *testing.T) {
	tr := listen(t, udp.Options{MaxFrameSize: 1000})
	raw := rawSocket(t)
	frame := bytes.Repeat([]byte{7}, 1000)
	if _, err := raw.WriteToUDPAddrPort(frame, udpAddr(t, tr)); err != nil {
		t.Fatal(err)
	}
	if p := receive(t, tr); !bytes.Equal(p.Data, frame) {
		t.Fatalf("got %d bytes, want the 1000-byte frame", len(p.Data))
	}
	if tr.Stats().Dropped != 0 {
		t.Errorf("a frame of exactly MaxFrameSize was counted as dropped")
	}
}

func TestSendOverLimitSendsNothing(t *testing.T) {
	a := listen(t, udp.Options{MaxFrameSize: 100})
	b := listen(t, udp.Options{})
	err := a.Send(context.Background(), b.Addrs()[0], make([]byte, 101))
	var tooLarge *transport.FrameTooLargeError
	if !errors.As(err, &tooLarge) || tooLarge.Size != 101 || tooLarge.Max != 100 {
		t.Fatalf("Send of 101 bytes with a limit of 100: %v, want FrameTooLargeError{101, 100}", err)
	}
	if a.Stats().Sent != 0 {
		t.Errorf("Stats().Sent = %d after a rejected Send, want 0", a.Stats().Sent)
	}
}

func TestListenRejectsBadOptionsAndAddresses(t *testing.T) {
	if _, err := udp.Listen(ma.StringCast("/ip4/127.0.0.1/udp/0"), udp.Options{MaxFrameSize: udp.MaxFrameSizeIPv4 + 1}); err == nil {
		t.Error("Listen accepted a MaxFrameSize over the IPv4 datagram limit")
	}
	if _, err := udp.Listen(ma.StringCast("/ip4/127.0.0.1/tcp/0"), udp.Options{}); !errors.Is(err, transport.ErrUnsupportedAddr) {
		t.Errorf("Listen on a TCP address: %v, want ErrUnsupportedAddr", err)
	}
}

func TestCanDialOnlyTheSocketsIPVersion(t *testing.T) {
	tr := listen(t, udp.Options{})
	if tr.CanDial(ma.StringCast("/ip6/::1/udp/4000")) {
		t.Error("an IPv4 socket claims it can dial an IPv6 address")
	}
	if !tr.CanDial(ma.StringCast("/ip4/192.0.2.1/udp/4000")) {
		t.Error("an IPv4 socket cannot dial an IPv4 address")
	}
}

func TestConcurrentReceiversEachGetDistinctFrames(t *testing.T) {
	tr := listen(t, udp.Options{})
	raw := rawSocket(t)
	const n = 50
	got := make(chan string, n)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 4 {
		go func() {
			for {
				p, err := tr.Receive(ctx)
				if err != nil {
					return
				}
				got <- string(p.Data)
			}
		}()
	}
	for i := range n {
		if _, err := raw.WriteToUDPAddrPort(fmt.Appendf(nil, "frame %d", i), udpAddr(t, tr)); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for range n {
		select {
		case s := <-got:
			if seen[s] {
				t.Fatalf("%q received twice", s)
			}
			seen[s] = true
		case <-ctx.Done():
			t.Fatalf("received %d of %d frames", len(seen), n)
		}
	}
}

func ExampleListen() {
	a, err := udp.Listen(ma.StringCast("/ip4/127.0.0.1/udp/0"), udp.Options{})
	if err != nil {
		panic(err)
	}
	defer a.Close()
	b, err := udp.Listen(ma.StringCast("/ip4/127.0.0.1/udp/0"), udp.Options{})
	if err != nil {
		panic(err)
	}
	defer b.Close()

	ctx := context.Background()
	if err := a.Send(ctx, b.Addrs()[0], []byte("ping")); err != nil {
		panic(err)
	}
	p, err := b.Receive(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s from a: %v\n", p.Data, p.From.Equal(a.Addrs()[0]))
	fmt.Println("limit:", a.MaxFrameSize())
	// Output:
	// ping from a: true
	// limit: 65507
}

func TestReceiveWorksAfterCancelledReceives(t *testing.T) {
	tr := listen(t, udp.Options{})
	raw := rawSocket(t)
	for i := range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		_, err := tr.Receive(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("round %d: Receive with an expiring ctx: %v, want DeadlineExceeded", i, err)
		}
		want := fmt.Appendf(nil, "frame %d", i)
		if _, err := raw.WriteToUDPAddrPort(want, udpAddr(t, tr)); err != nil {
			t.Fatal(err)
		}
		// The deadline the cancelled Receive left behind must not end this one.
		if p := receive(t, tr); !bytes.Equal(p.Data, want) {
			t.Fatalf("round %d: got %q, want %q", i, p.Data, want)
		}
	}
}

func TestCtxEndingBetweenReceivesDoesNotDisturbTheNext(t *testing.T) {
	tr := listen(t, udp.Options{})
	raw := rawSocket(t)
	send := func(s string) {
		t.Helper()
		if _, err := raw.WriteToUDPAddrPort([]byte(s), udpAddr(t, tr)); err != nil {
			t.Fatal(err)
		}
	}
	loop, stopLoop := context.WithCancel(context.Background())
	// A receive loop's ctx stays registered between calls...
	for _, s := range []string{"one", "two"} {
		send(s)
		p, err := tr.Receive(loop)
		if err != nil || string(p.Data) != s {
			t.Fatalf("Receive = %q, %v; want %q", p.Data, err, s)
		}
	}
	// ...and ends while no Receive runs.
	stopLoop()
	if _, err := tr.Receive(loop); !errors.Is(err, context.Canceled) {
		t.Fatalf("Receive with the ended ctx: %v, want context.Canceled", err)
	}
	send("three")
	if p := receive(t, tr); string(p.Data) != "three" {
		t.Fatalf("Receive after another ctx ended = %q, want %q", p.Data, "three")
	}
}
