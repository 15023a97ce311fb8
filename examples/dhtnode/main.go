package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// SIGINT and SIGTERM cancel ctx; serve then closes its node and exits 0.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one subcommand: its name, a one-line summary and its entry.
// Only put reads stdin (a VALUE of "-").
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "run a node until SIGINT or SIGTERM", runServe},
		{"put", "store a value in a running network", runPut},
		{"get", "print a value from a running network", runGet},
		{"id", "print the ID and public key of an identity file", runID},
		{"endorse", "endorse a peer in the web of trust", runEndorse},
		{"revoke", "revoke an endorsement", runRevoke},
		{"testnet", "run a network of nodes in this process and measure lookups", runTestnet},
	}
}

// run is the whole program: it returns the exit code, 0 on success, 1 on
// failure and 2 on a usage error. ctx ends serve.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return run(ctx, []string{args[1], "--help"}, stdin, stdout, stderr)
		}
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdin, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "dhtnode: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, "dhtnode runs and uses dhtkit DHT nodes.\n\nusage: dhtnode COMMAND [flags] [args]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "  help     show this text, or 'dhtnode help COMMAND' for a command's flags\n\n"+
		"Start with 'dhtnode testnet': it runs 64 nodes on loopback and prints what lookups cost.\n")
}
