package bencode_test

import (
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/msgenc/bencode"
)

// FuzzUnmarshal checks that no input panics Unmarshal or makes it fail with
// an unexpected error, and that every accepted frame re-encodes to the same
// message.
func FuzzUnmarshal(f *testing.F) {
	conformance.FuzzCodec(f, bencode.New())
}
