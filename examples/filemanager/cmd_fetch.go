package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/dhtkit/dhtkit/examples/internal/cli"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
)

const fetchAbout = `Joins the network as a client and writes the file or directory that ID
names to PATH (-o), by default to its own name in the current directory.
With --from PUBKEY it fetches the named share NAME that PUBKEY published
(see 'filemanager publish') and writes each of its items under its own
name in the directory -o (default: the current one); it prints the
publisher's key, and with --trusted FILE it refuses publishers FILE does
not list.

Every chunk is verified against its hash before it is written; a value
that does not verify is discarded and the chunk asked for again. Chunks
are fetched many at once and written where they belong, into PATH.fmpart;
PATH.fmstate records the finished ones. Run again after a crash or an
interrupt, the fetch checks what is there and fetches only the rest.
PATH.fmpart becomes PATH when the last chunk is in. A PATH that exists is
never overwritten: if it holds the file already, the fetch is done.

Progress goes to stderr: a bar on a terminal, plain lines otherwise. The
path written is printed on stdout. An ID or share that no peer holds exits
1 within --timeout; so does a chunk no replica holds, after about ten
seconds of retries.`

const (
	defaultFetchParallel = 64
	// checkpointEvery is how often a fetch saves its state.
	checkpointEvery = time.Second
)

func runFetch(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet(prog, "fetch", "fetch --bootstrap MULTIADDR [-o PATH] [flags] ID\n"+
		"       filemanager fetch --bootstrap MULTIADDR --from PUBKEY [--trusted FILE] [-o DIR] [flags] NAME", fetchAbout)
	var c cli.Client
	c.Register(fs, "give up joining the network, or finding the ID or named share, after this long")
	out := fs.String("o", "", "write to `PATH` (with --from: the directory to write the items into)")
	parallel := fs.Int("parallel", defaultFetchParallel, "fetch at most `N` chunks at once")
	from := fs.String("from", "", "fetch the named share NAME published by the ed25519 key `PUBKEY` (hex)")
	trusted := fs.String("trusted", "", "with --from: accept only publishers whose keys `FILE` lists (hex, one a line)")
	pos, code, done := fs.Parse(args, stdout, stderr)
	if done {
		return code
	}
	if len(pos) != 1 {
		what := "ID"
		if *from != "" {
			what = "NAME"
		}
		return fs.UsageError(stderr, "want %s, got %d arguments", what, len(pos))
	}
	if code, ok := c.Check(fs, stderr); !ok {
		return code
	}
	if *parallel < 1 || *parallel > 256 {
		return fs.UsageError(stderr, "--parallel must be between 1 and 256, got %d", *parallel)
	}
	var (
		id    peer.ID
		named *namedFetch
		err   error
	)
	if *from == "" {
		if *trusted != "" {
			return fs.UsageError(stderr, "--trusted applies to --from only")
		}
		if id, err = parseFileID(pos[0]); err != nil {
			return fs.UsageError(stderr, "%v", err)
		}
	} else {
		named = &namedFetch{name: pos[0], policy: anyPublisher{}}
		if named.pub, err = parsePublicKey(*from); err != nil {
			return fs.UsageError(stderr, "--from: %v", err)
		}
		if named.salt, err = shareSalt(named.name); err != nil {
			return fs.UsageError(stderr, "%v", err)
		}
		if *trusted != "" {
			l, err := loadKeyList(*trusted)
			if err != nil {
				return fs.Fail(stderr, fmt.Errorf("--trusted: %w", err))
			}
			named.policy = l
		}
	}

	// A lookup asks one peer at a time (alpha 1): with many chunks in
	// flight that costs no throughput, and each chunk then crosses the
	// network once rather than alpha times. A replica that fails costs one
	// RPC timeout, and leaves the table after a few failures.
	join, err := joiner(&c, nil, stderr, func(b *node.Builder) { b.Alpha(1) })
	if err != nil {
		return fs.Fail(stderr, err)
	}
	n, err := joinFor(ctx, &c, join)
	if err != nil {
		return fs.Fail(stderr, err)
	}
	bs := newNodeBlocks(n, join, 0)
	defer bs.Close()
	f := &fetcher{bs: bs, hasher: n.Hasher(), parallel: *parallel, checkpoint: checkpointEvery, progress: newProgress(stderr), log: stderr}
	start := time.Now()
	if named == nil {
		err = fetchOne(ctx, &c, f, id, *out, stdout)
	} else {
		err = named.fetch(ctx, &c, n, f, *out, stdout, stderr)
	}
	el := time.Since(start)
	if f.chunks.Load() > 0 || f.fetched.Load() > 0 {
		fmt.Fprintf(stderr, "%s: %d already here, %d fetched (%s in %v, %s%s)\n", cli.Plural(int(f.chunks.Load()), "chunk"),
			f.already.Load(), f.fetched.Load(), ibytes(f.bytes.Load()), el.Round(time.Millisecond), rate(f.bytes.Load(), el), peakNote())
	}
	if bad := f.bad.Load() + int64(n.Stats().Dropped[node.DropBadValue]); bad > 0 {
		fmt.Fprintf(stderr, "discarded %s that did not verify\n", cli.Plural(int(bad), "value"))
	}
	if err != nil {
		return fs.Fail(stderr, err)
	}
	return cli.ExitOK
}

// parseFileID parses an ID as share prints it.
func parseFileID(s string) (peer.ID, error) {
	id, err := peer.ParseID(s)
	if err != nil {
		return peer.ID{}, fmt.Errorf("bad ID %q: want the hex string share printed", s)
	}
	return id, nil
}

// resolve finds the manifest id names within c's timeout.
func resolve(ctx context.Context, c *cli.Client, f *fetcher, id peer.ID) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	nd, err := f.root(ctx, id)
	switch {
	case errors.Is(err, node.ErrNotFound):
		return nil, fmt.Errorf("ID %s not found: no peer holds it", id)
	case errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("ID %s not found within %v: %w", id, c.Timeout, err)
	}
	return nd, err
}

// fetchOne fetches what id names to out and prints the path written.
func fetchOne(ctx context.Context, c *cli.Client, f *fetcher, id peer.ID, out string, stdout io.Writer) error {
	nd, err := resolve(ctx, c, f, id)
	if err != nil {
		return err
	}
	path, err := f.fetchNode(ctx, id, nd, out)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, path)
	return nil
}

// namedFetch is a fetch of a named share.
type namedFetch struct {
	name   string
	salt   []byte
	pub    []byte
	policy publisherPolicy
}

// shareQuorum is how many replicas a named share is read from, so that one
// stale replica cannot hide the publisher's latest list.
const shareQuorum = 3

func (nf *namedFetch) fetch(ctx context.Context, c *cli.Client, n *node.Node, f *fetcher, dir string, stdout, stderr io.Writer) error {
	lctx, cancel := context.WithTimeout(ctx, c.Timeout)
	v, err := n.GetMutable(lctx, nf.pub, nf.salt, node.WithQuorum(shareQuorum))
	cancel()
	if errors.Is(err, node.ErrNotFound) {
		return fmt.Errorf("no share %q published by %x", nf.name, nf.pub)
	}
	if err != nil {
		return fmt.Errorf("find share %q: %w", nf.name, err)
	}
	fmt.Fprintf(stderr, "share %q published by %x (version %d)\n", nf.name, nf.pub, v.Seq)
	if err := nf.policy.CheckPublisher(ctx, v.Publisher); err != nil {
		return err
	}
	ids, err := decodeShareList(v.Value)
	if err != nil {
		return fmt.Errorf("share %q: %w", nf.name, err)
	}
	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, id := range ids {
		nd, err := resolve(ctx, c, f, id)
		if err != nil {
			return err
		}
		name := nd.(interface{ name() string }).name()
		path, err := f.fetchNode(ctx, id, nd, filepath.Join(dir, name))
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, path)
	}
	return nil
}
