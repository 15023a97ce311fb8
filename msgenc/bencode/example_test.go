package bencode_test

import (
	"fmt"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/bencode"
)

func Example() {
	c := bencode.New()
	frame, err := c.Marshal(&msgenc.Message{
		Kind:   msgenc.KindPeers,
		TxID:   7,
		Sender: &msgenc.PeerRecord{ID: []byte("me"), Seq: 3},
		Peers:  &msgenc.Peers{Peers: []msgenc.PeerRecord{{ID: []byte("you"), Addrs: [][]byte{{4, 127, 0, 0, 1}}}}},
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%q\n", frame)
	m, err := c.Unmarshal(frame)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Kind, m.TxID, string(m.Peers.Peers[0].ID))
	// Output:
	// "d1:ki4e5:peersd1:pld1:al5:\x04\x7f\x00\x00\x01e1:i3:youeee1:sd1:i2:me1:qi3ee1:ti7ee"
	// peers 7 you
}
