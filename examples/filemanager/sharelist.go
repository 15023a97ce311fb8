package main

import (
	"fmt"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
)

// A named share is a publisher's mutable value (signed, its sequence number
// only grows) under the salt saltPrefix+NAME, listing manifest IDs. Layout:
//
//	"DKFS" | version 1 (1) | key length (1: 20 or 32) | count (2) | count keys
const (
	shareMagic   = "DKFS"
	shareVersion = 1
	saltPrefix   = "filemanager/"
	// MaxShareName bounds a share's name: with the prefix it is the salt,
	// which trust.MaxSaltSize bounds.
	MaxShareName = trust.MaxSaltSize - len(saltPrefix)
	// MaxShareIDs bounds the IDs of one named share, so that the list
	// stays near the size of a chunk.
	MaxShareIDs = 1000
)

// shareSalt returns the salt a share named name is kept under.
func shareSalt(name string) ([]byte, error) {
	if err := validName(name); err != nil {
		return nil, fmt.Errorf("share %w", err)
	}
	if len(name) > MaxShareName {
		return nil, fmt.Errorf("share name of %d bytes, at most %d", len(name), MaxShareName)
	}
	return []byte(saltPrefix + name), nil
}

func encodeShareList(keyLen int, ids []peer.ID) []byte {
	e := &encoder{b: make([]byte, 0, len(shareMagic)+4+len(ids)*keyLen)}
	e.b = append(e.b, shareMagic...)
	e.b = append(e.b, shareVersion, byte(keyLen))
	e.keys(ids)
	return e.b
}

// decodeShareList parses a named share's list of IDs, bounding its count
// before it allocates.
func decodeShareList(b []byte) ([]peer.ID, error) {
	if len(b) < len(shareMagic)+2 || string(b[:len(shareMagic)]) != shareMagic {
		return nil, fmt.Errorf("%w: no share list header", errManifest)
	}
	if v := b[len(shareMagic)]; v != shareVersion {
		return nil, fmt.Errorf("%w: share list version %d, this program reads %d", errManifest, v, shareVersion)
	}
	d := &decoder{b: b[len(shareMagic)+2:], keyLen: int(b[len(shareMagic)+1])}
	if d.keyLen != peer.IDLen160 && d.keyLen != peer.IDLen256 {
		return nil, fmt.Errorf("%w: key length %d", errManifest, d.keyLen)
	}
	ids := d.keys(MaxShareIDs, "IDs")
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return nil, d.err
	}
	return ids, nil
}
