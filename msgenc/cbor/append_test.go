package cbor_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
)

func TestAppendMarshalAppendsWhatMarshalReturns(t *testing.T) {
	c := cbor.New()
	msgs := append(conformance.SampleMessages(rand.New(rand.NewPCG(1, 2))), conformance.SamplePeersReply(20))
	prefix := []byte("kept")
	buf := make([]byte, 0, 64) // small: most messages make it grow
	for i, m := range msgs {
		want, err := c.Marshal(m)
		if err != nil {
			t.Fatalf("message %d: Marshal: %v", i, err)
		}
		got, err := c.AppendMarshal(append(buf[:0], prefix...), m)
		if err != nil {
			t.Fatalf("message %d: AppendMarshal: %v", i, err)
		}
		if !bytes.Equal(got[:len(prefix)], prefix) || !bytes.Equal(got[len(prefix):], want) {
			t.Fatalf("message %d (%s): AppendMarshal appended other bytes than Marshal returns", i, m.Kind)
		}
		buf = got
	}
}

func TestAppendMarshalRefusesWhatMarshalRefuses(t *testing.T) {
	c := cbor.New()
	m := &msgenc.Message{Kind: msgenc.KindPing} // no body: invalid
	_, werr := c.Marshal(m)
	_, gerr := c.AppendMarshal(nil, m)
	if werr == nil || !errors.Is(gerr, msgenc.ErrInvalid) || !errors.Is(werr, msgenc.ErrInvalid) {
		t.Fatalf("Marshal: %v; AppendMarshal: %v; want both ErrInvalid", werr, gerr)
	}
}
