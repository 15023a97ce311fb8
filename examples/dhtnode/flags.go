package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
	kvbbolt "github.com/dhtkit/dhtkit/kvstore/bbolt"
	"github.com/dhtkit/dhtkit/kvstore/memory"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/bencode"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	msgjson "github.com/dhtkit/dhtkit/msgenc/json"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/kademlia"
	"github.com/dhtkit/dhtkit/route/toymap"
	"github.com/dhtkit/dhtkit/route/trustorder"
	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
)

// defaultRPCTimeout is shorter than node's 2s default so that an unreachable
// bootstrap address fails within about two seconds (one retry).
const defaultRPCTimeout = time.Second

// parts are the flags every subcommand shares: which built-in part fills
// each plug-in point. They mean the same in serve, put, get and testnet.
type parts struct {
	codec      string
	table      string
	mode       node.Mode
	modeSet    bool
	store      storeSpec
	listen     addrList
	rpcTimeout time.Duration
	verbose    bool
	// k is the replication factor and bucket size; 0 leaves the node's
	// default. Only serve and the clients register it (registerK):
	// testnet has its own, with another default.
	k int
	// level grades peers for the trustorder table: the web-of-trust
	// policy's, when serve has one.
	level func(peer.ID) int
}

// register adds the part flags to fs. listenDoc explains --listen for the
// subcommand at hand.
func (p *parts) register(fs *flag.FlagSet, listenDoc string) {
	p.codec, p.table = "cbor", "kademlia"
	p.store = storeSpec{kind: "memory"}
	p.rpcTimeout = defaultRPCTimeout
	fs.Func("codec", "wire `codec`: cbor, json or bencode (default cbor); every node of a network must use the same", func(s string) error {
		if _, err := newCodec(s); err != nil {
			return err
		}
		p.codec = s
		return nil
	})
	fs.Func("route", "routing `table`: kademlia, toymap or trustorder (peers ranked by --trust-roots' web of trust, then distance; default kademlia)", func(s string) error {
		if _, err := tableFunc(s, nil); err != nil {
			return err
		}
		p.table = s
		return nil
	})
	fs.Func("mode", "query `mode`: direct, proxied, direct-reply, mixed or mixed:N (default direct)", func(s string) error {
		m, err := node.ParseMode(s)
		if err != nil {
			return errors.New(strings.TrimPrefix(err.Error(), node.ErrConfig.Error()+": "))
		}
		p.mode, p.modeSet = m, true
		return nil
	})
	fs.Func("store", "record `store`: memory or bbolt:PATH (default memory)", func(s string) error {
		spec, err := parseStore(s)
		if err != nil {
			return err
		}
		p.store = spec
		return nil
	})
	fs.Var(&p.listen, "listen", listenDoc)
	fs.DurationVar(&p.rpcTimeout, "rpc-timeout", defaultRPCTimeout, "how long one request waits for its answer before its one retry")
	fs.BoolVar(&p.verbose, "verbose", false, "log the node's activity to stderr")
}

// registerK adds --k to fs.
func (p *parts) registerK(fs *flag.FlagSet) {
	fs.Func("k", fmt.Sprintf("replication factor and bucket size: a value is stored at the `k` peers closest to its key (default %d); every node of a network should use the same", node.DefaultK), func(s string) error {
		k, err := strconv.Atoi(s)
		if err != nil || k < 1 || k > msgenc.MaxPeers {
			return fmt.Errorf("want a number between 1 and %d", msgenc.MaxPeers)
		}
		p.k = k
		return nil
	})
}

// builder returns a Builder holding the chosen parts. It opens the store,
// with name joined to a bbolt path that names a directory (testnet's many
// nodes) or "" to use the path as given; the caller owns the store until
// Build succeeds, and must close it when Build fails.
func (p *parts) builder(name string, stderr io.Writer) (*node.Builder, kvstore.Store, error) {
	if p.rpcTimeout <= 0 {
		return nil, nil, fmt.Errorf("--rpc-timeout must be positive, got %v", p.rpcTimeout)
	}
	codec, err := newCodec(p.codec)
	if err != nil {
		return nil, nil, err
	}
	table, err := tableFunc(p.table, p.level)
	if err != nil {
		return nil, nil, err
	}
	store, err := p.store.open(name)
	if err != nil {
		return nil, nil, err
	}
	b := node.NewBuilder().
		Codec(codec).
		Table(table).
		Mode(p.mode).
		Store(store).
		RPCTimeout(p.rpcTimeout)
	if p.k > 0 {
		b.K(p.k)
	}
	if p.verbose {
		b.Logger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
	}
	return b, store, nil
}

// newCodec returns a fresh codec by name.
func newCodec(name string) (msgenc.Codec, error) {
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

// tableFunc returns the node.TableFunc of a routing table by name. level
// grades peers for trustorder; nil grades every peer 0.
func tableFunc(name string, level func(peer.ID) int) (node.TableFunc, error) {
	switch name {
	case "kademlia":
		return func(self peer.ID, k int) (route.Table, error) {
			return kademlia.New(self, kademlia.Options{K: k})
		}, nil
	case "toymap":
		return func(self peer.ID, _ int) (route.Table, error) {
			return toymap.New(self, toymap.Options{})
		}, nil
	case "trustorder":
		if level == nil {
			level = func(peer.ID) int { return 0 }
		}
		return func(self peer.ID, k int) (route.Table, error) {
			return trustorder.New(self, trustorder.Options{K: k, Level: level})
		}, nil
	}
	return nil, fmt.Errorf("unknown routing table %q (want kademlia, toymap or trustorder)", name)
}

// storeSpec is a parsed --store value.
type storeSpec struct {
	kind string // "memory" or "bbolt"
	path string
}

func parseStore(s string) (storeSpec, error) {
	if s == "memory" {
		return storeSpec{kind: "memory"}, nil
	}
	if path, ok := strings.CutPrefix(s, "bbolt:"); ok {
		if path == "" {
			return storeSpec{}, errors.New("bbolt store needs a path: bbolt:PATH")
		}
		return storeSpec{kind: "bbolt", path: path}, nil
	}
	return storeSpec{}, fmt.Errorf("unknown store %q (want memory or bbolt:PATH)", s)
}

func (s storeSpec) String() string {
	if s.kind == "bbolt" {
		return "bbolt:" + s.path
	}
	return s.kind
}

func (s storeSpec) open(name string) (kvstore.Store, error) {
	if s.kind != "bbolt" {
		return memory.New(memory.Options{}), nil
	}
	path := s.path
	if name != "" {
		path = filepath.Join(path, name)
	}
	st, err := kvbbolt.Open(path, kvbbolt.Options{})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return st, nil
}

// addrList is a repeatable multiaddr flag. It accepts only addresses a
// built-in transport serves: /ip4|ip6/HOST/udp|tcp/PORT.
type addrList []ma.Multiaddr

func (l *addrList) String() string {
	if l == nil {
		return ""
	}
	s := make([]string, len(*l))
	for i, a := range *l {
		s[i] = a.String()
	}
	return strings.Join(s, " ")
}

func (l *addrList) Set(s string) error {
	a, err := parseAddr(s)
	if err != nil {
		return err
	}
	*l = append(*l, a)
	return nil
}

func parseAddr(s string) (ma.Multiaddr, error) {
	a, err := ma.NewMultiaddr(s)
	if err != nil {
		return nil, fmt.Errorf("bad multiaddr %q: %w", s, err)
	}
	if transport.Protocol(a) == "" {
		return nil, fmt.Errorf("unsupported address %q (want /ip4|ip6/HOST/udp|tcp/PORT)", s)
	}
	return a, nil
}

// newFlagSet returns a FlagSet that reports errors instead of exiting, with
// a usage text of synopsis, about and the flags.
func newFlagSet(name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: dhtnode %s\n\n%s\n\nflags:\n", synopsis, about)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags and positional arguments in any order ("--"
// ends the flags). On -h or --help it prints usage to stdout and returns
// done with code 0; on a bad flag it prints the error and a hint to stderr
// and returns done with code 2.
func parseArgs(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (pos []string, code int, done bool) {
	fs.SetOutput(io.Discard) // the flag package's own report is replaced below
	for {
		if len(args) > 0 && args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return nil, 0, true
		}
		if err != nil {
			return nil, usageError(fs, stderr, "%v", err), true
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	fs.SetOutput(stderr)
	return pos, 0, false
}

// usageError reports a wrong use of a subcommand and returns exit code 2.
func usageError(fs *flag.FlagSet, stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "dhtnode %s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fmt.Fprintf(stderr, "run 'dhtnode %s --help' for usage\n", fs.Name())
	return 2
}

// fail reports a runtime error and returns exit code 1.
func fail(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "dhtnode %s: %v\n", cmd, err)
	return 1
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

// peerList is a repeatable flag of peers' addresses: as addrList, and also
// /dns|dns4|dns6/NAME/udp|tcp/PORT, which the node resolves when it
// bootstraps.
type peerList []ma.Multiaddr

func (l *peerList) String() string { return (*addrList)(l).String() }

func (l *peerList) Set(s string) error {
	a, err := ma.NewMultiaddr(s)
	if err == nil && isDNSAddr(a) {
		*l = append(*l, a)
		return nil
	}
	return (*addrList)(l).Set(s)
}
