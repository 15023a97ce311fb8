package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/dhtkit/dhtkit/examples/internal/cli"
	"github.com/dhtkit/dhtkit/node"
)

const shareAbout = `Joins the network as a client and stores each PATH, a file or a directory:
every chunk as an immutable value (its key is its hash) at the R peers
closest to that key, then the manifest that lists the chunks. It prints
one ID a line on stdout, in the order of the PATHs: the manifest's key, the
one string to pass to 'filemanager fetch'. Progress goes to stderr.

It exits 0 when every chunk and manifest node reached at least one replica,
and warns when any reached fewer than R. Sharing the same bytes again gives
the same ID and stores nothing new.`

const (
	defaultReplicas      = 3
	defaultShareParallel = 64
	// lookupMargin is how many peers beyond R a share's lookups look for.
	lookupMargin     = 2
	defaultChunkSize = 32 << 10
	// maxShareChunk keeps a chunk's frame within a UDP datagram whatever
	// the codec: JSON carries bytes in base64, a third larger.
	maxShareChunk = 44 << 10
)

func runShare(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet(prog, "share", "share --bootstrap MULTIADDR [--replicas R] [flags] PATH...", shareAbout)
	var c cli.Client
	c.Register(fs, "give up joining the network after this long")
	replicas := fs.Int("replicas", defaultReplicas, "store each chunk at the `R` peers closest to its key")
	parallel := fs.Int("parallel", defaultShareParallel, "store at most `N` chunks at once")
	chunkSize := fs.Int("chunk-size", defaultChunkSize, fmt.Sprintf("cut files into chunks of `BYTES` (1024 to %d)", maxShareChunk))
	pos, code, done := fs.Parse(args, stdout, stderr)
	if done {
		return code
	}
	if len(pos) == 0 {
		return fs.UsageError(stderr, "want at least one PATH")
	}
	if code, ok := c.Check(fs, stderr); !ok {
		return code
	}
	switch {
	case *replicas < 1 || *replicas > node.DefaultK:
		return fs.UsageError(stderr, "--replicas must be between 1 and %d, got %d", node.DefaultK, *replicas)
	case *parallel < 1 || *parallel > 256:
		return fs.UsageError(stderr, "--parallel must be between 1 and 256, got %d", *parallel)
	case *chunkSize < 1024 || *chunkSize > maxShareChunk:
		return fs.UsageError(stderr, "--chunk-size must be between 1024 and %d, got %d", maxShareChunk, *chunkSize)
	}

	// The client's lookups need find only the R closest peers to a key:
	// k = R+2 leaves room for peers that fail during a lookup, and asks
	// far fewer peers per chunk than the network's k.
	join, err := joiner(&c, nil, stderr, func(b *node.Builder) { b.K(*replicas + lookupMargin) })
	if err != nil {
		return fs.Fail(stderr, err)
	}
	n, err := joinFor(ctx, &c, join)
	if err != nil {
		return fs.Fail(stderr, err)
	}
	bs := newNodeBlocks(n, join, *replicas)
	defer bs.Close()
	s := &sharer{bs: bs, hasher: n.Hasher(), chunkSize: *chunkSize, parallel: *parallel, progress: newProgress(stderr), warn: stderr}
	for _, path := range pos {
		start := time.Now()
		chunks0 := s.chunks
		s.minAcks = 0
		id, size, err := s.sharePath(ctx, path)
		if err != nil {
			return fs.Fail(stderr, err)
		}
		el := time.Since(start)
		fmt.Fprintln(stdout, id)
		fmt.Fprintf(stderr, "shared %s: %s in %s, each on at least %s, in %v (%s%s)\n", path, ibytes(int64(size)),
			cli.Plural(s.chunks-chunks0, "chunk"), cli.Plural(s.minAcks, "replica"), el.Round(time.Millisecond), rate(int64(size), el), peakNote())
		if s.minAcks < *replicas {
			fmt.Fprintf(stderr, "warning: some values of %s reached only %s of the %d asked for\n", path, cli.Plural(s.minAcks, "replica"), *replicas)
		}
	}
	return cli.ExitOK
}
