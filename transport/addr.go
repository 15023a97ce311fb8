package transport

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	ma "github.com/multiformats/go-multiaddr"
)

// Names of the IP transport protocols the address helpers understand.
const (
	UDP = "udp"
	TCP = "tcp"
)

// protocolCode maps UDP and TCP to their multiaddr codes.
func protocolCode(protocol string) (int, error) {
	switch protocol {
	case UDP:
		return ma.P_UDP, nil
	case TCP:
		return ma.P_TCP, nil
	}
	return 0, fmt.Errorf("transport: protocol %q is neither %q nor %q: %w", protocol, UDP, TCP, ErrUnsupportedAddr)
}

// Protocol returns UDP or TCP when addr is exactly /ip4/HOST/PORTPROTO/PORT
// or /ip6/HOST/PORTPROTO/PORT, and "" for any other address (DNS names,
// zones, encapsulations).
func Protocol(addr ma.Multiaddr) string {
	if len(addr) != 2 {
		return ""
	}
	if c := addr[0].Code(); c != ma.P_IP4 && c != ma.P_IP6 {
		return ""
	}
	switch addr[1].Code() {
	case ma.P_UDP:
		return UDP
	case ma.P_TCP:
		return TCP
	}
	return ""
}

// ToAddrPort converts /ip4|ip6/HOST/PROTOCOL/PORT, where PROTOCOL is UDP or
// TCP, to an address and port. Any other address fails with an error that
// matches ErrUnsupportedAddr. It does not allocate.
func ToAddrPort(addr ma.Multiaddr, protocol string) (netip.AddrPort, error) {
	code, err := protocolCode(protocol)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if Protocol(addr) == "" || addr[1].Code() != code {
		return netip.AddrPort{}, fmt.Errorf("transport: %v is not /ip4|ip6/HOST/%s/PORT: %w", addr, protocol, ErrUnsupportedAddr)
	}
	var ip netip.Addr
	switch host := addr[0].RawValue(); addr[0].Code() {
	case ma.P_IP4:
		ip = netip.AddrFrom4([4]byte(host))
	default:
		ip = netip.AddrFrom16([16]byte(host))
	}
	port := binary.BigEndian.Uint16(addr[1].RawValue())
	return netip.AddrPortFrom(ip, port), nil
}

// FromAddrPort returns /ip4|ip6/HOST/PROTOCOL/PORT for ap; an IPv4-mapped
// IPv6 address becomes /ip4. Invalid or zoned addresses fail with an error
// that matches ErrUnsupportedAddr.
func FromAddrPort(ap netip.AddrPort, protocol string) (ma.Multiaddr, error) {
	code, err := protocolCode(protocol)
	if err != nil {
		return nil, err
	}
	ip := ap.Addr().Unmap()
	if !ip.IsValid() || ip.Zone() != "" {
		return nil, fmt.Errorf("transport: cannot express %v as a multiaddr: %w", ap, ErrUnsupportedAddr)
	}
	// The binary form: varint code, fixed-size value, for each component.
	b := make([]byte, 0, 1+16+3+2)
	if ip.Is4() {
		host := ip.As4()
		b = binary.AppendUvarint(b, ma.P_IP4)
		b = append(b, host[:]...)
	} else {
		host := ip.As16()
		b = binary.AppendUvarint(b, ma.P_IP6)
		b = append(b, host[:]...)
	}
	b = binary.AppendUvarint(b, uint64(code))
	b = binary.BigEndian.AppendUint16(b, ap.Port())
	addr, err := ma.NewMultiaddrBytes(b)
	if err != nil {
		return nil, fmt.Errorf("transport: building the multiaddr of %v: %v: %w", ap, err, ErrUnsupportedAddr)
	}
	return addr, nil
}
