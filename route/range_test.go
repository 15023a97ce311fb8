package route

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dhtkit/dhtkit/peer"
)

func rangeTestID(t *testing.T, rng *rand.Rand, n int) peer.ID {
	t.Helper()
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	id, err := peer.IDFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestRangeRandomStaysInRange draws from every prefix length of both key
// spaces: each draw lies in the range, and, while a bit is left free, the
// first free bit takes both values, so Random does not copy more of the
// prefix than Bits says.
func TestRangeRandomStaysInRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	const draws = 64 // P(first free bit constant) = 2^-63 per range; the seed is fixed anyway
	for _, n := range []int{peer.IDLen160, peer.IDLen256} {
		prefix := rangeTestID(t, rng, n)
		for bits := 0; bits <= 8*n; bits++ {
			r := Range{Prefix: prefix, Bits: bits}
			t.Run(fmt.Sprintf("len=%d/bits=%d", n, bits), func(t *testing.T) {
				var seen [2]bool
				for range draws {
					id := r.Random(rng)
					if id.Len() != n {
						t.Fatalf("Random gave a %d-byte ID, want %d", id.Len(), n)
					}
					if !r.Contains(id) {
						t.Fatalf("Random = %v shares %d bits with prefix %v, want >= %d", id, id.CommonPrefixLen(prefix), prefix, bits)
					}
					if bits < 8*n {
						seen[id.Bit(bits)] = true
					}
				}
				if bits < 8*n && (!seen[0] || !seen[1]) {
					t.Fatalf("bit %d (the first free one) took only one value in %d draws: %v", bits, draws, seen)
				}
				if bits == 8*n {
					if id := r.Random(rng); id != prefix {
						t.Fatalf("a full-length range gave %v, want the prefix %v", id, prefix)
					}
				}
			})
		}
	}
}

func TestRangeContains(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	prefix := rangeTestID(t, rng, peer.IDLen256)
	b := prefix.Bytes()
	b[1] ^= 0x10 // differs at bit 11
	other, err := peer.IDFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	for bits := 0; bits <= 11; bits++ {
		if !(Range{Prefix: prefix, Bits: bits}).Contains(other) {
			t.Errorf("a range of %d bits does not contain an ID differing at bit 11", bits)
		}
	}
	for _, bits := range []int{12, 100, 256} {
		if (Range{Prefix: prefix, Bits: bits}).Contains(other) {
			t.Errorf("a range of %d bits contains an ID differing at bit 11", bits)
		}
	}
	short, err := peer.IDFromBytes(prefix.Bytes()[:peer.IDLen160])
	if err != nil {
		t.Fatal(err)
	}
	if (Range{Prefix: prefix, Bits: 0}).Contains(short) {
		t.Error("a 32-byte range contains a 20-byte ID")
	}
}
