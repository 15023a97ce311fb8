package conformance_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/transport"
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
	transportExpect(t, errs, []string{"silent-peer-does-not-block"}, "many-senders-frames-intact")
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
		[]string{"silent-peer-does-not-block", "addrs-dialable", "unsupported-address", "addrs-returns-copy"})
}
