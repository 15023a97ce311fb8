package tcp_test

import (
	"context"
	"fmt"

	"github.com/dhtkit/dhtkit/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

// A request and its reply: the reply goes to Packet.From, the asker's
// listen address, and travels back over the connection the request opened.
func ExampleListen() {
	a, err := tcp.Listen(ma.StringCast("/ip4/127.0.0.1/tcp/0"), tcp.Options{})
	if err != nil {
		panic(err)
	}
	defer a.Close()
	b, err := tcp.Listen(ma.StringCast("/ip4/127.0.0.1/tcp/0"), tcp.Options{})
	if err != nil {
		panic(err)
	}
	defer b.Close()

	ctx := context.Background()
	if err := a.Send(ctx, b.Addrs()[0], []byte("ping")); err != nil {
		panic(err)
	}
	req, err := b.Receive(ctx)
	if err != nil {
		panic(err)
	}
	if err := b.Send(ctx, req.From, []byte("pong")); err != nil {
		panic(err)
	}
	reply, err := a.Receive(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Printf("b got %s from a: %v\n", req.Data, req.From.Equal(a.Addrs()[0]))
	fmt.Printf("a got %s; connections: %d\n", reply.Data, a.Stats().OpenConns)
	// Output:
	// b got ping from a: true
	// a got pong; connections: 1
}
