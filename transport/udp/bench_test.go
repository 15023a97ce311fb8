package udp_test

import (
	"context"
	"net"
	"testing"

	"github.com/dhtkit/dhtkit/transport/udp"
)

const benchFrame = 1024

// BenchmarkRoundTrip: A sends a 1 KiB frame to B, B echoes it to
// Packet.From, A receives it. One op is one round trip.
func BenchmarkRoundTrip(b *testing.B) {
	a := listen(b, udp.Options{})
	echo := listen(b, udp.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			p, err := echo.Receive(ctx)
			if err != nil {
				return
			}
			if err := echo.Send(ctx, p.From, p.Data); err != nil {
				return
			}
		}
	}()
	defer func() { cancel(); echo.Close(); <-done }()
	frame := make([]byte, benchFrame)
	to := echo.Addrs()[0]
	b.ReportAllocs()
	b.SetBytes(benchFrame)
	for b.Loop() {
		if err := a.Send(ctx, to, frame); err != nil {
			b.Fatal(err)
		}
		if _, err := a.Receive(ctx); err != nil {
			b.Fatal(err)
		}
	}
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
