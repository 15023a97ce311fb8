package tcp_test

import (
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/transport"
	"github.com/dhtkit/dhtkit/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

// This file holds only the conformance suite's runs and what they need:
// conformance/mutation/run.sh keeps it, alone, to mutation-test tcp.

// conformanceGroup returns a factory of endpoints listening on addr with
// opts.
func conformanceGroup(addr string, opts tcp.Options) func(t *testing.T, n int) []transport.Transport {
	return func(t *testing.T, n int) []transport.Transport {
		out := make([]transport.Transport, n)
		for i := range out {
			tr, err := tcp.Listen(ma.StringCast(addr), opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { tr.Close() })
			out[i] = tr
		}
		return out
	}
}

// rawSend puts frame on the wire as the package doc describes it, on a
// connection of its own: the hello, announcing the connection's own port,
// then the length prefix and the frame, whatever its size. The receiver
// may close the connection on reading the prefix, so only the dial and
// the hello must succeed.
func rawSend(t *testing.T, to ma.Multiaddr, frame []byte) error {
	ap, err := transport.ToAddrPort(to, transport.TCP)
	if err != nil {
		return err
	}
	c, err := net.DialTCP("tcp", nil, net.TCPAddrFromAddrPort(ap))
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	self, err := transport.FromAddrPort(c.LocalAddr().(*net.TCPAddr).AddrPort(), transport.TCP)
	if err != nil {
		return err
	}
	hello := append([]byte("DKT1"), byte(len(self.Bytes())))
	if _, err := c.Write(append(hello, self.Bytes()...)); err != nil {
		return err
	}
	c.Write(binary.BigEndian.AppendUint32(nil, uint32(len(frame))))
	c.Write(frame)
	return nil
}

var withRawSend = conformance.TransportOptions{RawSend: rawSend}

func TestTransportConformance(t *testing.T) {
	conformance.TestTransport(t, conformanceGroup("/ip4/127.0.0.1/tcp/0", tcp.Options{}), withRawSend)
}

// Small limits, where a flood fills them: frames of at most 4 KiB and
// queues of 32 KiB either way. The timeouts stay long, so that a
// connection whose accounting went wrong is not replaced by a fresh one.
func TestTransportConformanceSmallLimits(t *testing.T) {
	conformance.TestTransport(t, conformanceGroup("/ip4/127.0.0.1/tcp/0", tcp.Options{
		MaxFrameSize:      4096,
		SendQueueBytes:    32 << 10,
		ReceiveQueueBytes: 32 << 10,
		MaxConns:          4,
	}), withRawSend)
}

// Short timeouts: connections close after 100 ms without a frame and are
// dialed again, which the rules' pauses and retries go through.
func TestTransportConformanceShortTimeouts(t *testing.T) {
	conformance.TestTransport(t, conformanceGroup("/ip4/127.0.0.1/tcp/0", tcp.Options{
		IdleTimeout:  100 * time.Millisecond,
		WriteTimeout: time.Second,
		DialTimeout:  time.Second,
	}), withRawSend)
}

// Over IPv6 loopback.
func TestTransportConformanceIPv6(t *testing.T) {
	probe, err := net.ListenTCP("tcp6", &net.TCPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	probe.Close()
	conformance.TestTransport(t, conformanceGroup("/ip6/::1/tcp/0", tcp.Options{}), withRawSend)
}
