// Command anacrolix measures dhtkit against github.com/anacrolix/dht/v2 on
// the same network in one process: N nodes a side, each on its own
// loopback UDP socket, k=8 and alpha=3 on both sides (anacrolix's
// defaults), dhtkit with its defaults otherwise, so every peer record is
// signed and verified.
//
// Each round builds a dhtkit network and an anacrolix network, one after
// the other (which goes first alternates), so that only one is alive when
// it is measured. For each it reports:
//
//   - build: starting N nodes and joining them one after another through
//     the first. dhtkit: Bootstrap, which looks up the node's own ID and
//     refreshes the buckets that lookup missed. anacrolix: Bootstrap, a
//     find_node traversal of its own ID, then the work its table
//     maintainer would do over its first minutes, done at once in passes
//     (see below);
//   - lookup p50 and p99 over lookups of random IDs from random nodes, one
//     at a time: dhtkit's FindPeer in direct mode, which finds no peer and
//     so runs to the k closest, against anacrolix's get_peers traversal
//     (an announce that announces nothing), which also ends at the k
//     closest since no node holds peers for a random infohash;
//   - CPU per lookup: the process's user and system time over the lookups
//     (getrusage), divided by their number; every node runs in this
//     process, so it counts the serving nodes' work too;
//   - heap and goroutines per node: the live heap after GC once the
//     network is built, less the heap before it was, divided by N. The
//     anacrolix servers run no table maintainer (its work was done while
//     building), so they count one goroutine fewer than a server that
//     keeps one running.
//
// anacrolix's servers pass on only the nodes they have heard back from,
// and a joiner hears back from the nodes it asks but is itself only heard
// from; right after the joins, an anacrolix network is a star around its
// first server, whose lookups end after one or two requests. Its table
// maintainer mends that a minute at a time by pinging questionable nodes
// and refreshing buckets; the harness does the same work at once, in
// passes (every server pings its table, then bootstraps again) until a
// pass adds fewer than 5% more good nodes to the tables, and counts them
// in anacrolix's build time. The anacrolix servers are otherwise as its
// defaults make them, except: the starting node is the network's first
// server (no public routers); node ID security is off (loopback addresses
// cannot secure an ID); each server has its own unlimited send limiter,
// not the package-wide one of 25 packets a second; and each has an
// in-memory peer store, as a node serving get_peers does, without which
// its answers carry no token and a traversal asks nearly every node.
//
// Before its lookups, each built network looks up some of its own nodes by
// ID (dhtkit: FindPeer returns the record; anacrolix: the node itself
// answers the traversal) and the count found is printed, as a check that
// the network is joined.
//
// Usage, from this directory (its own module, so that dhtkit does not
// depend on anacrolix):
//
//	go run . -n 1000 -lookups 300 -rounds 3 [-cpuprofile dhtkit.prof] [-heapprofile idle.prof]
//
// The CPU profile covers dhtkit's lookups in the first round only (raise
// -lookups for more samples). The heap profile is of dhtkit's idle network
// in the first round, where heap per node is measured; it records every
// allocation until it is written, which slows that first build many
// times over; read it with go tool pprof -sample_index=inuse_space.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

func main() {
	os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr))
}

// cli runs the command and returns its exit code.
func cli(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("anacrolix", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := config{}
	fs.IntVar(&cfg.nodes, "n", 1000, "nodes in each network")
	fs.IntVar(&cfg.lookups, "lookups", 300, "lookups a round on each side")
	fs.IntVar(&cfg.rounds, "rounds", 3, "rounds, each building both networks")
	fs.IntVar(&cfg.checks, "checks", 20, "lookups of known nodes by ID in each network, to count those found")
	fs.IntVar(&cfg.warm, "warm", 0, "lookups a round before the measured ones, not measured")
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "bound on one lookup and one join")
	fs.Uint64Var(&cfg.seed, "seed", 1, "seed for targets and origins")
	profile := fs.String("cpuprofile", "", "write a CPU profile of dhtkit's lookups to this file")
	heapProfile := fs.String("heapprofile", "", "write a heap profile of dhtkit's idle network to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg.k, cfg.alpha = 8, 3
	if cfg.nodes < 2 || cfg.lookups < 1 || cfg.rounds < 1 || cfg.checks < 0 || cfg.warm < 0 {
		fmt.Fprintln(stderr, "anacrolix: -n must be at least 2, -lookups and -rounds at least 1, -checks and -warm at least 0")
		return 2
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fmt.Fprintln(stderr, "anacrolix:", err)
			return 1
		}
		defer f.Close()
		started := false
		cfg.beforeLookups = func() func() {
			// A profile cannot be paused, so it takes the first round.
			if !started {
				started = true
				if err := pprof.StartCPUProfile(f); err != nil {
					fmt.Fprintln(stderr, "anacrolix: cpu profile:", err)
					return nil
				}
				return pprof.StopCPUProfile
			}
			return nil
		}
	}
	if *heapProfile != "" {
		// Every allocation, so that the profile adds up to the figure;
		// once it is written, the default rate again, since recording
		// every allocation slows the rest of the run many times over.
		defaultRate := runtime.MemProfileRate
		runtime.MemProfileRate = 1
		written := false
		cfg.idle = func() {
			if written {
				return
			}
			written = true
			if err := writeHeapProfile(*heapProfile); err != nil {
				fmt.Fprintln(stderr, "anacrolix: heap profile:", err)
			}
			runtime.MemProfileRate = defaultRate
		}
	}
	if _, _, err := run(context.Background(), stdout, cfg, dhtkitSide{}, anacrolixSide{}); err != nil {
		fmt.Fprintln(stderr, "anacrolix:", err)
		return 1
	}
	return 0
}

// writeHeapProfile writes the live heap to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
