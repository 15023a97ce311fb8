package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/dhtkit/dhtkit/examples/internal/cli"
	"github.com/dhtkit/dhtkit/peer"
)

const idAbout = `Prints who the key in FILE is, one line each:

  id HEX          the peer ID of a node run with serve --identity FILE
  publickey HEX   the ed25519 public key: what get --publisher takes to read
                  the values put --identity FILE signed

When FILE does not exist, a new key is generated and saved there (mode 0600)
first, as serve and put do, so this is also how to make a key.`

func runID(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet(prog, "id", "id --identity FILE", idAbout)
	var identity cli.Identity
	identity.Register(fs, "key `file`: loaded, or generated and saved (0600) when missing (required)")
	pos, code, done := fs.Parse(args, stdout, stderr)
	if done {
		return code
	}
	if len(pos) > 0 {
		return fs.UsageError(stderr, "unexpected argument %q", pos[0])
	}
	if !identity.Set() {
		return fs.UsageError(stderr, "--identity is required")
	}
	id, err := identity.Load(stderr)
	if err != nil {
		return fs.Fail(stderr, err)
	}
	// SHA-256 is the key space of every node dhtnode builds (node's
	// default; no flag changes it).
	fmt.Fprintf(stdout, "id %s\npublickey %s\n", id.ID(peer.SHA256()), hex.EncodeToString(id.PublicKey()))
	return cli.ExitOK
}
