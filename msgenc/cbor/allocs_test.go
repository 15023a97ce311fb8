package cbor_test

import (
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
)

// TestUnmarshalAllocs bounds the allocations of decoding the two frames of
// every lookup step, a find-node request and its peers reply: the wire
// form, the message, its sender and its body come in one allocation, and
// the sender's and the peer list's byte fields in a few more (see
// internal/wire). A decoder that allocated these apart again would fail.
func TestUnmarshalAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are for the normal run")
	}
	reply := conformance.SamplePeersReply(20)
	request := &msgenc.Message{Kind: msgenc.KindFindNode, TxID: 7, Sender: reply.Sender,
		FindNode: &msgenc.FindNode{Target: reply.Peers.Peers[3].ID}}
	c := cbor.New()
	for _, tc := range []struct {
		name string
		m    *msgenc.Message
		max  float64
	}{
		// The block; the decoder's sender, its byte fields and address
		// list; the decoder's body and its target. Before the block: 9.
		{"find-node", request, 6},
		// The block; the sender's three; the decoder's body; the list's
		// three; the converted list. Before the block: 12.
		{"peers-20", reply, 9},
	} {
		frame, err := c.Marshal(tc.m)
		if err != nil {
			t.Fatal(err)
		}
		got := testing.AllocsPerRun(100, func() {
			if _, err := c.Unmarshal(frame); err != nil {
				t.Fatal(err)
			}
		})
		if got > tc.max {
			t.Errorf("%s: Unmarshal makes %v allocations, want at most %v", tc.name, got, tc.max)
		}
	}
}
