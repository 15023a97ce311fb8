package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/dhtkit/dhtkit/examples/internal/cli"
)

func main() {
	// SIGINT and SIGTERM cancel ctx; serve then closes its node and exits 0.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const prog = "dhtnode"

func program() *cli.Program {
	return &cli.Program{
		Name:  prog,
		About: "dhtnode runs and uses dhtkit DHT nodes.",
		Hint:  "Start with 'dhtnode testnet': it runs 64 nodes on loopback and prints what lookups cost.",
		Commands: []cli.Command{
			{Name: "serve", Summary: "run a node until SIGINT or SIGTERM", Run: runServe},
			{Name: "put", Summary: "store a value in a running network", Run: runPut},
			{Name: "get", Summary: "print a value from a running network", Run: runGet},
			{Name: "id", Summary: "print the ID and public key of an identity file", Run: runID},
			{Name: "endorse", Summary: "endorse a peer in the web of trust", Run: runEndorse},
			{Name: "revoke", Summary: "revoke an endorsement", Run: runRevoke},
			{Name: "testnet", Summary: "run a network of nodes in this process and measure lookups", Run: runTestnet},
		},
	}
}

// run is the whole program: it returns the exit code, 0 on success, 1 on
// failure and 2 on a usage error. ctx ends serve; only put reads stdin (a
// VALUE of "-").
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return program().Run(ctx, args, stdin, stdout, stderr)
}
