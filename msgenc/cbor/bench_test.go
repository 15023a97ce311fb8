package cbor_test

import (
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
)

// BenchmarkPeers20 measures the 20-peer reply every lookup step receives.
func BenchmarkPeers20(b *testing.B) { conformance.BenchmarkCodec(b, cbor.New()) }
