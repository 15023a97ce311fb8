package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"

	"github.com/dhtkit/dhtkit/examples/internal/cli"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust/wot"
	ma "github.com/multiformats/go-multiaddr"
)

const serveAbout = `Runs a node until SIGINT or SIGTERM, then closes it cleanly and exits 0.

It prints, on stdout, one line "id HEX", one line "listening MULTIADDR" per
address, and "ready" once it has bootstrapped (at once without --bootstrap).
An unreachable bootstrap address is an error: the node exits 1.

With --identity FILE the node keeps its ID across restarts: the key is read
from FILE, or generated and saved there (mode 0600) when FILE does not exist.
With --store bbolt:DIR it keeps the values it holds across restarts too, in
DIR/node.db (DIR is made if missing; testnet's --store takes a directory
the same way).

With --store bbolt:DIR or --identity FILE the node also keeps, in
DIR/node.state (or FILE.state), its good contacts and the values it
publishes: started again without --bootstrap, it rejoins through those
contacts and keeps republishing its values.

With --trust-roots FILE it runs a web of trust: FILE lists public keys in
hex ('dhtnode id' prints them), one a line; they and the node's own key are
the roots. The node admits to its table, relays for and keeps the values of
only the peers endorsed from the roots ('dhtnode endorse'), and drops a peer
within a refresh interval of its endorsement's revocation. With --route
trustorder its table ranks peers by that trust, then by distance.

With --metrics HOST:PORT it serves, over HTTP, the node's Prometheus
metrics at /metrics (with the Go runtime's and the process's) and Go's
profiles at /debug/pprof/, and prints on stderr one line "metrics URL" and
one line "profiles URL" before "ready". Port 0 picks a free port. Anyone who
reaches the address can read the profiles and the command line: bind it to
loopback or a private network.

The limit flags bound what other peers may cost the node: requests per
second from each peer ID, IP address and /24 (IPv6 /64), as RATE:BURST;
bytes and values it holds for others in all, per publisher, and per source
/24 for unsigned values. A request over a rate is refused or dropped, a
store over a quota refused with the quota code; both are counted
(--metrics). "off" lifts a limit.`

func runServe(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet(prog, "serve", "serve [--listen MULTIADDR ...] [--bootstrap MULTIADDR ...] [--identity FILE] [--store bbolt:DIR] [--trust-roots FILE] [--metrics HOST:PORT] [limit flags] [part flags]", serveAbout)
	var (
		s         cli.Server
		bootstrap cli.PeerList
		identity  cli.Identity
		metrics   string
		roots     string
		limits    cli.Limits
	)
	s.Register(fs, "`multiaddr` to listen on, repeatable: /ip4|ip6/HOST/udp|tcp/PORT (default "+node.DefaultListenAddr+")")
	s.RegisterK(fs)
	limits.Register(fs)
	fs.Var(&bootstrap, "bootstrap", "`multiaddr` of a node to join through, repeatable")
	identity.Register(fs, "key `file`: loaded, or generated and saved (0600) when missing; default: a fresh key each start")
	fs.StringVar(&roots, "trust-roots", "", "run a web of trust: `file` of the root public keys in hex, one a line; the node admits, relays for and stores the values of peers endorsed from them ('dhtnode endorse')")
	fs.Func("metrics", "serve Prometheus metrics at /metrics and Go profiles at /debug/pprof/ over HTTP on `host:port` (port 0: any free port; the URLs are printed on stderr)", func(s string) error {
		if _, _, err := net.SplitHostPort(s); err != nil {
			return fmt.Errorf("want HOST:PORT: %w", err)
		}
		metrics = s
		return nil
	})
	pos, code, done := fs.Parse(args, stdout, stderr)
	if done {
		return code
	}
	if len(pos) > 0 {
		return fs.UsageError(stderr, "unexpected argument %q", pos[0])
	}

	id, err := identity.Load(stderr)
	if err != nil {
		return fs.Fail(stderr, err)
	}
	var policy *wot.Policy
	if roots != "" {
		if id == nil {
			if id, err = peer.GenerateIdentity(nil); err != nil {
				return fs.Fail(stderr, err)
			}
		}
		if policy, err = webOfTrust(roots, id); err != nil {
			return fs.Fail(stderr, err)
		}
		s.Level = policy.Level
	}
	b, store, err := s.Builder("node", stderr)
	if err != nil {
		return fs.Fail(stderr, err)
	}
	if policy != nil {
		b.Policy(policy)
	}
	limits.Apply(b)
	listen := s.Listen
	if len(listen) == 0 {
		listen = cli.AddrList{ma.StringCast(node.DefaultListenAddr)}
	}
	state := statePath(s.Store, identity)
	if state != "" {
		b.StateFile(state)
	}
	n, err := b.Identity(id).Listen(listen...).Build(ctx)
	if err != nil {
		store.Close()
		return fs.Fail(stderr, err)
	}
	defer n.Close()
	var ms *metricsServer
	if metrics != "" {
		if ms, err = startMetrics(metrics, n); err != nil {
			return fs.Fail(stderr, err)
		}
		defer ms.close() // on the way out by an error; runs before n.Close
		fmt.Fprintf(stderr, "metrics http://%s/metrics\nprofiles http://%s/debug/pprof/\n", ms.addr, ms.addr)
	}

	fmt.Fprintf(stdout, "id %s\n", n.ID())
	for _, a := range n.Addrs() {
		fmt.Fprintf(stdout, "listening %s\n", a)
	}
	if len(bootstrap) > 0 {
		if err := n.Bootstrap(ctx, bootstrap...); err != nil {
			if ctx.Err() != nil {
				return closeNode(fs, n, ms, stderr)
			}
			return fs.Fail(stderr, err) // node.ErrBootstrap says what failed
		}
		fmt.Fprintf(stderr, "joined: %s known\n", cli.Plural(n.Stats().TableSize, "peer"))
	} else if state != "" {
		// A restart: rejoin through the contacts saved last time, if any.
		if err := n.Bootstrap(ctx); err == nil {
			fmt.Fprintf(stderr, "rejoined through saved contacts: %s known\n", cli.Plural(n.Stats().TableSize, "peer"))
		} else if ctx.Err() != nil {
			return closeNode(fs, n, ms, stderr)
		}
	}
	fmt.Fprintln(stdout, "ready")

	<-ctx.Done()
	return closeNode(fs, n, ms, stderr)
}

// closeNode stops the metrics server, when there is one, then closes n,
// reports what it served and returns the exit code.
func closeNode(fs *cli.FlagSet, n *node.Node, ms *metricsServer, stderr io.Writer) int {
	var merr error
	if ms != nil {
		merr = ms.close()
	}
	s := n.Stats()
	if err := errors.Join(merr, n.Close()); err != nil {
		return fs.Fail(stderr, fmt.Errorf("close: %w", err))
	}
	fmt.Fprintf(stderr, "stopped: served %s, relayed %s, held %s\n",
		cli.Plural(int(s.Served), "request"), cli.Plural(int(s.Forwarded), "forwarded query"), cli.Plural(s.Records, "record"))
	return cli.ExitOK
}

// statePath is where serve keeps its contacts and published values: beside
// a durable store, else beside the identity file; "" for a node that keeps
// nothing across restarts.
func statePath(store cli.StoreSpec, identity cli.Identity) string {
	switch {
	case store.Dir != "":
		return filepath.Join(store.Dir, "node.state")
	case identity.Set():
		return identity.Path + ".state"
	}
	return ""
}
