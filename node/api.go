package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// CallOption adjusts one call.
type CallOption func(*callOptions)

type callOptions struct {
	mode  *Mode
	trace *Trace
}

// WithMode overrides the node's default query mode for one call.
func WithMode(m Mode) CallOption { return func(o *callOptions) { o.mode = &m } }

// WithTrace fills t with what the call's lookup cost.
func WithTrace(t *Trace) CallOption { return func(o *callOptions) { o.trace = t } }

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

// KeyID returns the key-space ID under which key is stored.
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
func (n *Node) Bootstrap(ctx context.Context, addrs ...ma.Multiaddr) error {
	if err := n.live(); err != nil {
		return err
	}
	ctx, cancel := n.callCtx(ctx)
	defer cancel()
	var errs []error
	ok := 0
	for _, a := range addrs {
		rec, err := n.Ping(ctx, a)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a, err))
			continue
		}
		if rec != nil {
			ok++
		}
	}
	if ok == 0 {
		if len(errs) == 0 {
			return fmt.Errorf("%w: no bootstrap address given", ErrBootstrap)
		}
		return fmt.Errorf("%w: %w", ErrBootstrap, errors.Join(errs...))
	}
	start := n.cfg.clock.Now()
	res, err := n.lookup(ctx, n.id, nil)
	n.finish(callOptions{mode: &Mode{}}, start, res.rpcs, res.hops, err)
	if err != nil {
		return fmt.Errorf("%w: self lookup: %w", ErrBootstrap, err)
	}
	n.table.Refreshed(n.id, n.cfg.clock.Now())
	// As in Kademlia's join, look up a random ID in every bucket the self
	// lookup left untouched: otherwise the ranges far from this node stay
	// empty until the first refresh, an hour away, and lookups that must
	// cross them end early at the wrong peers.
	n.refreshBuckets(ctx)
	return nil
}

// Put stores value under key at the k peers closest to the key and returns
// how many acknowledged. The node keeps republishing it until Close. It is an
// error only when no peer acknowledged.
func (n *Node) Put(ctx context.Context, key, value []byte, opts ...CallOption) (int, error) {
	if err := n.live(); err != nil {
		return 0, err
	}
	if len(value) > msgenc.MaxValueSize {
		return 0, fmt.Errorf("%w: %d bytes, at most %d", ErrValueTooLarge, len(value), msgenc.MaxValueSize)
	}
	id := n.KeyID(key)
	rec := &msgenc.ValueRecord{Key: id.Bytes(), Value: append([]byte(nil), value...), TTL: ttlSeconds(n.cfg.recordTTL)}
	acks, err := n.putRecord(ctx, rec, n.options(opts))
	if err == nil {
		n.published.add(id, rec)
	}
	return acks, err
}

func ttlSeconds(d time.Duration) uint32 { return uint32(min(d/time.Second, 1<<32-1)) }

// putRecord stores rec at the k closest peers in the given mode.
func (n *Node) putRecord(ctx context.Context, rec *msgenc.ValueRecord, o callOptions) (int, error) {
	ctx, cancel := n.callCtx(ctx)
	defer cancel()
	start := n.cfg.clock.Now()
	id, err := n.keyID(rec.Key)
	if err != nil {
		return 0, err
	}
	if o.mode.kind != kindDirect {
		res, err := n.forwardQuery(ctx, *o.mode, msgenc.KindStore, id, rec)
		n.finish(o, start, res.rpcs, res.hops, err)
		if err != nil {
			return 0, err
		}
		if res.stored == 0 {
			return 0, fmt.Errorf("node: put: no replica acknowledged")
		}
		return res.stored, nil
	}
	res, err := n.lookup(ctx, id, nil)
	if err != nil {
		n.finish(o, start, res.rpcs, res.hops, err)
		return 0, err
	}
	acks, rpcs := n.storeAt(ctx, res.closest, rec)
	n.finish(o, start, res.rpcs+rpcs, res.hops, nil)
	if acks == 0 {
		return 0, fmt.Errorf("node: put: none of %d replicas acknowledged", len(res.closest))
	}
	return acks, nil
}

// storeAt sends a Store of rec to each peer, in parallel, and counts the
// acknowledgements. When the node itself is closer to the key than the
// farthest peer, it keeps a replica too and counts it.
func (n *Node) storeAt(ctx context.Context, peers []*peer.Record, rec *msgenc.ValueRecord) (acks, rpcs int) {
	if !n.cfg.client {
		key, _ := n.keyID(rec.Key)
		if len(peers) < n.cfg.k || peer.CompareDistance(key, n.id, peers[len(peers)-1].ID) < 0 {
			if _, _, err := n.storeLocal(ctx, nil, rec, false, 0); err == nil {
				acks++
				if len(peers) == n.cfg.k {
					peers = peers[:len(peers)-1]
				}
			}
		}
	}
	done := make(chan bool, len(peers))
	for _, p := range peers {
		go func() {
			_, err := n.call(ctx, contactOf(p), &msgenc.Message{Kind: msgenc.KindStore, Store: &msgenc.Store{Record: *rec}})
			done <- err == nil
		}()
	}
	for range peers {
		if <-done {
			acks++
		}
	}
	return acks, len(peers)
}

// Get returns the value stored under key, or ErrNotFound.
func (n *Node) Get(ctx context.Context, key []byte, opts ...CallOption) ([]byte, error) {
	if err := n.live(); err != nil {
		return nil, err
	}
	ctx, cancel := n.callCtx(ctx)
	defer cancel()
	o := n.options(opts)
	id := n.KeyID(key)
	start := n.cfg.clock.Now()
	if rec, ok := n.localValue(id); ok {
		n.finish(o, start, 0, 0, nil)
		return rec.Value, nil
	}
	var (
		value      *msgenc.ValueRecord
		rpcs, hops int
		err        error
	)
	if o.mode.kind == kindDirect {
		var res lookupResult
		res, err = n.lookup(ctx, id, id.Bytes())
		value, rpcs, hops = res.value, res.rpcs, res.hops
	} else {
		var res forwardResult
		res, err = n.forwardQuery(ctx, *o.mode, msgenc.KindFindValue, id, nil)
		value, rpcs, hops = res.value, res.rpcs, res.hops
	}
	if err == nil && value == nil {
		err = fmt.Errorf("%w: key %s", ErrNotFound, id.Short())
	}
	n.finish(o, start, rpcs, hops, err)
	if err != nil {
		return nil, err
	}
	n.table.Refreshed(id, n.cfg.clock.Now())
	return value.Value, nil
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
		res, err = n.lookup(ctx, id, nil)
		found, rpcs, hops = res.closest, res.rpcs, res.hops
	} else {
		var res forwardResult
		res, err = n.forwardQuery(ctx, *o.mode, msgenc.KindFindNode, id, nil)
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
		if r, ok := n.table.Get(id); ok {
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
