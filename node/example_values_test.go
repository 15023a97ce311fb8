package node_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/transport/mem"
)

// exampleNetwork starts size nodes over a mem network, joined through the
// first, and returns them with a function that closes everything.
func exampleNetwork(ctx context.Context, size int) ([]*node.Node, func()) {
	network := mem.NewNetwork(mem.Options{})
	var nodes []*node.Node
	closeAll := func() {
		for _, n := range nodes {
			n.Close()
		}
		network.Close()
	}
	for range size {
		ep, err := network.Listen(nil)
		if err != nil {
			log.Fatal(err)
		}
		n, err := node.NewBuilder().Transport(ep).Build(ctx)
		if err != nil {
			log.Fatal(err)
		}
		if len(nodes) > 0 {
			if err := n.Bootstrap(ctx, nodes[0].Addrs()...); err != nil {
				log.Fatal(err)
			}
		}
		nodes = append(nodes, n)
	}
	return nodes, closeAll
}

// An immutable value is stored under the hash of its bytes: the key proves
// the value, so anyone may store it and no one can change it.
func ExampleNode_PutImmutable() {
	ctx := context.Background()
	nodes, closeAll := exampleNetwork(ctx, 4)
	defer closeAll()

	key, _, err := nodes[1].PutImmutable(ctx, []byte("chunk of a file"))
	if err != nil {
		log.Fatal(err)
	}
	value, err := nodes[3].GetImmutable(ctx, key)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", value)
	// Output: chunk of a file
}

// A mutable value lives under a key derived from its publisher's public key
// and a salt. Only the publisher can write it, its sequence number only
// grows, and a compare-and-swap names the version it replaces.
func ExampleNode_PutMutable() {
	ctx := context.Background()
	nodes, closeAll := exampleNetwork(ctx, 4)
	defer closeAll()
	publisher, reader := nodes[1], nodes[3]

	if _, err := publisher.PutMutable(ctx, []byte("status"), 1, []byte("draft")); err != nil {
		log.Fatal(err)
	}
	if _, err := publisher.PutMutable(ctx, []byte("status"), 2, []byte("final"), node.WithCAS(1)); err != nil {
		log.Fatal(err)
	}
	_, err := publisher.PutMutable(ctx, []byte("status"), 1, []byte("replayed"))
	var conflict *node.RemoteError
	if errors.Is(err, node.ErrConflict) && errors.As(err, &conflict) {
		fmt.Println("older version refused; replicas hold", conflict.Seq)
	}

	v, err := reader.GetMutable(ctx, publisher.Record().PublicKey, []byte("status"), node.WithQuorum(2))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s (seq %d)\n", v.Value, v.Seq)
	// Output:
	// older version refused; replicas hold 2
	// final (seq 2)
}

// A plain key may hold one value per publisher. Each is signed, and only its
// publisher can replace it.
func ExampleNode_GetAll() {
	ctx := context.Background()
	nodes, closeAll := exampleNetwork(ctx, 4)
	defer closeAll()

	if _, err := nodes[1].Put(ctx, []byte("room"), []byte("alice was here")); err != nil {
		log.Fatal(err)
	}
	if _, err := nodes[2].Put(ctx, []byte("room"), []byte("bob was here")); err != nil {
		log.Fatal(err)
	}
	all, err := nodes[3].GetAll(ctx, []byte("room"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(all), "publishers")
	mine, err := nodes[3].Get(ctx, []byte("room"), node.WithPublisher(nodes[1].Record().PublicKey))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", mine)
	// Output:
	// 2 publishers
	// alice was here
}
