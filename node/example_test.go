package node_test

import (
	"context"
	"fmt"
	"log"
	"path/filepath"

	"github.com/dhtkit/dhtkit/kvstore/bbolt"
	"github.com/dhtkit/dhtkit/kvstore/memory"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/msgenc/json"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/kademlia"
	"github.com/dhtkit/dhtkit/route/toymap"
	"github.com/dhtkit/dhtkit/transport/mem"
	ma "github.com/multiformats/go-multiaddr"
)

// The composition example of README.md: two nodes on loopback UDP and TCP,
// each with a Kademlia table, a durable bbolt store, the JSON codec and
// mixed routing. It listens on real ports, so it is compiled but not run.
func Example_composition() {
	ctx := context.Background()
	dir := "." // where the stores live

	seed, err := joinNode(ctx, filepath.Join(dir, "seed.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer seed.Close()
	n, err := joinNode(ctx, filepath.Join(dir, "n.db"), seed.Addrs()...)
	if err != nil {
		log.Fatal(err)
	}
	defer n.Close()

	acks, err := n.Put(ctx, []byte("greeting"), []byte("hello, DHT"))
	if err != nil {
		log.Fatal(err)
	}
	// Each call may override the node's default mode.
	value, err := seed.Get(ctx, []byte("greeting"), node.WithMode(node.Direct()))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d replicas; got %q\n", acks, value)
}

// joinNode builds a node from chosen parts and joins the network through
// bootstrap, when given.
func joinNode(ctx context.Context, dbPath string, bootstrap ...ma.Multiaddr) (*node.Node, error) {
	store, err := bbolt.Open(dbPath, bbolt.Options{})
	if err != nil {
		return nil, err
	}
	n, err := node.NewBuilder().
		Table(func(self peer.ID, k int) (route.Table, error) {
			return kademlia.New(self, kademlia.Options{K: k})
		}).
		ListenString("/ip4/127.0.0.1/udp/0", "/ip4/127.0.0.1/tcp/0").
		Store(store).
		Codec(json.New()).
		Mode(node.Mixed(2)).
		K(16).
		Build(ctx)
	if err != nil {
		store.Close() // Build leaves a store it was given to the caller
		return nil, err
	}
	if len(bootstrap) > 0 {
		if err := n.Bootstrap(ctx, bootstrap...); err != nil {
			n.Close()
			return nil, err
		}
	}
	return n, nil
}

// A network of five nodes over the in-process mem transport, with the toy
// map table, CBOR and proxied routing: a value put through one node is read
// through another.
func Example_memNetwork() {
	ctx := context.Background()
	network := mem.NewNetwork(mem.Options{})
	defer network.Close()

	var nodes []*node.Node
	for range 5 {
		ep, err := network.Listen(nil)
		if err != nil {
			log.Fatal(err)
		}
		n, err := node.NewBuilder().
			Transport(ep).
			Table(func(self peer.ID, _ int) (route.Table, error) {
				return toymap.New(self, toymap.Options{})
			}).
			Store(memory.New(memory.Options{})).
			Codec(cbor.New()).
			Mode(node.Proxied()).
			Build(ctx)
		if err != nil {
			log.Fatal(err)
		}
		defer n.Close()
		if len(nodes) > 0 {
			if err := n.Bootstrap(ctx, nodes[0].Addrs()...); err != nil {
				log.Fatal(err)
			}
		}
		nodes = append(nodes, n)
	}

	if _, err := nodes[1].Put(ctx, []byte("greeting"), []byte("hello, DHT")); err != nil {
		log.Fatal(err)
	}
	value, err := nodes[4].Get(ctx, []byte("greeting"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", value)
	// Output: hello, DHT
}
