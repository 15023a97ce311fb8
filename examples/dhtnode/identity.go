package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/dhtkit/dhtkit/peer"
)

// identityFlag is --identity FILE, which every subcommand that acts as one
// key shares: serve (the node's ID), put (the publisher of plain and
// mutable values) and id. It means the same in each: the key in FILE, made
// and saved there first when FILE does not exist.
type identityFlag struct{ path string }

func (f *identityFlag) register(fs *flag.FlagSet, doc string) {
	fs.StringVar(&f.path, "identity", "", doc)
}

// set reports whether --identity was given.
func (f *identityFlag) set() bool { return f.path != "" }

// load returns the identity in the file, or nil without --identity.
func (f *identityFlag) load(stderr io.Writer) (*peer.Identity, error) {
	if !f.set() {
		return nil, nil
	}
	return loadOrCreateIdentity(f.path, stderr)
}

// loadOrCreateIdentity reads the key in path, or makes a new one and saves
// it there when the file does not exist, saying so on stderr. A corrupt or
// group/world-readable file is an error: replacing it silently would change
// the node's ID and the publisher of its values.
func loadOrCreateIdentity(path string, stderr io.Writer) (*peer.Identity, error) {
	id, err := peer.LoadIdentity(path)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, peer.ErrNoIdentity) {
		return nil, err
	}
	if id, err = peer.GenerateIdentity(nil); err != nil {
		return nil, err
	}
	if err := id.Save(path); err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "generated a new identity and saved it to %s\n", path)
	return id, nil
}
