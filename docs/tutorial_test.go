package docs_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/dhtkit/dhtkit/docs/mapstore"
	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/msgenc/json"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/kademlia"
	ma "github.com/multiformats/go-multiaddr"
)

// This file holds the Go code of tutorial.md, between "tutorial:begin" and
// "tutorial:end" lines; TestTutorialCodeIsCompiledCode checks that the
// markdown shows it as it is here.

// Step 1 of the tutorial: two nodes with every default.
func Example_firstNetwork() {
	// tutorial:begin first-network
	ctx := context.Background()
	seed, err := node.NewBuilder().Build(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer seed.Close()

	n, err := node.NewBuilder().Build(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer n.Close()
	if err := n.Bootstrap(ctx, seed.Addrs()...); err != nil {
		log.Fatal(err)
	}

	if _, err := n.Put(ctx, []byte("greeting"), []byte("hello, DHT")); err != nil {
		log.Fatal(err)
	}
	value, err := seed.Get(ctx, []byte("greeting"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(value))
	// tutorial:end first-network

	// Output: hello, DHT
}

// tutorial:begin compose

// newNode builds a node of chosen parts around store, and joins the
// network through bootstrap when it is given.
func newNode(ctx context.Context, store kvstore.Store, bootstrap ...ma.Multiaddr) (*node.Node, error) {
	n, err := node.NewBuilder().
		Table(func(self peer.ID, k int) (route.Table, error) {
			return kademlia.New(self, kademlia.Options{K: k})
		}).
		ListenString("/ip4/127.0.0.1/udp/0", "/ip4/127.0.0.1/tcp/0").
		Store(store).
		Codec(json.New()).
		Mode(node.Mixed(2)).
		K(8).
		RPCTimeout(500 * time.Millisecond).
		Build(ctx)
	if err != nil {
		store.Close() // Build leaves a store it was given to the caller
		return nil, err
	}
	if len(bootstrap) > 0 {
		if err := n.Bootstrap(ctx, bootstrap...); err != nil {
			n.Close() // closes the store too: the node owns it
			return nil, err
		}
	}
	return n, nil
}

// tutorial:end compose

// Step 4 of the tutorial: the plug-in at work in a network.
func Example_customDHT() {
	// tutorial:begin custom-dht
	ctx := context.Background()
	seed, err := newNode(ctx, mapstore.New(time.Now))
	if err != nil {
		log.Fatal(err)
	}
	defer seed.Close()
	n, err := newNode(ctx, mapstore.New(time.Now), seed.Addrs()...)
	if err != nil {
		log.Fatal(err)
	}
	defer n.Close()

	acks, err := n.Put(ctx, []byte("greeting"), []byte("hello from mapstore"))
	if err != nil {
		log.Fatal(err)
	}
	// Each call may choose another mode than the node's default.
	value, err := seed.Get(ctx, []byte("greeting"), node.WithMode(node.Direct()))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d replicas; %s\n", acks, value)
	// tutorial:end custom-dht

	// Output: 2 replicas; hello from mapstore
}
