package peer_test

import (
	"testing"

	"github.com/dhtkit/dhtkit/peer"
)

func TestHasherSizesMatchIDLengths(t *testing.T) {
	for _, tc := range []struct {
		h    peer.Hasher
		name string
		size int
	}{
		{peer.SHA1(), "sha1", peer.IDLen160},
		{peer.SHA256(), "sha256", peer.IDLen256},
	} {
		if tc.h.Name() != tc.name || tc.h.Size() != tc.size {
			t.Errorf("hasher %q size %d, want %q size %d", tc.h.Name(), tc.h.Size(), tc.name, tc.size)
		}
		if id := tc.h.Sum([]byte("x")); id.Len() != tc.size {
			t.Errorf("%s Sum gives a %d-byte ID, want %d", tc.name, id.Len(), tc.size)
		}
	}
}

// Known answers from FIPS 180 (the "abc" vectors) and for the empty string.
func TestHasherKnownAnswers(t *testing.T) {
	for _, tc := range []struct {
		h         peer.Hasher
		in, want  string
		inputName string
	}{
		{peer.SHA256(), "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "abc"},
		{peer.SHA256(), "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "empty"},
		{peer.SHA1(), "abc", "a9993e364706816aba3e25717850c26c9cd0d89d", "abc"},
		{peer.SHA1(), "", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "empty"},
	} {
		t.Run(tc.h.Name()+"/"+tc.inputName, func(t *testing.T) {
			if got := tc.h.Sum([]byte(tc.in)).String(); got != tc.want {
				t.Fatalf("Sum(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestHasherIsDeterministicAndKeyed(t *testing.T) {
	for _, h := range []peer.Hasher{peer.SHA1(), peer.SHA256()} {
		if h.Sum([]byte("key")) != h.Sum([]byte("key")) {
			t.Errorf("%s: Sum is not deterministic", h.Name())
		}
		if h.Sum([]byte("key")) == h.Sum([]byte("kez")) {
			t.Errorf("%s: different inputs collide", h.Name())
		}
	}
}
