package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/dhtkit/dhtkit/examples/internal/cli"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust/wot"
)

const endorseAbout = `Joins the network briefly as a client and publishes the --identity key's
endorsement of the peer with ID PEER (64 hex digits, as 'dhtnode id'
prints it) at --level, valid for --valid. Nodes running a web of trust
('dhtnode serve --trust-roots') that trust the endorser admit the endorsed
peer at the lower of --level and the endorser's own level.

An endorsement is a signed value stored under a key derived from PEER, one
per endorser; a later endorsement by the same key replaces it. Its sequence
number is the time it was made, so each one replaces the ones before.`

const revokeAbout = `Joins the network briefly as a client and revokes the --identity key's
endorsement of PEER: it publishes an endorsement at level 0, which replaces
the earlier one. Nodes stop trusting PEER on this endorsement within their
refresh interval.`

func runEndorse(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	return endorseCommand(ctx, "endorse", args, stdout, stderr, false)
}

func runRevoke(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	return endorseCommand(ctx, "revoke", args, stdout, stderr, true)
}

func endorseCommand(ctx context.Context, name string, args []string, stdout, stderr io.Writer, revoke bool) int {
	about, synopsis := endorseAbout, name+" --bootstrap MULTIADDR --identity FILE [--level N] [--valid DURATION] [part flags] PEER"
	if revoke {
		about, synopsis = revokeAbout, name+" --bootstrap MULTIADDR --identity FILE [part flags] PEER"
	}
	fs := cli.NewFlagSet(prog, name, synopsis, about)
	var (
		c        cli.Client
		identity cli.Identity
		level    = 1
		valid    = 30 * 24 * time.Hour
	)
	c.Register(fs, "give up after this long, joining included")
	identity.Register(fs, "key `file` of the endorser (required)")
	if !revoke {
		fs.IntVar(&level, "level", level, "trust `level` given, 1 to 255")
		fs.DurationVar(&valid, "valid", valid, "how long the endorsement holds")
	}
	pos, code, done := fs.Parse(args, stdout, stderr)
	if done {
		return code
	}
	switch {
	case len(pos) != 1:
		return fs.UsageError(stderr, "want PEER, got %d arguments", len(pos))
	case !identity.Set():
		return fs.UsageError(stderr, "--identity is required: it is the endorser")
	case !revoke && (level < 1 || level > wot.MaxEncodableLevel):
		return fs.UsageError(stderr, "--level must be between 1 and %d", wot.MaxEncodableLevel)
	case valid <= 0:
		return fs.UsageError(stderr, "--valid must be positive")
	}
	if code, ok := c.Check(fs, stderr); !ok {
		return code
	}
	endorsee, err := parsePeerID(pos[0])
	if err != nil {
		return fs.UsageError(stderr, "%v", err)
	}
	id, err := identity.Load(stderr)
	if err != nil {
		return fs.Fail(stderr, err)
	}
	if revoke {
		level = 0
	}
	now := time.Now()
	v, err := wot.NewEndorsement(id, peer.SHA256(), endorsee, level, now.Add(valid), uint64(now.UnixNano()))
	if err != nil {
		return fs.Fail(stderr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	n, err := joinClient(ctx, &c, id, stderr)
	if err != nil {
		return fs.Fail(stderr, err)
	}
	defer n.Close()
	acks, err := n.PutValue(ctx, v)
	if err != nil {
		return fs.Fail(stderr, err)
	}
	what := fmt.Sprintf("endorsed %s at level %d until %s", endorsee.Short(), level, now.Add(valid).UTC().Format(time.DateOnly))
	if revoke {
		what = "revoked the endorsement of " + endorsee.Short()
	}
	fmt.Fprintf(stdout, "%s: %s acknowledged\n", what, cli.Plural(acks, "replica"))
	return cli.ExitOK
}
