package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/dhtkit/dhtkit/examples/internal/cli"
	"github.com/dhtkit/dhtkit/node"
	ma "github.com/multiformats/go-multiaddr"
)

const testnetAbout = `Runs a network of N nodes in this process, each on its own loopback UDP
socket (127.0.0.1, port 0), joins every node through the first, then, in
each query mode (or only --mode), puts values through some nodes and reads
them back through others. A reader is never one of the k nodes closest to
the key, so reads are lookups, not local hits. It prints a table: per mode,
how many values came back intact, how many reads found a replica on the
reader itself all the same ("local"), and, over the other reads, the median
and 99th-percentile lookup latency and the RPCs and hops a lookup took.

It exits 0 when every mode read back at least 90% of its values, and 1
otherwise. --store bbolt:DIR gives each node its own file in directory DIR,
node-0000.db and on (DIR is made if missing).`

// passRate is the share of lookups every mode must get right for testnet to
// exit 0. Loopback UDP loses nothing in practice, so a healthy network gets
// them all; 90% leaves room for a slow machine without hiding a broken mode.
const passRate = 0.9

// testnetFlags are testnet's flags.
type testnetFlags struct {
	cli.Server
	nodes, lookups, k int
	seed              uint64
}

func runTestnet(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet(prog, "testnet", "testnet [--nodes N] [--mode MODE] [--lookups L] [--store bbolt:DIR] [part flags]", testnetAbout)
	var f testnetFlags
	f.Server.Register(fs, "`multiaddr` every node listens on, port 0, repeatable (default /ip4/127.0.0.1/udp/0)")
	fs.IntVar(&f.nodes, "nodes", 64, "how many nodes to run")
	fs.IntVar(&f.lookups, "lookups", 64, "how many values to put and get in each mode")
	fs.IntVar(&f.k, "k", 0, "replication factor and bucket size (default: nodes/8, between 2 and 20, so that values live on a small part of the network)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed for choosing writers and readers")
	pos, code, done := fs.Parse(args, stdout, stderr)
	if done {
		return code
	}
	switch {
	case len(pos) > 0:
		return fs.UsageError(stderr, "unexpected argument %q", pos[0])
	case f.nodes < 2 || f.nodes > 4096:
		return fs.UsageError(stderr, "--nodes must be between 2 and 4096, got %d", f.nodes)
	case f.lookups < 1:
		return fs.UsageError(stderr, "--lookups must be positive, got %d", f.lookups)
	case f.k < 0:
		return fs.UsageError(stderr, "--k must not be negative, got %d", f.k)
	}
	for _, a := range f.Listen {
		if port, _ := a.ValueForProtocol(a[1].Code()); port != "0" { // a is /ip4|ip6/HOST/udp|tcp/PORT
			return fs.UsageError(stderr, "--listen %s: port must be 0, every node needs its own", a)
		}
	}
	if len(f.Listen) == 0 {
		f.Listen = cli.AddrList{ma.StringCast("/ip4/127.0.0.1/udp/0")}
	}
	if f.k == 0 {
		f.k = min(20, max(2, f.nodes/8))
	}
	modes := node.Modes()
	if f.ModeSet {
		modes = []node.Mode{f.Mode}
	}

	start := time.Now()
	bar := newProgress(stderr)
	tn, err := startTestnet(ctx, &f, bar)
	if err != nil {
		bar.done()
		return fs.Fail(stderr, err)
	}
	defer tn.close()
	bar.done()
	fmt.Fprintf(stdout, "%d nodes on %s (codec %s, table %s, store %s, k %d) up and joined in %v\n",
		f.nodes, f.Listen.String(), f.Codec, f.Route, f.Store, f.k, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "%d values per mode, each put through one node and read through another\n\n", f.lookups)

	rng := rand.New(rand.NewPCG(f.seed, f.seed))
	var results []modeResult
	for _, m := range modes {
		bar.say("measuring " + m.String())
		r, err := tn.measure(ctx, m, f.lookups, rng)
		if err != nil {
			bar.done()
			return fs.Fail(stderr, err)
		}
		results = append(results, r)
	}
	bar.done()
	return report(stdout, stderr, results)
}

// report prints the table and the verdict, and returns the exit code: 1
// when some mode read back less than passRate of its values.
func report(stdout, stderr io.Writer, results []modeResult) int {
	writeTable(stdout, results)
	failed := 0
	for _, r := range results {
		if !r.passed() {
			failed++
			fmt.Fprintf(stderr, "dhtnode testnet: mode %s read back %d of %d values, below the %.0f%% needed\n",
				r.mode, r.ok, len(r.samples), passRate*100)
		}
	}
	if failed > 0 {
		return 1
	}
	fmt.Fprintf(stdout, "\nok: every mode read back at least %.0f%% of its values\n", passRate*100)
	return 0
}

// testnet is a running network of nodes.
type testnet struct {
	nodes []*node.Node
	k     int
}

// startTestnet builds f.nodes nodes and joins each through node 0, one
// after the other, as a network grows. Bootstrap's bucket refresh lets the
// first joiners, who met a nearly empty network, hear of later ones.
func startTestnet(ctx context.Context, f *testnetFlags, bar *progress) (*testnet, error) {
	tn := &testnet{k: f.k}
	for i := range f.nodes {
		n, err := buildTestnetNode(ctx, f, i, bar.w)
		if err != nil {
			tn.close()
			return nil, fmt.Errorf("node %d: %w", i, err)
		}
		tn.nodes = append(tn.nodes, n)
		bar.step("starting nodes", i+1, f.nodes)
	}
	seed := tn.nodes[0].Addrs()
	for i, n := range tn.nodes[1:] {
		if err := n.Bootstrap(ctx, seed...); err != nil {
			tn.close()
			return nil, fmt.Errorf("node %d: %w", i+1, err)
		}
		bar.step("joining", i+2, f.nodes)
	}
	return tn, nil
}

func buildTestnetNode(ctx context.Context, f *testnetFlags, i int, stderr io.Writer) (*node.Node, error) {
	b, store, err := f.Builder(fmt.Sprintf("node-%04d", i), stderr)
	if err != nil {
		return nil, err
	}
	n, err := b.K(f.k).Listen(f.Listen...).Build(ctx)
	if err != nil {
		_ = store.Close() // Build leaves a store it was given to the caller
		return nil, err
	}
	return n, nil
}

// close closes every node, in parallel.
func (tn *testnet) close() {
	var wg sync.WaitGroup
	for _, n := range tn.nodes {
		wg.Go(func() { _ = n.Close() })
	}
	wg.Wait()
	tn.nodes = nil
}
