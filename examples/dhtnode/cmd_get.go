package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/dhtkit/dhtkit/node"
)

const getAbout = `Joins the network briefly as a client, looks KEY up and writes its value to
stdout exactly as stored: no newline or other decoration is added. When no
peer holds KEY it says so on stderr and exits 1.`

func runGet(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("get", "get --bootstrap MULTIADDR [part flags] KEY", getAbout)
	var c clientFlags
	c.register(fs)
	pos, code, done := parseArgs(fs, args, stdout, stderr)
	if done {
		return code
	}
	if len(pos) != 1 {
		return usageError(fs, stderr, "want KEY, got %d arguments", len(pos))
	}
	if code, ok := checkClient(fs, &c, stderr); !ok {
		return code
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	n, err := joinClient(ctx, &c, nil, stderr)
	if err != nil {
		return fail(stderr, "get", err)
	}
	defer n.Close()
	value, err := n.Get(ctx, []byte(pos[0]))
	if errors.Is(err, node.ErrNotFound) {
		return fail(stderr, "get", fmt.Errorf("key %q not found", pos[0]))
	}
	if err != nil {
		return fail(stderr, "get", err)
	}
	if _, err := stdout.Write(value); err != nil {
		return fail(stderr, "get", err)
	}
	return 0
}
