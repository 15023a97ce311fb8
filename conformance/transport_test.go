package conformance_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"sync"
	"syscall"
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/transport"
	"github.com/dhtkit/dhtkit/transport/tcp"
	"github.com/dhtkit/dhtkit/transport/udp"
	ma "github.com/multiformats/go-multiaddr"
)

// transportUDPGroup returns a factory of loopback UDP endpoints, each passed
// through wrap.
func transportUDPGroup(wrap func(*udp.Transport) transport.Transport) func(t *testing.T, n int) []transport.Transport {
	return func(t *testing.T, n int) []transport.Transport {
		out := make([]transport.Transport, n)
		for i := range out {
			tr, err := udp.Listen(ma.StringCast("/ip4/127.0.0.1/udp/0"), udp.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { tr.Close() })
			out[i] = wrap(tr)
		}
		return out
	}
}

// transportUDPRawSend is a TransportOptions.RawSend for UDP: one datagram
// from a socket of its own, whatever its size.
func transportUDPRawSend(t *testing.T, to ma.Multiaddr, frame []byte) error {
	ap, err := transport.ToAddrPort(to, transport.UDP)
	if err != nil {
		return err
	}
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.WriteToUDPAddrPort(frame, ap); err != nil {
		if errors.Is(err, syscall.EMSGSIZE) {
			return fmt.Errorf("%w: %w", transport.ErrFrameTooLarge, err)
		}
		return err
	}
	return nil
}

// transportRulesBroken returns the names of the rules errs reports, sorted.
func transportRulesBroken(errs []error) []string {
	var names []string
	for _, err := range errs {
		var v *conformance.Violation
		if errors.As(err, &v) {
			names = append(names, v.Rule)
		}
	}
	sort.Strings(names)
	return names
}

// transportExpect asserts that errs reports every rule in want and nothing
// outside want and maybe (rules the same fault may also break).
func transportExpect(t *testing.T, errs []error, want []string, maybe ...string) {
	t.Helper()
	t.Logf("rules reported: %v", transportRulesBroken(errs))
	for _, r := range want {
		if !conformance.Broken(errs, r) {
			t.Errorf("rule %q not reported; violations: %v", r, errs)
		}
	}
	for _, r := range transportRulesBroken(errs) {
		if !slices.Contains(want, r) && !slices.Contains(maybe, r) {
			t.Errorf("unexpected violation of %q: %v", r, errs)
		}
	}
}

func TestTransportSuitePassesUDP(t *testing.T) {
	errs := conformance.CheckTransport(t, transportUDPGroup(func(u *udp.Transport) transport.Transport { return u }))
	if len(errs) != 0 {
		t.Errorf("udp breaks the transport rules: %v", errs)
	}
}

func TestTransportSuitePassesTCP(t *testing.T) {
	errs := conformance.CheckTransport(t, func(t *testing.T, n int) []transport.Transport {
		out := make([]transport.Transport, n)
		for i := range out {
			tr, err := tcp.Listen(ma.StringCast("/ip4/127.0.0.1/tcp/0"), tcp.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { tr.Close() })
			out[i] = tr
		}
		return out
	})
	if len(errs) != 0 {
		t.Errorf("tcp breaks the transport rules: %v", errs)
	}
}

// transportTruncating sends at most cut bytes of any frame, silently.
type transportTruncating struct {
	*udp.Transport
	cut int
}

func (b transportTruncating) Send(ctx context.Context, to ma.Multiaddr, frame []byte) error {
	if len(frame) > b.cut {
		frame = frame[:b.cut]
	}
	return b.Transport.Send(ctx, to, frame)
}

func TestTransportSuiteCatchesTruncation(t *testing.T) {
	errs := conformance.CheckTransport(t, transportUDPGroup(func(u *udp.Transport) transport.Transport {
		return transportTruncating{u, 1000}
	}))
	transportExpect(t, errs,
		[]string{"send-receive-frame", "max-size-frame-delivered", "send-does-not-keep-frame", "many-senders-frames-intact", "oversize-send-rejected"},
		"flooded-peer-recovers")
}

// transportUnchecked claims a small limit but sends frames over it.
type transportUnchecked struct{ *udp.Transport }

func (transportUnchecked) MaxFrameSize() int { return 1024 }

func TestTransportSuiteCatchesOversizeSendAccepted(t *testing.T) {
	errs := conformance.CheckTransport(t, transportUDPGroup(func(u *udp.Transport) transport.Transport {
		return transportUnchecked{u}
	}))
	transportExpect(t, errs, []string{"oversize-send-rejected"})
}

// transportDeaf ignores Receive's ctx: only a frame or Close ends it.
type transportDeaf struct{ *udp.Transport }

func (b transportDeaf) Receive(context.Context) (transport.Packet, error) {
	return b.Transport.Receive(context.Background())
}

func TestTransportSuiteCatchesReceiveIgnoringCtx(t *testing.T) {
	errs := conformance.CheckTransport(t, transportUDPGroup(func(u *udp.Transport) transport.Transport {
		return transportDeaf{u}
	}))
	transportExpect(t, errs, []string{"receive-honours-ctx"})
}

// transportForgetful returns nil instead of ErrClosed from Send after Close.
type transportForgetful struct{ *udp.Transport }

func (b transportForgetful) Send(ctx context.Context, to ma.Multiaddr, frame []byte) error {
	if err := b.Transport.Send(ctx, to, frame); !errors.Is(err, transport.ErrClosed) {
		return err
	}
	return nil
}

func TestTransportSuiteCatchesNilAfterClose(t *testing.T) {
	errs := conformance.CheckTransport(t, transportUDPGroup(func(u *udp.Transport) transport.Transport {
		return transportForgetful{u}
	}))
	// A Send begun after Close returns nil in close-during-every-call too.
	transportExpect(t, errs, []string{"use-after-close"}, "close-during-every-call")
}

// transportCloseAlwaysNil returns nil from every Close, the first or not.
type transportCloseAlwaysNil struct{ *udp.Transport }

func (b transportCloseAlwaysNil) Close() error {
	if err := b.Transport.Close(); !errors.Is(err, transport.ErrClosed) {
		return err
	}
	return nil
}

func TestTransportSuiteCatchesASecondCloseReturningNil(t *testing.T) {
	errs := conformance.CheckTransport(t, transportUDPGroup(func(u *udp.Transport) transport.Transport {
		return transportCloseAlwaysNil{u}
	}))
	// Its two concurrent Closes in close-during-every-call both return nil.
	transportExpect(t, errs, []string{"close-once", "close-during-every-call"})
}

// transportMisaddressed reports its own address as every frame's sender,
// so replies go astray.
type transportMisaddressed struct{ *udp.Transport }

func (b transportMisaddressed) Receive(ctx context.Context) (transport.Packet, error) {
	p, err := b.Transport.Receive(ctx)
	if err == nil {
		p.From = b.Addrs()[0]
	}
	return p, err
}

func TestTransportSuiteCatchesWrongFrom(t *testing.T) {
	errs := conformance.CheckTransport(t, transportUDPGroup(func(u *udp.Transport) transport.Transport {
		return transportMisaddressed{u}
	}))
	transportExpect(t, errs, []string{"reply-to-from-reaches-sender"})
}

// transportAliasing hands out one buffer for every Receive.
type transportAliasing struct {
	*udp.Transport
	mu  *sync.Mutex
	buf []byte
}

func (b *transportAliasing) Receive(ctx context.Context) (transport.Packet, error) {
	p, err := b.Transport.Receive(ctx)
	if err != nil {
		return p, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	p.Data = append(b.buf[:0], p.Data...)
	b.buf = p.Data
	return p, nil
}

func TestTransportSuiteCatchesAliasedReceiveBuffer(t *testing.T) {
	if transportRaceEnabled {
		// The fault is a data race by nature: the buffer is rewritten while
		// the suite reads an earlier frame.
		t.Skip("an aliasing transport races by design; run without -race")
	}
	errs := conformance.CheckTransport(t, transportUDPGroup(func(u *udp.Transport) transport.Transport {
		return &transportAliasing{Transport: u, mu: new(sync.Mutex), buf: make([]byte, 0, u.MaxFrameSize())}
	}))
	transportExpect(t, errs, []string{"returned-data-is-owned"},
		// Frames that arrive while the suite reads an earlier one overwrite it.
		"many-senders-frames-intact", "send-receive-frame", "reply-to-from-reaches-sender", "max-size-frame-delivered", "oversize-send-rejected", "send-does-not-keep-frame", "silent-peer-does-not-block",
		"flooded-peer-recovers", "close-during-every-call", "send-to-closed-endpoint", "receive-ignores-other-ctx")
}
