package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
)

// defaultClientTimeout bounds a whole put or get, bootstrap included.
const defaultClientTimeout = 10 * time.Second

// clientFlags are the flags of put and get: the part flags, where to join,
// and how long to try.
type clientFlags struct {
	parts
	bootstrap addrList
	timeout   time.Duration
}

func (c *clientFlags) register(fs *flag.FlagSet) {
	c.parts.register(fs, "`multiaddr` for this client to listen on, repeatable (default: a free loopback port of each transport kind the bootstrap addresses use)")
	fs.Var(&c.bootstrap, "bootstrap", "`multiaddr` of a node to join through, repeatable (required)")
	fs.DurationVar(&c.timeout, "timeout", defaultClientTimeout, "give up after this long")
}

// joinClient builds a client node (one that queries and stores but never
// enters other peers' tables) and bootstraps it. The node signs what it
// publishes with id, or with a fresh key when id is nil.
func joinClient(ctx context.Context, c *clientFlags, id *peer.Identity, stderr io.Writer) (*node.Node, error) {
	b, store, err := c.builder("", stderr)
	if err != nil {
		return nil, err
	}
	listen := c.listen
	if len(listen) == 0 {
		listen = loopbackFor(c.bootstrap)
	}
	n, err := b.Client(true).Identity(id).Listen(listen...).Build(ctx)
	if err != nil {
		store.Close()
		return nil, err
	}
	if err := n.Bootstrap(ctx, c.bootstrap...); err != nil {
		n.Close()
		return nil, fmt.Errorf("cannot reach the network: %w", err)
	}
	return n, nil
}

// loopbackFor returns a port-0 loopback address for each distinct transport
// kind (udp, tcp) and IP family among addrs.
func loopbackFor(addrs []ma.Multiaddr) []ma.Multiaddr {
	var out []ma.Multiaddr
	seen := make(map[string]bool)
	for _, a := range addrs {
		s := "/ip4/127.0.0.1/" + transport.Protocol(a) + "/0"
		if a[0].Code() == ma.P_IP6 {
			s = "/ip6/::1/" + transport.Protocol(a) + "/0"
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, ma.StringCast(s))
		}
	}
	return out
}

// checkClient validates what put and get need beyond their flags.
func checkClient(fs *flag.FlagSet, c *clientFlags, stderr io.Writer) (code int, ok bool) {
	if len(c.bootstrap) == 0 {
		return usageError(fs, stderr, "--bootstrap is required"), false
	}
	if c.timeout <= 0 {
		return usageError(fs, stderr, "--timeout must be positive, got %v", c.timeout), false
	}
	return 0, true
}
