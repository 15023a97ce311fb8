package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/dhtkit/dhtkit/examples/internal/cli"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
)

const getSynopsis = `get --bootstrap MULTIADDR [--publisher PUBKEY | --all] [--quorum Q] [part flags] KEY
       dhtnode get --bootstrap MULTIADDR --immutable [--quorum Q] [part flags] HEXKEY
       dhtnode get --bootstrap MULTIADDR --mutable --publisher PUBKEY [--salt S] [--quorum Q] [part flags]`

const getAbout = `Joins the network briefly as a client, looks a value up and writes it to
stdout exactly as stored: nothing is added, except a newline when stdout is
a terminal and the value does not end with one. When no peer holds the
value it says so on stderr and exits 1. Every value is verified before it
is printed: a signed one by its publisher's signature, an immutable one by
its hash.

KEY reads the newest plain value under KEY, whoever published it; with
--publisher PUBKEY, that key's value ('dhtnode id' prints PUBKEY). --all
prints every publisher's value under KEY, newest first, each as a line
"publisher PUBKEY seq N bytes L", then the L bytes of the value and a
newline.

--immutable HEXKEY reads the value that 'dhtnode put --immutable' stored
and printed HEXKEY for.

--mutable reads the --publisher key's mutable value under --salt, and
prints its sequence number on stderr ("seq N").

--quorum Q waits for the answers of Q replicas and takes the newest
version among them, so that one stale replica cannot hide a newer one.`

// getFlags are get's flags.
type getFlags struct {
	cli.Client
	kindFlags
	publisher pubKeyFlag
	all       bool
	quorum    int
}

func runGet(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet(prog, "get", getSynopsis, getAbout)
	var f getFlags
	f.Client.Register(fs, "give up after this long, joining included")
	f.kindFlags.register(fs)
	fs.Var(&f.publisher, "publisher", "the publisher's ed25519 public `key` in hex: whose plain value to read (required with --mutable)")
	fs.BoolVar(&f.all, "all", false, "print every publisher's plain value under KEY")
	fs.IntVar(&f.quorum, "quorum", 1, "wait for the answers of this many `replicas` and take the newest version")
	pos, code, done := fs.Parse(args, stdout, stderr)
	if done {
		return code
	}
	if code, ok := f.check(fs, pos, stderr); !ok {
		return code
	}
	var key peer.ID
	if f.immutable {
		var err error
		if key, err = peer.ParseID(pos[0]); err != nil || key.Len() != peer.IDLen256 {
			return fs.UsageError(stderr, "HEXKEY %q is not the %d hex digits 'dhtnode put --immutable' prints", pos[0], 2*peer.IDLen256)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, f.Timeout)
	defer cancel()
	n, err := joinClient(ctx, &f.Client, nil, stderr)
	if err != nil {
		return fs.Fail(stderr, err)
	}
	defer n.Close()
	terminal := isTerminal(stdout)
	switch {
	case f.immutable:
		err = f.getImmutable(ctx, n, key, stdout, terminal)
	case f.mutable:
		err = f.getMutable(ctx, n, stdout, stderr, terminal)
	case f.all:
		err = f.getAll(ctx, n, pos[0], stdout)
	default:
		err = f.getPlain(ctx, n, pos[0], stdout, terminal)
	}
	if err != nil {
		return fs.Fail(stderr, err)
	}
	return cli.ExitOK
}

// check reports a wrong use of get's flags and arguments.
func (f *getFlags) check(fs *cli.FlagSet, pos []string, stderr io.Writer) (code int, ok bool) {
	if code, ok := f.kindFlags.check(fs, stderr); !ok {
		return code, false
	}
	hasPublisher := f.publisher.key != nil
	switch {
	case f.all && (f.immutable || f.mutable || hasPublisher):
		return fs.UsageError(stderr, "--all lists the plain values of every publisher; it excludes --immutable, --mutable and --publisher"), false
	case f.immutable && hasPublisher:
		return fs.UsageError(stderr, "--publisher does not apply to --immutable: an immutable value has none"), false
	case f.mutable && !hasPublisher:
		return fs.UsageError(stderr, "--mutable needs --publisher PUBKEY: whose mutable value to read"), false
	case f.mutable && len(pos) != 0:
		return fs.UsageError(stderr, "want no arguments with --mutable (--publisher and --salt name the value), got %d", len(pos)), false
	case f.immutable && len(pos) != 1:
		return fs.UsageError(stderr, "want HEXKEY, got %d arguments", len(pos)), false
	case !f.immutable && !f.mutable && len(pos) != 1:
		return fs.UsageError(stderr, "want KEY, got %d arguments", len(pos)), false
	case f.quorum < 1:
		return fs.UsageError(stderr, "--quorum must be at least 1, got %d", f.quorum), false
	}
	return f.Client.Check(fs, stderr)
}

// getPlain writes the newest plain value under key, or the --publisher
// key's, to stdout.
func (f *getFlags) getPlain(ctx context.Context, n *node.Node, key string, stdout io.Writer, terminal bool) error {
	opts := []node.CallOption{node.WithQuorum(f.quorum)}
	if f.publisher.key != nil {
		opts = append(opts, node.WithPublisher(f.publisher.key))
	}
	value, err := n.Get(ctx, []byte(key), opts...)
	if errors.Is(err, node.ErrNotFound) {
		if f.publisher.key != nil {
			return fmt.Errorf("key %q holds no value of publisher %s", key, &f.publisher)
		}
		return fmt.Errorf("key %q not found", key)
	}
	if err != nil {
		return err
	}
	return writeValue(stdout, value, terminal)
}

// getImmutable writes the value whose hash is key to stdout.
func (f *getFlags) getImmutable(ctx context.Context, n *node.Node, key peer.ID, stdout io.Writer, terminal bool) error {
	value, err := n.GetImmutable(ctx, key, node.WithQuorum(f.quorum))
	if errors.Is(err, node.ErrNotFound) {
		return fmt.Errorf("immutable value %s not found", key)
	}
	if err != nil {
		return err
	}
	return writeValue(stdout, value, terminal)
}

// getMutable writes the publisher's mutable value under the salt to stdout
// and its sequence number to stderr.
func (f *getFlags) getMutable(ctx context.Context, n *node.Node, stdout, stderr io.Writer, terminal bool) error {
	v, err := n.GetMutable(ctx, f.publisher.key, []byte(f.salt), node.WithQuorum(f.quorum))
	if errors.Is(err, node.ErrNotFound) {
		return fmt.Errorf("no mutable value of publisher %s under salt %q", &f.publisher, f.salt)
	}
	if err != nil {
		return err
	}
	if err := writeValue(stdout, v.Value, terminal); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "seq %d\n", v.Seq)
	return nil
}

// getAll writes every publisher's plain value under key, newest first, each
// as a header line, the value's bytes and a newline.
func (f *getFlags) getAll(ctx context.Context, n *node.Node, key string, stdout io.Writer) error {
	vals, err := n.GetAll(ctx, []byte(key), node.WithQuorum(f.quorum))
	if errors.Is(err, node.ErrNotFound) {
		return fmt.Errorf("key %q not found", key)
	}
	if err != nil {
		return err
	}
	for _, v := range vals {
		if _, err := fmt.Fprintf(stdout, "publisher %s seq %d bytes %d\n%s\n", hex.EncodeToString(v.Publisher), v.Seq, len(v.Value), v.Value); err != nil {
			return err
		}
	}
	return nil
}
