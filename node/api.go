package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
	ma "github.com/multiformats/go-multiaddr"
)

// CallOption adjusts one call.
type CallOption func(*callOptions)

type callOptions struct {
	mode      *Mode
	trace     *Trace
	quorum    int
	cas       bool
	expect    uint64
	publisher []byte
	replicas  int
	fanout    int
	paths     int
	pathAgree int
}

// WithMode overrides the node's default query mode for one call.
func WithMode(m Mode) CallOption { return func(o *callOptions) { o.mode = &m } }

// WithTrace fills t with what the call's lookup cost.
func WithTrace(t *Trace) CallOption { return func(o *callOptions) { o.trace = t } }

// WithQuorum makes a get wait for values from q replicas (default 1) and
// return, for each publisher, the highest sequence number among them, so
// that one stale or hostile replica cannot hide a newer version.
func WithQuorum(q int) CallOption { return func(o *callOptions) { o.quorum = q } }

// WithCAS makes a mutable put conditional: each replica stores it only if
// it holds sequence number expect (0: nothing) for the value, and answers
// ErrConflict with the sequence it holds otherwise.
func WithCAS(expect uint64) CallOption {
	return func(o *callOptions) { o.cas, o.expect = true, expect }
}

// WithPublisher makes a get of a plain key return only the value of the
// publisher with this ed25519 public key.
func WithPublisher(pub []byte) CallOption {
	return func(o *callOptions) { o.publisher = append([]byte(nil), pub...) }
}

// WithReplicas makes a put store at the r closest peers instead of k.
// Values outside 1..k mean k.
func WithReplicas(r int) CallOption { return func(o *callOptions) { o.replicas = r } }

// Trace reports the cost of one lookup.
type Trace struct {
	Mode Mode
	// RPCs is the number of requests the originator sent.
	RPCs int
	// Hops is the longest chain of peers the lookup went through.
	Hops    int
	Latency time.Duration
}

func (n *Node) options(opts []CallOption) callOptions {
	o := callOptions{}
	for _, f := range opts {
		f(&o)
	}
	if o.mode == nil {
		m := n.cfg.mode
		o.mode = &m
	}
	if o.quorum < 1 {
		o.quorum = 1
	}
	if o.replicas < 1 || o.replicas > n.cfg.k {
		o.replicas = n.cfg.k
	}
	n.pathOptions(&o)
	return o
}

// finish records a lookup's cost in the node's stats and the caller's trace.
func (n *Node) finish(o callOptions, start time.Time, rpcs, hops int, err error) {
	d := n.cfg.clock.Now().Sub(start)
	n.stats.lookup(rpcs, hops, d, err == nil)
	if o.trace != nil {
		*o.trace = Trace{Mode: *o.mode, RPCs: rpcs, Hops: hops, Latency: d}
	}
}

// KeyID returns the key-space ID under which a plain value's key is stored.
func (n *Node) KeyID(key []byte) peer.ID { return n.cfg.hasher.Sum(key) }

// Ping sends a ping to addr and waits for the answer. It returns the
// responder's verified record, or nil for a peer that did not identify
// itself.
func (n *Node) Ping(ctx context.Context, addr ma.Multiaddr) (*peer.Record, error) {
	ctx, cancel := n.callCtx(ctx)
	defer cancel()
	rep, err := n.call(ctx, contact{addrs: []ma.Multiaddr{addr}}, &msgenc.Message{Kind: msgenc.KindPing, Ping: &msgenc.Ping{}})
	if err != nil {
		return nil, err
	}
	return rep.from, nil
}

// Bootstrap joins the network through the given addresses: it pings each
// (learning the peers behind them), then looks up its own ID so that the
// peers near it learn of it and it of them, then refreshes the buckets that
// lookup did not reach. It succeeds when at least one address answered.
//
// A client (Builder.Client) only pings: its lookups start from the peers
// that answered, as well as from its table, so a one-shot put or get costs
// no join.
func (n *Node) Bootstrap(ctx context.Context, addrs ...ma.Multiaddr) error {
	if err := n.live(); err != nil {
		return err
	}
	ctx, cancel := n.callCtx(ctx)
	defer cancel()
	if len(addrs) == 0 {
		// Rejoin through the contacts a state file kept.
		addrs = n.restoredSeeds()
	}
	addrs, err := resolve(ctx, addrs)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBootstrap, err)
	}
	seeds, errs := n.pingAll(ctx, addrs)
	n.seeds.Store(&seeds)
	if len(seeds) == 0 {
		if len(errs) == 0 {
			return fmt.Errorf("%w: no bootstrap address given and no saved contacts", ErrBootstrap)
		}
		return fmt.Errorf("%w: %w", ErrBootstrap, errors.Join(errs...))
	}
	defer n.saveState()
	if n.cfg.client {
		// A one-shot client starts its operations from the seeds: it
		// needs no table of its own, so it pays for no join.
		return nil
	}
	// A policy that learns from the DHT (a web of trust) may not admit the
	// seeds until it has read about them, through the seeds themselves.
	_, learns := n.cfg.policy.(trust.Refresher)
	if learns {
		n.refreshPolicy(ctx, seeds)
	}
	start := n.cfg.clock.Now()
	res, met, err := n.joinLookup(ctx)
	n.finish(callOptions{mode: &Mode{}}, start, res.rpcs, res.hops, err)
	if err != nil {
		return fmt.Errorf("%w: self lookup: %w", ErrBootstrap, err)
	}
	if learns {
		// Resolve the peers the self lookup met, then meet them again.
		n.refreshPolicy(ctx, nil)
		if _, err := n.lookup(ctx, n.id, nil); err != nil && ctx.Err() != nil {
			return fmt.Errorf("%w: self lookup: %w", ErrBootstrap, ctxErr(ctx))
		}
	}
	n.table.Refreshed(n.id, n.cfg.clock.Now())
	// As in Kademlia's join, look up a random ID in every bucket the self
	// lookup left untouched: otherwise the ranges far from this node stay
	// empty until the first refresh, an hour away, and lookups that must
	// cross them end early at the wrong peers. Each lookup ends once a few
	// peers of its range answered, and ranges the self lookup saw whole
	// are not asked again (fillBuckets), so that a join costs about the
	// same whatever the size of the network.
	n.fillBuckets(ctx, res, met)
	return nil
}

// FindPeer looks up the peer with the given ID and returns its verified
// record, or ErrNotFound.
func (n *Node) FindPeer(ctx context.Context, id peer.ID, opts ...CallOption) (*peer.Record, error) {
	if err := n.live(); err != nil {
		return nil, err
	}
	if id == n.id {
		return n.self, nil
	}
	ctx, cancel := n.callCtx(ctx)
	defer cancel()
	o := n.options(opts)
	start := n.cfg.clock.Now()
	var (
		found      []*peer.Record
		rpcs, hops int
		err        error
	)
	if o.mode.kind == kindDirect {
		var res lookupResult
		res, err = n.lookupPaths(ctx, id, nil, o)
		found, rpcs, hops = res.closest, res.rpcs, res.hops
	} else {
		var res forwardResult
		res, err = n.forwardQuery(ctx, *o.mode, msgenc.KindFindNode, id, nil, nil, o)
		found, rpcs, hops = res.peers, res.rpcs, res.hops
	}
	var rec *peer.Record
	for _, r := range found {
		if r.ID == id {
			rec = r
			break
		}
	}
	if err == nil && rec == nil {
		if r, ok := n.table.Get(id); ok && !n.health.down(id, n.cfg.clock.Now()) {
			rec = r
		} else {
			err = fmt.Errorf("%w: peer %s", ErrNotFound, id.Short())
		}
	}
	n.finish(o, start, rpcs, hops, err)
	if err != nil {
		return nil, err
	}
	n.table.Refreshed(id, n.cfg.clock.Now())
	return rec, nil
}

// pingAll pings every address at once (a few at a time) and returns the
// records of the peers that answered, and what happened at the others.
func (n *Node) pingAll(ctx context.Context, addrs []ma.Multiaddr) ([]*peer.Record, []error) {
	type result struct {
		addr ma.Multiaddr
		rec  *peer.Record
		err  error
	}
	results := make(chan result, len(addrs))
	limit := make(chan struct{}, 16)
	for _, a := range addrs {
		go func() {
			limit <- struct{}{}
			defer func() { <-limit }()
			rec, err := n.Ping(ctx, a)
			results <- result{a, rec, err}
		}()
	}
	var seeds []*peer.Record
	var errs []error
	for range addrs {
		r := <-results
		switch {
		case r.err != nil:
			errs = append(errs, r.err) // which names the address
		case r.rec != nil && !slices.ContainsFunc(seeds, func(s *peer.Record) bool { return s.ID == r.rec.ID }):
			seeds = append(seeds, r.rec)
		}
	}
	return seeds, errs
}
