package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dhtkit/dhtkit/examples/internal/cli"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
)

const publishAbout = `Joins the network as a client and publishes, under NAME, the list of IDs
given: a mutable value signed with the key in --identity FILE (generated and
saved when FILE does not exist). The pair of that key and NAME is a stable
address: publishing again under the same NAME replaces the list, and
fetchers read the newest. Each ID must name a file or directory that the
network holds.

It prints the address on stdout, "PUBKEY NAME", for
'filemanager fetch --from PUBKEY NAME'.`

func runPublish(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet(prog, "publish", "publish --bootstrap MULTIADDR --identity FILE [flags] NAME ID...", publishAbout)
	var (
		c        cli.Client
		identity cli.Identity
	)
	c.Register(fs, "give up after this long")
	identity.Register(fs, "key `file` that signs the share: loaded, or generated and saved (0600) when missing (required)")
	pos, code, done := fs.Parse(args, stdout, stderr)
	if done {
		return code
	}
	if len(pos) < 2 {
		return fs.UsageError(stderr, "want NAME and at least one ID, got %d arguments", len(pos))
	}
	if code, ok := c.Check(fs, stderr); !ok {
		return code
	}
	if !identity.Set() {
		return fs.UsageError(stderr, "--identity is required: the share is signed with its key")
	}
	name, idArgs := pos[0], pos[1:]
	salt, err := shareSalt(name)
	if err != nil {
		return fs.UsageError(stderr, "%v", err)
	}
	if len(idArgs) > MaxShareIDs {
		return fs.UsageError(stderr, "at most %d IDs, got %d", MaxShareIDs, len(idArgs))
	}
	ids := make([]peer.ID, len(idArgs))
	for i, s := range idArgs {
		if ids[i], err = parseFileID(s); err != nil {
			return fs.UsageError(stderr, "%v", err)
		}
	}
	id, err := identity.Load(stderr)
	if err != nil {
		return fs.Fail(stderr, err)
	}

	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	join, err := joiner(&c, id, stderr, nil)
	if err != nil {
		return fs.Fail(stderr, err)
	}
	n, err := join(ctx)
	if err != nil {
		return fs.Fail(stderr, err)
	}
	defer n.Close()
	f := &fetcher{bs: newNodeBlocks(n, join, 0), hasher: n.Hasher(), log: stderr}
	for _, fid := range ids {
		if fid.Len() != n.Hasher().Size() {
			return fs.Fail(stderr, fmt.Errorf("ID %s is not of this network's key space (%d bytes)", fid, n.Hasher().Size()))
		}
	}
	for _, fid := range ids {
		if _, err := resolve(ctx, &c, f, fid); err != nil {
			return fs.Fail(stderr, err)
		}
	}
	// The sequence number only grows: past the newest version any replica
	// holds, and past the clock, so that a publish that missed the newest
	// version still supersedes it.
	seq := uint64(time.Now().UnixNano())
	cur, err := n.GetMutable(ctx, id.PublicKey(), salt, node.WithQuorum(shareQuorum))
	switch {
	case err == nil:
		seq = max(seq, cur.Seq+1)
	case !errors.Is(err, node.ErrNotFound):
		return fs.Fail(stderr, fmt.Errorf("read the current version: %w", err))
	}
	acks, err := n.PutMutable(ctx, salt, seq, encodeShareList(n.Hasher().Size(), ids))
	if err != nil {
		return fs.Fail(stderr, fmt.Errorf("publish %q: %w", name, err))
	}
	fmt.Fprintf(stderr, "published %q (%s, version %d) at %s\n", name, cli.Plural(len(ids), "ID"), seq, cli.Plural(acks, "replica"))
	fmt.Fprintf(stdout, "%x %s\n", []byte(id.PublicKey()), name)
	return cli.ExitOK
}
