package bencode

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/msgenc"
	bencodego "github.com/jackpal/bencode-go"
)

// Raw writes m in the codec's format with no check, every body it carries
// under that body's own name, straight through bencode-go: the frames a
// hostile peer may hand-make, for the conformance suite's
// CodecOptions.Raw.
func Raw(m *msgenc.Message) ([]byte, error) {
	top := head(m)
	for _, b := range []struct {
		kind msgenc.Kind
		m    msgenc.Message
	}{
		{msgenc.KindPing, msgenc.Message{Ping: m.Ping}},
		{msgenc.KindPong, msgenc.Message{Pong: m.Pong}},
		{msgenc.KindFindNode, msgenc.Message{FindNode: m.FindNode}},
		{msgenc.KindPeers, msgenc.Message{Peers: m.Peers}},
		{msgenc.KindFindValue, msgenc.Message{FindValue: m.FindValue}},
		{msgenc.KindValue, msgenc.Message{Value: m.Value}},
		{msgenc.KindStore, msgenc.Message{Store: m.Store}},
		{msgenc.KindStoreAck, msgenc.Message{StoreAck: m.StoreAck}},
		{msgenc.KindError, msgenc.Message{Error: m.Error}},
		{msgenc.KindForward, msgenc.Message{Forward: m.Forward}},
		{msgenc.KindForwardReply, msgenc.Message{ForwardReply: m.ForwardReply}},
	} {
		if w := body(&b.m); w != nil {
			top[b.kind.String()] = w
		}
	}
	var buf bytes.Buffer
	if err := bencodego.Marshal(&buf, top); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// unchecked decodes as the codec does but never validates, so a frame one
// past a limit gets through.
type unchecked struct{ *Codec }

func (unchecked) Unmarshal(data []byte) (*msgenc.Message, error) {
	if err := scan(data, msgenc.MaxNesting); err != nil {
		return nil, fmt.Errorf("%w: %w", msgenc.ErrDecode, err)
	}
	tree, err := bencodego.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", msgenc.ErrDecode, err)
	}
	var d decoder
	m := d.message(tree)
	if d.err != nil {
		return nil, fmt.Errorf("%w: %w", msgenc.ErrDecode, d.err)
	}
	return m, nil
}

// The suite, given Raw, catches a decoder that leaves limits to Marshal.
func TestRawCatchesADecoderThatSkipsLimits(t *testing.T) {
	errs := conformance.CheckCodec(t, func(*testing.T) msgenc.Codec { return unchecked{New()} }, conformance.CodecOptions{Raw: Raw})
	if !conformance.Broken(errs, "unmarshal-refuses-over-limit-frames") {
		t.Fatalf("rule unmarshal-refuses-over-limit-frames not reported; violations: %v", errs)
	}
}
