package node

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
)

func testState(t testing.TB) (peer.ID, savedState) {
	h := peer.SHA256()
	owner, err := peer.IdentityFromSeed(bytes.Repeat([]byte{1}, 32))
	require.NoError(t, err)
	other, err := peer.IdentityFromSeed(bytes.Repeat([]byte{2}, 32))
	require.NoError(t, err)
	rec, err := peer.NewRecord(other, h, 7, ma.StringCast("/ip4/10.0.0.2/udp/4001"), ma.StringCast("/ip4/127.0.0.1/udp/4001"))
	require.NoError(t, err)
	v, err := trust.NewMutable(owner, h, []byte("s"), 3, []byte("mine"))
	require.NoError(t, err)
	return owner.ID(h), savedState{contacts: []*peer.Record{rec}, values: []msgenc.ValueRecord{wireValue(v, 0)}}
}

func TestStateRoundTripsAndRefusesCorruptOrForeignFiles(t *testing.T) {
	owner, s := testState(t)
	b := encodeState(owner, s)
	got, err := decodeState(owner, b)
	require.NoError(t, err)
	require.Len(t, got.contacts, 1)
	require.NoError(t, got.contacts[0].Verify(peer.SHA256()), "a contact comes back as it was signed")
	require.Equal(t, s.contacts[0].Addrs, got.contacts[0].Addrs)
	require.True(t, msgenc.Equal(
		&msgenc.Message{Kind: msgenc.KindStore, Store: &msgenc.Store{Record: s.values[0]}},
		&msgenc.Message{Kind: msgenc.KindStore, Store: &msgenc.Store{Record: got.values[0]}}))

	for i := range len(b) {
		_, err := decodeState(owner, b[:i])
		require.ErrorIs(t, err, errCorruptState, "truncated at %d", i)
	}
	flipped := bytes.Clone(b)
	flipped[len(flipped)/2] ^= 1
	_, err = decodeState(owner, flipped)
	require.ErrorIs(t, err, errCorruptState, "a flipped bit fails the checksum")
	_, err = decodeState(peer.SHA256().Sum([]byte("someone else")), b)
	require.ErrorIs(t, err, errForeignState)
}

func FuzzDecodeState(f *testing.F) {
	owner, s := testState(f)
	f.Add(encodeState(owner, s))
	f.Add(encodeState(owner, savedState{}))
	f.Add([]byte("DKST\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeState(owner, b)
		if err != nil {
			return
		}
		if again := encodeState(owner, got); !bytes.Equal(again, b) {
			t.Fatalf("decode then encode changed the bytes")
		}
	})
}

func TestAStateFileIsWrittenWholeOrNotAtAll(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.state")
	require.NoError(t, writeFileAtomic(path, []byte("first")))
	require.NoError(t, writeFileAtomic(path, []byte("second")))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "second", string(b))
	left, err := filepath.Glob(path + ".tmp*")
	require.NoError(t, err)
	require.Empty(t, left, "no temporary file is left behind")
}
