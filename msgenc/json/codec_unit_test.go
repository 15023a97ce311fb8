package json_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/json"
)

func TestUint64TravelsAsDecimalString(t *testing.T) {
	frame, err := json.New().Marshal(&msgenc.Message{Kind: msgenc.KindStoreAck, TxID: math.MaxUint64,
		StoreAck: &msgenc.StoreAck{Seq: 1<<53 + 1}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"t":"18446744073709551615"`, `"q":"9007199254740993"`} {
		if !strings.Contains(string(frame), want) {
			t.Errorf("frame %s lacks %s", frame, want)
		}
	}
}

func TestUnmarshalRejectsNestingHiddenInUnknownKey(t *testing.T) {
	frame := func(arrays int) []byte {
		// The message object and the ping body are two levels.
		return []byte(`{"k":1,"t":"1","ping":{"x":` + strings.Repeat("[", arrays) + strings.Repeat("]", arrays) + `}}`)
	}
	if _, err := json.New().Unmarshal(frame(msgenc.MaxNesting - 2)); err != nil {
		t.Fatalf("nesting of exactly MaxNesting refused: %v", err)
	}
	if _, err := json.New().Unmarshal(frame(msgenc.MaxNesting - 1)); !errors.Is(err, msgenc.ErrDecode) {
		t.Fatalf("nesting of MaxNesting+1: got %v, want ErrDecode", err)
	}
}

func TestUnmarshalRejectsFrameOverProtocolLimit(t *testing.T) {
	peers := strings.TrimSuffix(strings.Repeat(`{},`, msgenc.MaxPeers+1), ",")
	_, err := json.New().Unmarshal([]byte(`{"k":4,"t":"1","peers":{"p":[` + peers + `]}}`))
	if !errors.Is(err, msgenc.ErrInvalid) {
		t.Fatalf("65 peers: got %v, want ErrInvalid", err)
	}
}

func TestUnmarshalRejectsWrongTypes(t *testing.T) {
	for _, frame := range []string{
		`{"k":1,"t":1,"ping":{}}`,          // uint64 must be a string
		`{"k":256,"t":"1","ping":{}}`,      // kind overflows a byte
		`{"k":1,"t":"-1","ping":{}}`,       // negative
		`{"k":2,"t":"1","pong":{"o":"!"}}`, // not base64
		`{"k":1,"t":"1","ping":{}} {}`,     // trailing value
	} {
		if _, err := json.New().Unmarshal([]byte(frame)); !errors.Is(err, msgenc.ErrDecode) {
			t.Errorf("Unmarshal(%s) = %v, want ErrDecode", frame, err)
		}
	}
}

func TestMarshalRefusesTextThatIsNotUTF8(t *testing.T) {
	_, err := json.New().Marshal(&msgenc.Message{Kind: msgenc.KindError, Error: &msgenc.Error{Message: "a\xffb"}})
	if !errors.Is(err, msgenc.ErrInvalid) {
		t.Fatalf("got %v, want ErrInvalid rather than a silently replaced byte", err)
	}
}
