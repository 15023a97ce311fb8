//go:build linux && !udpportable

package udp

import (
	"net/netip"
	"syscall"
)

// readDatagram reads the next datagram. It first learns the datagram's size
// without taking it (recvfrom with MSG_PEEK|MSG_TRUNC reports the full
// length on Linux), then reads it into a buffer of exactly that size, so
// that an idle transport holds no frame-sized buffer. n is the datagram's
// size; data is nil when n exceeds MaxFrameSize (the datagram is consumed
// all the same). The caller holds the reader slot.
func (t *Transport) readDatagram() (data []byte, n int, from netip.AddrPort, err error) {
	err = t.raw.Read(t.peek)
	n = t.peekN
	if err == nil && t.peekErr != 0 {
		err = t.peekErr
	}
	if err != nil {
		return nil, 0, netip.AddrPort{}, err
	}
	buf := t.scratch[:]
	if n <= t.max {
		buf = make([]byte, max(n, 1))
	}
	got, from, err := t.conn.ReadFromUDPAddrPort(buf)
	if err != nil || n > t.max {
		return nil, n, from, err
	}
	return buf[:got], got, from, nil
}

// initRead makes the peek callback once per transport.
func (t *Transport) initRead() {
	t.peek = func(fd uintptr) bool {
		r, _, e := syscall.Syscall6(syscall.SYS_RECVFROM, fd, 0, 0, syscall.MSG_PEEK|syscall.MSG_TRUNC, 0, 0)
		t.peekN, t.peekErr = int(r), e
		return e != syscall.EAGAIN && e != syscall.EINTR
	}
}
