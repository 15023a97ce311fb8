package cbor_test

import (
	"fmt"
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/msgenc/internal/wire"
	fxcbor "github.com/fxamacker/cbor/v2"
)

func TestCodecConformance(t *testing.T) {
	conformance.TestCodec(t, func(*testing.T) msgenc.Codec { return cbor.New() }, conformance.CodecOptions{Raw: raw})
}

// raw writes m as the codec's CBOR with no check, as a hostile peer would,
// with the library's own encoder: no size or UTF-8 checks of the codec's.
func raw(m *msgenc.Message) ([]byte, error) {
	var w wire.Message
	w.Fill(m)
	return fxcbor.Marshal(&w)
}

// unchecked decodes with the library's defaults and never validates, so a
// frame one past a limit gets through.
type unchecked struct{ msgenc.Codec }

func (unchecked) Unmarshal(data []byte) (*msgenc.Message, error) {
	var w wire.Message
	if err := fxcbor.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("%w: %w", msgenc.ErrDecode, err)
	}
	return w.To(), nil
}

// The suite, given raw, catches a decoder that leaves limits to Marshal.
func TestRawCatchesADecoderThatSkipsLimits(t *testing.T) {
	errs := conformance.CheckCodec(t, func(*testing.T) msgenc.Codec { return unchecked{cbor.New()} }, conformance.CodecOptions{Raw: raw})
	if !conformance.Broken(errs, "unmarshal-refuses-over-limit-frames") {
		t.Fatalf("rule unmarshal-refuses-over-limit-frames not reported; violations: %v", errs)
	}
}
