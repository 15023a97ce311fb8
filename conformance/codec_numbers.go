package conformance

import (
	"bytes"
	"fmt"
	"math"

	"github.com/dhtkit/dhtkit/msgenc"
)

// codecNumberEdge is a message with one number at the largest value its
// field holds, the decimal text a text encoding writes for it, and the
// text of the next number, which no decoder can represent in that field.
type codecNumberEdge struct {
	what       string
	m          *msgenc.Message
	at, beyond string
}

// codecNumberEdges carry no byte fields, so that the only digits in a text
// frame are the numbers' own.
func codecNumberEdges() []codecNumberEdge {
	fwd := func(f msgenc.Forward) *msgenc.Message {
		f.Mode, f.Op = msgenc.ModeProxied, msgenc.KindFindNode
		return &msgenc.Message{Kind: msgenc.KindForward, Forward: &f}
	}
	return []codecNumberEdge{
		{"forward hop budget (uint8)", fwd(msgenc.Forward{HopBudget: math.MaxUint8}), "255", "256"},
		{"forward proxy hops (uint8)", fwd(msgenc.Forward{ProxyHops: math.MaxUint8}), "255", "256"},
		{"forward-reply hops (uint8)", &msgenc.Message{Kind: msgenc.KindForwardReply,
			ForwardReply: &msgenc.ForwardReply{Hops: math.MaxUint8}}, "255", "256"},
		{"forward-reply stored (uint16)", &msgenc.Message{Kind: msgenc.KindForwardReply,
			ForwardReply: &msgenc.ForwardReply{Stored: math.MaxUint16}}, "65535", "65536"},
		{"error code (uint16)", &msgenc.Message{Kind: msgenc.KindError,
			Error: &msgenc.Error{Code: math.MaxUint16}}, "65535", "65536"},
		{"record TTL (uint32)", &msgenc.Message{Kind: msgenc.KindStore,
			Store: &msgenc.Store{Record: msgenc.ValueRecord{TTL: math.MaxUint32}}}, "4294967295", "4294967296"},
		{"store-ack seq (uint64)", &msgenc.Message{Kind: msgenc.KindStoreAck,
			StoreAck: &msgenc.StoreAck{Seq: math.MaxUint64}}, "18446744073709551615", "18446744073709551616"},
		// An encoding that writes a uint64 as an int64 writes 1<<63 as the
		// smallest int64; one below it fits in neither.
		{"store-ack seq 1<<63 as an int64", &msgenc.Message{Kind: msgenc.KindStoreAck,
			StoreAck: &msgenc.StoreAck{Seq: 1 << 63}}, "-9223372036854775808", "-9223372036854775809"},
	}
}

// codecReplaceNumber replaces the one whole decimal number at in frame by
// beyond, or reports false when frame does not hold at exactly once.
func codecReplaceNumber(frame []byte, at, beyond string) ([]byte, bool) {
	digit := func(i int) bool { return i >= 0 && i < len(frame) && frame[i] >= '0' && frame[i] <= '9' }
	found := -1
	for i := 0; ; {
		j := bytes.Index(frame[i:], []byte(at))
		if j < 0 {
			break
		}
		j += i
		if !digit(j-1) && !digit(j+len(at)) && (at[0] == '-' || j == 0 || frame[j-1] != '-') {
			if found >= 0 {
				return nil, false
			}
			found = j
		}
		i = j + 1
	}
	if found < 0 {
		return nil, false
	}
	out := append(bytes.Clone(frame[:found]), beyond...)
	return append(out, frame[found+len(at):]...), true
}

// codecCheckNumberEdges checks the edge of every number field's range in a
// codec that writes numbers as decimal text: the frame of a message with a
// field at its largest value, edited to carry the next number, is refused,
// because no decoded message can hold it (a decoder that keeps the low bits
// would turn 256 hops into 0). A codec that writes no number as text has
// the rule reported skipped.
func codecCheckNumberEdges(e *env, s codecFactory) error {
	c := s.newCodec(e.t)
	tried := 0
	for _, n := range codecNumberEdges() {
		frame, err := codecMarshal(c, n.m)
		if err != nil {
			return fmt.Errorf("%s: Marshal: %w", n.what, err)
		}
		edited, ok := codecReplaceNumber(frame, n.at, n.beyond)
		if !ok {
			continue
		}
		tried++
		if err := codecExpectError(c, edited, fmt.Sprintf("a frame of %s with %s edited to %s", n.what, n.at, n.beyond)); err != nil {
			return err
		}
	}
	if tried == 0 {
		return skip("the codec writes none of the numbers as decimal text")
	}
	return nil
}
