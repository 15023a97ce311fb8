package node

import (
	"testing"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
)

func TestWireBuilderMatchesFromRecordAndKeepsRecordsApart(t *testing.T) {
	var recs []*peer.Record
	for i, addrs := range [][]string{
		{"/ip4/10.0.0.1/udp/4001"},
		{},
		{"/ip4/10.0.0.3/udp/4003", "/ip6/::1/tcp/4003", "/dns4/example.com/udp/4003"},
		{"/ip4/10.0.0.4/udp/4004"},
	} {
		id, err := peer.GenerateIdentity(nil)
		require.NoError(t, err)
		var mas []ma.Multiaddr
		for _, a := range addrs {
			mas = append(mas, ma.StringCast(a))
		}
		r, err := peer.NewRecord(id, peer.SHA256(), uint64(i), mas...)
		require.NoError(t, err)
		recs = append(recs, r)
	}
	var wb wireBuilder
	wb.grow(recs[:2]) // too small on purpose: later records make it grow
	var got []msgenc.PeerRecord
	for _, r := range recs {
		got = append(got, wb.add(r))
	}
	for i, r := range recs {
		want := msgenc.FromRecord(r)
		require.Equal(t, want.ID, got[i].ID, "record %d", i)
		require.Equal(t, want.PublicKey, got[i].PublicKey, "record %d", i)
		require.Equal(t, want.Seq, got[i].Seq, "record %d", i)
		require.Equal(t, want.Signature, got[i].Signature, "record %d", i)
		require.Equal(t, len(want.Addrs), len(got[i].Addrs), "record %d", i)
		for j := range want.Addrs {
			require.Equal(t, want.Addrs[j], got[i].Addrs[j], "record %d address %d", i, j)
		}
		back, err := got[i].Record()
		require.NoError(t, err)
		require.NoError(t, back.Verify(peer.SHA256()), "record %d must verify from its wire form", i)
	}
}
