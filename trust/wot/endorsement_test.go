package wot_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
	"github.com/dhtkit/dhtkit/trust/wot"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func identity(t testing.TB, seed int) *peer.Identity {
	t.Helper()
	s := make([]byte, ed25519.SeedSize)
	s[0], s[1] = byte(seed), byte(seed>>8)
	s[31] = 0xa5
	id, err := peer.IdentityFromSeed(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestEndorsementRoundTrip(t *testing.T) {
	for _, h := range []peer.Hasher{peer.SHA256(), peer.SHA1()} {
		t.Run(h.Name(), func(t *testing.T) {
			alice, bob := identity(t, 1), identity(t, 2)
			expires := time.Date(2030, 6, 1, 12, 30, 15, 999, time.FixedZone("x", 3600))
			v, err := wot.NewEndorsement(alice, h, bob.ID(h), 2, expires, 9)
			if err != nil {
				t.Fatal(err)
			}
			if v.Kind != trust.Plain || v.Key != wot.EndorsementKey(h, bob.ID(h)) || v.Seq != 9 {
				t.Fatalf("endorsement value: kind %v, key %v, seq %d", v.Kind, v.Key.Short(), v.Seq)
			}
			if len(v.Value) != wot.EndorsementSize(h.Size()) {
				t.Fatalf("value is %d bytes, want %d", len(v.Value), wot.EndorsementSize(h.Size()))
			}
			e, err := wot.ParseEndorsement(h, v)
			if err != nil {
				t.Fatalf("ParseEndorsement: %v", err)
			}
			if !e.Endorser.Equal(alice.PublicKey()) || e.EndorserID(h) != alice.ID(h) || e.Endorsee != bob.ID(h) ||
				e.Level != 2 || e.Seq != 9 {
				t.Fatalf("parsed %+v", e)
			}
			// Kept to the second, returned in UTC.
			if wantExp := time.Date(2030, 6, 1, 11, 30, 15, 0, time.UTC); !e.Expires.Equal(wantExp) || e.Expires.Location() != time.UTC {
				t.Fatalf("expires %v, want %v", e.Expires, wantExp)
			}
			if e.Expired(e.Expires.Add(-time.Second)) || !e.Expired(e.Expires) {
				t.Fatal("Expired does not turn at the expiry")
			}
			// The parsed endorser is a copy.
			e.Endorser[0] ^= 1
			if err := v.Verify(h); err != nil {
				t.Fatal("the parsed endorser aliases the value's publisher")
			}

			// No expiry, and a revocation.
			v, err = wot.NewEndorsement(alice, h, bob.ID(h), 0, time.Time{}, 10)
			if err != nil {
				t.Fatal(err)
			}
			e, err = wot.ParseEndorsement(h, v)
			if err != nil || !e.Expires.IsZero() || e.Level != 0 || e.Expired(epoch.AddDate(100, 0, 0)) {
				t.Fatalf("revocation without expiry: %+v, %v", e, err)
			}
		})
	}
}

// TestEndorsementLayout pins the value bytes: changing them splits the web
// of trust between versions.
func TestEndorsementLayout(t *testing.T) {
	h := peer.SHA1()
	endorsee, err := peer.IDFromBytes(bytes.Repeat([]byte{0xab}, 20))
	if err != nil {
		t.Fatal(err)
	}
	v, err := wot.NewEndorsement(identity(t, 1), h, endorsee, 3, time.Unix(0x01020304, 0), 1)
	if err != nil {
		t.Fatal(err)
	}
	wantHex := hex.EncodeToString([]byte("dhtkit/endorsement/v1\x00")) + // tag
		"14" + // endorsee length
		strings.Repeat("ab", 20) + // endorsee
		"03" + // level
		"0000000001020304" // expiry, unix seconds
	if got := hex.EncodeToString(v.Value); got != wantHex {
		t.Fatalf("endorsement bytes changed:\n got %s\nwant %s", got, wantHex)
	}
	wantKey := h.Sum(append([]byte("dhtkit/endorsements/v1\x00"), endorsee.Bytes()...))
	if v.Key != wantKey || wot.EndorsementKey(h, endorsee) != wantKey {
		t.Fatalf("endorsement key %v, want %v", v.Key, wantKey)
	}
	if wantKey == h.Sum(endorsee.Bytes()) {
		t.Fatal("the endorsement key is the plain hash of the endorsee")
	}
}

func TestNewEndorsementRefusesBadInput(t *testing.T) {
	h := peer.SHA256()
	alice, bob := identity(t, 1), identity(t, 2)
	for name, c := range map[string]struct {
		endorser *peer.Identity
		endorsee peer.ID
		level    int
		expires  time.Time
	}{
		"no endorser":         {nil, bob.ID(h), 1, time.Time{}},
		"itself":              {alice, alice.ID(h), 1, time.Time{}},
		"negative level":      {alice, bob.ID(h), -1, time.Time{}},
		"level above 255":     {alice, bob.ID(h), 256, time.Time{}},
		"endorsee of SHA-1":   {alice, bob.ID(peer.SHA1()), 1, time.Time{}},
		"no endorsee":         {alice, peer.ID{}, 1, time.Time{}},
		"expiry at the epoch": {alice, bob.ID(h), 1, time.Unix(0, 0)},
		"expiry before 1970":  {alice, bob.ID(h), 1, time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		v, err := wot.NewEndorsement(c.endorser, h, c.endorsee, c.level, c.expires, 1)
		if !errors.Is(err, wot.ErrBadEndorsement) || v != nil {
			t.Errorf("%s: NewEndorsement = %v, %v; want ErrBadEndorsement", name, v, err)
		} else if !strings.HasPrefix(err.Error(), "wot: ") {
			t.Errorf("%s: error %q lacks the package prefix", name, err)
		}
	}
	if _, err := wot.NewEndorsement(alice, h, bob.ID(h), wot.MaxEncodableLevel, time.Time{}, 1); err != nil {
		t.Errorf("level %d: %v", wot.MaxEncodableLevel, err)
	}
}

func TestParseEndorsementRefusesWhatIsNotOne(t *testing.T) {
	h := peer.SHA256()
	alice, bob, carol := identity(t, 1), identity(t, 2), identity(t, 3)
	good, err := wot.NewEndorsement(alice, h, bob.ID(h), 2, time.Time{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	// plainWith is alice's correctly signed plain value under key holding b.
	plainWith := func(key peer.ID, b []byte) *trust.Value {
		v, err := trust.NewPlain(alice, key, 1, b)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	bobKey := wot.EndorsementKey(h, bob.ID(h))
	mutate := func(f func(b []byte) []byte) *trust.Value { return plainWith(bobKey, f(bytes.Clone(good.Value))) }
	tagLen := len("dhtkit/endorsement/v1\x00")

	mutable, err := trust.NewMutable(alice, h, nil, 1, good.Value)
	if err != nil {
		t.Fatal(err)
	}
	forged := good.Clone()
	forged.Publisher = carol.PublicKey() // signed by alice, claimed by carol

	for name, c := range map[string]struct {
		v    *trust.Value
		also error // a trust sentinel the error must wrap too
	}{
		"nil":                     {nil, nil},
		"forged publisher":        {forged, trust.ErrBadSignature},
		"tampered level":          {func() *trust.Value { v := good.Clone(); v.Value[tagLen+1+32] = 3; return v }(), trust.ErrBadSignature},
		"immutable":               {trust.NewImmutable(h, good.Value), nil},
		"mutable":                 {mutable, nil},
		"under another's key":     {plainWith(wot.EndorsementKey(h, carol.ID(h)), good.Value), nil},
		"under the endorsee's ID": {plainWith(bob.ID(h), good.Value), nil},
		"empty":                   {plainWith(bobKey, nil), nil},
		"truncated":               {mutate(func(b []byte) []byte { return b[:len(b)-1] }), nil},
		"trailing byte":           {mutate(func(b []byte) []byte { return append(b, 0) }), nil},
		"another tag":             {mutate(func(b []byte) []byte { b[0] = 'D'; return b }), nil},
		"another version":         {mutate(func(b []byte) []byte { b[tagLen-2] = '2'; return b }), nil},
		"SHA-1 ID length":         {mutate(func(b []byte) []byte { b[tagLen] = 20; return b }), nil},
		"negative expiry":         {mutate(func(b []byte) []byte { b[len(b)-8] = 0x80; return b }), nil},
		"of its own endorser": {func() *trust.Value {
			b := bytes.Clone(good.Value)
			copy(b[tagLen+1:], alice.ID(h).Bytes())
			return plainWith(wot.EndorsementKey(h, alice.ID(h)), b)
		}(), nil},
	} {
		e, err := wot.ParseEndorsement(h, c.v)
		if !errors.Is(err, wot.ErrBadEndorsement) {
			t.Errorf("%s: ParseEndorsement = %+v, %v; want ErrBadEndorsement", name, e, err)
			continue
		}
		if c.also != nil && !errors.Is(err, c.also) {
			t.Errorf("%s: %v does not wrap %v", name, err, c.also)
		}
		if !strings.HasPrefix(err.Error(), "wot: ") {
			t.Errorf("%s: error %q lacks the package prefix", name, err)
		}
		if e.Endorser != nil || !e.Endorsee.IsZero() {
			t.Errorf("%s: a refused endorsement came back filled: %+v", name, e)
		}
	}
	// Under the other hasher the key space differs.
	if _, err := wot.ParseEndorsement(peer.SHA1(), good); !errors.Is(err, trust.ErrMalformed) {
		t.Errorf("parsed under SHA-1: %v, want trust.ErrMalformed", err)
	}
}
