package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
)

// defaultClientTimeout bounds a client's join and its first answers.
const defaultClientTimeout = 10 * time.Second

// Client are the flags of a command that joins a running network for a
// moment as a client: the part flags, where to join, and how long to try.
type Client struct {
	Parts
	Bootstrap PeerList
	Timeout   time.Duration
}

// Register adds the client flags to fs; timeoutDoc says what --timeout
// bounds in the subcommand at hand.
func (c *Client) Register(fs *FlagSet, timeoutDoc string) {
	c.Parts.Register(fs, "`multiaddr` for this client to listen on, repeatable (default: a free port of each transport kind the bootstrap addresses use, where they can answer)")
	c.Parts.RegisterK(fs)
	fs.Var(&c.Bootstrap, "bootstrap", "`multiaddr` of a node to join through, repeatable (required)")
	fs.DurationVar(&c.Timeout, "timeout", defaultClientTimeout, timeoutDoc)
}

// Check validates what a client needs beyond its flags' syntax, reporting a
// usage error.
func (c *Client) Check(fs *FlagSet, stderr io.Writer) (code int, ok bool) {
	if len(c.Bootstrap) == 0 {
		return fs.UsageError(stderr, "--bootstrap is required"), false
	}
	if c.Timeout <= 0 {
		return fs.UsageError(stderr, "--timeout must be positive, got %v", c.Timeout), false
	}
	return ExitOK, true
}

// Builder returns a Builder for a client node (one that queries and stores
// but never enters other peers' tables) with the chosen parts, the
// identity id (nil: a fresh key), and listen addresses: --listen, or a
// loopback port of each kind the bootstrap addresses use.
func (c *Client) Builder(id *peer.Identity, stderr io.Writer) (*node.Builder, error) {
	b, err := c.Parts.Builder(stderr)
	if err != nil {
		return nil, err
	}
	listen := c.Listen
	if len(listen) == 0 {
		listen = listenFor(c.Bootstrap)
	}
	return b.Identity(id).Client(true).Listen(listen...), nil
}

// Join builds the node b describes and bootstraps it through the
// --bootstrap addresses.
func (c *Client) Join(ctx context.Context, b *node.Builder) (*node.Node, error) {
	n, err := b.Build(ctx)
	if err != nil {
		return nil, err
	}
	err = n.Bootstrap(ctx, c.Bootstrap...)
	for try := 1; try < bootstrapTries && errors.Is(err, node.ErrTimeout) && ctx.Err() == nil; try++ {
		err = n.Bootstrap(ctx, c.Bootstrap...)
	}
	if err != nil {
		n.Close()
		return nil, err // node.ErrBootstrap says what failed
	}
	return n, nil
}

// bootstrapTries is how many times a client tries its bootstrap peers when
// they do not answer. A one-shot client reaches the network through them
// alone: with 1% loss on a link, a ping and its resend (or their answers)
// are both lost about once in 2,500 times; trying twice makes that about
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
		if len(a) == 0 || transport.Protocol(a) == "" && !isDNSAddr(a) {
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

// Identity is --identity FILE, which every subcommand that acts as one key
// shares: a node's key (dhtnode serve), a publisher's (dhtnode put,
// filemanager publish), an endorser's (dhtnode endorse), and dhtnode id's.
// It means the same in each: the key in FILE, made and saved there first
// when FILE does not exist.
type Identity struct{ Path string }

// Register adds --identity to fs.
func (f *Identity) Register(fs *FlagSet, doc string) {
	fs.StringVar(&f.Path, "identity", "", doc)
}

// Set reports whether --identity was given.
func (f *Identity) Set() bool { return f.Path != "" }

// Load returns the identity in the file, or nil without --identity.
func (f *Identity) Load(stderr io.Writer) (*peer.Identity, error) {
	if !f.Set() {
		return nil, nil
	}
	return loadOrCreateIdentity(f.Path, stderr)
}

// loadOrCreateIdentity reads the key in path, or makes a new one and saves
// it there when the file does not exist, saying so on stderr. A corrupt or
// group/world-readable file is an error: replacing it silently would change
// the holder's identity.
func loadOrCreateIdentity(path string, stderr io.Writer) (*peer.Identity, error) {
	id, err := peer.LoadIdentity(path)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, peer.ErrNoIdentity) {
		return nil, err
	}
	if id, err = peer.GenerateIdentity(nil); err != nil {
		return nil, err
	}
	if err := id.Save(path); err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "generated a new identity and saved it to %s\n", path)
	return id, nil
}
