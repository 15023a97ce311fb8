package peer_test

import (
	"bytes"
	"fmt"

	"github.com/dhtkit/dhtkit/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// A peer makes its identity (here from a fixed seed, so the output is
// reproducible; real peers use GenerateIdentity and Save), signs a record of
// where it listens, and anyone holding the record can check it.
func ExampleNewRecord() {
	id, err := peer.IdentityFromSeed(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		panic(err)
	}
	h := peer.SHA256()
	addr, err := ma.NewMultiaddr("/ip4/127.0.0.1/udp/4001")
	if err != nil {
		panic(err)
	}
	rec, err := peer.NewRecord(id, h, 1, addr)
	if err != nil {
		panic(err)
	}
	fmt.Println("id:", rec.ID.Short(), "bits:", rec.ID.Bits())
	fmt.Println("addrs:", rec.Addrs)
	fmt.Println("verify:", rec.Verify(h))

	rec.Seq = 2 // any change breaks the signature
	fmt.Println("tampered:", rec.Verify(h))
	// Output:
	// id: 34750f98 bits: 256
	// addrs: [/ip4/127.0.0.1/udp/4001]
	// verify: <nil>
	// tampered: peer: bad record signature: 34750f98
}

// CompareDistance orders peers by XOR distance to a target, the order in
// which a Kademlia lookup contacts them.
func ExampleCompareDistance() {
	target, _ := peer.ParseID("0000000000000000000000000000000000000000")
	a, _ := peer.ParseID("0100000000000000000000000000000000000000")
	b, _ := peer.ParseID("8000000000000000000000000000000000000000")
	fmt.Println(peer.CompareDistance(target, a, b)) // a shares 7 leading bits with the target, b none
	fmt.Println(peer.CompareDistance(target, b, a))
	fmt.Println(peer.CompareDistance(target, a, a))

	ids := []peer.ID{b, a, target}
	peer.SortByDistance(target, ids)
	for _, id := range ids {
		fmt.Println(id.Short(), target.CommonPrefixLen(id))
	}
	// Output:
	// -1
	// 1
	// 0
	// 00000000 160
	// 01000000 7
	// 80000000 0
}
