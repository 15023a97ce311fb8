package cbor_test

import (
	"bytes"
	"errors"
	"runtime"
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
)

// frame builds {1: kind, 2: 1, key: body} from raw CBOR for the body.
func frame(kind byte, body ...byte) []byte {
	return append([]byte{0xa3, 0x01, kind, 0x02, 0x01, 0x0a + kind}, body...)
}

func TestUnmarshalRejectsMalformedPeerRecords(t *testing.T) {
	id := []byte{0x42, 'i', 'd'}
	for name, peer := range map[string][]byte{
		"four items":          {0x84, 0xf6, 0xf6, 0xf6, 0x00},
		"text id":             append([]byte{0x85, 0x62, 'i', 'd'}, 0xf6, 0xf6, 0x00, 0xf6),
		"negative seq":        append(append([]byte{0x85}, id...), 0xf6, 0xf6, 0x20, 0xf6),
		"addresses not array": append(append([]byte{0x85}, id...), 0xf6, 0x41, 'a', 0x00, 0xf6),
		"address not bytes":   append(append([]byte{0x85}, id...), 0xf6, 0x81, 0x01, 0x00, 0xf6),
		"length past end":     {0x85, 0x5a, 0x7f, 0xff, 0xff, 0xff, 0xf6, 0xf6, 0x00, 0xf6},
	} {
		// {4: peers reply [[peer]]}
		data := frame(4, append([]byte{0x81, 0x81}, peer...)...)
		if _, err := cbor.New().Unmarshal(data); !errors.Is(err, msgenc.ErrDecode) {
			t.Errorf("%s: got %v, want ErrDecode", name, err)
		}
	}
}

func TestUnmarshalRejectsNestingHiddenInUnknownKey(t *testing.T) {
	frame := func(arrays int) []byte {
		// {1: 1, 2: 1, 11: [], 99: [[...]]}; the map is the first level.
		b := []byte{0xa4, 0x01, 0x01, 0x02, 0x01, 0x0b, 0x80, 0x18, 99}
		return append(append(b, bytes.Repeat([]byte{0x81}, arrays-1)...), 0x80)
	}
	if _, err := cbor.New().Unmarshal(frame(msgenc.MaxNesting - 1)); err != nil {
		t.Fatalf("nesting of exactly MaxNesting refused: %v", err)
	}
	if _, err := cbor.New().Unmarshal(frame(msgenc.MaxNesting)); !errors.Is(err, msgenc.ErrDecode) {
		t.Fatalf("nesting of MaxNesting+1: got %v, want ErrDecode", err)
	}
}

func TestUnmarshalOfHugeLengthClaimAllocatesLittle(t *testing.T) {
	// A pong whose observed address claims 2^32 bytes and a peers reply
	// claiming 2^31 peers, both in a few bytes.
	inputs := [][]byte{
		frame(2, 0x81, 0x5b, 0, 0, 0, 1, 0, 0, 0, 0),
		frame(4, 0x81, 0x9a, 0x80, 0, 0, 0),
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, in := range inputs {
		if _, err := cbor.New().Unmarshal(in); !errors.Is(err, msgenc.ErrDecode) {
			t.Errorf("Unmarshal(% x) = %v, want ErrDecode", in, err)
		}
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Fatalf("decoding %d tiny frames allocated %d bytes", len(inputs), n)
	}
}

func TestUnmarshalRejectsFrameOverProtocolLimit(t *testing.T) {
	// A sender with 17 addresses: well-formed CBOR, over MaxAddrs.
	sender := append([]byte{0xa4, 0x01, 0x01, 0x02, 0x01, 0x03, 0x85, 0xf6, 0xf6, 0x91},
		bytes.Repeat([]byte{0x41, 0x04}, msgenc.MaxAddrs+1)...)
	sender = append(sender, 0x00, 0xf6, 0x0b, 0x80)
	if _, err := cbor.New().Unmarshal(sender); !errors.Is(err, msgenc.ErrInvalid) {
		t.Fatalf("17 addresses: got %v, want ErrInvalid", err)
	}
}

func TestUnmarshalRejectsTextThatIsNotUTF8(t *testing.T) {
	if _, err := cbor.New().Unmarshal(frame(9, 0x82, 0x01, 0x62, 0xff, 0xfe)); !errors.Is(err, msgenc.ErrDecode) {
		t.Fatalf("got %v, want ErrDecode", err)
	}
}

func TestPeersReplyCostsFewBytesPerPeer(t *testing.T) {
	m := conformance.SamplePeersReply(20)
	frame, err := cbor.New().Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	payload := 0
	for _, p := range append(m.Peers.Peers, *m.Sender) {
		payload += len(p.ID) + len(p.PublicKey) + len(p.Signature)
		for _, a := range p.Addrs {
			payload += len(a)
		}
	}
	// Array heads, byte string heads and the sequence number.
	if perPeer := (len(frame) - payload) / 21; perPeer > 16 {
		t.Fatalf("frame of %d bytes carries %d bytes of payload: %d bytes of overhead per peer, want at most 16", len(frame), payload, perPeer)
	}
}

func TestUnmarshalTakesOnlyAnArrayOrNullAsAPeerList(t *testing.T) {
	for name, list := range map[string][]byte{
		"integer":             {0x01},
		"byte string":         {0x41, 'p'},
		"map":                 {0xa0},
		"array of an integer": {0x81, 0x01},
	} {
		// {4: peers reply [list]}
		if _, err := cbor.New().Unmarshal(frame(4, append([]byte{0x81}, list...)...)); !errors.Is(err, msgenc.ErrDecode) {
			t.Errorf("%s: got %v, want ErrDecode", name, err)
		}
	}
	for name, list := range map[string][]byte{"null": {0xf6}, "empty array": {0x80}} {
		m, err := cbor.New().Unmarshal(frame(4, append([]byte{0x81}, list...)...))
		if err != nil || m.Peers == nil || len(m.Peers.Peers) != 0 {
			t.Errorf("%s: got %+v, %v; want a reply with no peers", name, m, err)
		}
	}
}

func TestPeersReplyDecodesInFewAllocations(t *testing.T) {
	const peers = 20
	for _, m := range []*msgenc.Message{conformance.SamplePeersReply(peers), conformance.SamplePeersReply(1)} {
		c := cbor.New()
		frame, err := c.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Unmarshal(frame)
		if err != nil {
			t.Fatal(err)
		}
		if !msgenc.Equal(m, got) {
			t.Fatalf("decoded %+v, want %+v", got, m)
		}
		n := len(m.Peers.Peers)
		allocs := testing.AllocsPerRun(20, func() {
			if _, err := c.Unmarshal(frame); err != nil {
				t.Fatal(err)
			}
		})
		// The peer list costs a handful of allocations whatever its
		// length; the rest of the frame (message, sender) about ten.
		if allocs > 16 {
			t.Errorf("a reply of %d peers decodes in %v allocations, want at most 16", n, allocs)
		}
	}
}
