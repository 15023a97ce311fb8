package peer_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dhtkit/dhtkit/peer"
	ma "github.com/multiformats/go-multiaddr"
)

var testAddrs = []string{"/ip4/127.0.0.1/udp/4001", "/ip6/::1/tcp/4002", "/dns4/example.com/tcp/443"}

func mustAddr(t testing.TB, s string) ma.Multiaddr {
	t.Helper()
	a, err := ma.NewMultiaddr(s)
	if err != nil {
		t.Fatalf("multiaddr %q: %v", s, err)
	}
	return a
}

func mustAddrs(t testing.TB, ss ...string) []ma.Multiaddr {
	t.Helper()
	out := make([]ma.Multiaddr, len(ss))
	for i, s := range ss {
		out[i] = mustAddr(t, s)
	}
	return out
}

// fixedSeed is 0x00, 0x01, ..., 0x1f.
func fixedSeed() []byte {
	seed := make([]byte, 32)
	for i := range seed {
		seed[i] = byte(i)
	}
	return seed
}

func newTestRecord(t testing.TB, h peer.Hasher, seq uint64, addrs ...string) (*peer.Identity, *peer.Record) {
	t.Helper()
	id, err := peer.IdentityFromSeed(fixedSeed())
	if err != nil {
		t.Fatal(err)
	}
	r, err := peer.NewRecord(id, h, seq, mustAddrs(t, addrs...)...)
	if err != nil {
		t.Fatalf("NewRecord: %v", err)
	}
	return id, r
}

func TestNewRecordVerifiesUnderItsHasher(t *testing.T) {
	for _, h := range []peer.Hasher{peer.SHA1(), peer.SHA256()} {
		t.Run(h.Name(), func(t *testing.T) {
			id, r := newTestRecord(t, h, 7, testAddrs...)
			if err := r.Verify(h); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if r.ID != id.ID(h) || r.ID.Len() != h.Size() {
				t.Fatalf("record ID %v, want %v", r.ID, id.ID(h))
			}
			if !r.PublicKey.Equal(id.PublicKey()) || r.Seq != 7 || len(r.Addrs) != len(testAddrs) {
				t.Fatalf("record fields not as given: %+v", r)
			}
			// With no addresses at all.
			_, bare := newTestRecord(t, h, 0)
			if err := bare.Verify(h); err != nil {
				t.Fatalf("Verify of a record without addresses: %v", err)
			}
		})
	}
}

func TestVerifyUnderAnotherHasherIsIDMismatch(t *testing.T) {
	_, r := newTestRecord(t, peer.SHA256(), 1, testAddrs...)
	if err := r.Verify(peer.SHA1()); !errors.Is(err, peer.ErrIDMismatch) {
		t.Fatalf("Verify(SHA1) of a SHA256 record = %v, want ErrIDMismatch", err)
	}
}

func TestNewRecordCopiesAddrs(t *testing.T) {
	id, err := peer.IdentityFromSeed(fixedSeed())
	if err != nil {
		t.Fatal(err)
	}
	addrs := mustAddrs(t, testAddrs...)
	r, err := peer.NewRecord(id, peer.SHA256(), 1, addrs...)
	if err != nil {
		t.Fatal(err)
	}
	addrs[0] = mustAddr(t, "/ip4/10.0.0.1/udp/1")
	if err := r.Verify(peer.SHA256()); err != nil {
		t.Fatalf("changing the caller's slice broke the record: %v", err)
	}
}

func TestVerifyReportsWrongSignature(t *testing.T) {
	_, r := newTestRecord(t, peer.SHA256(), 1, testAddrs...)
	other, err := peer.IdentityFromSeed(bytes.Repeat([]byte{0xee}, 32))
	if err != nil {
		t.Fatal(err)
	}
	r.Signature = other.Sign(r.SigningBytes()) // a valid signature, by the wrong key
	if err := r.Verify(peer.SHA256()); !errors.Is(err, peer.ErrBadSignature) {
		t.Fatalf("Verify = %v, want ErrBadSignature", err)
	}
}

func TestVerifyReportsIDNotMatchingKey(t *testing.T) {
	_, r := newTestRecord(t, peer.SHA256(), 1, testAddrs...)
	other, err := peer.IdentityFromSeed(bytes.Repeat([]byte{0xee}, 32))
	if err != nil {
		t.Fatal(err)
	}
	// The other identity claims r's ID with its own key and a good signature.
	forged := &peer.Record{ID: r.ID, PublicKey: other.PublicKey(), Addrs: r.Addrs, Seq: r.Seq}
	forged.Signature = other.Sign(forged.SigningBytes())
	if err := forged.Verify(peer.SHA256()); !errors.Is(err, peer.ErrIDMismatch) {
		t.Fatalf("Verify = %v, want ErrIDMismatch", err)
	}
}

func TestVerifyFailsWhenAnyFieldChanges(t *testing.T) {
	for _, h := range []peer.Hasher{peer.SHA1(), peer.SHA256()} {
		_, base := newTestRecord(t, h, 1000, testAddrs...)
		type alteration struct {
			name   string
			change func(t testing.TB, r *peer.Record)
		}
		cases := []alteration{
			{"id-first-bit", func(t testing.TB, r *peer.Record) { r.ID = flipBit(t, r.ID, 0) }},
			{"id-last-bit", func(t testing.TB, r *peer.Record) { r.ID = flipBit(t, r.ID, r.ID.Bits()-1) }},
			{"id-zero", func(t testing.TB, r *peer.Record) { r.ID = peer.ID{} }},
			{"id-other-key-space", func(t testing.TB, r *peer.Record) {
				other := peer.SHA256()
				if h.Size() == other.Size() {
					other = peer.SHA1()
				}
				r.ID = other.Sum(r.PublicKey)
			}},
			{"seq-plus-one", func(t testing.TB, r *peer.Record) { r.Seq++ }},
			{"seq-minus-one", func(t testing.TB, r *peer.Record) { r.Seq-- }},
			{"seq-zero", func(t testing.TB, r *peer.Record) { r.Seq = 0 }},
			{"addrs-reordered", func(t testing.TB, r *peer.Record) { r.Addrs[0], r.Addrs[1] = r.Addrs[1], r.Addrs[0] }},
			{"addrs-reversed", func(t testing.TB, r *peer.Record) { slices.Reverse(r.Addrs) }},
			{"addr-added", func(t testing.TB, r *peer.Record) { r.Addrs = append(r.Addrs, mustAddr(t, "/ip4/10.0.0.1/tcp/1")) }},
			{"addr-duplicated", func(t testing.TB, r *peer.Record) { r.Addrs = append(r.Addrs, r.Addrs[0]) }},
			{"addr-removed-last", func(t testing.TB, r *peer.Record) { r.Addrs = r.Addrs[:len(r.Addrs)-1] }},
			{"addr-removed-first", func(t testing.TB, r *peer.Record) { r.Addrs = r.Addrs[1:] }},
			{"addrs-all-removed", func(t testing.TB, r *peer.Record) { r.Addrs = nil }},
			{"signature-empty", func(t testing.TB, r *peer.Record) { r.Signature = nil }},
			{"signature-truncated", func(t testing.TB, r *peer.Record) { r.Signature = r.Signature[:len(r.Signature)-1] }},
			{"signature-extended", func(t testing.TB, r *peer.Record) { r.Signature = append(r.Signature, 0) }},
			{"public-key-short", func(t testing.TB, r *peer.Record) { r.PublicKey = r.PublicKey[:31] }},
			{"public-key-nil", func(t testing.TB, r *peer.Record) { r.PublicKey = nil }},
		}
		for i := range base.Addrs {
			cases = append(cases, alteration{fmt.Sprintf("addr-%d-replaced", i), func(t testing.TB, r *peer.Record) {
				r.Addrs[i] = mustAddr(t, "/ip4/192.0.2.1/udp/9")
			}})
			cases = append(cases, alteration{fmt.Sprintf("addr-%d-port", i), func(t testing.TB, r *peer.Record) {
				// Same protocols, one byte different: the last byte of the address.
				b := r.Addrs[i].Bytes()
				b[len(b)-1] ^= 1
				a, err := ma.NewMultiaddrBytes(b)
				if err != nil {
					t.Fatalf("altered addr %d: %v", i, err)
				}
				r.Addrs[i] = a
			}})
		}
		for i := range base.PublicKey {
			cases = append(cases, alteration{fmt.Sprintf("public-key-byte-%02d", i), func(t testing.TB, r *peer.Record) { r.PublicKey[i] ^= 0x01 }})
		}
		for i := range base.Signature {
			cases = append(cases, alteration{fmt.Sprintf("signature-byte-%02d", i), func(t testing.TB, r *peer.Record) { r.Signature[i] ^= 0x80 }})
		}
		for _, tc := range cases {
			t.Run(h.Name()+"/"+tc.name, func(t *testing.T) {
				r := base.Clone()
				before := r.SigningBytes()
				tc.change(t, r)
				err := r.Verify(h)
				if err == nil {
					t.Fatal("Verify accepted the altered record")
				}
				if !errors.Is(err, peer.ErrBadSignature) && !errors.Is(err, peer.ErrIDMismatch) && !errors.Is(err, peer.ErrBadRecord) {
					t.Fatalf("Verify = %v, want one of the record sentinels", err)
				}
				if !strings.HasPrefix(err.Error(), "peer: ") {
					t.Fatalf("error %q lacks the package prefix", err)
				}
				if err := base.Verify(h); err != nil {
					t.Fatalf("altering a clone broke the original: %v (signing bytes changed: %v)", err, !bytes.Equal(before, base.SigningBytes()))
				}
			})
		}
	}
}

func flipBit(t testing.TB, id peer.ID, i int) peer.ID {
	t.Helper()
	b := id.Bytes()
	b[i/8] ^= 0x80 >> (i % 8)
	return mustID(t, b)
}

// The canonical signing format is part of the protocol: peers running
// different versions must agree on it. This golden value pins it.
func TestSigningBytesGolden(t *testing.T) {
	_, r := newTestRecord(t, peer.SHA256(), 42, "/ip4/127.0.0.1/udp/4001", "/ip6/::1/tcp/4002")
	want := strings.Join([]string{
		hex.EncodeToString([]byte("dhtkit/peer-record/v1\x00")), // domain tag
		"20", // ID length
		"56475aa75463474c0285df5dbf2bcab73da651358839e9b77481b2eab107708c", // ID
		"0020", // public key length
		"03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8", // public key
		"000000000000002a",           // Seq
		"0002",                       // address count
		"0009", "047f00000191020fa1", // /ip4/127.0.0.1/udp/4001
		"0014", "2900000000000000000000000000000001060fa2", // /ip6/::1/tcp/4002
	}, "")
	if got := hex.EncodeToString(r.SigningBytes()); got != want {
		t.Fatalf("SigningBytes changed:\n got %s\nwant %s", got, want)
	}
	const wantSig = "f33b3be73c12284943cedf41f274cc7980d39b677c7ff7bff3bb180cded303c7887aa6ee6709650a79a894b3fff593648bcde2df9a04143ea8ad91aee2d5f90f"
	if got := hex.EncodeToString(r.Signature); got != wantSig {
		t.Fatalf("signature changed:\n got %s\nwant %s", got, wantSig)
	}

	_, r1 := newTestRecord(t, peer.SHA1(), 42)
	want1 := hex.EncodeToString([]byte("dhtkit/peer-record/v1\x00")) +
		"14" + "fd81a6db64d6faf7f702c07971a82c25c1dc3c90" +
		"0020" + "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8" +
		"000000000000002a" + "0000"
	if got := hex.EncodeToString(r1.SigningBytes()); got != want1 {
		t.Fatalf("SHA-1 record SigningBytes changed:\n got %s\nwant %s", got, want1)
	}
}

func TestSigningBytesDependsOnlyOnFields(t *testing.T) {
	_, r := newTestRecord(t, peer.SHA256(), 5, testAddrs...)
	first := r.SigningBytes()
	if !bytes.Equal(first, r.SigningBytes()) {
		t.Fatal("SigningBytes is not deterministic")
	}
	// The signature is not covered.
	r2 := r.Clone()
	r2.Signature = []byte("something else")
	if !bytes.Equal(first, r2.SigningBytes()) {
		t.Fatal("SigningBytes depends on the signature")
	}
	// A record rebuilt field by field from fresh values signs the same bytes.
	rebuilt := &peer.Record{
		ID:        mustID(t, r.ID.Bytes()),
		PublicKey: bytes.Clone(r.PublicKey),
		Addrs:     mustAddrs(t, testAddrs...),
		Seq:       5,
	}
	if !bytes.Equal(first, rebuilt.SigningBytes()) {
		t.Fatal("equal fields give different SigningBytes")
	}
	// Calling it does not change the record.
	if err := r.Verify(peer.SHA256()); err != nil {
		t.Fatal(err)
	}
}

// Length prefixes keep the encoding unambiguous: moving bytes from one
// address to its neighbour changes the signed bytes.
func TestSigningBytesSeparatesAddresses(t *testing.T) {
	a := &peer.Record{Addrs: mustAddrs(t, "/ip4/1.2.3.4/tcp/1", "/ip4/1.2.3.4/tcp/1/ip4/1.2.3.4/tcp/1")}
	b := &peer.Record{Addrs: mustAddrs(t, "/ip4/1.2.3.4/tcp/1/ip4/1.2.3.4/tcp/1", "/ip4/1.2.3.4/tcp/1")}
	c := &peer.Record{Addrs: mustAddrs(t, "/ip4/1.2.3.4/tcp/1/ip4/1.2.3.4/tcp/1/ip4/1.2.3.4/tcp/1")}
	if bytes.Equal(a.SigningBytes(), b.SigningBytes()) || bytes.Equal(a.SigningBytes(), c.SigningBytes()) {
		t.Fatal("different address lists give the same signing bytes")
	}
}

func TestRecordAddressLimit(t *testing.T) {
	id, err := peer.IdentityFromSeed(fixedSeed())
	if err != nil {
		t.Fatal(err)
	}
	addrs := make([]ma.Multiaddr, peer.MaxRecordAddrs+1)
	for i := range addrs {
		addrs[i] = mustAddr(t, fmt.Sprintf("/ip4/10.0.0.%d/udp/4001", i+1))
	}
	r, err := peer.NewRecord(id, peer.SHA256(), 1, addrs[:peer.MaxRecordAddrs]...)
	if err != nil {
		t.Fatalf("NewRecord with %d addresses: %v", peer.MaxRecordAddrs, err)
	}
	if err := r.Verify(peer.SHA256()); err != nil {
		t.Fatalf("Verify with %d addresses: %v", peer.MaxRecordAddrs, err)
	}
	if _, err := peer.NewRecord(id, peer.SHA256(), 1, addrs...); !errors.Is(err, peer.ErrBadRecord) {
		t.Fatalf("NewRecord with %d addresses = %v, want ErrBadRecord", len(addrs), err)
	}
	// A record that was signed over too many addresses is still refused.
	r.Addrs = addrs
	r.Signature = id.Sign(r.SigningBytes())
	if err := r.Verify(peer.SHA256()); !errors.Is(err, peer.ErrBadRecord) {
		t.Fatalf("Verify with %d addresses = %v, want ErrBadRecord", len(addrs), err)
	}
}

func TestRecordRejectsEmptyAndOversizedAddresses(t *testing.T) {
	id, err := peer.IdentityFromSeed(fixedSeed())
	if err != nil {
		t.Fatal(err)
	}
	huge := mustAddr(t, "/unix/"+strings.Repeat("a", 1<<16))
	for name, a := range map[string]ma.Multiaddr{"empty": nil, "over 64 KiB": huge} {
		t.Run(name, func(t *testing.T) {
			if _, err := peer.NewRecord(id, peer.SHA256(), 1, a); !errors.Is(err, peer.ErrBadRecord) {
				t.Fatalf("NewRecord = %v, want ErrBadRecord", err)
			}
			r := &peer.Record{ID: id.ID(peer.SHA256()), PublicKey: id.PublicKey(), Addrs: []ma.Multiaddr{a}}
			r.Signature = id.Sign(r.SigningBytes())
			if err := r.Verify(peer.SHA256()); !errors.Is(err, peer.ErrBadRecord) {
				t.Fatalf("Verify = %v, want ErrBadRecord", err)
			}
		})
	}
}

func TestCloneIsDeep(t *testing.T) {
	_, r := newTestRecord(t, peer.SHA256(), 3, testAddrs...)
	want := r.SigningBytes()
	wantSig := bytes.Clone(r.Signature)
	c := r.Clone()
	if !bytes.Equal(c.SigningBytes(), want) || !bytes.Equal(c.Signature, wantSig) {
		t.Fatal("clone differs from the original")
	}
	c.PublicKey[0] ^= 0xff
	c.Signature[0] ^= 0xff
	c.Addrs[0] = mustAddr(t, "/ip4/10.9.9.9/udp/1")
	c.Addrs[1][0] = c.Addrs[2][0] // write into a multiaddr's own components
	c.ID = peer.ID{}
	c.Seq = 99
	if !bytes.Equal(r.SigningBytes(), want) || !bytes.Equal(r.Signature, wantSig) {
		t.Fatal("changing the clone changed the original")
	}
	if err := r.Verify(peer.SHA256()); err != nil {
		t.Fatalf("original no longer verifies after the clone changed: %v", err)
	}
	var empty peer.Record
	if c := empty.Clone(); c.Addrs != nil || c.PublicKey != nil || c.Signature != nil {
		t.Fatalf("clone of an empty record is not empty: %+v", c)
	}
}
