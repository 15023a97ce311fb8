package transport_test

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
)

func TestProtocolNamesOnlyPlainIPAddresses(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want string
	}{
		{"/ip4/127.0.0.1/udp/4000", transport.UDP},
		{"/ip6/::1/udp/4000", transport.UDP},
		{"/ip4/10.0.0.1/tcp/1", transport.TCP},
		{"/ip6/2001:db8::1/tcp/65535", transport.TCP},
		{"/dns4/example.com/udp/4000", ""},
		{"/ip4/127.0.0.1/sctp/9", ""},
		{"/ip4/127.0.0.1", ""},
		{"/ip4/127.0.0.1/udp/4000/quic-v1", ""},
		{"/ip6zone/eth0/ip6/fe80::1/udp/4000", ""},
	} {
		addr := ma.StringCast(tc.addr)
		if got := transport.Protocol(addr); got != tc.want {
			t.Errorf("Protocol(%s) = %q, want %q", tc.addr, got, tc.want)
		}
	}
	if transport.Protocol(nil) != "" {
		t.Error(`Protocol(nil) != ""`)
	}
}

func TestAddrPortRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		ap       string
		protocol string
		addr     string
	}{
		{"127.0.0.1:4000", transport.UDP, "/ip4/127.0.0.1/udp/4000"},
		{"0.0.0.0:0", transport.TCP, "/ip4/0.0.0.0/tcp/0"},
		{"[::1]:65535", transport.TCP, "/ip6/::1/tcp/65535"},
		{"[2001:db8::7]:1", transport.UDP, "/ip6/2001:db8::7/udp/1"},
	} {
		ap := netip.MustParseAddrPort(tc.ap)
		addr, err := transport.FromAddrPort(ap, tc.protocol)
		if err != nil {
			t.Fatalf("FromAddrPort(%v): %v", ap, err)
		}
		if addr.String() != tc.addr {
			t.Errorf("FromAddrPort(%v) = %v, want %s", ap, addr, tc.addr)
		}
		back, err := transport.ToAddrPort(addr, tc.protocol)
		if err != nil || back != ap {
			t.Errorf("ToAddrPort(%v) = %v, %v; want %v", addr, back, err, ap)
		}
	}
}

func TestFromAddrPortUnmapsIPv4(t *testing.T) {
	addr, err := transport.FromAddrPort(netip.MustParseAddrPort("[::ffff:127.0.0.1]:80"), transport.TCP)
	if err != nil || addr.String() != "/ip4/127.0.0.1/tcp/80" {
		t.Fatalf("got %v, %v; want /ip4/127.0.0.1/tcp/80", addr, err)
	}
}

func TestAddrHelpersRejectWithErrUnsupportedAddr(t *testing.T) {
	for _, tc := range []struct {
		addr, protocol string
	}{
		{"/ip4/127.0.0.1/tcp/80", transport.UDP}, // wrong protocol
		{"/dns4/example.com/udp/80", transport.UDP},
		{"/ip4/127.0.0.1/udp/80/quic-v1", transport.UDP},
		{"/ip4/127.0.0.1/udp/80", "sctp"},
	} {
		_, err := transport.ToAddrPort(ma.StringCast(tc.addr), tc.protocol)
		if !errors.Is(err, transport.ErrUnsupportedAddr) {
			t.Errorf("ToAddrPort(%s, %s) error = %v, want ErrUnsupportedAddr", tc.addr, tc.protocol, err)
		}
	}
	if _, err := transport.ToAddrPort(nil, transport.UDP); !errors.Is(err, transport.ErrUnsupportedAddr) {
		t.Errorf("ToAddrPort(nil) error = %v, want ErrUnsupportedAddr", err)
	}
	for _, ap := range []netip.AddrPort{{}, netip.MustParseAddrPort("[fe80::1%eth0]:80")} {
		if _, err := transport.FromAddrPort(ap, transport.UDP); !errors.Is(err, transport.ErrUnsupportedAddr) {
			t.Errorf("FromAddrPort(%v) error = %v, want ErrUnsupportedAddr", ap, err)
		}
	}
	if _, err := transport.FromAddrPort(netip.MustParseAddrPort("127.0.0.1:1"), "quic"); !errors.Is(err, transport.ErrUnsupportedAddr) {
		t.Errorf("FromAddrPort with protocol quic: error = %v, want ErrUnsupportedAddr", err)
	}
}

func TestToAddrPortDoesNotAllocate(t *testing.T) {
	addr := ma.StringCast("/ip6/2001:db8::1/udp/4000")
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := transport.ToAddrPort(addr, transport.UDP); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ToAddrPort allocates %v times per call, want 0", allocs)
	}
}

func ExampleToAddrPort() {
	ap, err := transport.ToAddrPort(ma.StringCast("/ip4/127.0.0.1/udp/4000"), transport.UDP)
	fmt.Println(ap, err)
	_, err = transport.ToAddrPort(ma.StringCast("/dns4/example.com/udp/4000"), transport.UDP)
	fmt.Println(errors.Is(err, transport.ErrUnsupportedAddr))
	// Output:
	// 127.0.0.1:4000 <nil>
	// true
}
