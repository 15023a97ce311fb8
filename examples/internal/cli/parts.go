package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/bencode"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	msgjson "github.com/dhtkit/dhtkit/msgenc/json"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
)

// Parts are the flags every command that builds a node takes, server or
// client: the wire codec, the default query mode, where to listen, how
// long a request waits, and logging. They mean the same in every
// subcommand of every example. The zero Parts is node's defaults.
type Parts struct {
	Codec string // "cbor", "json" or "bencode"; "" is cbor
	Mode  node.Mode
	// ModeSet says whether --mode was given.
	ModeSet    bool
	Listen     AddrList
	RPCTimeout time.Duration // 0 is node.DefaultRPCTimeout
	Verbose    bool
	// K is the replication factor and bucket size; 0 is node's default.
	// Only the commands that call RegisterK take --k.
	K int
}

// RegisterK adds --k to fs.
func (p *Parts) RegisterK(fs *FlagSet) {
	fs.Func("k", fmt.Sprintf("replication factor and bucket size: a value is stored at the `k` peers closest to its key (default %d); every node of a network should use the same", node.DefaultK), func(s string) error {
		k, err := strconv.Atoi(s)
		if err != nil || k < 1 || k > msgenc.MaxPeers {
			return fmt.Errorf("want a number between 1 and %d", msgenc.MaxPeers)
		}
		p.K = k
		return nil
	})
}

// Register adds the part flags to fs; listenDoc explains --listen for the
// subcommand at hand.
func (p *Parts) Register(fs *FlagSet, listenDoc string) {
	p.Codec, p.RPCTimeout = "cbor", node.DefaultRPCTimeout
	fs.Func("codec", "wire `codec`: cbor, json or bencode (default cbor); every node of a network must use the same", func(s string) error {
		if _, err := NewCodec(s); err != nil {
			return err
		}
		p.Codec = s
		return nil
	})
	fs.Func("mode", "query `mode`: direct, proxied, direct-reply, mixed or mixed:N, N from 1 to 255 (default direct)", func(s string) error {
		m, err := node.ParseMode(s)
		if err != nil {
			return errors.New(strings.TrimPrefix(err.Error(), node.ErrConfig.Error()+": "))
		}
		p.Mode, p.ModeSet = m, true
		return nil
	})
	fs.Var(&p.Listen, "listen", listenDoc)
	fs.DurationVar(&p.RPCTimeout, "rpc-timeout", node.DefaultRPCTimeout, "the most one request waits for its answer before it is sent again, once")
	fs.BoolVar(&p.Verbose, "verbose", false, "log the node's activity to stderr")
}

// Builder returns a Builder holding the chosen parts.
func (p *Parts) Builder(stderr io.Writer) (*node.Builder, error) {
	if p.RPCTimeout < 0 {
		return nil, fmt.Errorf("--rpc-timeout must be positive, got %v", p.RPCTimeout)
	}
	b := node.NewBuilder().Mode(p.Mode).RPCTimeout(p.RPCTimeout).K(p.K)
	if p.Codec != "" {
		codec, err := NewCodec(p.Codec)
		if err != nil {
			return nil, err
		}
		b.Codec(codec)
	}
	if p.Verbose {
		b.Logger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
	}
	return b, nil
}

// NewCodec returns a fresh codec by name.
func NewCodec(name string) (msgenc.Codec, error) {
	switch name {
	case "cbor":
		return cbor.New(), nil
	case "json":
		return msgjson.New(), nil
	case "bencode":
		return bencode.New(), nil
	}
	return nil, fmt.Errorf("unknown codec %q (want cbor, json or bencode)", name)
}

// AddrList is a repeatable multiaddr flag. It accepts only addresses a
// built-in transport serves: /ip4|ip6/HOST/udp|tcp/PORT.
type AddrList []ma.Multiaddr

func (l *AddrList) String() string {
	if l == nil {
		return ""
	}
	s := make([]string, len(*l))
	for i, a := range *l {
		s[i] = a.String()
	}
	return strings.Join(s, " ")
}

// Set parses and appends one address.
func (l *AddrList) Set(s string) error {
	a, err := ParseAddr(s)
	if err != nil {
		return err
	}
	*l = append(*l, a)
	return nil
}

// ParseAddr parses an address a built-in transport serves.
func ParseAddr(s string) (ma.Multiaddr, error) {
	a, err := ma.NewMultiaddr(s)
	if err != nil {
		return nil, fmt.Errorf("bad multiaddr %q: %w", s, err)
	}
	if transport.Protocol(a) == "" {
		return nil, fmt.Errorf("unsupported address %q (want /ip4|ip6/HOST/udp|tcp/PORT)", s)
	}
	return a, nil
}

// isDNSAddr reports whether a is /dns|dns4|dns6/NAME/udp|tcp/PORT, which
// the node resolves when it bootstraps.
func isDNSAddr(a ma.Multiaddr) bool {
	if len(a) != 2 {
		return false
	}
	switch a[0].Code() {
	case ma.P_DNS, ma.P_DNS4, ma.P_DNS6:
		return a[1].Code() == ma.P_UDP || a[1].Code() == ma.P_TCP
	}
	return false
}

// PeerList is a repeatable flag of peers' addresses: as AddrList, and also
// /dns|dns4|dns6/NAME/udp|tcp/PORT, which the node resolves when it
// bootstraps.
type PeerList []ma.Multiaddr

func (l *PeerList) String() string { return (*AddrList)(l).String() }

func (l *PeerList) Set(s string) error {
	a, err := ma.NewMultiaddr(s)
	if err == nil && isDNSAddr(a) {
		*l = append(*l, a)
		return nil
	}
	return (*AddrList)(l).Set(s)
}
