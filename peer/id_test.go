package peer_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/dhtkit/dhtkit/peer"
)

// randomID draws an ID of n bytes from rng.
func randomID(t testing.TB, rng *rand.Rand, n int) peer.ID {
	t.Helper()
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	id, err := peer.IDFromBytes(b)
	if err != nil {
		t.Fatalf("IDFromBytes(%d bytes): %v", n, err)
	}
	return id
}

func mustID(t testing.TB, b []byte) peer.ID {
	t.Helper()
	id, err := peer.IDFromBytes(b)
	if err != nil {
		t.Fatalf("IDFromBytes(%x): %v", b, err)
	}
	return id
}

func TestIDFromBytesAcceptsOnlyKeySpaceLengths(t *testing.T) {
	for _, n := range []int{0, 1, 19, 20, 21, 31, 32, 33, 64} {
		b := bytes.Repeat([]byte{0xab}, n)
		id, err := peer.IDFromBytes(b)
		if n == peer.IDLen160 || n == peer.IDLen256 {
			if err != nil {
				t.Errorf("IDFromBytes(%d bytes) = %v, want nil error", n, err)
				continue
			}
			if id.Len() != n || id.Bits() != 8*n || id.IsZero() {
				t.Errorf("IDFromBytes(%d bytes): Len %d Bits %d IsZero %v", n, id.Len(), id.Bits(), id.IsZero())
			}
			if !bytes.Equal(id.Bytes(), b) {
				t.Errorf("IDFromBytes(%d bytes).Bytes() = %x, want %x", n, id.Bytes(), b)
			}
			continue
		}
		if !errors.Is(err, peer.ErrIDLength) {
			t.Errorf("IDFromBytes(%d bytes) error = %v, want ErrIDLength", n, err)
		}
		if !id.IsZero() {
			t.Errorf("IDFromBytes(%d bytes) returned non-zero ID %v with an error", n, id)
		}
	}
}

func TestIDFromBytesCopiesInput(t *testing.T) {
	b := bytes.Repeat([]byte{1}, peer.IDLen256)
	id := mustID(t, b)
	b[0] = 99
	if id.Bytes()[0] != 1 {
		t.Fatal("ID aliases the slice passed to IDFromBytes")
	}
}

func TestParseIDRoundTripsString(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{peer.IDLen160, peer.IDLen256} {
		for range 50 {
			id := randomID(t, rng, n)
			s := id.String()
			if len(s) != 2*n || s != strings.ToLower(s) {
				t.Fatalf("String() = %q, want %d lower-case hex digits", s, 2*n)
			}
			got, err := peer.ParseID(s)
			if err != nil {
				t.Fatalf("ParseID(%q): %v", s, err)
			}
			if got != id {
				t.Fatalf("ParseID(String()) = %v, want %v", got, id)
			}
			if id.Short() != s[:8] {
				t.Fatalf("Short() = %q, want %q", id.Short(), s[:8])
			}
		}
	}
}

func TestParseIDRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		length   bool // the error must match ErrIDLength
	}{
		{"empty", "", true},
		{"odd digits", strings.Repeat("a", 39), false},
		{"not hex", strings.Repeat("zz", 20), false},
		{"19 bytes", strings.Repeat("ab", 19), true},
		{"33 bytes", strings.Repeat("ab", 33), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := peer.ParseID(tc.in)
			if err == nil {
				t.Fatalf("ParseID(%q) succeeded", tc.in)
			}
			if errors.Is(err, peer.ErrIDLength) != tc.length {
				t.Fatalf("ParseID(%q) = %v; errors.Is(ErrIDLength) = %v, want %v", tc.in, err, !tc.length, tc.length)
			}
			if !strings.HasPrefix(err.Error(), "peer: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestParseIDAcceptsUpperCase(t *testing.T) {
	id := mustID(t, bytes.Repeat([]byte{0xab}, 20))
	got, err := peer.ParseID(strings.ToUpper(id.String()))
	if err != nil || got != id {
		t.Fatalf("ParseID(upper) = %v, %v; want %v", got, err, id)
	}
}

func TestBytesReturnsCopy(t *testing.T) {
	id := mustID(t, bytes.Repeat([]byte{7}, 32))
	b := id.Bytes()
	b[0] = 0
	if id.Bytes()[0] != 7 {
		t.Fatal("mutating the slice from Bytes changed the ID")
	}
	dst := []byte{1, 2}
	got := id.AppendBytes(dst)
	if !bytes.Equal(got[:2], []byte{1, 2}) || !bytes.Equal(got[2:], id.Bytes()) {
		t.Fatalf("AppendBytes = %x", got)
	}
}

func TestBitReadsMostSignificantFirst(t *testing.T) {
	b := make([]byte, 20)
	b[0] = 0b1000_0001
	b[19] = 0b0000_0001
	id := mustID(t, b)
	want := map[int]int{0: 1, 1: 0, 6: 0, 7: 1, 8: 0, 158: 0, 159: 1}
	for i, w := range want {
		if got := id.Bit(i); got != w {
			t.Errorf("Bit(%d) = %d, want %d", i, got, w)
		}
	}
	for _, i := range []int{-1, 160, 1000} {
		if got := id.Bit(i); got != 0 {
			t.Errorf("Bit(%d) out of range = %d, want 0", i, got)
		}
	}
}

func TestBitMatchesBytesOnRandomIDs(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	id := randomID(t, rng, 32)
	b := id.Bytes()
	for i := range id.Bits() {
		want := int(b[i/8]>>(7-i%8)) & 1
		if got := id.Bit(i); got != want {
			t.Fatalf("Bit(%d) = %d, want %d", i, got, want)
		}
	}
}

func TestXorIsZeroOnSelfAndSymmetric(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{20, 32} {
		zero := mustID(t, make([]byte, n))
		for range 100 {
			a, b := randomID(t, rng, n), randomID(t, rng, n)
			if d := a.Xor(a); d != zero {
				t.Fatalf("a^a = %v, want zero", d)
			}
			if a.Xor(b) != b.Xor(a) {
				t.Fatalf("a^b = %v but b^a = %v", a.Xor(b), b.Xor(a))
			}
			if a.Xor(zero) != a {
				t.Fatalf("a^0 = %v, want %v", a.Xor(zero), a)
			}
			if a.Xor(b).Xor(b) != a {
				t.Fatal("(a^b)^b != a")
			}
			ab, bb, xb := a.Bytes(), b.Bytes(), a.Xor(b).Bytes()
			for i := range xb {
				if xb[i] != ab[i]^bb[i] {
					t.Fatalf("a^b byte %d = %x, want %x", i, xb[i], ab[i]^bb[i])
				}
			}
		}
	}
}

// bruteCommonPrefix counts shared leading bits one bit at a time.
func bruteCommonPrefix(a, b peer.ID) int {
	n := min(a.Bits(), b.Bits())
	for i := range n {
		if a.Bit(i) != b.Bit(i) {
			return i
		}
	}
	return n
}

func TestCommonPrefixLenMatchesBitLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{20, 32} {
		for range 2000 {
			a := randomID(t, rng, n)
			// Flip one random bit (or none) of a so that long prefixes occur.
			ab := a.Bytes()
			if k := rng.IntN(8*n + 1); k < 8*n {
				ab[k/8] ^= 0x80 >> (k % 8)
				// Randomise everything after the flipped bit's byte.
				for j := k/8 + 1; j < n; j++ {
					ab[j] = byte(rng.Uint32())
				}
			}
			b := mustID(t, ab)
			if got, want := a.CommonPrefixLen(b), bruteCommonPrefix(a, b); got != want {
				t.Fatalf("CommonPrefixLen(%v, %v) = %d, want %d", a, b, got, want)
			}
			if a.CommonPrefixLen(b) != b.CommonPrefixLen(a) {
				t.Fatal("CommonPrefixLen is not symmetric")
			}
		}
		a := randomID(t, rng, n)
		if got := a.CommonPrefixLen(a); got != 8*n {
			t.Fatalf("CommonPrefixLen(a, a) = %d, want %d", got, 8*n)
		}
	}
}

func TestCompareDistanceAgreesWithComparingXor(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{20, 32} {
		for range 3000 {
			target, a, b := randomID(t, rng, n), randomID(t, rng, n), randomID(t, rng, n)
			if rng.IntN(4) == 0 { // make close calls common: share a prefix with a
				bb := b.Bytes()
				copy(bb, a.Bytes()[:rng.IntN(n)])
				b = mustID(t, bb)
			}
			want := peer.Compare(a.Xor(target), b.Xor(target))
			if got := peer.CompareDistance(target, a, b); got != want {
				t.Fatalf("CompareDistance(%v, %v, %v) = %d, want %d", target, a, b, got, want)
			}
			if peer.CompareDistance(target, a, b) != -peer.CompareDistance(target, b, a) {
				t.Fatal("CompareDistance is not antisymmetric")
			}
		}
		a, target := randomID(t, rng, n), randomID(t, rng, n)
		if got := peer.CompareDistance(target, a, a); got != 0 {
			t.Fatalf("CompareDistance(t, a, a) = %d, want 0", got)
		}
		if got := peer.CompareDistance(target, target, a); got != -1 {
			t.Fatalf("the target itself is not closest: CompareDistance = %d", got)
		}
	}
}

func TestCompareOrdersAsBigEndianIntegers(t *testing.T) {
	lo := make([]byte, 20)
	hi := make([]byte, 20)
	lo[19] = 0xff
	hi[0] = 0x01
	a, b := mustID(t, lo), mustID(t, hi)
	if peer.Compare(a, b) >= 0 || peer.Compare(b, a) <= 0 || peer.Compare(a, a) != 0 {
		t.Fatalf("Compare(%v, %v) = %d", a, b, peer.Compare(a, b))
	}
}

func TestSortByDistanceOrdersClosestFirst(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{20, 32} {
		target := randomID(t, rng, n)
		ids := make([]peer.ID, 200)
		for i := range ids {
			ids[i] = randomID(t, rng, n)
		}
		ids[57] = target
		want := slices.Clone(ids)
		peer.SortByDistance(target, ids)
		if ids[0] != target {
			t.Fatalf("first = %v, want the target itself", ids[0])
		}
		for i := 1; i < len(ids); i++ {
			if peer.Compare(ids[i-1].Xor(target), ids[i].Xor(target)) > 0 {
				t.Fatalf("ids[%d] is farther from the target than ids[%d]", i-1, i)
			}
		}
		slices.SortFunc(want, peer.Compare)
		got := slices.Clone(ids)
		slices.SortFunc(got, peer.Compare)
		if !slices.Equal(got, want) {
			t.Fatal("SortByDistance lost or duplicated IDs")
		}
	}
}

func TestSortByDistanceKnownOrder(t *testing.T) {
	mk := func(first byte) peer.ID {
		b := make([]byte, 20)
		b[0] = first
		return mustID(t, b)
	}
	target := mk(0b0000_0000)
	ids := []peer.ID{mk(0b1000_0000), mk(0b0000_0001), mk(0b0100_0000), mk(0b0000_0011)}
	peer.SortByDistance(target, ids)
	want := []peer.ID{mk(0b0000_0001), mk(0b0000_0011), mk(0b0100_0000), mk(0b1000_0000)}
	if !slices.Equal(ids, want) {
		t.Fatalf("SortByDistance = %v, want %v", ids, want)
	}
}

func TestIDsAreMapKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	m := map[peer.ID]int{}
	var ids []peer.ID
	for i := range 100 {
		id := randomID(t, rng, 32)
		ids = append(ids, id)
		m[id] = i
	}
	for i, id := range ids {
		// A fresh ID built from the same bytes finds the same entry.
		again := mustID(t, id.Bytes())
		if again != id {
			t.Fatalf("IDs from equal bytes differ: %v vs %v", again, id)
		}
		if got, ok := m[again]; !ok || got != i {
			t.Fatalf("m[%v] = %d, %v; want %d", again, got, ok, i)
		}
	}
	parsed, err := peer.ParseID(ids[3].String())
	if err != nil || m[parsed] != 3 {
		t.Fatalf("parsed ID does not find its map entry: %v", err)
	}
}

func TestIDsOfDifferentLengthsWithEqualPrefixDiffer(t *testing.T) {
	long := bytes.Repeat([]byte{0x5a}, 32)
	short := long[:20]
	a, b := mustID(t, short), mustID(t, long)
	if a == b {
		t.Fatal("20-byte and 32-byte IDs with the same prefix compare equal")
	}
	// Even when the long one's extra bytes are zero.
	z := make([]byte, 32)
	copy(z, short)
	if c := mustID(t, z); c == a {
		t.Fatal("a 32-byte ID padded with zeros equals its 20-byte prefix")
	} else if peer.Compare(a, c) == 0 {
		t.Fatal("Compare reports a 20-byte ID equal to its zero-padded 32-byte form")
	}
	m := map[peer.ID]bool{a: true}
	if m[b] {
		t.Fatal("a 32-byte ID finds the map entry of its 20-byte prefix")
	}
}

func TestZeroIDIsEmpty(t *testing.T) {
	var id peer.ID
	if !id.IsZero() || id.Len() != 0 || id.String() != "" || len(id.Bytes()) != 0 {
		t.Fatalf("zero ID: IsZero %v Len %d String %q", id.IsZero(), id.Len(), id.String())
	}
}
