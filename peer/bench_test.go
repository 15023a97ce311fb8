package peer_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dhtkit/dhtkit/peer"
)

func BenchmarkCompareDistance(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{peer.IDLen160, peer.IDLen256} {
		b.Run(fmt.Sprintf("bits=%d", 8*n), func(b *testing.B) {
			target, x := randomID(b, rng, n), randomID(b, rng, n)
			// y shares all but the last byte with x: the worst case, a full scan.
			yb := x.Bytes()
			yb[n-1] ^= 1
			y := mustID(b, yb)
			b.ReportAllocs()
			sink := 0
			for b.Loop() {
				sink += peer.CompareDistance(target, x, y)
			}
			_ = sink
		})
	}
}

func BenchmarkCommonPrefixLen(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	x := randomID(b, rng, peer.IDLen256)
	yb := x.Bytes()
	yb[30] ^= 1 // a long shared prefix, as between a node and its close peers
	y := mustID(b, yb)
	b.ReportAllocs()
	sink := 0
	for b.Loop() {
		sink += x.CommonPrefixLen(y)
	}
	_ = sink
}

func BenchmarkRecordVerify(b *testing.B) {
	_, r := newTestRecord(b, peer.SHA256(), 1, testAddrs...)
	h := peer.SHA256()
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Verify(h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSigningBytes(b *testing.B) {
	_, r := newTestRecord(b, peer.SHA256(), 1, testAddrs...)
	b.ReportAllocs()
	for b.Loop() {
		if len(r.SigningBytes()) == 0 {
			b.Fatal("empty signing bytes")
		}
	}
}
