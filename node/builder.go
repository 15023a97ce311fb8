package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/dhtkit/dhtkit/clock"
	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/transport"
	"github.com/dhtkit/dhtkit/trust"
	ma "github.com/multiformats/go-multiaddr"
)

// Defaults that Build fills in for every choice left unset.
const (
	DefaultK     = 20
	DefaultAlpha = 3
	// DefaultRPCTimeout is the most a request waits for its answer before
	// it is resent, and the first wait on a peer not yet measured; a peer
	// that has answered gets a timeout from its own round trips (RFC 6298),
	// kept under this one. One second is TCP's initial timeout (RFC 6298,
	// 2.1): far above a round trip on any usable path, and it keeps the
	// cost of a dead peer, one send and one resend, to about 2s.
	DefaultRPCTimeout        = time.Second
	DefaultRetries           = 1
	DefaultRecordTTL         = 24 * time.Hour
	DefaultRefreshInterval   = time.Hour
	DefaultRepublishInterval = time.Hour
	DefaultSweepInterval     = 10 * time.Minute
	DefaultHopBudget         = 20
	DefaultValuesPerKey      = 8
	DefaultListenAddr        = "/ip4/127.0.0.1/udp/0"
)

// NoRetries, given to Builder.Retries, makes every request a single send:
// a request that times out is not resent.
const NoRetries = -1

// maxRetries bounds Builder.Retries: each resend waits longer than the one
// before, so more would only make a dead peer cost more.
const maxRetries = 10

// TableFunc makes the routing table once the node's own ID is known.
type TableFunc func(self peer.ID, k int) (route.Table, error)

// Builder records the choices that make a node. Its setters only record;
// Build validates everything at once. A Builder may be reused: Build copies
// what it needs and never writes back.
//
// Every choice has a documented default, so NewBuilder().Build(ctx) gives a
// working node: a fresh identity, SHA-256 key space, a Kademlia table with
// k=20, UDP on a free loopback port, a memory store, CBOR, the Open trust
// policy and direct routing.
//
// Zero means the default, for every setter: K(0), RPCTimeout(0) or a nil
// part leave the choice to Build, just as not calling the setter does.
// Where a feature can be turned off, a named value says so (Retries
// takes NoRetries); a negative number or duration is otherwise an error.
type Builder struct {
	cfg        config // the choices, zero where left to Build
	transports []transport.Transport
	listen     []ma.Multiaddr
	errs       []error // found while recording (ListenString)
}

// NewBuilder returns a Builder with nothing chosen.
func NewBuilder() *Builder { return &Builder{} }

// Identity sets the node's key pair. Default: a fresh one.
func (b *Builder) Identity(id *peer.Identity) *Builder { b.cfg.identity = id; return b }

// Hasher sets the key space. Default: peer.SHA256().
func (b *Builder) Hasher(h peer.Hasher) *Builder { b.cfg.hasher = h; return b }

// Table sets how the routing table is made. Default: kademlia with k.
func (b *Builder) Table(f TableFunc) *Builder { b.cfg.table = f; return b }

// Transport adds listening transports. The node owns them from Build on and
// closes them on Close.
func (b *Builder) Transport(ts ...transport.Transport) *Builder {
	b.transports = append(b.transports, ts...)
	return b
}

// Listen adds addresses for Build to listen on with the built-in transport
// for their protocol: udp or tcp. Default, when no transport is given:
// DefaultListenAddr.
func (b *Builder) Listen(addrs ...ma.Multiaddr) *Builder {
	b.listen = append(b.listen, addrs...)
	return b
}

// ListenString is Listen for addresses in text form; a malformed address is
// reported by Build.
func (b *Builder) ListenString(addrs ...string) *Builder {
	for _, s := range addrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			b.errs = append(b.errs, fmt.Errorf("%w: listen address %q: %w", ErrConfig, s, err))
			continue
		}
		b.listen = append(b.listen, a)
	}
	return b
}

// Announce sets the addresses the node's record gives peers to reach it,
// in place of those its transports listen on: the public address behind a
// NAT or a proxy. Default: the listening addresses, with an unspecified IP
// (0.0.0.0, ::) replaced by each of the host's addresses.
func (b *Builder) Announce(addrs ...ma.Multiaddr) *Builder {
	b.cfg.announce = append(b.cfg.announce, addrs...)
	return b
}

// StateFile makes the node keep, in the file at path, a bounded set of good
// contacts and the values it publishes, replaced atomically after every
// publish, every refresh and on Close. A node started again with the same
// file and identity rejoins with Bootstrap(ctx) and no address (it pings
// the saved contacts first) and keeps republishing its values. A corrupt
// file, or one of another identity, is logged and ignored. Default: none.
func (b *Builder) StateFile(path string) *Builder { b.cfg.stateFile = path; return b }

// Store sets the record store. The node owns it from Build on. Default: a
// memory store.
func (b *Builder) Store(s kvstore.Store) *Builder { b.cfg.store = s; return b }

// Codec sets the wire codec; every node of a network must use the same.
// Default: CBOR.
func (b *Builder) Codec(c msgenc.Codec) *Builder { b.cfg.codec = c; return b }

// Policy sets the trust policy. Default: trust.Open().
func (b *Builder) Policy(p trust.Policy) *Builder { b.cfg.policy = p; return b }

// Mode sets the default query mode; each call may override it. Default:
// Direct. An invalid mode (Mixed with hops out of range) is reported by
// Build.
func (b *Builder) Mode(m Mode) *Builder { b.cfg.mode = m; return b }

// K sets the replication factor and bucket size, 1 to msgenc.MaxPeers.
// Default: DefaultK.
func (b *Builder) K(k int) *Builder { b.cfg.k = k; return b }

// Alpha sets how many requests a direct lookup keeps in flight, 1 to 64.
// Default: DefaultAlpha.
func (b *Builder) Alpha(a int) *Builder { b.cfg.alpha = a; return b }

// RPCTimeout sets the most one request waits for its reply before it is
// resent. Default: DefaultRPCTimeout.
func (b *Builder) RPCTimeout(d time.Duration) *Builder { b.cfg.rpcTimeout = d; return b }

// Retries sets how many times a timed-out request is resent, 1 to 10, or
// NoRetries for none. Default (0): DefaultRetries.
func (b *Builder) Retries(n int) *Builder { b.cfg.retries = n; return b }

// RecordTTL sets how long stored values live unless republished. Default:
// DefaultRecordTTL.
func (b *Builder) RecordTTL(d time.Duration) *Builder { b.cfg.recordTTL = d; return b }

// RefreshInterval sets how long a bucket may go without a lookup before it
// is refreshed. Default: DefaultRefreshInterval.
func (b *Builder) RefreshInterval(d time.Duration) *Builder { b.cfg.refresh = d; return b }

// RepublishInterval sets how often publishers and replicas republish their
// records. Default: DefaultRepublishInterval.
func (b *Builder) RepublishInterval(d time.Duration) *Builder { b.cfg.republish = d; return b }

// SweepInterval sets how often expired records are dropped. Default:
// DefaultSweepInterval.
func (b *Builder) SweepInterval(d time.Duration) *Builder { b.cfg.sweep = d; return b }

// HopBudget sets the most hops a forwarded query may take, 1 to 255: the
// top of the range its budget is drawn from (HopBudgetRange).
// Default: DefaultHopBudget.
func (b *Builder) HopBudget(n int) *Builder { b.cfg.hopBudget = n; return b }

// ValuesPerKey sets how many values a replica keeps under one key: the
// immutable one, the mutable one and one plain value per publisher, so it
// decides how many publishers may share a plain key. A store that would add
// one more is refused with ErrQuota. Default: DefaultValuesPerKey.
func (b *Builder) ValuesPerKey(n int) *Builder { b.cfg.valuesPerKey = n; return b }

// Logger sets the logger. Default: discard.
func (b *Builder) Logger(l *slog.Logger) *Builder { b.cfg.logger = l; return b }

// Clock sets the time source for timeouts and maintenance. Default: the
// system clock.
func (b *Builder) Clock(c clock.Clock) *Builder { b.cfg.clock = c; return b }

// Client makes the node a client: it queries and stores but never announces
// itself, so it never enters other peers' tables and serves no one.
// Default: false, a full peer.
func (b *Builder) Client(on bool) *Builder { b.cfg.client = on; return b }

// config holds a Builder's choices; validate returns it checked, with the
// defaults filled in, and the node keeps that copy.
type config struct {
	identity     *peer.Identity
	hasher       peer.Hasher
	table        TableFunc
	store        kvstore.Store
	codec        msgenc.Codec
	policy       trust.Policy
	mode         Mode
	k, alpha     int
	rpcTimeout   time.Duration
	retries      int // resends: 0 in a validated config means none
	recordTTL    time.Duration
	refresh      time.Duration
	republish    time.Duration
	sweep        time.Duration
	hopBudget    int
	valuesPerKey int
	logger       *slog.Logger
	clock        clock.Clock
	client       bool
	announce     []ma.Multiaddr
	stateFile    string
	pathsConfig
}

// validate checks the choices and fills defaults, reporting every problem.
func (b *Builder) validate() (config, []ma.Multiaddr, error) {
	errs := slices.Clone(b.errs)
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
	}
	c := b.cfg
	c.announce = slices.Clone(c.announce)
	positive := func(name string, v *time.Duration, def time.Duration) {
		switch {
		case *v == 0:
			*v = def
		case *v < 0:
			bad("%s must be positive, got %v", name, *v)
		}
	}
	if c.hasher == nil {
		c.hasher = peer.SHA256()
	} else if s := c.hasher.Size(); s != peer.IDLen160 && s != peer.IDLen256 {
		bad("hasher %s makes %d-byte IDs; want 20 or 32", c.hasher.Name(), s)
	}
	switch {
	case c.k == 0:
		c.k = DefaultK
	case c.k < 1 || c.k > msgenc.MaxPeers:
		bad("k must be between 1 and %d, got %d", msgenc.MaxPeers, c.k)
	}
	switch {
	case c.alpha == 0:
		c.alpha = DefaultAlpha
	case c.alpha < 1 || c.alpha > 64:
		bad("alpha must be between 1 and 64, got %d", c.alpha)
	}
	switch {
	case c.retries == 0:
		c.retries = DefaultRetries
	case c.retries == NoRetries:
		c.retries = 0
	case c.retries < 0 || c.retries > maxRetries:
		bad("retries must be between 1 and %d, or NoRetries, got %d", maxRetries, c.retries)
	}
	switch {
	case c.hopBudget == 0:
		c.hopBudget = DefaultHopBudget
	case c.hopBudget < 1 || c.hopBudget > 255:
		bad("hop budget must be between 1 and 255, got %d", c.hopBudget)
	}
	c.validatePaths(bad)
	switch {
	case c.valuesPerKey == 0:
		c.valuesPerKey = DefaultValuesPerKey
	case c.valuesPerKey < 1 || c.valuesPerKey > maxValueSetEntries:
		bad("values per key must be between 1 and %d, got %d", maxValueSetEntries, c.valuesPerKey)
	}
	if err := c.mode.check(); err != nil {
		errs = append(errs, err)
	}
	positive("RPC timeout", &c.rpcTimeout, DefaultRPCTimeout)
	positive("record TTL", &c.recordTTL, DefaultRecordTTL)
	positive("refresh interval", &c.refresh, DefaultRefreshInterval)
	positive("republish interval", &c.republish, DefaultRepublishInterval)
	positive("sweep interval", &c.sweep, DefaultSweepInterval)
	if c.recordTTL > 0 && c.recordTTL/time.Second > 1<<32-1 {
		bad("record TTL %v does not fit the wire's 32-bit seconds", c.recordTTL)
	}
	for i, t := range b.transports {
		if t == nil {
			bad("transport %d is nil", i)
		}
	}
	for _, a := range c.announce {
		if len(a) == 0 {
			bad("an announced address is empty")
		}
	}
	if c.policy == nil {
		c.policy = trust.Open()
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.clock == nil {
		c.clock = clock.System()
	}
	if c.table == nil {
		c.table = defaultTable
	}
	if c.codec == nil {
		c.codec = defaultCodec()
	}
	listen := slices.Clone(b.listen)
	if len(listen) == 0 && len(b.transports) == 0 {
		listen = []ma.Multiaddr{ma.StringCast(DefaultListenAddr)}
	}
	for _, a := range listen {
		if !canListen(a) {
			bad("no built-in transport listens on %s (want /ip4|ip6/HOST/udp|tcp/PORT)", a)
		}
	}
	return c, listen, errors.Join(errs...)
}

// Build validates the choices, fills the defaults and starts the node. It
// reports every problem at once, each wrapping ErrConfig, and never panics.
// On error, transports and stores that Build made itself are closed; those
// given to the Builder are left to the caller.
func (b *Builder) Build(ctx context.Context) (*Node, error) {
	c, listen, err := b.validate()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var made []interface{ Close() error }
	fail := func(err error) (*Node, error) {
		for _, m := range made {
			_ = m.Close()
		}
		return nil, err
	}
	if c.identity == nil {
		id, err := peer.GenerateIdentity(nil)
		if err != nil {
			return nil, err
		}
		c.identity = id
	}
	self := c.identity.ID(c.hasher)
	table, err := c.table(self, c.k)
	if err != nil {
		return nil, fmt.Errorf("%w: routing table: %w", ErrConfig, err)
	}
	if table == nil || table.Self() != self {
		return nil, fmt.Errorf("%w: routing table function must return a table for the node's own ID", ErrConfig)
	}
	transports := slices.Clone(b.transports)
	for _, a := range listen {
		t, err := listenBuiltin(a)
		if err != nil {
			return fail(err) // the transport's error names the address
		}
		made = append(made, t)
		transports = append(transports, t)
	}
	if c.store == nil {
		s := defaultStore(c.clock)
		made = append(made, s)
		c.store = s
	}
	n, err := newNode(c, table, transports)
	if err != nil {
		return fail(err)
	}
	return n, nil
}
