package node

import (
	"context"
	"net/netip"
	"testing"

	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
)

func TestAdvertisedReplacesUnspecifiedAddressesWithTheHosts(t *testing.T) {
	host := []netip.Addr{
		netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.1.2.3"),
		netip.MustParseAddr("::1"), netip.MustParseAddr("fe80::1"), netip.MustParseAddr("192.168.7.9"),
	}
	got := advertised([]ma.Multiaddr{
		ma.StringCast("/ip4/0.0.0.0/udp/4001"),
		ma.StringCast("/ip4/127.0.0.1/tcp/4002"),
		ma.StringCast("/ip6/::/tcp/4003"),
	}, host)
	var s []string
	for _, a := range got {
		s = append(s, a.String())
	}
	require.Equal(t, []string{
		"/ip4/10.1.2.3/udp/4001", "/ip4/192.168.7.9/udp/4001", "/ip4/127.0.0.1/udp/4001", // routable first
		"/ip4/127.0.0.1/tcp/4002", // concrete: as it is
		"/ip6/::1/tcp/4003",       // no link-local
	}, s)
	require.Equal(t, []ma.Multiaddr{ma.StringCast("/ip4/0.0.0.0/udp/1")},
		advertised([]ma.Multiaddr{ma.StringCast("/ip4/0.0.0.0/udp/1")}, nil), "with nothing better, the address stays")
}

func TestResolveTurnsDNSAddressesIntoIPOnes(t *testing.T) {
	got, err := resolve(context.Background(), []ma.Multiaddr{
		ma.StringCast("/dns4/localhost/udp/4001"),
		ma.StringCast("/ip4/10.0.0.1/tcp/5"),
	})
	require.NoError(t, err)
	require.Contains(t, got, ma.StringCast("/ip4/127.0.0.1/udp/4001"))
	require.Contains(t, got, ma.StringCast("/ip4/10.0.0.1/tcp/5"))
}
