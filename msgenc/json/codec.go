package json

import (
	stdjson "encoding/json"
	"fmt"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/internal/wire"
)

// Codec encodes messages as JSON objects. It holds no state: one value is
// safe for concurrent use.
type Codec struct{}

var _ msgenc.Codec = (*Codec)(nil)

// New returns a JSON codec.
func New() *Codec { return &Codec{} }

// Name returns "json".
func (*Codec) Name() string { return "json" }

// Marshal encodes m; see msgenc.Codec. A message whose frame would exceed
// msgenc.MaxFrameSize fails with msgenc.ErrInvalid.
func (*Codec) Marshal(m *msgenc.Message) ([]byte, error) {
	var w wire.Message
	if err := w.From(m); err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	b, err := stdjson.Marshal(&w)
	if err != nil {
		return nil, fmt.Errorf("json: %w: %w", msgenc.ErrInvalid, err)
	}
	if len(b) > msgenc.MaxFrameSize {
		return nil, fmt.Errorf("json: %w: the frame would be %d bytes, at most %d", msgenc.ErrInvalid, len(b), msgenc.MaxFrameSize)
	}
	return b, nil
}

// Unmarshal decodes one frame; see msgenc.Codec.
func (*Codec) Unmarshal(data []byte) (*msgenc.Message, error) {
	if len(data) > msgenc.MaxFrameSize {
		return nil, fmt.Errorf("json: %w: %w: %d bytes, at most %d",
			msgenc.ErrDecode, msgenc.ErrTooLarge, len(data), msgenc.MaxFrameSize)
	}
	if err := checkDepth(data, msgenc.MaxNesting); err != nil {
		return nil, fmt.Errorf("json: %w: %w", msgenc.ErrDecode, err)
	}
	d := new(wire.Decoded) // the wire form and the message in one allocation
	if err := stdjson.Unmarshal(data, &d.Wire); err != nil {
		return nil, fmt.Errorf("json: %w: %w", msgenc.ErrDecode, err)
	}
	m := d.Message()
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	return m, nil
}
