package node

import (
	"context"
	"testing"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/transport/mem"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
)

// vcNode builds a node on a fresh mem network, closed at cleanup.
func vcNode(t *testing.T) *Node {
	t.Helper()
	net := mem.NewNetwork(mem.Options{})
	t.Cleanup(func() { _ = net.Close() })
	ep, err := net.Listen(nil)
	require.NoError(t, err)
	n, err := NewBuilder().Transport(ep).Build(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// vcRecord returns the wire form of a fresh genuine record.
func vcRecord(t *testing.T, addr string) (*peer.Record, msgenc.PeerRecord) {
	t.Helper()
	id, err := peer.GenerateIdentity(nil)
	require.NoError(t, err)
	r, err := peer.NewRecord(id, peer.SHA256(), 1, ma.StringCast(addr))
	require.NoError(t, err)
	return r, msgenc.FromRecord(r)
}

func TestVerifiedCacheSkipsTheCheckOnlyForTheSameBytes(t *testing.T) {
	n := vcNode(t)
	rec, w := vcRecord(t, "/ip4/10.0.0.1/udp/4001")

	got, err := n.verifyRecord(&w, checkSender)
	require.NoError(t, err)
	require.Equal(t, rec.ID, got.ID)
	require.Equal(t, uint64(1), n.verified.verified)
	again, err := n.verifyRecord(&w, checkSender)
	require.NoError(t, err)
	require.Equal(t, got, again, "the same bytes come back as the same record")
	require.Equal(t, uint64(1), n.verified.verified, "a record seen again is not verified again")
	require.Equal(t, uint64(1), n.verified.hits)

	// Each tampering keeps the cached signature and ID: the cache must
	// not vouch for any of them.
	other, _ := vcRecord(t, "/ip4/10.0.0.2/udp/4001")
	tamper := map[string]func(*msgenc.PeerRecord){
		"address": func(p *msgenc.PeerRecord) { p.Addrs = [][]byte{ma.StringCast("/ip4/10.6.6.6/udp/4001").Bytes()} },
		"extra address": func(p *msgenc.PeerRecord) {
			p.Addrs = append(p.Addrs, ma.StringCast("/ip4/10.6.6.6/udp/4001").Bytes())
		},
		"sequence":   func(p *msgenc.PeerRecord) { p.Seq++ },
		"public key": func(p *msgenc.PeerRecord) { p.PublicKey = other.PublicKey },
		"ID":         func(p *msgenc.PeerRecord) { p.ID = other.ID.Bytes() },
	}
	for name, f := range tamper {
		t.Run(name, func(t *testing.T) {
			bad := msgenc.FromRecord(rec)
			f(&bad)
			r, err := n.verifyRecord(&bad, checkSender)
			require.Error(t, err, "a record tampered in its %s verified", name)
			require.Nil(t, r)
		})
	}
	require.Equal(t, uint64(1), n.verified.hits, "no tampered record may hit the cache")
}

func TestVerifiedCacheIsBounded(t *testing.T) {
	n := vcNode(t)
	var first msgenc.PeerRecord
	for i := range 2*verifiedCacheSize + 3 {
		_, w := vcRecord(t, "/ip4/10.0.0.1/udp/4001")
		if i == 0 {
			first = w
		}
		_, err := n.verifyRecord(&w, checkSender)
		require.NoError(t, err)
		require.LessOrEqual(t, n.verified.len(), verifiedCacheSize)
	}
	require.GreaterOrEqual(t, n.verified.len(), verifiedCacheSize/2, "the cache keeps recent records")
	_, err := n.verifyRecord(&first, checkSender)
	require.NoError(t, err)
	require.Equal(t, uint64(2*verifiedCacheSize+4), n.verified.verified, "a record aged out is verified again")
}

func TestVerifiedCacheDigestsAreKeyedBySecretsOfTheirOwn(t *testing.T) {
	_, w := vcRecord(t, "/ip4/10.0.0.1/udp/4001")
	var a, b verifiedCache
	require.NoError(t, a.init())
	require.NoError(t, b.init())
	require.NotEqual(t, a.secret, [32]byte{}, "init draws a secret")
	require.Equal(t, a.digest(&w), a.digest(&w), "one cache, one record: one digest")
	require.NotEqual(t, a.digest(&w), b.digest(&w),
		"digests that do not depend on a secret of the node's could be matched offline")
}
