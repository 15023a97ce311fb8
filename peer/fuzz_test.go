package peer_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dhtkit/dhtkit/peer"
)

// FuzzParseID checks that ParseID never panics, accepts only IDs of a
// supported length, and that what it accepts prints back as the same text.
func FuzzParseID(f *testing.F) {
	f.Add("")
	f.Add("00")
	f.Add(strings.Repeat("ab", 20))
	f.Add(strings.Repeat("AB", 32))
	f.Add(strings.Repeat("ff", 33))
	f.Add(strings.Repeat("0", 39))
	f.Add("zz" + strings.Repeat("00", 19))
	f.Add(peer.SHA256().Sum([]byte("seed")).String())
	f.Fuzz(func(t *testing.T, s string) {
		id, err := peer.ParseID(s)
		if err != nil {
			if !id.IsZero() {
				t.Fatalf("ParseID(%q) returned %v with error %v", s, id, err)
			}
			if !strings.HasPrefix(err.Error(), "peer: ") {
				t.Fatalf("ParseID(%q) error %q lacks the package prefix", s, err)
			}
			if len(s)%2 == 0 && len(s) != 40 && len(s) != 64 && isHex(s) && !errors.Is(err, peer.ErrIDLength) {
				t.Fatalf("ParseID(%q) = %v, want ErrIDLength", s, err)
			}
			return
		}
		if id.Len() != peer.IDLen160 && id.Len() != peer.IDLen256 {
			t.Fatalf("ParseID(%q) gave a %d-byte ID", s, id.Len())
		}
		if got := id.String(); got != strings.ToLower(s) {
			t.Fatalf("ParseID(%q).String() = %q", s, got)
		}
		again, err := peer.ParseID(id.String())
		if err != nil || again != id {
			t.Fatalf("round trip of %q: %v, %v", s, again, err)
		}
	})
}

func isHex(s string) bool {
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}
