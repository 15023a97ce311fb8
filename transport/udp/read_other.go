//go:build !linux || udpportable

package udp

// The portable read path, used where recvfrom cannot report a datagram's
// full size. The udpportable tag builds it on Linux too, so that its tests
// and mutation runs reach it here: go test -tags udpportable ./transport/udp/

import "net/netip"

// readDatagram reads the next datagram into a MaxFrameSize+1 buffer and
// returns a copy. n is the datagram's size, as far as the buffer shows;
// data is nil when n exceeds MaxFrameSize. The caller holds the reader slot.
func (t *Transport) readDatagram() (data []byte, n int, from netip.AddrPort, err error) {
	if t.buf == nil {
		t.buf = make([]byte, t.max+1)
	}
	n, from, err = t.conn.ReadFromUDPAddrPort(t.buf)
	if err != nil || n > t.max {
		return nil, n, from, err
	}
	return append([]byte(nil), t.buf[:n]...), n, from, nil
}

// initRead has nothing to prepare where datagrams are read whole.
func (t *Transport) initRead() {}
