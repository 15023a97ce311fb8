package main

import (
	"context"
	"fmt"
	"io"
	"path"

	"github.com/dhtkit/dhtkit/examples/internal/cli"
)

const lsAbout = `Joins the network as a client and prints what ID names, one line for it and,
for a directory, one for everything in it: the type (file or dir), the size
in bytes (of a directory: of all the files in it), the number of chunks of a
file, and the path. Nothing is written to disk.`

func runLs(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet(prog, "ls", "ls --bootstrap MULTIADDR [flags] ID", lsAbout)
	var c cli.Client
	c.Register(fs, "give up joining the network, or finding the ID, after this long")
	pos, code, done := fs.Parse(args, stdout, stderr)
	if done {
		return code
	}
	if len(pos) != 1 {
		return fs.UsageError(stderr, "want ID, got %d arguments", len(pos))
	}
	if code, ok := c.Check(fs, stderr); !ok {
		return code
	}
	id, err := parseFileID(pos[0])
	if err != nil {
		return fs.UsageError(stderr, "%v", err)
	}
	join, err := joiner(&c, nil, stderr, nil)
	if err != nil {
		return fs.Fail(stderr, err)
	}
	n, err := joinFor(ctx, &c, join)
	if err != nil {
		return fs.Fail(stderr, err)
	}
	bs := newNodeBlocks(n, join, 0)
	defer bs.Close()
	f := &fetcher{bs: bs, hasher: n.Hasher(), log: stderr}
	nd, err := resolve(ctx, &c, f, id)
	if err != nil {
		return fs.Fail(stderr, err)
	}
	lsLine(stdout, "type", "size", "chunks", "path")
	if err := f.list(ctx, stdout, nd, nd.(interface{ name() string }).name(), 0); err != nil {
		return fs.Fail(stderr, err)
	}
	return cli.ExitOK
}

// list prints nd, a file or directory at path p, and what it holds.
func (f *fetcher) list(ctx context.Context, w io.Writer, nd any, p string, depth int) error {
	switch v := nd.(type) {
	case *fileNode:
		lsLine(w, "file", fmt.Sprint(v.Size), fmt.Sprint(v.chunks()), p)
		return nil
	case *dirNode:
		if depth >= maxDirDepth {
			return fmt.Errorf("%s: directories nested deeper than %d", p, maxDirDepth)
		}
		lsLine(w, "dir", fmt.Sprint(v.Size), "-", p+"/")
		for page := v; ; {
			for _, en := range page.Entries {
				if f.visited++; f.visited > maxVisited {
					return fmt.Errorf("%s: more than %d directory entries", p, maxVisited)
				}
				child, err := f.node(ctx, en.ID, f.retries())
				if err != nil {
					return fmt.Errorf("%s: %w", path.Join(p, en.Name), err)
				}
				if err := f.list(ctx, w, child, path.Join(p, en.Name), depth+1); err != nil {
					return err
				}
			}
			if page.Next.IsZero() {
				return nil
			}
			next, err := f.node(ctx, page.Next, f.retries())
			if err != nil {
				return fmt.Errorf("%s: next page: %w", p, err)
			}
			np, ok := next.(*dirNode)
			if !ok || np.Name != v.Name {
				return fmt.Errorf("%s: %w: a page that does not continue the directory", p, errManifest)
			}
			page = np
		}
	}
	return fmt.Errorf("%s: %w: an index node where a file or directory belongs", p, errManifest)
}

// lsLine prints one line of ls: the type, then the numbers right-aligned.
func lsLine(w io.Writer, typ, size, chunks, path string) {
	fmt.Fprintf(w, "%-4s %15s %10s  %s\n", typ, size, chunks, path)
}
