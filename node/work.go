package node

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/dhtkit/dhtkit/msgenc"
	ma "github.com/multiformats/go-multiaddr"
)

// WorkLimits bounds the work requests start that outlives them: each has a
// bound in total and one per source address, so that one source cannot
// take all of it. Answers are bounded by the transport's frame size and,
// to unproven addresses, by three times the request (see the package doc);
// every other request is answered in the receive goroutine.
type WorkLimits struct {
	// Forwards bounds the forwarded queries relayed at once, each a
	// goroutine and its state. Default: DefaultForwards.
	Forwards int
	// ForwardsPerSource bounds those of one source address. Default:
	// DefaultForwardsPerSource.
	ForwardsPerSource int
	// EvictionPings bounds the ping-before-evict pings in flight, which
	// contacts from new peers start. Default: DefaultEvictionPings.
	EvictionPings int
	// EvictionPingsPerSource bounds those that requests from one source
	// (an IPv4 /24 or IPv6 /64) start, so that one source's new
	// identities cannot take every slot. Default:
	// DefaultEvictionPingsPerSource.
	EvictionPingsPerSource int
}

// Work limit defaults.
const (
	DefaultForwards          = 256
	DefaultForwardsPerSource = 32
	DefaultEvictionPings     = 64
	// DefaultEvictionPingsPerSource is EvictionPingsPerSource's default.
	DefaultEvictionPingsPerSource = 4
)

// WorkLimits sets the bounds on work in flight. Zero fields take their
// defaults.
func (b *Builder) WorkLimits(w WorkLimits) *Builder { b.cfg.work = w; return b }

func (w *WorkLimits) check() []error {
	var errs []error
	fill := func(name string, v *int, def int) {
		switch {
		case *v == 0:
			*v = def
		case *v < 0:
			errs = append(errs, fmt.Errorf("%w: %s must be positive, got %d", ErrConfig, name, *v))
		}
	}
	fill("forwards in flight", &w.Forwards, DefaultForwards)
	fill("forwards per source", &w.ForwardsPerSource, DefaultForwardsPerSource)
	fill("eviction pings", &w.EvictionPings, DefaultEvictionPings)
	fill("eviction pings per source", &w.EvictionPingsPerSource, DefaultEvictionPingsPerSource)
	return errs
}

// inflight counts work in flight per source. Sources leave the map when
// their count drops to zero, so it holds at most the total bound's worth.
type inflight struct {
	mu  sync.Mutex
	max int
	m   map[string]int
}

func (f *inflight) init(max int) { f.max, f.m = max, make(map[string]int) }

func (f *inflight) acquire(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m[key] >= f.max {
		return false
	}
	f.m[key]++
	return true
}

func (f *inflight) release(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m[key]--; f.m[key] <= 0 {
		delete(f.m, key)
	}
}

// forwardSlot takes a per-source slot for a forwarded query from in. It
// reports false, having answered with a refusal, when the source has as
// many in flight as it may; release gives the slot back.
func (n *Node) forwardSlot(in *incoming) (release func(), ok bool) {
	key := in.src.addr
	if !n.fwdSources.acquire(key) {
		n.stats.drop(DropOverloaded)
		n.replyError(in, msgenc.CodeOverloaded, "too many forwarded queries from this address")
		return nil, false
	}
	return func() { n.fwdSources.release(key) }, true
}

// evictionSource is the source key that bounds the eviction pings a
// request from addr may start: its IPv4 /24 or IPv6 /64, or the address
// itself where it has no IP.
func evictionSource(addr ma.Multiaddr) string { return sourceOf(addr).eviction() }

// eviction is evictionSource for a source already worked out.
func (s source) eviction() string {
	if s.prefix != "" {
		return s.prefix
	}
	return s.addr
}

// evictionSlot takes one of the eviction pings that may be in flight.
func (n *Node) evictionSlot() bool {
	for {
		cur := n.evictPings.Load()
		if cur >= int64(n.cfg.work.EvictionPings) {
			return false
		}
		if n.evictPings.CompareAndSwap(cur, cur+1) {
			return true
		}
	}
}

// admitSource applies the address rate limits to a request, before its
// sender record is verified. It reports false when the request is not to
// be served, having refused or dropped it and counted which.
func (n *Node) admitSource(in *incoming) bool {
	return n.limitVerdict(in, n.limits.admitAddr(in.src))
}

// admitPeer applies the peer rate limit to a request from a verified peer.
func (n *Node) admitPeer(in *incoming) bool {
	if in.from == nil {
		return true
	}
	return n.limitVerdict(in, n.limits.admitPeer(string(in.from.ID.Bytes())))
}

func (n *Node) limitVerdict(in *incoming, v verdict) bool {
	switch v {
	case refuse:
		// Short and without the node's record: a refusal must cost less
		// than the request it answers.
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.rpcTimeout)
		defer cancel()
		_ = n.sendReply(ctx, in, &msgenc.Message{
			Kind: msgenc.KindError, TxID: in.msg.TxID,
			Error: &msgenc.Error{Code: msgenc.CodeOverloaded, Message: "rate limited"},
		})
		return false
	case drop:
		n.stats.drop(DropRateLimited)
		return false
	}
	return true
}

// limitState is what the node's limits keep: rate buckets, quota
// accounts, address tokens and work in flight.
type limitState struct {
	limits     *limiter
	quotas     *quotaBook
	amp        *amplifier
	fwdSources inflight
	evictPings atomic.Int64
	evictSrcs  inflight // eviction pings by the source whose request started them
}

// initLimits makes the limits' state from the validated config.
func (n *Node) initLimits() error {
	a, err := newAmplifier(n.cfg.clock.Now)
	if err != nil {
		return err
	}
	n.amp = a
	n.limits = newLimiter(n.cfg.rateLimits, n.cfg.clock.Now)
	n.quotas = newQuotaBook(n.cfg.quotas)
	n.fwdSources.init(n.cfg.work.ForwardsPerSource)
	n.evictSrcs.init(n.cfg.work.EvictionPingsPerSource)
	n.rebuildQuotas(n.ctx)
	return nil
}
