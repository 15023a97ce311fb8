package trust_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
)

// An immutable value is stored under the hash of its bytes and carries no
// signature: anyone may store it, no one can change it.
func ExampleNewImmutable() {
	h := peer.SHA256()
	v := trust.NewImmutable(h, []byte("a chunk of a file"))
	fmt.Println("kind:", v.Kind)
	fmt.Println("key is the hash:", v.Key == h.Sum([]byte("a chunk of a file")))
	fmt.Println("verify:", v.Verify(h))

	v.Value[0] = 'A'
	err := v.Verify(h)
	fmt.Println("changed:", errors.Is(err, trust.ErrKeyMismatch))
	// Output:
	// kind: immutable
	// key is the hash: true
	// verify: <nil>
	// changed: true
}

// A mutable value lives under a key made from its publisher's public key and
// a salt, so only that publisher can write there; each new version carries a
// higher sequence number.
func ExampleNewMutable() {
	id, err := peer.IdentityFromSeed(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		panic(err)
	}
	h := peer.SHA256()
	v1, err := trust.NewMutable(id, h, []byte("profile"), 1, []byte("name: ada"))
	if err != nil {
		panic(err)
	}
	v2, err := trust.NewMutable(id, h, []byte("profile"), 2, []byte("name: ada lovelace"))
	if err != nil {
		panic(err)
	}
	fmt.Println("kind:", v1.Kind, "key:", v1.Key.Short())
	fmt.Println("same key:", v1.Key == v2.Key, "newer:", v2.Seq > v1.Seq)
	fmt.Println("verify:", v1.Verify(h), v2.Verify(h))

	v2.Seq = 3 // anything the publisher did not sign is refused
	err = v2.Verify(h)
	fmt.Println("tampered:", errors.Is(err, trust.ErrBadSignature))
	// Output:
	// kind: mutable key: d3bf373d
	// same key: true newer: true
	// verify: <nil> <nil>
	// tampered: true
}

// A plain value may sit under any key. Several publishers can each keep one
// under the same key, and only a value's own publisher can replace it.
func ExampleNewPlain() {
	h := peer.SHA256()
	key := h.Sum([]byte("topic: go"))
	for seed := byte(1); seed <= 2; seed++ {
		id, err := peer.IdentityFromSeed(bytes.Repeat([]byte{seed}, 32))
		if err != nil {
			panic(err)
		}
		v, err := trust.NewPlain(id, key, 1, []byte("I read this topic"))
		if err != nil {
			panic(err)
		}
		publisher := peer.IDFromPublicKey(h, v.Publisher)
		fmt.Println(v.Kind, "under", v.Key.Short(), "by", publisher.Short(), "verify:", v.Verify(h))
	}
	// Output:
	// plain under 43d91b70 by 34750f98 verify: <nil>
	// plain under 43d91b70 by 6a3803d5 verify: <nil>
}
