package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// publisherPolicy decides whether a fetch accepts a named share's
// publisher. The value itself is verified by the node before this is
// asked: the signature is the publisher's, so the question is only whether
// this publisher is one to take files from. A web-of-trust policy (trust
// levels derived from roots) fits here.
type publisherPolicy interface {
	// CheckPublisher returns nil to accept pub, or an error saying why not.
	CheckPublisher(ctx context.Context, pub ed25519.PublicKey) error
}

// anyPublisher accepts every publisher: the fetch then rests on the user
// having the right public key, which it prints.
type anyPublisher struct{}

func (anyPublisher) CheckPublisher(context.Context, ed25519.PublicKey) error { return nil }

// errUntrusted: the publisher is not one the policy accepts.
var errUntrusted = errors.New("publisher not trusted")

// keyList accepts the publishers whose keys a file lists.
type keyList map[string]bool

func (l keyList) CheckPublisher(_ context.Context, pub ed25519.PublicKey) error {
	if !l[string(pub)] {
		return fmt.Errorf("%w: %x is not in the trusted keys", errUntrusted, []byte(pub))
	}
	return nil
}

// loadKeyList reads a file of ed25519 public keys in hex, one a line;
// blank lines and lines starting with '#' are skipped, and anything after
// the key on a line is a comment.
func loadKeyList(path string) (keyList, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	l := keyList{}
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		pub, err := parsePublicKey(fields[0])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		l[string(pub)] = true
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// parsePublicKey parses an ed25519 public key written in hex.
func parsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("bad public key %q: want %d bytes in hex", s, ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}
