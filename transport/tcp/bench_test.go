package tcp_test

import (
	"io"
	"net"
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/transport/tcp"
)

const benchFrame = 1024

// BenchmarkRoundTrip: A sends a 1 KiB frame to B, B echoes it to
// Packet.From (over the same pooled connection), A receives it. One op is
// one round trip.
func BenchmarkRoundTrip(b *testing.B) {
	conformance.BenchmarkTransportRoundTrip(b, listen(b, tcp.Options{}), listen(b, tcp.Options{}), benchFrame)
}

// BenchmarkRoundTripPlainSocket is BenchmarkRoundTrip over a bare
// net.TCPConn echoing 1 KiB messages: the floor the transport is measured
// against.
func BenchmarkRoundTripPlainSocket(b *testing.B) {
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.AcceptTCP()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, benchFrame)
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}()
	c, err := net.DialTCP("tcp4", nil, ln.Addr().(*net.TCPAddr))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { c.Close(); <-done }()
	frame := make([]byte, benchFrame)
	buf := make([]byte, benchFrame)
	b.ReportAllocs()
	b.SetBytes(benchFrame)
	for b.Loop() {
		if _, err := c.Write(frame); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatal(err)
		}
	}
}
