package linkemu

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"syscall"
)

const (
	// packetIgnoreOutgoing is PACKET_IGNORE_OUTGOING (Linux 4.20): the
	// socket does not see the frames sent out of its interface, its own
	// included.
	packetIgnoreOutgoing = 23
	// packetVnetHdr is PACKET_VNET_HDR: each frame comes with a
	// virtio_net_hdr saying whether its checksum is still to be filled in.
	packetVnetHdr = 15
	vnetHdrLen    = 10
	// vnetNeedsCsum is VIRTIO_NET_HDR_F_NEEDS_CSUM.
	vnetNeedsCsum = 1
)

// PacketPort is a network interface opened as an AF_PACKET socket: it
// reads every frame that arrives on the interface and writes frames out of
// it. It must be opened in the network namespace that holds the interface.
//
// A host's veth offloads checksums: the frames it sends carry UDP and TCP
// checksums not yet filled in, which the kernel would complete only on the
// way out of a real NIC. PacketPort reads each frame with its
// virtio_net_hdr and fills the checksum in, so that the frame it writes
// out of another port is one the receiving host accepts.
type PacketPort struct {
	f   *os.File
	buf []byte // ReadFrame's, with room for the header
}

var _ Port = (*PacketPort)(nil)

// OpenPacketPort opens the interface called name.
func OpenPacketPort(name string) (*PacketPort, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return nil, fmt.Errorf("linkemu: %w", err)
	}
	proto := htons(syscall.ETH_P_ALL)
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, int(proto))
	if err != nil {
		return nil, fmt.Errorf("linkemu: packet socket for %s: %w", name, err)
	}
	for _, opt := range []struct {
		name string
		opt  int
	}{{"PACKET_IGNORE_OUTGOING", packetIgnoreOutgoing}, {"PACKET_VNET_HDR", packetVnetHdr}} {
		if err := syscall.SetsockoptInt(fd, syscall.SOL_PACKET, opt.opt, 1); err != nil {
			syscall.Close(fd)
			return nil, fmt.Errorf("linkemu: %s on %s: %w", opt.name, name, err)
		}
	}
	if err := syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: proto, Ifindex: ifi.Index}); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("linkemu: bind to %s: %w", name, err)
	}
	// A non-blocking descriptor makes a pollable File: Close wakes a Read.
	return &PacketPort{f: os.NewFile(uintptr(fd), "packet:"+name), buf: make([]byte, vnetHdrLen+1<<16)}, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// ReadFrame reads one frame, its checksum filled in. It is not safe for
// concurrent use with itself.
func (p *PacketPort) ReadFrame(buf []byte) (int, error) {
	for {
		n, err := p.f.Read(p.buf)
		if err != nil {
			return 0, err
		}
		if n < vnetHdrLen {
			continue
		}
		frame := p.buf[vnetHdrLen:n]
		if p.buf[0]&vnetNeedsCsum != 0 {
			// virtio_net_hdr is in host order: little-endian here.
			start := int(binary.LittleEndian.Uint16(p.buf[6:]))
			offset := int(binary.LittleEndian.Uint16(p.buf[8:]))
			if !fillChecksum(frame, start, offset) {
				continue
			}
		}
		return copy(buf, frame), nil
	}
}

// WriteFrame sends one frame out of the interface.
func (p *PacketPort) WriteFrame(frame []byte) error {
	out := make([]byte, vnetHdrLen+len(frame)) // a zero header: nothing left to do
	copy(out[vnetHdrLen:], frame)
	_, err := p.f.Write(out)
	return err
}

// Close closes the socket.
func (p *PacketPort) Close() error { return p.f.Close() }
