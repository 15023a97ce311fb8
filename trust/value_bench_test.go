package trust_test

import (
	"testing"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
)

// The cost a put pays to sign and every replica and reader pays to verify,
// for a 1 KiB value.
func BenchmarkValueSign(b *testing.B) {
	id, err := peer.IdentityFromSeed(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	value := make([]byte, 1024)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := trust.NewMutable(id, peer.SHA256(), []byte("salt"), 1, value); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValueVerify(b *testing.B) {
	id, err := peer.IdentityFromSeed(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	for _, kind := range []string{"mutable", "immutable"} {
		v := trust.NewImmutable(peer.SHA256(), make([]byte, 1024))
		if kind == "mutable" {
			if v, err = trust.NewMutable(id, peer.SHA256(), []byte("salt"), 1, make([]byte, 1024)); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(kind, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := v.Verify(peer.SHA256()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
