package cbor_test

import (
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
)

func TestCodecConformance(t *testing.T) {
	conformance.TestCodec(t, func(*testing.T) msgenc.Codec { return cbor.New() })
}
