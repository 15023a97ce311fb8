package main

import (
	"bufio"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust/wot"
)

// readRoots reads a trust roots file: one ed25519 public key in hex a line,
// alone or as the last word of the line ('dhtnode id' prints
// "publickey HEX", which may be pasted as it is). Blank lines and lines
// starting with # are skipped.
func readRoots(path string) ([]ed25519.PublicKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("trust roots: %w", err)
	}
	defer f.Close()
	var roots []ed25519.PublicKey
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		key, err := parsePublicKey(fields[len(fields)-1])
		if err != nil {
			return nil, fmt.Errorf("trust roots: %s:%d: %w", path, line, err)
		}
		roots = append(roots, key)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("trust roots: %s: %w", path, err)
	}
	if len(roots) == 0 {
		return nil, fmt.Errorf("trust roots: %s lists no key", path)
	}
	return roots, nil
}

// parsePublicKey reads an ed25519 public key in hex.
func parsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%q is not a public key (want %d bytes in hex)", s, ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// parsePeerID reads a peer ID in hex, as 'dhtnode id' prints it.
func parsePeerID(s string) (peer.ID, error) {
	id, err := peer.ParseID(s)
	if err != nil {
		return peer.ID{}, fmt.Errorf("%q is not a peer ID: %w", s, err)
	}
	if id.Len() != peer.SHA256().Size() {
		return peer.ID{}, errors.New("a peer ID is 32 bytes (64 hex digits)")
	}
	return id, nil
}

// webOfTrust returns the policy of a node whose own key is self and that
// trusts the roots listed in path.
func webOfTrust(path string, self *peer.Identity) (*wot.Policy, error) {
	roots, err := readRoots(path)
	if err != nil {
		return nil, err
	}
	return wot.New(wot.Options{Roots: append(roots, self.PublicKey())})
}
