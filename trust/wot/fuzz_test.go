package wot

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
)

// FuzzParseEndorsement feeds arbitrary value bytes to the decoder, then
// signs them as a plain value under the key the bytes name, so that
// ParseEndorsement runs all the way through. It checks that nothing panics,
// that every refusal wraps ErrBadEndorsement, and that what is accepted is
// the one encoding of what it says: encoding it again gives the same bytes.
func FuzzParseEndorsement(f *testing.F) {
	h256, h1 := peer.SHA256(), peer.SHA1()
	id, err := peer.IdentityFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	if err != nil {
		f.Fatal(err)
	}
	for _, h := range []peer.Hasher{h256, h1} {
		endorsee := h.Sum([]byte("endorsee"))
		f.Add(encode(endorsee, 3, 1_900_000_000), uint64(1), h.Size() == 20)
		f.Add(encode(endorsee, 0, 0), uint64(2), h.Size() == 20)
		f.Add(encode(endorsee, 255, 1<<62), uint64(0), h.Size() == 20)
		f.Add(encode(endorsee, 1, -1), uint64(3), h.Size() == 20)
		f.Add(encode(id.ID(h), 1, 0), uint64(1), h.Size() == 20) // itself
	}
	f.Add([]byte{}, uint64(0), false)
	f.Add([]byte(endorsementTag), uint64(0), false)
	f.Add(append([]byte(endorsementTag), 32), uint64(0), false)
	f.Add(bytes.Repeat([]byte{0xff}, EndorsementSize(32)), uint64(0), false)
	f.Fuzz(func(t *testing.T, b []byte, seq uint64, sha1 bool) {
		h := h256
		if sha1 {
			h = h1
		}
		e, err := decode(h, b)
		if err != nil {
			if !errors.Is(err, ErrBadEndorsement) {
				t.Fatalf("decode error %v does not wrap ErrBadEndorsement", err)
			}
			// Under an arbitrary key it must be refused too.
			v, _ := trust.NewPlain(id, h.Sum(b), seq, b)
			if _, err := ParseEndorsement(h, v); !errors.Is(err, ErrBadEndorsement) {
				t.Fatalf("ParseEndorsement accepted bytes decode refused: %v", err)
			}
			return
		}
		var secs int64
		if !e.Expires.IsZero() {
			secs = e.Expires.Unix()
		}
		if again := encode(e.Endorsee, e.Level, secs); !bytes.Equal(again, b) {
			t.Fatalf("decode is not canonical:\n in %x\nout %x", b, again)
		}
		v, err := trust.NewPlain(id, EndorsementKey(h, e.Endorsee), seq, b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseEndorsement(h, v)
		if e.Endorsee == id.ID(h) {
			if !errors.Is(err, ErrBadEndorsement) {
				t.Fatalf("a self-endorsement parsed: %+v, %v", got, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("ParseEndorsement of decodable bytes: %v", err)
		}
		if got.Endorsee != e.Endorsee || got.Level != e.Level || !got.Expires.Equal(e.Expires) || got.Seq != seq ||
			!got.Endorser.Equal(id.PublicKey()) {
			t.Fatalf("ParseEndorsement = %+v, decode = %+v", got, e)
		}
		// The public constructor makes the very same value from it.
		w, err := NewEndorsement(id, h, got.Endorsee, got.Level, got.Expires, seq)
		if err != nil || !w.Same(v) {
			t.Fatalf("NewEndorsement does not make the parsed value again: %v", err)
		}
	})
}
