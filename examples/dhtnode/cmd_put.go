package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/dhtkit/dhtkit/examples/internal/cli"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
)

const putSynopsis = `put --bootstrap MULTIADDR [--identity FILE] [part flags] KEY VALUE
       dhtnode put --bootstrap MULTIADDR --immutable [part flags] VALUE
       dhtnode put --bootstrap MULTIADDR --mutable --identity FILE [--salt S] [--seq N] [--cas N] [part flags] VALUE`

const putAbout = `Joins the network briefly as a client and stores a value at the peers
closest to its key. It exits 0 when at least one replica acknowledged. A
client never enters other peers' routing tables, so it leaves nothing stale
behind. A VALUE of "-" is read from stdin; a KEY is always taken as
written, "-" included.

KEY VALUE stores a plain value under KEY, signed by the --identity key, and
prints how many replicas acknowledged. Other publishers keep their own
values under KEY; a later put with the same --identity replaces this one.
Without --identity each put signs with a fresh key, so its values are each
another publisher's, and a key holds at most 8 by default.

--immutable stores VALUE under the hash of its bytes and prints that key in
hex on stdout: 'dhtnode get --immutable HEX' reads it back.

--mutable stores VALUE as the --identity key's value under --salt, read
back with 'dhtnode get --mutable --publisher PUBKEY --salt S' ('dhtnode id'
prints PUBKEY). Its sequence number must grow: --seq sets it; without --seq
it is one more than --cas, or else than the newest version a replica holds
(1 for a new value). put prints the sequence number used on stdout. With
--cas N each replica stores VALUE only if it holds sequence N (0: none).

A replica that holds a newer version, or another one than --cas names,
refuses: put prints the sequence number it holds and exits 1. So does a
value over 512 KiB (over UDP, less than 64 KiB: one datagram).`

// putFlags are put's flags.
type putFlags struct {
	cli.Client
	kindFlags
	identity cli.Identity
	seq, cas uint64
	// seqSet and casSet say whether --seq and --cas were given.
	seqSet, casSet bool
}

func runPut(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet(prog, "put", putSynopsis, putAbout)
	var f putFlags
	f.Client.Register(fs, "give up after this long, joining included")
	f.kindFlags.register(fs)
	f.identity.Register(fs, "key `file` that signs plain and mutable values: loaded, or generated and saved (0600) when missing; default: a fresh key each run")
	fs.Uint64Var(&f.seq, "seq", 0, "with --mutable: the sequence `number` to store at (default: see above)")
	fs.Uint64Var(&f.cas, "cas", 0, "with --mutable: store only where a replica holds this sequence `number` (0: none)")
	pos, code, done := fs.Parse(args, stdout, stderr)
	if done {
		return code
	}
	f.seqSet, f.casSet = fs.IsSet("seq"), fs.IsSet("cas")
	if code, ok := f.check(fs, pos, stderr); !ok {
		return code
	}
	value, err := readValue(pos[len(pos)-1], stdin)
	if err != nil {
		return fs.Fail(stderr, err)
	}
	id, err := f.identity.Load(stderr)
	if err != nil {
		return fs.Fail(stderr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, f.Timeout)
	defer cancel()
	n, err := joinClient(ctx, &f.Client, id, stderr)
	if err != nil {
		return fs.Fail(stderr, err)
	}
	defer n.Close()
	switch {
	case f.immutable:
		err = putImmutable(ctx, n, value, stdout, stderr)
	case f.mutable:
		err = f.putMutable(ctx, n, id, value, stdout, stderr)
	default:
		var acks int
		if acks, err = n.Put(ctx, []byte(pos[0]), value); err == nil {
			fmt.Fprintf(stdout, "stored %q: %s acknowledged\n", pos[0], cli.Plural(acks, "replica"))
		}
	}
	if held, ok := heldSeq(err); ok {
		err = fmt.Errorf("conflict: a replica holds sequence %d: %w", held, err)
	}
	if err != nil {
		return fs.Fail(stderr, err)
	}
	return cli.ExitOK
}

// check reports a wrong use of put's flags and arguments.
func (f *putFlags) check(fs *cli.FlagSet, pos []string, stderr io.Writer) (code int, ok bool) {
	if code, ok := f.kindFlags.check(fs, stderr); !ok {
		return code, false
	}
	switch {
	case (f.seqSet || f.casSet) && !f.mutable:
		return fs.UsageError(stderr, "--seq and --cas need --mutable"), false
	case f.seqSet && f.seq == 0:
		return fs.UsageError(stderr, "--seq must be at least 1"), false
	case f.mutable && !f.identity.Set():
		return fs.UsageError(stderr, "--mutable needs --identity FILE: only the key that published a mutable value can update it"), false
	case !f.immutable && !f.mutable && len(pos) != 2:
		return fs.UsageError(stderr, "want KEY VALUE, got %d arguments", len(pos)), false
	case (f.immutable || f.mutable) && len(pos) != 1:
		return fs.UsageError(stderr, "want VALUE, got %d arguments", len(pos)), false
	}
	return f.Client.Check(fs, stderr)
}

// putImmutable stores value under its hash and prints the key.
func putImmutable(ctx context.Context, n *node.Node, value []byte, stdout, stderr io.Writer) error {
	key, acks, err := n.PutImmutable(ctx, value)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, key)
	fmt.Fprintf(stderr, "stored: %s acknowledged\n", cli.Plural(acks, "replica"))
	return nil
}

// putMutable stores value as id's mutable value under the salt and prints
// the sequence number used.
func (f *putFlags) putMutable(ctx context.Context, n *node.Node, id *peer.Identity, value []byte, stdout, stderr io.Writer) error {
	seq, err := f.nextSeq(ctx, n, id)
	if err != nil {
		return err
	}
	var opts []node.CallOption
	if f.casSet {
		opts = append(opts, node.WithCAS(f.cas))
	}
	acks, err := n.PutMutable(ctx, []byte(f.salt), seq, value, opts...)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, seq)
	fmt.Fprintf(stderr, "stored at sequence %d: %s acknowledged\n", seq, cli.Plural(acks, "replica"))
	return nil
}

// nextSeq returns --seq, or one more than --cas, or one more than the
// newest version a replica holds (1 when none does).
func (f *putFlags) nextSeq(ctx context.Context, n *node.Node, id *peer.Identity) (uint64, error) {
	switch {
	case f.seqSet:
		return f.seq, nil
	case f.casSet:
		return after(f.cas)
	}
	v, err := n.GetMutable(ctx, id.PublicKey(), []byte(f.salt))
	if errors.Is(err, node.ErrNotFound) {
		return 1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read the sequence number held: %w", err)
	}
	return after(v.Seq)
}

// after returns seq+1.
func after(seq uint64) (uint64, error) {
	if seq == math.MaxUint64 {
		return 0, errors.New("no sequence number follows 18446744073709551615")
	}
	return seq + 1, nil
}
