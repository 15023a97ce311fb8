package cbor_test

import (
	"bytes"
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
)

// lookupFrames returns the two frames of every lookup step: a find-node
// request and its reply of 20 peers.
func lookupFrames() (request, reply *msgenc.Message) {
	reply = conformance.SamplePeersReply(20)
	request = &msgenc.Message{Kind: msgenc.KindFindNode, TxID: 7, Sender: reply.Sender,
		FindNode: &msgenc.FindNode{Target: reply.Peers.Peers[3].ID}}
	return request, reply
}

// TestUnmarshalAllocs bounds the allocations of decoding the two frames of
// every lookup step, a find-node request and its peers reply: the wire
// form, the message, its sender and its body come in one allocation, and
// the sender's and the peer list's byte fields in a few more (see
// internal/wire). A decoder that allocated these apart again would fail.
func TestUnmarshalAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are for the normal run")
	}
	request, reply := lookupFrames()
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

// TestAppendMarshalAllocs bounds the allocations of encoding the same two
// frames into a buffer large enough: the pooled encoder keeps the wire
// forms of the sender, the find-node body and the peer list between
// messages, so a warm encoder allocates nothing for them.
func TestAppendMarshalAllocs(t *testing.T) {
	if testing.Short() || raceDetector {
		t.Skip("allocation counts are for the normal run, without the race detector")
	}
	request, reply := lookupFrames()
	c := cbor.New()
	buf := make([]byte, 0, msgenc.MaxFrameSize)
	for _, tc := range []struct {
		name string
		m    *msgenc.Message
		max  float64
	}{
		// Before the scratch: 2, the sender and the body.
		{"find-node", request, 0},
		// Before the scratch: 3, the sender, the body and the list.
		{"peers-20", reply, 0},
	} {
		got := testing.AllocsPerRun(100, func() {
			if _, err := c.AppendMarshal(buf[:0], tc.m); err != nil {
				t.Fatal(err)
			}
		})
		if got > tc.max {
			t.Errorf("%s: AppendMarshal makes %v allocations, want at most %v", tc.name, got, tc.max)
		}
	}
}

// TestAppendMarshalReusesNoOldPeers: an encoder that encoded a long peer
// list encodes a shorter one next with only its own peers.
func TestAppendMarshalReusesNoOldPeers(t *testing.T) {
	c := cbor.New()
	long, short := conformance.SamplePeersReply(20), conformance.SamplePeersReply(3)
	for range 3 {
		if _, err := c.AppendMarshal(nil, long); err != nil {
			t.Fatal(err)
		}
		frame, err := c.AppendMarshal(nil, short)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Unmarshal(frame)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Peers.Peers) != 3 || !bytes.Equal(got.Peers.Peers[2].ID, short.Peers.Peers[2].ID) {
			t.Fatalf("decoded %d peers, want the 3 encoded", len(got.Peers.Peers))
		}
	}
}
