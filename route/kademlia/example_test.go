package kademlia_test

import (
	"fmt"
	"time"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route/kademlia"
)

// A full bucket asks the node to ping its least recently seen peer before
// anyone is evicted.
func Example_pingBeforeEvict() {
	id := func(b byte) peer.ID {
		raw := make([]byte, 32)
		raw[0] = b
		id, _ := peer.IDFromBytes(raw)
		return id
	}
	self := id(0x01)
	tbl, err := kademlia.New(self, kademlia.Options{K: 2})
	if err != nil {
		panic(err)
	}
	now := time.Now()
	a, b, c := &peer.Record{ID: id(0x80)}, &peer.Record{ID: id(0x81)}, &peer.Record{ID: id(0x82)}
	fmt.Println(tbl.Update(a, now).Status, tbl.Update(b, now).Status)

	res := tbl.Update(c, now) // bucket 0 is full
	fmt.Println(res.Status, "ping", res.Candidate.ID.Short())

	// The candidate did not answer: c takes its place.
	fmt.Println("removed:", tbl.Fail(res.Candidate.ID, now))
	for _, r := range tbl.Closest(self, 10) {
		fmt.Println("holds", r.ID.Short())
	}
	// Output:
	// added added
	// pending ping 80000000
	// removed: true
	// holds 81000000
	// holds 82000000
}
