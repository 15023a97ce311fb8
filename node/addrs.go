package node

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
)

// advertised returns the addresses a node announces for what its transports
// listen on: each address as it is, except one on an unspecified IP
// (0.0.0.0, ::), which peers cannot dial, replaced by the host's addresses
// of that family with the same port and protocol: routable ones first,
// loopback last. ifaddrs lists the host's addresses (net.InterfaceAddrs).
func advertised(listening []ma.Multiaddr, ifaddrs []netip.Addr) []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, a := range listening {
		proto := transport.Protocol(a)
		ap, err := transport.ToAddrPort(a, proto)
		if proto == "" || err != nil || !ap.Addr().IsUnspecified() {
			out = append(out, a)
			continue
		}
		var here []ma.Multiaddr
		for _, ip := range ifaddrs {
			if ip.Is4() != ap.Addr().Is4() || ip.IsLinkLocalUnicast() || ip.IsMulticast() || ip.Zone() != "" {
				continue
			}
			if c, err := transport.FromAddrPort(netip.AddrPortFrom(ip, ap.Port()), proto); err == nil {
				here = append(here, c)
			}
		}
		// Routable first: a peer dials the first address it can, and a
		// loopback address reaches only this host.
		slices.SortStableFunc(here, func(x, y ma.Multiaddr) int {
			return boolCmp(isLoopback(x), isLoopback(y))
		})
		if len(here) == 0 {
			here = []ma.Multiaddr{a} // nothing better to say
		}
		out = append(out, here...)
	}
	return out
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func isLoopback(a ma.Multiaddr) bool {
	ap, err := transport.ToAddrPort(a, transport.Protocol(a))
	return err == nil && ap.Addr().IsLoopback()
}

// hostAddrs returns the IP addresses of the host's interfaces.
func hostAddrs() []netip.Addr {
	ifas, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, ifa := range ifas {
		if p, err := netip.ParsePrefix(ifa.String()); err == nil {
			out = append(out, p.Addr().Unmap())
		}
	}
	return out
}

// resolve turns /dns, /dns4 and /dns6 addresses into /ip4 and /ip6 ones,
// leaving the others as they are.
func resolve(ctx context.Context, addrs []ma.Multiaddr) ([]ma.Multiaddr, error) {
	var out []ma.Multiaddr
	for _, a := range addrs {
		if len(a) == 0 {
			continue
		}
		code := a[0].Code()
		if code != ma.P_DNS && code != ma.P_DNS4 && code != ma.P_DNS6 {
			out = append(out, a)
			continue
		}
		network := map[int]string{ma.P_DNS: "ip", ma.P_DNS4: "ip4", ma.P_DNS6: "ip6"}[code]
		ips, err := net.DefaultResolver.LookupNetIP(ctx, network, a[0].Value())
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", a, err)
		}
		rest := a[1:]
		for _, ip := range ips {
			host, err := ma.NewComponent(map[bool]string{true: "ip4", false: "ip6"}[ip.Unmap().Is4()], ip.Unmap().String())
			if err != nil {
				continue
			}
			out = append(out, append(ma.Multiaddr{*host}, rest...))
		}
	}
	return out, nil
}
