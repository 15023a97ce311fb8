package json_test

import (
	stdjson "encoding/json"
	"fmt"
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/internal/wire"
	"github.com/dhtkit/dhtkit/msgenc/json"
)

func TestCodecConformance(t *testing.T) {
	conformance.TestCodec(t, func(*testing.T) msgenc.Codec { return json.New() }, conformance.CodecOptions{Raw: raw})
}

// raw writes m as the codec's JSON with no check, as a hostile peer would.
func raw(m *msgenc.Message) ([]byte, error) {
	var w wire.Message
	w.Fill(m)
	return stdjson.Marshal(&w)
}

// unchecked decodes as the codec does but never validates, so a frame one
// past a limit gets through.
type unchecked struct{ msgenc.Codec }

func (unchecked) Unmarshal(data []byte) (*msgenc.Message, error) {
	var w wire.Message
	if err := stdjson.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("%w: %w", msgenc.ErrDecode, err)
	}
	return w.To(), nil
}

// The suite, given raw, catches a decoder that leaves limits to Marshal.
func TestRawCatchesADecoderThatSkipsLimits(t *testing.T) {
	errs := conformance.CheckCodec(t, func(*testing.T) msgenc.Codec { return unchecked{json.New()} }, conformance.CodecOptions{Raw: raw})
	if !conformance.Broken(errs, "unmarshal-refuses-over-limit-frames") {
		t.Fatalf("rule unmarshal-refuses-over-limit-frames not reported; violations: %v", errs)
	}
}
