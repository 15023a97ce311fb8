package udp_test

import (
	"net"
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/transport/udp"
)

const benchFrame = 1024

// BenchmarkRoundTrip: A sends a 1 KiB frame to B, B echoes it to
// Packet.From, A receives it. One op is one round trip.
func BenchmarkRoundTrip(b *testing.B) {
	conformance.BenchmarkTransportRoundTrip(b, listen(b, udp.Options{}), listen(b, udp.Options{}), benchFrame)
}

// BenchmarkRoundTripPlainSocket is BenchmarkRoundTrip over bare
// net.UDPConns: the floor the transport is measured against.
func BenchmarkRoundTripPlainSocket(b *testing.B) {
	a, echo := rawSocket(b), rawSocket(b)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, udp.MaxFrameSizeIPv4+1)
		for {
			n, from, err := echo.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if _, err := echo.WriteToUDPAddrPort(buf[:n], from); err != nil {
				return
			}
		}
	}()
	defer func() { echo.Close(); <-done }()
	frame := make([]byte, benchFrame)
	buf := make([]byte, udp.MaxFrameSizeIPv4+1)
	to := echo.LocalAddr().(*net.UDPAddr).AddrPort()
	b.ReportAllocs()
	b.SetBytes(benchFrame)
	for b.Loop() {
		if _, err := a.WriteToUDPAddrPort(frame, to); err != nil {
			b.Fatal(err)
		}
		if _, _, err := a.ReadFromUDPAddrPort(buf); err != nil {
			b.Fatal(err)
		}
	}
}
