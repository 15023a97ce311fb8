package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/dhtkit/dhtkit/examples/internal/cli"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
)

// kindFlags choose the kind of value put and get handle: plain (neither
// flag), --immutable or --mutable, and a mutable value's --salt.
type kindFlags struct {
	immutable, mutable bool
	salt               string
}

func (k *kindFlags) register(fs *cli.FlagSet) {
	fs.BoolVar(&k.immutable, "immutable", false, "an immutable value, stored under the hash of its bytes")
	fs.BoolVar(&k.mutable, "mutable", false, "a mutable value: one publisher's, under a salt, with a growing sequence number")
	fs.StringVar(&k.salt, "salt", "", "with --mutable: the `salt` that tells one publisher's mutable values apart (default empty)")
}

// check reports a wrong combination of the kind flags as a usage error.
func (k *kindFlags) check(fs *cli.FlagSet, stderr io.Writer) (code int, ok bool) {
	switch {
	case k.immutable && k.mutable:
		return fs.UsageError(stderr, "--immutable and --mutable exclude each other"), false
	case fs.IsSet("salt") && !k.mutable:
		return fs.UsageError(stderr, "--salt needs --mutable"), false
	case len(k.salt) > trust.MaxSaltSize:
		return fs.UsageError(stderr, "--salt is %d bytes, at most %d", len(k.salt), trust.MaxSaltSize), false
	}
	return cli.ExitOK, true
}

// pubKeyFlag is a flag holding an ed25519 public key in hex, as id prints it.
type pubKeyFlag struct{ key ed25519.PublicKey }

func (p *pubKeyFlag) String() string { return hex.EncodeToString(p.key) }

func (p *pubKeyFlag) Set(s string) error {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return fmt.Errorf("want the %d hex digits of an ed25519 public key, as 'dhtnode id' prints", 2*ed25519.PublicKeySize)
	}
	p.key = b
	return nil
}

// readValue returns the VALUE argument's bytes, or all of stdin for "-".
// Either way a value over msgenc.MaxValueSize is an error, found before
// the network is joined; stdin is read no further than one byte past it.
func readValue(arg string, stdin io.Reader) ([]byte, error) {
	if arg != "-" {
		if len(arg) > msgenc.MaxValueSize {
			return nil, fmt.Errorf("value too large: %d bytes, at most %d", len(arg), msgenc.MaxValueSize)
		}
		return []byte(arg), nil
	}
	v, err := io.ReadAll(io.LimitReader(stdin, msgenc.MaxValueSize+1))
	if err != nil {
		return nil, fmt.Errorf("read stdin: %w", err)
	}
	if len(v) > msgenc.MaxValueSize {
		return nil, fmt.Errorf("value too large: stdin holds more than %d bytes, the most a value may", msgenc.MaxValueSize)
	}
	return v, nil
}

// heldSeq returns the highest sequence number that the replicas refusing
// err's write as a conflict say they hold. A put's error joins the
// replicas' answers, so it may hold several *node.RemoteError.
func heldSeq(err error) (held uint64, ok bool) {
	var walk func(error)
	walk = func(err error) {
		if re, isRemote := err.(*node.RemoteError); isRemote && errors.Is(re, node.ErrConflict) {
			held, ok = max(held, re.Seq), true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return held, ok
}

// writeValue writes a value to w as it is, followed by a newline when w is
// a terminal and the value does not end with one, so that the shell's
// prompt starts on a line of its own. Piped or redirected, the bytes are
// exactly the value's.
func writeValue(w io.Writer, value []byte, terminal bool) error {
	if _, err := w.Write(value); err != nil {
		return err
	}
	if terminal && (len(value) == 0 || value[len(value)-1] != '\n') {
		if _, err := io.WriteString(w, "\n"); err != nil {
			return err
		}
	}
	return nil
}

// isTerminal reports whether w is a character device, as a terminal is.
// (/dev/null is one too; the newline it gets is lost with the rest.)
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Stat() (os.FileInfo, error) })
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// joinClient builds a client node from c's flags, signing with id (nil: a
// fresh key), and bootstraps it.
func joinClient(ctx context.Context, c *cli.Client, id *peer.Identity, stderr io.Writer) (*node.Node, error) {
	b, err := c.Builder(id, stderr)
	if err != nil {
		return nil, err
	}
	return c.Join(ctx, b)
}
