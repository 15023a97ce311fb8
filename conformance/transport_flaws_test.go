package conformance_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/transport"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/dhtkit/dhtkit/transport/udp"
)

// More broken transports, one for each rule transport_test.go's do not
// break: udp.Transport with one flaw each.

// transportBackPressure stops sending to a peer that has been sent many
// frames, until Close: a queue per peer that blocks when full and ignores
// the caller's context.
type transportBackPressure struct {
	*udp.Transport
	mu     *sync.Mutex
	sent   map[string]int
	closed chan struct{}
	once   *sync.Once
}

func (b transportBackPressure) Send(ctx context.Context, to ma.Multiaddr, frame []byte) error {
	b.mu.Lock()
	b.sent[to.String()]++
	full := b.sent[to.String()] > 256
	b.mu.Unlock()
	if full {
		<-b.closed
		return transport.ErrClosed
	}
	return b.Transport.Send(ctx, to, frame)
}

func (b transportBackPressure) Close() error {
	b.once.Do(func() { close(b.closed) })
	return b.Transport.Close()
}

func TestTransportSuiteCatchesSendBlockedBySilentPeer(t *testing.T) {
	errs := conformance.CheckTransport(t, transportUDPGroup(func(u *udp.Transport) transport.Transport {
		return transportBackPressure{Transport: u, mu: new(sync.Mutex), sent: map[string]int{}, closed: make(chan struct{}), once: new(sync.Once)}
	}))
	transportExpect(t, errs, []string{"silent-peer-does-not-block"}, "many-senders-frames-intact", "flooded-peer-recovers")
}

// transportDialsAnything claims it can reach every address.
type transportDialsAnything struct{ *udp.Transport }

func (transportDialsAnything) CanDial(ma.Multiaddr) bool { return true }

func TestTransportSuiteCatchesCanDialClaimingEverything(t *testing.T) {
	errs := conformance.CheckTransport(t, transportUDPGroup(func(u *udp.Transport) transport.Transport {
		return transportDialsAnything{u}
	}))
	transportExpect(t, errs, []string{"addrs-dialable"})
}

// transportUnreachableForUnsupported reports an address of another
// protocol as unreachable, not unsupported.
type transportUnreachableForUnsupported struct{ *udp.Transport }

func (b transportUnreachableForUnsupported) Send(ctx context.Context, to ma.Multiaddr, frame []byte) error {
	err := b.Transport.Send(ctx, to, frame)
	if errors.Is(err, transport.ErrUnsupportedAddr) {
		return transport.ErrUnreachable
	}
	return err
}

func TestTransportSuiteCatchesWrongErrorForUnsupportedAddress(t *testing.T) {
	errs := conformance.CheckTransport(t, transportUDPGroup(func(u *udp.Transport) transport.Transport {
		return transportUnreachableForUnsupported{u}
	}))
	transportExpect(t, errs, []string{"unsupported-address"})
}

// transportSharedAddrs returns the same slice from every Addrs.
type transportSharedAddrs struct {
	*udp.Transport
	addrs []ma.Multiaddr
}

func (b transportSharedAddrs) Addrs() []ma.Multiaddr { return b.addrs }

func TestTransportSuiteCatchesSharedAddrs(t *testing.T) {
	errs := conformance.CheckTransport(t, transportUDPGroup(func(u *udp.Transport) transport.Transport {
		return transportSharedAddrs{u, u.Addrs()}
	}))
	transportExpect(t, errs, []string{"addrs-returns-copy"})
}

// Every transport rule is broken by some broken transport above or in
// transport_test.go.
func TestEveryTransportRuleHasABrokenTransport(t *testing.T) {
	everyRuleBroken(t, "transport",
		[]string{"send-receive-frame", "max-size-frame-delivered", "send-does-not-keep-frame", "many-senders-frames-intact", "oversize-send-rejected"},
		[]string{"receive-honours-ctx", "use-after-close", "close-once", "reply-to-from-reaches-sender", "returned-data-is-owned"},
		[]string{"silent-peer-does-not-block", "addrs-dialable", "unsupported-address", "addrs-returns-copy"},
		[]string{"close-during-every-call", "oversize-received-dropped", "flooded-peer-recovers", "send-to-closed-endpoint", "receive-ignores-other-ctx"})
}

// transportSendStuckByClose models a Send that waits a little for room in
// a queue, a wait which Close never wakes: a Send under way when Close
// begins returns only when its ctx ends. A Send begun after Close returns
// ErrClosed at once.
type transportSendStuckByClose struct {
	*udp.Transport
	closing chan struct{}
	once    *sync.Once
}

func (b transportSendStuckByClose) Send(ctx context.Context, to ma.Multiaddr, frame []byte) error {
	select {
	case <-b.closing:
		return transport.ErrClosed
	default:
	}
	wait := time.NewTimer(time.Millisecond)
	defer wait.Stop()
	select {
	case <-wait.C:
	case <-b.closing:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-b.closing: // Close began while this Send waited
		<-ctx.Done()
		return ctx.Err()
	default:
		return b.Transport.Send(ctx, to, frame)
	}
}

func (b transportSendStuckByClose) Close() error {
	b.once.Do(func() { close(b.closing) })
	return b.Transport.Close()
}

func TestTransportSuiteCatchesSendStuckByClose(t *testing.T) {
	errs := conformance.CheckTransport(t, transportUDPGroup(func(u *udp.Transport) transport.Transport {
		return transportSendStuckByClose{Transport: u, closing: make(chan struct{}), once: new(sync.Once)}
	}))
	// Its slow Sends make a flood outlast the rule's patience.
	transportExpect(t, errs, []string{"close-during-every-call"}, "flooded-peer-recovers")
}

// transportAddrsGoneAfterClose drops its address at Close, and Addrs then
// dereferences nothing.
type transportAddrsGoneAfterClose struct {
	*udp.Transport
	addr *atomic.Pointer[ma.Multiaddr]
}

func (b transportAddrsGoneAfterClose) Addrs() []ma.Multiaddr {
	return []ma.Multiaddr{append(ma.Multiaddr(nil), *b.addr.Load()...)}
}

func (b transportAddrsGoneAfterClose) Close() error {
	b.addr.Store(nil)
	return b.Transport.Close()
}

func TestTransportSuiteCatchesAddrsPanickingAfterClose(t *testing.T) {
	errs := conformance.CheckTransport(t, transportUDPGroup(func(u *udp.Transport) transport.Transport {
		b := transportAddrsGoneAfterClose{Transport: u, addr: new(atomic.Pointer[ma.Multiaddr])}
		b.addr.Store(&u.Addrs()[0])
		return b
	}))
	transportExpect(t, errs, []string{"close-during-every-call"})
}

// transportReceivesOneMore refuses frames over its limit on Send but reads
// datagrams into a buffer one byte larger, so it returns a frame of
// MaxFrameSize+1 that arrives from the wire.
type transportReceivesOneMore struct {
	*udp.Transport
	max int
}

func (b transportReceivesOneMore) MaxFrameSize() int { return b.max }

func (b transportReceivesOneMore) Send(ctx context.Context, to ma.Multiaddr, frame []byte) error {
	if len(frame) > b.max {
		return &transport.FrameTooLargeError{Size: len(frame), Max: b.max}
	}
	return b.Transport.Send(ctx, to, frame)
}

func TestTransportSuiteCatchesOversizeFrameReturnedOnReceipt(t *testing.T) {
	const max = 1200
	group := func(t *testing.T, n int) []transport.Transport {
		out := make([]transport.Transport, n)
		for i := range out {
			u, err := udp.Listen(ma.StringCast("/ip4/127.0.0.1/udp/0"), udp.Options{MaxFrameSize: max + 1})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { u.Close() })
			out[i] = transportReceivesOneMore{u, max}
		}
		return out
	}
	errs := conformance.CheckTransport(t, group, conformance.TransportOptions{RawSend: transportUDPRawSend})
	transportExpect(t, errs, []string{"oversize-received-dropped"})
}

// With RawSend, udp passes every rule at its own limit and at a lower one,
// where a datagram one byte over the limit can be put on the wire.
func TestTransportSuitePassesUDPWithRawSendAtTwoLimits(t *testing.T) {
	for _, max := range []int{0, 1200} {
		group := func(t *testing.T, n int) []transport.Transport {
			out := make([]transport.Transport, n)
			for i := range out {
				u, err := udp.Listen(ma.StringCast("/ip4/127.0.0.1/udp/0"), udp.Options{MaxFrameSize: max})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { u.Close() })
				out[i] = u
			}
			return out
		}
		if errs := conformance.CheckTransport(t, group, conformance.TransportOptions{RawSend: transportUDPRawSend}); len(errs) != 0 {
			t.Errorf("udp with MaxFrameSize %d and RawSend breaks the transport rules: %v", max, errs)
		}
	}
}

// transportStarvedAfterFlood loses count of the frames it dropped: once
// more than 1024 frames went to one address, every later frame to it is
// dropped, silently, as a queue whose drops were never taken off its
// count would.
type transportStarvedAfterFlood struct {
	*udp.Transport
	mu   *sync.Mutex
	sent map[string]int
}

func (b transportStarvedAfterFlood) Send(ctx context.Context, to ma.Multiaddr, frame []byte) error {
	b.mu.Lock()
	b.sent[to.String()]++
	full := b.sent[to.String()] > 1024
	b.mu.Unlock()
	if full {
		return nil
	}
	return b.Transport.Send(ctx, to, frame)
}

func TestTransportSuiteCatchesPeerStarvedAfterAFlood(t *testing.T) {
	errs := conformance.CheckTransport(t, transportUDPGroup(func(u *udp.Transport) transport.Transport {
		return transportStarvedAfterFlood{Transport: u, mu: new(sync.Mutex), sent: map[string]int{}}
	}))
	transportExpect(t, errs, []string{"flooded-peer-recovers"})
}

// transportUnreachableUnwrapped reports a closed destination with an error
// that has lost its cause: %v where %w belongs.
type transportUnreachableUnwrapped struct{ *mem.Endpoint }

func (b transportUnreachableUnwrapped) Send(ctx context.Context, to ma.Multiaddr, frame []byte) error {
	err := b.Endpoint.Send(ctx, to, frame)
	if errors.Is(err, transport.ErrUnreachable) {
		return fmt.Errorf("send to %v: %v", to, err)
	}
	return err
}

func TestTransportSuiteCatchesUnreachableWithoutItsCause(t *testing.T) {
	errs := conformance.CheckTransport(t, func(t *testing.T, n int) []transport.Transport {
		net := mem.NewNetwork(mem.Options{})
		t.Cleanup(func() { net.Close() })
		out := make([]transport.Transport, n)
		for i := range out {
			e, err := net.Listen(nil)
			if err != nil {
				t.Fatal(err)
			}
			out[i] = transportUnreachableUnwrapped{e}
		}
		return out
	})
	transportExpect(t, errs, []string{"send-to-closed-endpoint"})
}

// transportStaleInterrupt arms the interrupt of a waiting Receive on the
// first ctx any Receive was given, not on its own: when that ctx ends, a
// later Receive fails with its error.
type transportStaleInterrupt struct {
	*udp.Transport
	mu    *sync.Mutex
	armed *context.Context
}

func (b transportStaleInterrupt) Receive(ctx context.Context) (transport.Packet, error) {
	b.mu.Lock()
	if *b.armed == nil && ctx.Done() != nil {
		*b.armed = ctx
	}
	armed := *b.armed
	b.mu.Unlock()
	if armed == nil {
		return b.Transport.Receive(ctx)
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(armed, cancel)
	defer stop()
	p, err := b.Transport.Receive(rctx)
	if err != nil && ctx.Err() == nil && rctx.Err() != nil {
		return p, armed.Err()
	}
	return p, err
}

func TestTransportSuiteCatchesReceiveEndedByAnotherCtx(t *testing.T) {
	errs := conformance.CheckTransport(t, transportUDPGroup(func(u *udp.Transport) transport.Transport {
		return transportStaleInterrupt{Transport: u, mu: new(sync.Mutex), armed: new(context.Context)}
	}))
	// receive-honours-ctx starts with a cancelled ctx, which then ends
	// every later Receive too.
	transportExpect(t, errs, []string{"receive-ignores-other-ctx"}, "receive-honours-ctx")
}
