package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

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
With --store bbolt:PATH it keeps the values it holds across restarts too.

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
loopback or a private network.`

func runServe(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", "serve [--listen MULTIADDR ...] [--bootstrap MULTIADDR ...] [--identity FILE] [--trust-roots FILE] [--metrics HOST:PORT] [part flags]", serveAbout)
	var (
		p         parts
		bootstrap peerList
		identity  identityFlag
		metrics   string
		roots     string
	)
	p.register(fs, "`multiaddr` to listen on, repeatable: /ip4|ip6/HOST/udp|tcp/PORT (default "+node.DefaultListenAddr+")")
	p.registerK(fs)
	fs.Var(&bootstrap, "bootstrap", "`multiaddr` of a node to join through, repeatable")
	identity.register(fs, "key `file`: loaded, or generated and saved (0600) when missing; default: a fresh key each start")
	fs.StringVar(&roots, "trust-roots", "", "run a web of trust: `file` of the root public keys in hex, one a line; the node admits, relays for and stores the values of peers endorsed from them ('dhtnode endorse')")
	fs.Func("metrics", "serve Prometheus metrics at /metrics and Go profiles at /debug/pprof/ over HTTP on `host:port` (port 0: any free port; the URLs are printed on stderr)", func(s string) error {
		if _, _, err := net.SplitHostPort(s); err != nil {
			return fmt.Errorf("want HOST:PORT: %w", err)
		}
		metrics = s
		return nil
	})
	pos, code, done := parseArgs(fs, args, stdout, stderr)
	if done {
		return code
	}
	if len(pos) > 0 {
		return usageError(fs, stderr, "unexpected argument %q", pos[0])
	}

	id, err := identity.load(stderr)
	if err != nil {
		return fail(stderr, "serve", err)
	}
	var policy *wot.Policy
	if roots != "" {
		if id == nil {
			if id, err = peer.GenerateIdentity(nil); err != nil {
				return fail(stderr, "serve", err)
			}
		}
		if policy, err = webOfTrust(roots, id); err != nil {
			return fail(stderr, "serve", err)
		}
		p.level = policy.Level
	}
	b, store, err := p.builder("", stderr)
	if err != nil {
		return fail(stderr, "serve", err)
	}
	if policy != nil {
		b.Policy(policy)
	}
	listen := p.listen
	if len(listen) == 0 {
		listen = addrList{ma.StringCast(node.DefaultListenAddr)}
	}
	n, err := b.Identity(id).Listen(listen...).Build(ctx)
	if err != nil {
		store.Close()
		return fail(stderr, "serve", err)
	}
	defer n.Close()
	var ms *metricsServer
	if metrics != "" {
		if ms, err = startMetrics(metrics, n); err != nil {
			return fail(stderr, "serve", err)
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
				return closeNode(n, ms, stderr)
			}
			return fail(stderr, "serve", fmt.Errorf("cannot join the network: %w", err))
		}
		fmt.Fprintf(stderr, "joined: %s known\n", plural(n.Stats().TableSize, "peer"))
	}
	fmt.Fprintln(stdout, "ready")

	<-ctx.Done()
	return closeNode(n, ms, stderr)
}

// closeNode stops the metrics server, when there is one, then closes n,
// reports what it served and returns the exit code.
func closeNode(n *node.Node, ms *metricsServer, stderr io.Writer) int {
	var merr error
	if ms != nil {
		merr = ms.close()
	}
	s := n.Stats()
	if err := errors.Join(merr, n.Close()); err != nil {
		return fail(stderr, "serve", fmt.Errorf("close: %w", err))
	}
	fmt.Fprintf(stderr, "stopped: served %s, relayed %s, held %s\n",
		plural(int(s.Served), "request"), plural(int(s.Forwarded), "forwarded query"), plural(s.Records, "record"))
	return 0
}

// plural returns "1 peer", "2 peers", "3 forwarded queries".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if stem, ok := strings.CutSuffix(noun, "y"); ok {
		return fmt.Sprintf("%d %sies", n, stem)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
