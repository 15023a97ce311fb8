package main

import (
	"context"
	"fmt"
	"io"
)

const putAbout = `Joins the network briefly as a client, stores VALUE under KEY at the peers
closest to it, and prints how many replicas acknowledged. It exits 0 when
at least one did. A client never enters other peers' routing tables, so it
leaves nothing stale behind.`

func runPut(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("put", "put --bootstrap MULTIADDR [part flags] KEY VALUE", putAbout)
	var c clientFlags
	c.register(fs)
	pos, code, done := parseArgs(fs, args, stdout, stderr)
	if done {
		return code
	}
	if len(pos) != 2 {
		return usageError(fs, stderr, "want KEY VALUE, got %d arguments", len(pos))
	}
	if code, ok := checkClient(fs, &c, stderr); !ok {
		return code
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	n, err := joinClient(ctx, &c, stderr)
	if err != nil {
		return fail(stderr, "put", err)
	}
	defer n.Close()
	acks, err := n.Put(ctx, []byte(pos[0]), []byte(pos[1]))
	if err != nil {
		return fail(stderr, "put", err)
	}
	fmt.Fprintf(stdout, "stored %q: %s acknowledged\n", pos[0], plural(acks, "replica"))
	return 0
}
