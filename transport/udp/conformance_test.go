package udp_test

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/transport"
	"github.com/dhtkit/dhtkit/transport/udp"
	ma "github.com/multiformats/go-multiaddr"
)

// This file holds only the conformance suite's runs and what they need:
// conformance/mutation/run.sh keeps it, alone, to mutation-test udp.

// conformanceGroup returns a factory of endpoints listening on addr with
// opts.
func conformanceGroup(addr string, opts udp.Options) func(t *testing.T, n int) []transport.Transport {
	return func(t *testing.T, n int) []transport.Transport {
		out := make([]transport.Transport, n)
		for i := range out {
			tr, err := udp.Listen(ma.StringCast(addr), opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { tr.Close() })
			out[i] = tr
		}
		return out
	}
}

// rawSend puts frame on the wire as one datagram from a socket of its own,
// whatever its size: the suite's way past Send's limit.
func rawSend(t *testing.T, to ma.Multiaddr, frame []byte) error {
	ap, err := transport.ToAddrPort(to, transport.UDP)
	if err != nil {
		return err
	}
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: ap.Addr().AsSlice()})
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.WriteToUDPAddrPort(frame, ap); err != nil {
		if errors.Is(err, syscall.EMSGSIZE) {
			// Over 65507 bytes (IPv4) or 65527 (IPv6): no datagram carries it.
			return fmt.Errorf("%w: %w", transport.ErrFrameTooLarge, err)
		}
		return err
	}
	return nil
}

var withRawSend = conformance.TransportOptions{RawSend: rawSend}

// The limit of one datagram over IPv4, given as 0: a frame one byte over it
// cannot be put on the wire, so oversize-received-dropped checks only that
// a frame at the limit arrives.
func TestTransportConformance(t *testing.T) {
	conformance.TestTransport(t, conformanceGroup("/ip4/127.0.0.1/udp/0", udp.Options{}), withRawSend)
}

// The same limit given explicitly, which Listen accepts.
func TestTransportConformanceExplicitLimit(t *testing.T) {
	conformance.TestTransport(t, conformanceGroup("/ip4/127.0.0.1/udp/0", udp.Options{MaxFrameSize: udp.MaxFrameSizeIPv4}), withRawSend)
}

// A lower limit, where a datagram one byte over it does reach the socket
// and must be dropped on receipt; small socket buffers too.
func TestTransportConformanceLowLimit(t *testing.T) {
	conformance.TestTransport(t, conformanceGroup("/ip4/127.0.0.1/udp/0", udp.Options{MaxFrameSize: 1200, ReadBuffer: 64 << 10, WriteBuffer: 64 << 10}), withRawSend)
}

// Over IPv6 loopback, whose datagrams carry 20 bytes more.
func TestTransportConformanceIPv6(t *testing.T) {
	probe, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	probe.Close()
	conformance.TestTransport(t, conformanceGroup("/ip6/::1/udp/0", udp.Options{}), withRawSend)
}
