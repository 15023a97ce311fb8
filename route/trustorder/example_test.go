package trustorder_test

import (
	"fmt"
	"time"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route/trustorder"
)

// Peers this node trusts more come first, whatever their distance; within a
// level, and among the untrusted, the nearer come first.
func Example() {
	id := func(b byte) peer.ID {
		raw := make([]byte, 20)
		raw[0] = b
		id, _ := peer.IDFromBytes(raw)
		return id
	}
	// A web-of-trust policy would supply this; here, a fixed map.
	trust := map[peer.ID]int{id(0xf0): 2, id(0x80): 1, id(0x11): 1, id(0x10): -1}
	tbl, err := trustorder.New(id(0x00), trustorder.Options{Level: func(p peer.ID) int { return trust[p] }})
	if err != nil {
		panic(err)
	}
	now := time.Now()
	for _, b := range []byte{0xf0, 0x11, 0x80, 0x10, 0x13} {
		tbl.Update(&peer.Record{ID: id(b)}, now)
	}
	for _, r := range tbl.Closest(id(0x12), 5) {
		fmt.Println(r.ID.Short(), trust[r.ID])
	}
	// Output:
	// f0000000 2
	// 11000000 1
	// 80000000 1
	// 13000000 0
	// 10000000 -1
}
