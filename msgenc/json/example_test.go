package json_test

import (
	"fmt"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/json"
)

func Example() {
	c := json.New()
	frame, err := c.Marshal(&msgenc.Message{
		Kind:   msgenc.KindPeers,
		TxID:   7,
		Sender: &msgenc.PeerRecord{ID: []byte("me"), Seq: 3},
		Peers:  &msgenc.Peers{Peers: []msgenc.PeerRecord{{ID: []byte("you"), Addrs: [][]byte{{4, 127, 0, 0, 1}}}}},
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s\n", frame)
	m, err := c.Unmarshal(frame)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Kind, m.TxID, string(m.Peers.Peers[0].ID))
	// Output:
	// {"k":4,"t":"7","s":{"i":"bWU=","q":"3"},"peers":{"p":[{"i":"eW91","a":["BH8AAAE="]}]}}
	// peers 7 you
}
