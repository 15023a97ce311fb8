package tcp_test

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/transport/tcp"
)

// BenchmarkRoundTrip compares, side by side, a request/reply round trip
// through the transport with the floor it is measured against: the same
// exchange of length-prefixed frames over bare loopback sockets. One op is
// one round trip. Besides time, each reports cpu-ns/op: the process's CPU
// time (both ends run in it) per round trip, which a machine busy with
// other work disturbs far less than wall time. To compare the two:
//
//	go test -run '^$' -bench RoundTrip -count 10 ./transport/tcp > rt.txt
//	benchstat -col /impl rt.txt
func BenchmarkRoundTrip(b *testing.B) {
	for _, size := range []int{128, 1024} {
		prefix := "size=" + strconv.Itoa(size) + "/impl="
		// dhtkit: A sends a frame to B, B echoes it to Packet.From (over
		// the same pooled connection), A receives it.
		b.Run(prefix+"dhtkit", func(b *testing.B) {
			a, echo := listen(b, tcp.Options{}), listen(b, tcp.Options{})
			withCPU(b, func() { conformance.BenchmarkTransportRoundTrip(b, a, echo, size) })
		})
		b.Run(prefix+"plain", func(b *testing.B) {
			withCPU(b, func() { benchmarkPlainEcho(b, size) })
		})
	}
}

// withCPU runs bench and reports the process's CPU time per op over it.
func withCPU(b *testing.B, bench func()) {
	start := cpuTime()
	bench()
	if used := cpuTime() - start; used > 0 && b.N > 0 {
		b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// benchmarkPlainEcho is a length-prefixed echo over a bare net.TCPConn:
// each side writes a 4-byte length and the payload in one write and reads
// through a bufio.Reader, as the transport does, but in the caller's
// goroutine, with no queue, pool or deadline.
func benchmarkPlainEcho(b *testing.B, size int) {
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
		br := bufio.NewReader(c)
		buf := make([]byte, 0, 4+size)
		for {
			frame, err := readPlainFrame(br, buf)
			if err != nil {
				return
			}
			if _, err := c.Write(frame); err != nil {
				return
			}
		}
	}()
	c, err := net.DialTCP("tcp4", nil, ln.Addr().(*net.TCPAddr))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { c.Close(); <-done }()
	br := bufio.NewReader(c)
	frame := binary.BigEndian.AppendUint32(nil, uint32(size))
	frame = append(frame, make([]byte, size)...)
	buf := make([]byte, 0, 4+size)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		if _, err := c.Write(frame); err != nil {
			b.Fatal(err)
		}
		if _, err := readPlainFrame(br, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// readPlainFrame reads a length-prefixed frame into buf, prefix included.
func readPlainFrame(br *bufio.Reader, buf []byte) ([]byte, error) {
	buf = buf[:4]
	if _, err := io.ReadFull(br, buf); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(buf))
	if 4+n > cap(buf) {
		return nil, io.ErrShortBuffer
	}
	buf = buf[:4+n]
	_, err := io.ReadFull(br, buf[4:])
	return buf, err
}
