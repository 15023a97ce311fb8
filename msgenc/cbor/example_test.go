package cbor_test

import (
	"fmt"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	fxcbor "github.com/fxamacker/cbor/v2"
)

func Example() {
	c := cbor.New()
	frame, err := c.Marshal(&msgenc.Message{
		Kind:   msgenc.KindPeers,
		TxID:   7,
		Sender: &msgenc.PeerRecord{ID: []byte("me"), Seq: 3},
		Peers:  &msgenc.Peers{Peers: []msgenc.PeerRecord{{ID: []byte("you"), Addrs: [][]byte{{4, 127, 0, 0, 1}}}}},
	})
	if err != nil {
		panic(err)
	}
	diag, err := fxcbor.Diagnose(frame) // CBOR diagnostic notation
	if err != nil {
		panic(err)
	}
	fmt.Println(diag)
	m, err := c.Unmarshal(frame)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Kind, m.TxID, string(m.Peers.Peers[0].ID))
	// Output:
	// {1: 4, 2: 7, 3: [h'6d65', null, null, 3, null], 14: [[[h'796f75', null, [h'047f000001'], 0, null]]]}
	// peers 7 you
}
