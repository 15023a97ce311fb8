package mem_test

import (
	"context"
	"fmt"

	"github.com/dhtkit/dhtkit/transport/mem"
	ma "github.com/multiformats/go-multiaddr"
)

// Three endpoints, a partition that cuts c off, and Heal.
func Example() {
	net := mem.NewNetwork(mem.Options{Seed: 1})
	defer net.Close()
	a, _ := net.Listen(nil)
	b, _ := net.Listen(nil)
	c, _ := net.Listen(nil)
	ctx := context.Background()

	_ = net.Partition([]ma.Multiaddr{a.Addr(), b.Addr()}, []ma.Multiaddr{c.Addr()})
	_ = a.Send(ctx, b.Addr(), []byte("hello b"))
	_ = a.Send(ctx, c.Addr(), []byte("hello c")) // lost: across the partition
	p, _ := b.Receive(ctx)
	fmt.Printf("%s got %q from %s\n", b.Addr(), p.Data, p.From)

	net.Heal()
	_ = a.Send(ctx, c.Addr(), []byte("hello again c"))
	p, _ = c.Receive(ctx)
	fmt.Printf("%s got %q from %s\n", c.Addr(), p.Data, p.From)

	st := net.Stats()
	fmt.Printf("sent %d, delivered %d, lost to the partition %d\n", st.Sent, st.Delivered, st.DroppedPartition)
	// Output:
	// /memory/2 got "hello b" from /memory/1
	// /memory/3 got "hello again c" from /memory/1
	// sent 3, delivered 2, lost to the partition 1
}
