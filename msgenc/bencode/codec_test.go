package bencode_test

import (
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/bencode"
)

func TestCodecConformance(t *testing.T) {
	conformance.TestCodec(t, func(*testing.T) msgenc.Codec { return bencode.New() }, conformance.CodecOptions{Raw: bencode.Raw})
}
