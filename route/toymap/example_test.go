package toymap_test

import (
	"fmt"
	"time"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route/toymap"
)

// Every peer stays in the table, and Closest sorts them by XOR distance.
func Example() {
	id := func(b byte) peer.ID {
		raw := make([]byte, 20)
		raw[0] = b
		id, _ := peer.IDFromBytes(raw)
		return id
	}
	tbl, err := toymap.New(id(0x00), toymap.Options{})
	if err != nil {
		panic(err)
	}
	now := time.Now()
	for _, b := range []byte{0xf0, 0x11, 0x80, 0x10} {
		tbl.Update(&peer.Record{ID: id(b)}, now)
	}
	for _, r := range tbl.Closest(id(0x12), 3) {
		fmt.Println(r.ID.Short())
	}
	// Output:
	// 10000000
	// 11000000
	// 80000000
}
