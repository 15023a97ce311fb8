package msgenc_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	ma "github.com/multiformats/go-multiaddr"
)

func signedRecord(t testing.TB, h peer.Hasher, addrs ...string) *peer.Record {
	t.Helper()
	id, err := peer.IdentityFromSeed(bytes.Repeat([]byte{0x42}, 32))
	if err != nil {
		t.Fatal(err)
	}
	as := make([]ma.Multiaddr, len(addrs))
	for i, s := range addrs {
		if as[i], err = ma.NewMultiaddr(s); err != nil {
			t.Fatal(err)
		}
	}
	r, err := peer.NewRecord(id, h, 17, as...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// manyAddrs returns n distinct addresses.
func manyAddrs(n int) []string {
	as := make([]string, n)
	for i := range as {
		as[i] = fmt.Sprintf("/ip4/10.0.0.%d/udp/4001", i+1)
	}
	return as
}

func recordsEqual(a, b *peer.Record) bool {
	if a.ID != b.ID || !bytes.Equal(a.PublicKey, b.PublicKey) || a.Seq != b.Seq ||
		!bytes.Equal(a.Signature, b.Signature) || len(a.Addrs) != len(b.Addrs) {
		return false
	}
	for i := range a.Addrs {
		if !a.Addrs[i].Equal(b.Addrs[i]) {
			return false
		}
	}
	return true
}

func TestPeerRecordRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name  string
		h     peer.Hasher
		addrs []string
	}{
		{"sha256/no-addrs", peer.SHA256(), nil},
		{"sha256/addrs", peer.SHA256(), []string{"/ip4/127.0.0.1/udp/4001", "/ip6/::1/tcp/4002", "/dns4/example.com/tcp/443"}},
		{"sha1/addrs", peer.SHA1(), []string{"/ip4/10.0.0.1/tcp/1"}},
		{"sha256/most-addrs", peer.SHA256(), manyAddrs(peer.MaxRecordAddrs)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := signedRecord(t, tc.h, tc.addrs...)
			wire := msgenc.FromRecord(orig)
			m := &msgenc.Message{Kind: msgenc.KindPing, Ping: &msgenc.Ping{}, Sender: &wire}
			if err := m.Validate(); err != nil {
				t.Fatalf("the wire form of a valid record does not validate: %v", err)
			}
			got, err := wire.Record()
			if err != nil {
				t.Fatalf("Record: %v", err)
			}
			if !recordsEqual(orig, got) {
				t.Fatalf("round trip changed the record:\n got %+v\nwant %+v", got, orig)
			}
			if err := got.Verify(tc.h); err != nil {
				t.Fatalf("round-tripped record does not verify: %v", err)
			}
			if !bytes.Equal(orig.SigningBytes(), got.SigningBytes()) {
				t.Fatal("round trip changed the signing bytes")
			}
		})
	}
}

func TestPeerRecordConversionsDoNotAlias(t *testing.T) {
	orig := signedRecord(t, peer.SHA256(), "/ip4/127.0.0.1/udp/4001")
	wire := msgenc.FromRecord(orig)
	wire.ID[0] ^= 0xff
	wire.PublicKey[0] ^= 0xff
	wire.Signature[0] ^= 0xff
	wire.Addrs[0][1] ^= 0xff
	if err := orig.Verify(peer.SHA256()); err != nil {
		t.Fatalf("mutating FromRecord's result changed the record: %v", err)
	}

	wire = msgenc.FromRecord(orig)
	got, err := wire.Record()
	if err != nil {
		t.Fatal(err)
	}
	wire.PublicKey[0] ^= 0xff
	wire.Signature[0] ^= 0xff
	wire.Addrs[0][1] ^= 0xff
	if err := got.Verify(peer.SHA256()); err != nil {
		t.Fatalf("mutating the wire form changed the parsed record: %v", err)
	}
}

func TestPeerRecordRejectsBadIDLength(t *testing.T) {
	good := msgenc.FromRecord(signedRecord(t, peer.SHA256()))
	for _, n := range []int{0, 1, 19, 21, 31, 33, 64} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			p := good
			p.ID = bytes.Repeat([]byte{1}, n)
			r, err := p.Record()
			if !errors.Is(err, msgenc.ErrInvalid) || !errors.Is(err, peer.ErrIDLength) {
				t.Fatalf("Record with a %d-byte ID = %v, want ErrInvalid wrapping peer.ErrIDLength", n, err)
			}
			if r != nil {
				t.Fatal("Record returned a record with an error")
			}
		})
	}
}

func TestPeerRecordRejectsBadAddressBytes(t *testing.T) {
	good := msgenc.FromRecord(signedRecord(t, peer.SHA256(), "/ip4/127.0.0.1/udp/4001"))
	valid := good.Addrs[0]
	for _, tc := range []struct {
		name string
		addr []byte
	}{
		{"empty", []byte{}},
		{"unknown-protocol", []byte{0xff, 0xff, 0xff, 0x0f, 1, 2}},
		{"truncated", valid[:len(valid)-1]},
		{"trailing-bytes", append(bytes.Clone(valid), 0x04)},
		{"huge-varint-length", []byte{0x2f, 0xff, 0xff, 0xff, 0xff, 0x0f}}, // /unix with a 4 GiB length
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := good
			p.Addrs = [][]byte{valid, tc.addr}
			r, err := p.Record()
			if !errors.Is(err, msgenc.ErrInvalid) {
				t.Fatalf("Record = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), "address 1") {
				t.Fatalf("error %q does not name the bad address", err)
			}
			if r != nil {
				t.Fatal("Record returned a record with an error")
			}
		})
	}
}

// FuzzPeerRecord feeds arbitrary bytes into every field of a PeerRecord:
// Record never panics, every error wraps ErrInvalid, and whatever it
// accepts converts back to the same wire form.
func FuzzPeerRecord(f *testing.F) {
	good := msgenc.FromRecord(signedRecord(f, peer.SHA256(), "/ip4/127.0.0.1/udp/4001", "/ip6/::1/tcp/4002"))
	f.Add(good.ID, good.PublicKey, good.Signature, good.Seq, good.Addrs[0], good.Addrs[1], uint8(2))
	sha1 := msgenc.FromRecord(signedRecord(f, peer.SHA1()))
	f.Add(sha1.ID, sha1.PublicKey, sha1.Signature, sha1.Seq, []byte(nil), []byte(nil), uint8(0))
	f.Add([]byte{}, []byte{}, []byte{}, uint64(0), []byte{}, []byte{}, uint8(1))
	f.Add(good.ID[:19], good.PublicKey, good.Signature, uint64(1), []byte{0xff, 0xff}, good.Addrs[1], uint8(2))
	f.Add(good.ID, good.PublicKey[:5], good.Signature[:1], ^uint64(0), good.Addrs[0][:3], []byte{0x2f, 0xff, 0xff, 0xff, 0xff, 0x0f}, uint8(2))
	f.Fuzz(func(t *testing.T, id, pub, sig []byte, seq uint64, a0, a1 []byte, naddrs uint8) {
		p := msgenc.PeerRecord{ID: id, PublicKey: pub, Signature: sig, Seq: seq}
		p.Addrs = [][]byte{a0, a1}[:naddrs%3]
		r, err := p.Record()
		if err != nil {
			if r != nil {
				t.Fatal("Record returned a record with an error")
			}
			if !errors.Is(err, msgenc.ErrInvalid) {
				t.Fatalf("Record error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if r.ID.Len() != len(id) || !bytes.Equal(r.ID.Bytes(), id) {
			t.Fatalf("ID %v, want %x", r.ID, id)
		}
		// Verification may fail but must not panic.
		_ = r.Verify(peer.SHA256())
		_ = r.Verify(peer.SHA1())
		back := msgenc.FromRecord(r)
		if !bytes.Equal(back.PublicKey, pub) || !bytes.Equal(back.Signature, sig) || back.Seq != seq || len(back.Addrs) != len(p.Addrs) {
			t.Fatalf("FromRecord(Record(p)) = %+v, want %+v", back, p)
		}
		for i := range p.Addrs {
			if !bytes.Equal(back.Addrs[i], p.Addrs[i]) {
				t.Fatalf("address %d: %x came back as %x", i, p.Addrs[i], back.Addrs[i])
			}
		}
	})
}
