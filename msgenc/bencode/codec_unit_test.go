package bencode_test

import (
	"bytes"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/bencode"
)

func TestUint64TravelsAsInt64WithTheSameBits(t *testing.T) {
	c := bencode.New()
	m := &msgenc.Message{Kind: msgenc.KindStoreAck, TxID: math.MaxUint64, StoreAck: &msgenc.StoreAck{Seq: 1 << 63}}
	frame, err := c.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1:ti-1e", "1:qi-9223372036854775808e"} {
		if !strings.Contains(string(frame), want) {
			t.Errorf("frame %q lacks %q", frame, want)
		}
	}
	got, err := c.Unmarshal(frame)
	if err != nil || !msgenc.Equal(got, m) {
		t.Fatalf("round trip: %v, %+v", err, got)
	}
}

func TestUnmarshalOfHugeLengthPrefixAllocatesLittle(t *testing.T) {
	inputs := [][]byte{
		[]byte("999999999:x"),
		[]byte("d1:ki2e4:pongd1:o999999:"),
		append([]byte("d1:ki2e4:pongd1:o900000:"), make([]byte, 100)...),
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, in := range inputs {
		if _, err := bencode.New().Unmarshal(in); !errors.Is(err, msgenc.ErrDecode) {
			t.Errorf("Unmarshal(%q) = %v, want ErrDecode", in[:min(len(in), 30)], err)
		}
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 256<<10 {
		t.Fatalf("decoding %d tiny frames allocated %d bytes", len(inputs), n)
	}
}

func TestUnmarshalRejectsNestingHiddenInUnknownKey(t *testing.T) {
	frame := func(lists int) []byte {
		// The message and the ping body are two levels.
		return []byte("d1:ki1e4:pingd1:x" + strings.Repeat("l", lists) + strings.Repeat("e", lists) + "e1:ti1ee")
	}
	if _, err := bencode.New().Unmarshal(frame(msgenc.MaxNesting - 2)); err != nil {
		t.Fatalf("nesting of exactly MaxNesting refused: %v", err)
	}
	if _, err := bencode.New().Unmarshal(frame(msgenc.MaxNesting - 1)); !errors.Is(err, msgenc.ErrDecode) {
		t.Fatalf("nesting of MaxNesting+1: got %v, want ErrDecode", err)
	}
}

func TestUnmarshalRejectsWrongShapes(t *testing.T) {
	for _, frame := range []string{
		"li1ee",                              // not a dictionary
		"d1:k3:abc1:ti1ee",                   // kind is a string
		"d1:ki256e4:pingde1:ti1ee",           // kind overflows a byte
		"d1:ki2e4:pongd1:oi1ee1:ti1ee",       // observed is an integer
		"d1:ki1e4:pingle1:ti1ee",             // body is a list
		"d1:ki4e5:peersd1:pli1eee1:ti1ee",    // a peer is an integer
		"d1:ki7e5:stored1:ci2e1:rdee1:ti1ee", // cas is neither 0 nor 1
		"d1:ki7e5:stored1:ci1ee1:ti1ee",      // store without a record
	} {
		if _, err := bencode.New().Unmarshal([]byte(frame)); !errors.Is(err, msgenc.ErrDecode) {
			t.Errorf("Unmarshal(%s) = %v, want ErrDecode", frame, err)
		}
	}
}

func TestUnmarshalRejectsFrameOverProtocolLimit(t *testing.T) {
	peers := bytes.Repeat([]byte("de"), msgenc.MaxPeers+1)
	frame := "d1:ki4e5:peersd1:pl" + string(peers) + "ee1:ti1ee"
	if _, err := bencode.New().Unmarshal([]byte(frame)); !errors.Is(err, msgenc.ErrInvalid) {
		t.Fatalf("65 peers: got %v, want ErrInvalid", err)
	}
}

func TestMarshalRefusesTextThatIsNotUTF8(t *testing.T) {
	m := &msgenc.Message{Kind: msgenc.KindError, Error: &msgenc.Error{Message: "a\xffb\xc3"}}
	if _, err := bencode.New().Marshal(m); !errors.Is(err, msgenc.ErrInvalid) {
		t.Fatalf("Marshal of non-UTF-8 error text: %v, want ErrInvalid", err)
	}
}
