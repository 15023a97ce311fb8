package main

import (
	"context"
	"io"

	"github.com/dhtkit/dhtkit/examples/internal/cli"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
)

// joiner returns a function that joins the network as a client with c's
// flags and the key id (nil: a fresh one), the Builder first adjusted by
// tune (nil for none).
func joiner(c *cli.Client, id *peer.Identity, stderr io.Writer, tune func(*node.Builder)) (func(context.Context) (*node.Node, error), error) {
	b, err := c.Builder(id, stderr)
	if err != nil {
		return nil, err
	}
	if tune != nil {
		tune(b)
	}
	return func(ctx context.Context) (*node.Node, error) { return c.Join(ctx, b) }, nil
}

// joinFor joins within c's timeout.
func joinFor(ctx context.Context, c *cli.Client, join func(context.Context) (*node.Node, error)) (*node.Node, error) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	return join(ctx)
}
