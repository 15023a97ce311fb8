package trust_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
)

var hashers = []peer.Hasher{peer.SHA256(), peer.SHA1()}

// sentinels are the three Verify errors; a refusal must match exactly one.
var sentinels = []error{trust.ErrMalformed, trust.ErrKeyMismatch, trust.ErrBadSignature}

func seedIdentity(t testing.TB, b byte) *peer.Identity {
	t.Helper()
	id, err := peer.IdentityFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func mustMutable(t testing.TB, id *peer.Identity, h peer.Hasher, salt []byte, seq uint64, value []byte) *trust.Value {
	t.Helper()
	v, err := trust.NewMutable(id, h, salt, seq, value)
	if err != nil {
		t.Fatalf("NewMutable: %v", err)
	}
	return v
}

func mustPlain(t testing.TB, id *peer.Identity, key peer.ID, seq uint64, value []byte) *trust.Value {
	t.Helper()
	v, err := trust.NewPlain(id, key, seq, value)
	if err != nil {
		t.Fatalf("NewPlain: %v", err)
	}
	return v
}

// wantOnly fails unless err matches want and none of the other sentinels, and
// carries the package prefix.
func wantOnly(t *testing.T, err, want error) {
	t.Helper()
	if err == nil {
		t.Fatalf("Verify accepted the value, want %v", want)
	}
	for _, s := range sentinels {
		if got := errors.Is(err, s); got != (s == want) {
			t.Fatalf("Verify = %v: errors.Is(err, %v) = %v, want only %v", err, s, got, want)
		}
	}
	if !strings.HasPrefix(err.Error(), "trust: ") {
		t.Fatalf("error %q lacks the package prefix", err)
	}
}

func TestNewValuesVerifyUnderTheirHasher(t *testing.T) {
	for _, h := range hashers {
		t.Run(h.Name(), func(t *testing.T) {
			id := seedIdentity(t, 1)
			imm := trust.NewImmutable(h, []byte("chunk"))
			mut := mustMutable(t, id, h, []byte("salt"), 7, []byte("profile"))
			unsalted := mustMutable(t, id, h, nil, 1, []byte("profile"))
			plain := mustPlain(t, id, h.Sum([]byte("topic")), 3, []byte("note"))
			empty := mustPlain(t, id, h.Sum([]byte("topic")), 0, nil)
			for _, c := range []struct {
				name string
				v    *trust.Value
				kind trust.Kind
			}{
				{"immutable", imm, trust.Immutable},
				{"mutable", mut, trust.Mutable},
				{"mutable without salt", unsalted, trust.Mutable},
				{"plain", plain, trust.Plain},
				{"plain with empty value", empty, trust.Plain},
			} {
				if err := c.v.Verify(h); err != nil {
					t.Errorf("%s: Verify: %v", c.name, err)
				}
				if c.v.Kind != c.kind {
					t.Errorf("%s: Kind = %v, want %v", c.name, c.v.Kind, c.kind)
				}
				if got := trust.KindOf(h, c.v.Key, c.v.Publisher, c.v.Salt); got != c.kind {
					t.Errorf("%s: KindOf = %v, want %v", c.name, got, c.kind)
				}
				if c.v.Key.Len() != h.Size() {
					t.Errorf("%s: key is %d bytes, want %d", c.name, c.v.Key.Len(), h.Size())
				}
			}
			if imm.Key != trust.ImmutableKey(h, []byte("chunk")) || imm.Publisher != nil || imm.Signature != nil {
				t.Errorf("immutable fields: %+v", imm)
			}
			if mut.Key != trust.MutableKey(h, id.PublicKey(), []byte("salt")) || !mut.Publisher.Equal(id.PublicKey()) ||
				mut.Seq != 7 || string(mut.Salt) != "salt" || string(mut.Value) != "profile" {
				t.Errorf("mutable fields: %+v", mut)
			}
			if plain.Key != h.Sum([]byte("topic")) || !plain.Publisher.Equal(id.PublicKey()) || plain.Seq != 3 || len(plain.Salt) != 0 {
				t.Errorf("plain fields: %+v", plain)
			}
		})
	}
}

func TestVerifyUnderAnotherHasherIsMalformed(t *testing.T) {
	id := seedIdentity(t, 1)
	sha1, sha256 := peer.SHA1(), peer.SHA256()
	for _, v := range []*trust.Value{
		trust.NewImmutable(sha1, []byte("chunk")),
		mustMutable(t, id, sha1, []byte("s"), 1, []byte("x")),
		mustPlain(t, id, sha1.Sum([]byte("k")), 1, []byte("x")),
	} {
		wantOnly(t, v.Verify(sha256), trust.ErrMalformed)
	}
}

func TestConstructorsCopyTheirInputs(t *testing.T) {
	h := peer.SHA256()
	id := seedIdentity(t, 1)
	value, salt := []byte("value"), []byte("salt")
	imm := trust.NewImmutable(h, value)
	mut := mustMutable(t, id, h, salt, 1, value)
	plain := mustPlain(t, id, h.Sum([]byte("k")), 1, value)
	value[0], salt[0] = 'X', 'X'
	for _, v := range []*trust.Value{imm, mut, plain} {
		if err := v.Verify(h); err != nil {
			t.Fatalf("%v value changed with the caller's slice: %v", v.Kind, err)
		}
	}
}

// TestSigningBytesLayout pins the signed layout byte for byte: changing it
// breaks every signature already published.
func TestSigningBytesLayout(t *testing.T) {
	key, err := peer.IDFromBytes([]byte{
		0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
		0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13,
	})
	if err != nil {
		t.Fatal(err)
	}
	v := &trust.Value{
		Kind: trust.Mutable, Key: key, Value: []byte("hi"), Salt: []byte("ab"), Seq: 0x0102030405060708,
		Publisher: bytes.Repeat([]byte{0xee}, 32), Signature: bytes.Repeat([]byte{0xff}, 64), // not signed
	}
	want := strings.Join([]string{
		hex.EncodeToString([]byte("dhtkit/value/v1\x00")), // domain tag
		"02", // kind: Mutable
		"14", // key length: 20
		"000102030405060708090a0b0c0d0e0f10111213", // key
		"0002",             // salt length, big-endian uint16
		"6162",             // salt "ab"
		"0102030405060708", // seq, big-endian uint64
		"00000002",         // value length, big-endian uint32
		"6869",             // value "hi"
	}, "")
	if got := hex.EncodeToString(v.SigningBytes()); got != want {
		t.Fatalf("SigningBytes layout changed:\n got %s\nwant %s", got, want)
	}

	// The publisher and signature are not in the signed bytes (ed25519
	// binds the key itself); an empty salt and value still carry lengths.
	v.Kind, v.Salt, v.Value, v.Seq = trust.Plain, nil, nil, 0
	v.Publisher, v.Signature = nil, nil
	want = hex.EncodeToString([]byte("dhtkit/value/v1\x00")) + "03" + "14" +
		"000102030405060708090a0b0c0d0e0f10111213" + "0000" + "0000000000000000" + "00000000"
	if got := hex.EncodeToString(v.SigningBytes()); got != want {
		t.Fatalf("SigningBytes of an empty plain value:\n got %s\nwant %s", got, want)
	}
}

// TestSignaturesAreStable pins a mutable key and a signature made from a
// fixed seed, so that a change to MutableKey, SigningBytes or the kind
// numbering shows up as a failing test rather than as a network split. The
// expected strings were computed apart from this package, with crypto/sha256
// and crypto/ed25519 over the layout TestSigningBytesLayout spells out.
func TestSignaturesAreStable(t *testing.T) {
	id := seedIdentity(t, 1)
	v := mustMutable(t, id, peer.SHA256(), []byte("salt"), 1, []byte("value"))
	const (
		wantKey = "988c1c604a84ed54d0a413a03590514d779fc3ade1e5f10a33d57d505ae34d15"
		wantSig = "dec47dfd4d89008f592659a40750cbc7164f55a52e1c211f7d0c12491869fca0" +
			"2ba6078faa483f61ae4130f424cfc9e2ea4bdb3702dd83063b17a00c2d94c90c"
	)
	if got := v.Key.String(); got != wantKey {
		t.Errorf("MutableKey changed: %s", got)
	}
	if got := hex.EncodeToString(v.Signature); got != wantSig {
		t.Errorf("signature changed: %s", got)
	}
}

// tamper is one field changed after signing.
type tamper struct {
	field  string
	change func(v *trust.Value)
	want   error
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

func otherKey(id peer.ID) peer.ID {
	b := id.Bytes()
	b[0] ^= 0x80
	out, _ := peer.IDFromBytes(b)
	return out
}

func TestEverySingleFieldTamperIsRefused(t *testing.T) {
	other := seedIdentity(t, 2).PublicKey()
	for _, h := range hashers {
		id := seedIdentity(t, 1)
		cases := map[string]struct {
			make    func() *trust.Value
			tampers []tamper
		}{
			"immutable": {
				make: func() *trust.Value { return trust.NewImmutable(h, []byte("chunk")) },
				tampers: []tamper{
					{"key", func(v *trust.Value) { v.Key = otherKey(v.Key) }, trust.ErrKeyMismatch},
					{"value byte", func(v *trust.Value) { v.Value = flip(v.Value, 0) }, trust.ErrKeyMismatch},
					{"value appended", func(v *trust.Value) { v.Value = append(v.Value, 0) }, trust.ErrKeyMismatch},
					{"publisher added", func(v *trust.Value) { v.Publisher = other }, trust.ErrMalformed},
					{"publisher of a bad size", func(v *trust.Value) { v.Publisher = other[:31] }, trust.ErrMalformed},
					{"salt added", func(v *trust.Value) { v.Salt = []byte("s") }, trust.ErrMalformed},
					{"seq", func(v *trust.Value) { v.Seq = 1 }, trust.ErrMalformed},
					{"signature added", func(v *trust.Value) { v.Signature = make([]byte, 64) }, trust.ErrMalformed},
					{"kind plain", func(v *trust.Value) { v.Kind = trust.Plain }, trust.ErrMalformed},
					{"kind mutable", func(v *trust.Value) { v.Kind = trust.Mutable }, trust.ErrMalformed},
					{"kind zero", func(v *trust.Value) { v.Kind = 0 }, trust.ErrMalformed},
					{"key of another key space", func(v *trust.Value) { v.Key = otherSpace(h).Sum(v.Value) }, trust.ErrMalformed},
					{"no key", func(v *trust.Value) { v.Key = peer.ID{} }, trust.ErrMalformed},
				},
			},
			"mutable": {
				make: func() *trust.Value { return mustMutable(t, id, h, []byte("salt"), 5, []byte("profile")) },
				tampers: []tamper{
					// A mutable key is bound to publisher and salt: changing
					// any of them makes the fields say "plain".
					{"key", func(v *trust.Value) { v.Key = otherKey(v.Key) }, trust.ErrMalformed},
					{"value byte", func(v *trust.Value) { v.Value = flip(v.Value, 0) }, trust.ErrBadSignature},
					{"publisher", func(v *trust.Value) { v.Publisher = other }, trust.ErrMalformed},
					{"publisher byte", func(v *trust.Value) { v.Publisher = flip(v.Publisher, 0) }, trust.ErrMalformed},
					{"publisher of a bad size", func(v *trust.Value) { v.Publisher = v.Publisher[:31] }, trust.ErrMalformed},
					{"publisher removed", func(v *trust.Value) { v.Publisher = nil }, trust.ErrMalformed},
					{"salt byte", func(v *trust.Value) { v.Salt = flip(v.Salt, 0) }, trust.ErrMalformed},
					{"salt removed", func(v *trust.Value) { v.Salt = nil }, trust.ErrMalformed},
					{"seq", func(v *trust.Value) { v.Seq++ }, trust.ErrBadSignature},
					{"seq rolled back", func(v *trust.Value) { v.Seq-- }, trust.ErrBadSignature},
					{"signature byte", func(v *trust.Value) { v.Signature = flip(v.Signature, 10) }, trust.ErrBadSignature},
					{"signature truncated", func(v *trust.Value) { v.Signature = v.Signature[:63] }, trust.ErrBadSignature},
					{"signature removed", func(v *trust.Value) { v.Signature = nil }, trust.ErrBadSignature},
					{"kind plain", func(v *trust.Value) { v.Kind = trust.Plain }, trust.ErrMalformed},
					{"kind immutable", func(v *trust.Value) { v.Kind = trust.Immutable }, trust.ErrMalformed},
				},
			},
			"plain": {
				make: func() *trust.Value { return mustPlain(t, id, h.Sum([]byte("topic")), 5, []byte("note")) },
				tampers: []tamper{
					{"key", func(v *trust.Value) { v.Key = otherKey(v.Key) }, trust.ErrBadSignature},
					{"value byte", func(v *trust.Value) { v.Value = flip(v.Value, 3) }, trust.ErrBadSignature},
					{"value removed", func(v *trust.Value) { v.Value = nil }, trust.ErrBadSignature},
					{"publisher", func(v *trust.Value) { v.Publisher = other }, trust.ErrBadSignature},
					{"publisher byte", func(v *trust.Value) { v.Publisher = flip(v.Publisher, 0) }, trust.ErrBadSignature},
					{"publisher of a bad size", func(v *trust.Value) { v.Publisher = append(bytes.Clone(v.Publisher), 0) }, trust.ErrMalformed},
					{"publisher removed", func(v *trust.Value) { v.Publisher = nil }, trust.ErrMalformed},
					{"salt added", func(v *trust.Value) { v.Salt = []byte("s") }, trust.ErrMalformed},
					{"seq", func(v *trust.Value) { v.Seq++ }, trust.ErrBadSignature},
					{"signature byte", func(v *trust.Value) { v.Signature = flip(v.Signature, 63) }, trust.ErrBadSignature},
					{"signature of another value", func(v *trust.Value) {
						v.Signature = mustPlain(t, id, v.Key, v.Seq+1, v.Value).Signature
					}, trust.ErrBadSignature},
					{"kind mutable", func(v *trust.Value) { v.Kind = trust.Mutable }, trust.ErrMalformed},
					{"kind immutable", func(v *trust.Value) { v.Kind = trust.Immutable }, trust.ErrMalformed},
				},
			},
		}
		for name, c := range cases {
			for _, tc := range c.tampers {
				t.Run(h.Name()+"/"+name+"/"+tc.field, func(t *testing.T) {
					v := c.make()
					if err := v.Verify(h); err != nil {
						t.Fatalf("untampered value: %v", err)
					}
					tc.change(v)
					wantOnly(t, v.Verify(h), tc.want)
				})
			}
		}
	}
}

func otherSpace(h peer.Hasher) peer.Hasher {
	if h.Size() == peer.IDLen160 {
		return peer.SHA256()
	}
	return peer.SHA1()
}

// TestResignedTampersAreStillRefused checks the rules that a publisher
// cannot get round by signing again: the kind is derived, not declared.
func TestResignedTampersAreStillRefused(t *testing.T) {
	for _, h := range hashers {
		t.Run(h.Name(), func(t *testing.T) {
			id := seedIdentity(t, 1)
			resign := func(v *trust.Value) *trust.Value {
				v.Signature = id.Sign(v.SigningBytes())
				return v
			}

			// A mutable value whose salt changed is no longer mutable: its
			// key is not the publisher's key under the new salt.
			v := mustMutable(t, id, h, []byte("salt"), 1, []byte("x"))
			v.Salt = []byte("other")
			if k := trust.KindOf(h, v.Key, v.Publisher, v.Salt); k != trust.Plain {
				t.Fatalf("KindOf a mutable value with a changed salt = %v, want plain", k)
			}
			wantOnly(t, resign(v).Verify(h), trust.ErrMalformed)
			v.Kind = trust.Plain // and calling it plain does not help: plain values carry no salt
			wantOnly(t, resign(v).Verify(h), trust.ErrMalformed)

			// A plain value with a salt.
			p := mustPlain(t, id, h.Sum([]byte("k")), 1, []byte("x"))
			p.Salt = []byte("s")
			wantOnly(t, resign(p).Verify(h), trust.ErrMalformed)

			// A mutable value that calls itself plain.
			m := mustMutable(t, id, h, nil, 1, []byte("x"))
			m.Kind = trust.Plain
			wantOnly(t, resign(m).Verify(h), trust.ErrMalformed)

			// A plain value under a key that is not the publisher's mutable
			// key but claims to be mutable.
			q := mustPlain(t, id, h.Sum([]byte("k")), 1, []byte("x"))
			q.Kind = trust.Mutable
			wantOnly(t, resign(q).Verify(h), trust.ErrMalformed)

			// A mutable value under another publisher's key, signed by the
			// publisher it names: the key was not made from that publisher.
			o := mustMutable(t, seedIdentity(t, 2), h, []byte("salt"), 1, []byte("x"))
			o.Publisher = id.PublicKey()
			wantOnly(t, resign(o).Verify(h), trust.ErrMalformed)

			// NewPlain under the publisher's own unsalted mutable key: the
			// fields say mutable, so the value is refused rather than being
			// one thing to its signature and another to KindOf. (NewPlain
			// has no hasher to notice; this pins that Verify does.)
			own := mustPlain(t, id, trust.MutableKey(h, id.PublicKey(), nil), 1, []byte("x"))
			wantOnly(t, own.Verify(h), trust.ErrMalformed)
		})
	}
}

func TestUnsignedValueUnderAnyOtherKeyIsKeyMismatch(t *testing.T) {
	for _, h := range hashers {
		t.Run(h.Name(), func(t *testing.T) {
			for _, key := range []peer.ID{h.Sum([]byte("not the value")), h.Sum(nil), trust.MutableKey(h, seedIdentity(t, 1).PublicKey(), nil)} {
				v := &trust.Value{Kind: trust.Immutable, Key: key, Value: []byte("value")}
				wantOnly(t, v.Verify(h), trust.ErrKeyMismatch)
			}
		})
	}
}

func TestSaltSizeIsBounded(t *testing.T) {
	h := peer.SHA256()
	id := seedIdentity(t, 1)
	atMax := bytes.Repeat([]byte{'s'}, trust.MaxSaltSize)
	v := mustMutable(t, id, h, atMax, 1, []byte("x"))
	if err := v.Verify(h); err != nil {
		t.Fatalf("a %d-byte salt: %v", trust.MaxSaltSize, err)
	}

	long := bytes.Repeat([]byte{'s'}, trust.MaxSaltSize+1)
	if v, err := trust.NewMutable(id, h, long, 1, []byte("x")); !errors.Is(err, trust.ErrMalformed) || v != nil {
		t.Fatalf("NewMutable with a %d-byte salt = %v, %v; want nil, ErrMalformed", len(long), v, err)
	}
	// Made by hand and signed, it is still refused.
	forged := &trust.Value{
		Kind: trust.Mutable, Key: trust.MutableKey(h, id.PublicKey(), long), Value: []byte("x"),
		Publisher: id.PublicKey(), Salt: long, Seq: 1,
	}
	forged.Signature = id.Sign(forged.SigningBytes())
	wantOnly(t, forged.Verify(h), trust.ErrMalformed)
}

func TestNewPlainRefusesTheZeroKey(t *testing.T) {
	v, err := trust.NewPlain(seedIdentity(t, 1), peer.ID{}, 1, []byte("x"))
	if !errors.Is(err, trust.ErrMalformed) || v != nil {
		t.Fatalf("NewPlain with no key = %v, %v; want nil, ErrMalformed", v, err)
	}
}

func TestCloneIsDeep(t *testing.T) {
	h := peer.SHA256()
	v := mustMutable(t, seedIdentity(t, 1), h, []byte("salt"), 3, []byte("value"))
	c := v.Clone()
	if c == v || !c.Same(v) || !v.Same(c) {
		t.Fatal("a clone is not the same version as its original")
	}
	c.Value[0], c.Salt[0], c.Publisher[0], c.Signature[0] = 'X', 'X', c.Publisher[0]^1, c.Signature[0]^1
	c.Key, c.Seq, c.Kind = otherKey(c.Key), 4, trust.Plain
	if err := v.Verify(h); err != nil {
		t.Fatalf("changing the clone changed the original: %v", err)
	}
	if string(v.Value) != "value" || string(v.Salt) != "salt" || v.Seq != 3 || v.Kind != trust.Mutable {
		t.Fatalf("changing the clone changed the original: %+v", v)
	}

	// Appending to a clone's slice cannot reach the original's array either.
	imm := trust.NewImmutable(h, make([]byte, 4, 16))
	ic := imm.Clone()
	ic.Value = append(ic.Value, 1)
	_ = append(imm.Value, 2)
	if ic.Value[4] != 1 {
		t.Fatal("a clone's value shares spare capacity with its original")
	}

	// Absent fields stay absent.
	if ic.Publisher != nil || ic.Salt != nil || ic.Signature != nil {
		t.Fatalf("clone of an immutable value grew fields: %+v", ic)
	}
}

func TestSame(t *testing.T) {
	h := peer.SHA256()
	id := seedIdentity(t, 1)
	base := mustMutable(t, id, h, []byte("salt"), 3, []byte("value"))
	if !base.Same(base) {
		t.Fatal("a value is not the same as itself")
	}
	// A value rebuilt from the same inputs is the same version (ed25519
	// signatures are deterministic).
	if !base.Same(mustMutable(t, id, h, []byte("salt"), 3, []byte("value"))) {
		t.Fatal("the same inputs made a different version")
	}
	// nil and empty slices are the same.
	a := trust.NewImmutable(h, nil)
	b := trust.NewImmutable(h, []byte{})
	if !a.Same(b) {
		t.Fatal("nil and empty values differ")
	}
	for field, change := range map[string]func(v *trust.Value){
		"kind":      func(v *trust.Value) { v.Kind = trust.Plain },
		"key":       func(v *trust.Value) { v.Key = otherKey(v.Key) },
		"value":     func(v *trust.Value) { v.Value = flip(v.Value, 0) },
		"publisher": func(v *trust.Value) { v.Publisher = seedIdentity(t, 2).PublicKey() },
		"salt":      func(v *trust.Value) { v.Salt = flip(v.Salt, 0) },
		"seq":       func(v *trust.Value) { v.Seq++ },
		"signature": func(v *trust.Value) { v.Signature = flip(v.Signature, 0) },
	} {
		o := base.Clone()
		change(o)
		if base.Same(o) || o.Same(base) {
			t.Errorf("values differing in %s are the Same", field)
		}
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[trust.Kind]string{
		trust.Immutable: "immutable", trust.Mutable: "mutable", trust.Plain: "plain", 0: "unknown", 99: "unknown",
	} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want)
		}
	}
}
