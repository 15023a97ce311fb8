package bencode

import (
	"bytes"

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
