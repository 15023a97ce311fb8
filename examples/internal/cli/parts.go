package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/bencode"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	msgjson "github.com/dhtkit/dhtkit/msgenc/json"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/kademlia"
	"github.com/dhtkit/dhtkit/route/toymap"
	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
)

// DefaultRPCTimeout is shorter than node's 2s default so that an
// unreachable bootstrap address fails within about two seconds (one retry).
const DefaultRPCTimeout = time.Second

// Parts are the flags that choose which built-in part fills each plug-in
// point of a node. They mean the same in every subcommand of every example.
type Parts struct {
	Codec      string
	Route      string
	Mode       node.Mode
	Listen     AddrList
	RPCTimeout time.Duration
	Verbose    bool
}

// Register adds the part flags to fs; listenDoc explains --listen for the
// subcommand at hand.
func (p *Parts) Register(fs *FlagSet, listenDoc string) {
	p.Codec, p.Route, p.RPCTimeout = "cbor", "kademlia", DefaultRPCTimeout
	fs.Func("codec", "wire `codec`: cbor, json or bencode (default cbor); every node of a network must use the same", func(s string) error {
		if _, err := NewCodec(s); err != nil {
			return err
		}
		p.Codec = s
		return nil
	})
	fs.Func("route", "routing `table`: kademlia or toymap (default kademlia)", func(s string) error {
		if _, err := TableFunc(s); err != nil {
			return err
		}
		p.Route = s
		return nil
	})
	fs.Func("mode", "query `mode`: direct, proxied, direct-reply, mixed or mixed:N (default direct)", func(s string) error {
		m, err := node.ParseMode(s)
		if err != nil {
			return errors.New(strings.TrimPrefix(err.Error(), node.ErrConfig.Error()+": "))
		}
		p.Mode = m
		return nil
	})
	fs.Var(&p.Listen, "listen", listenDoc)
	fs.DurationVar(&p.RPCTimeout, "rpc-timeout", DefaultRPCTimeout, "how long one request waits for its answer before its one retry")
	fs.BoolVar(&p.Verbose, "verbose", false, "log the node's activity to stderr")
}

// Builder returns a Builder holding the chosen parts.
func (p *Parts) Builder(stderr io.Writer) (*node.Builder, error) {
	if p.RPCTimeout <= 0 {
		return nil, fmt.Errorf("--rpc-timeout must be positive, got %v", p.RPCTimeout)
	}
	codec, err := NewCodec(p.Codec)
	if err != nil {
		return nil, err
	}
	table, err := TableFunc(p.Route)
	if err != nil {
		return nil, err
	}
	b := node.NewBuilder().Codec(codec).Table(table).Mode(p.Mode).RPCTimeout(p.RPCTimeout)
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

// TableFunc returns the node.TableFunc of a routing table by name.
func TableFunc(name string) (node.TableFunc, error) {
	switch name {
	case "kademlia":
		return func(self peer.ID, k int) (route.Table, error) {
			return kademlia.New(self, kademlia.Options{K: k})
		}, nil
	case "toymap":
		return func(self peer.ID, _ int) (route.Table, error) {
			return toymap.New(self, toymap.Options{})
		}, nil
	}
	return nil, fmt.Errorf("unknown routing table %q (want kademlia or toymap)", name)
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
