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

func TestAppendMarshalIntoRoomyBufferAllocatesOnlyTheWireForm(t *testing.T) {
	c := cbor.New()
	for _, m := range []*msgenc.Message{conformance.SamplePeersReply(20), conformance.SamplePeersReply(1)} {
		buf := make([]byte, 0, 8<<10)
		allocs := testing.AllocsPerRun(50, func() {
			var err error
			if buf, err = c.AppendMarshal(buf[:0], m); err != nil {
				t.Fatal(err)
			}
		})
		// The sender, the body and its peer list; not the message's wire
		// form nor the buffer around dst, which the codec reuses.
		if allocs > 3 {
			t.Errorf("AppendMarshal of %d peers into a roomy buffer: %v allocations, want at most 3", len(m.Peers.Peers), allocs)
		}
	}
}
