package bencode

import (
	"bytes"
	"fmt"

	"github.com/dhtkit/dhtkit/msgenc"
	bencodego "github.com/jackpal/bencode-go"
)

// Codec encodes messages as bencode. It holds no state: one value is safe
// for concurrent use.
type Codec struct{}

var _ msgenc.Codec = (*Codec)(nil)

// New returns a bencode codec.
func New() *Codec { return &Codec{} }

// Name returns "bencode".
func (*Codec) Name() string { return "bencode" }

// Marshal encodes m; see msgenc.Codec. A message whose frame would exceed
// msgenc.MaxFrameSize fails with msgenc.ErrInvalid.
func (*Codec) Marshal(m *msgenc.Message) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("bencode: %w", err)
	}
	return encode(m)
}

// Unmarshal decodes one frame; see msgenc.Codec.
func (*Codec) Unmarshal(data []byte) (m *msgenc.Message, err error) {
	if len(data) > msgenc.MaxFrameSize {
		return nil, fmt.Errorf("bencode: %w: %w: %d bytes, at most %d",
			msgenc.ErrDecode, msgenc.ErrTooLarge, len(data), msgenc.MaxFrameSize)
	}
	if err := scan(data, msgenc.MaxNesting); err != nil {
		return nil, fmt.Errorf("bencode: %w: %w", msgenc.ErrDecode, err)
	}
	defer func() {
		// Last line of defence: the scanner admits only input bencode-go
		// handles, but a panic in a library must not take the node down.
		if p := recover(); p != nil {
			m, err = nil, fmt.Errorf("bencode: %w: decoder panicked: %v", msgenc.ErrDecode, p)
		}
	}()
	tree, err := bencodego.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("bencode: %w: %w", msgenc.ErrDecode, err)
	}
	var d decoder
	m = d.message(tree)
	if d.err != nil {
		return nil, fmt.Errorf("bencode: %w: %w", msgenc.ErrDecode, d.err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("bencode: %w", err)
	}
	return m, nil
}
