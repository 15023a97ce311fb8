package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
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
	bootstrap peerList
	timeout   time.Duration
}

func (c *clientFlags) register(fs *flag.FlagSet) {
	c.parts.register(fs, "`multiaddr` for this client to listen on, repeatable (default: a free loopback port of each transport kind the bootstrap addresses use)")
	c.parts.registerK(fs)
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
		listen = listenFor(c.bootstrap)
	}
	n, err := b.Client(true).Identity(id).Listen(listen...).Build(ctx)
	if err != nil {
		store.Close()
		return nil, err
	}
	err = n.Bootstrap(ctx, c.bootstrap...)
	for try := 1; try < bootstrapTries && errors.Is(err, node.ErrTimeout) && ctx.Err() == nil; try++ {
		err = n.Bootstrap(ctx, c.bootstrap...)
	}
	if err != nil {
		n.Close()
		return nil, fmt.Errorf("cannot reach the network: %w", err)
	}
	return n, nil
}

// bootstrapTries is how many times a client tries its bootstrap peers when
// they do not answer. A one-shot client reaches the network through them
// alone: with 1% loss on a link, a ping and its resend (or their answers)
// are both lost about once in 2,500 times. Trying twice makes that about
// once in six million, at the cost of reporting a dead address in four RPC
// timeouts rather than two.
const bootstrapTries = 2

// listenFor returns, for each distinct transport kind (udp, tcp) and IP
// family among the bootstrap addresses, a port-0 address to listen on where
// they can answer: loopback for a loopback bootstrap peer, and otherwise
// every interface (the node then announces the host's concrete addresses),
// so that a client on one host reaches peers on another with no flag.
func listenFor(addrs []ma.Multiaddr) []ma.Multiaddr {
	var out []ma.Multiaddr
	seen := make(map[string]bool)
	for _, a := range addrs {
		if len(a) == 0 || transport.Protocol(a) == "" && a[0].Code() != ma.P_DNS && a[0].Code() != ma.P_DNS4 && a[0].Code() != ma.P_DNS6 {
			continue
		}
		proto := a[len(a)-1].Protocol().Name
		v6 := a[0].Code() == ma.P_IP6 || a[0].Code() == ma.P_DNS6
		host := "/ip4/0.0.0.0/"
		switch {
		case v6 && isLoopbackHost(a):
			host = "/ip6/::1/"
		case v6:
			host = "/ip6/::/"
		case isLoopbackHost(a):
			host = "/ip4/127.0.0.1/"
		}
		s := host + proto + "/0"
		if !seen[s] {
			seen[s] = true
			out = append(out, ma.StringCast(s))
		}
	}
	return out
}

// isLoopbackHost reports whether a names this host: a loopback IP or
// localhost.
func isLoopbackHost(a ma.Multiaddr) bool {
	switch a[0].Code() {
	case ma.P_IP4, ma.P_IP6:
		ip, ok := netip.AddrFromSlice(a[0].RawValue())
		return ok && ip.Unmap().IsLoopback()
	case ma.P_DNS, ma.P_DNS4, ma.P_DNS6:
		return a[0].Value() == "localhost"
	}
	return false
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
