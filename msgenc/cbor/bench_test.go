package cbor_test

import (
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
)

// The 20-peer reply is the message every lookup step receives.

func BenchmarkMarshalPeers20(b *testing.B) {
	c := cbor.New()
	m := conformance.SamplePeersReply(20)
	frame, err := c.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Marshal(m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalPeers20(b *testing.B) {
	c := cbor.New()
	frame, err := c.Marshal(conformance.SamplePeersReply(20))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Unmarshal(frame); err != nil {
			b.Fatal(err)
		}
	}
}
