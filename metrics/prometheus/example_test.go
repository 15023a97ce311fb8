package dhtprom_test

import (
	"context"
	"fmt"
	"log"

	"github.com/dhtkit/dhtkit/kvstore/memory"
	dhtprom "github.com/dhtkit/dhtkit/metrics/prometheus"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/prometheus/client_golang/prometheus"
)

// A node's collector goes in a registry of the application's own; serve the
// registry with promhttp.HandlerFor. Here two nodes join over the mem
// transport and the registry is read directly.
func Example() {
	ctx := context.Background()
	network := mem.NewNetwork(mem.Options{})
	defer network.Close()
	var nodes []*node.Node
	for range 2 {
		ep, err := network.Listen(nil)
		if err != nil {
			log.Fatal(err)
		}
		n, err := node.NewBuilder().Transport(ep).Store(memory.New(memory.Options{})).Build(ctx)
		if err != nil {
			log.Fatal(err)
		}
		defer n.Close()
		nodes = append(nodes, n)
	}
	if err := nodes[1].Bootstrap(ctx, nodes[0].Addrs()...); err != nil {
		log.Fatal(err)
	}
	if _, err := nodes[1].Put(ctx, []byte("greeting"), []byte("hello")); err != nil {
		log.Fatal(err)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(dhtprom.NewCollector(nodes[1], dhtprom.WithLabels(prometheus.Labels{"node": "n1"})))
	mfs, err := reg.Gather()
	if err != nil {
		log.Fatal(err)
	}
	for _, mf := range mfs {
		switch mf.GetName() {
		case "dhtkit_table_peers", "dhtkit_store_records", "dhtkit_store_value_bytes":
			fmt.Println(mf.GetName(), mf.GetType(), mf.GetMetric()[0].GetGauge().GetValue())
		}
	}
	// Output:
	// dhtkit_store_records GAUGE 1
	// dhtkit_store_value_bytes GAUGE 5
	// dhtkit_table_peers GAUGE 1
}
