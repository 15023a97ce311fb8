package node

import (
	"fmt"
	"hash/maphash"
	"math"
	"net/netip"
	"sync"
	"time"

	ma "github.com/multiformats/go-multiaddr"
	"golang.org/x/time/rate"
)

// Rate is a token bucket: PerSecond requests on average, Burst at once.
// The zero Rate means the default; Unlimited turns the bucket off.
type Rate struct {
	PerSecond float64
	// Burst is how many requests may come at once after a quiet spell.
	// Zero means twice PerSecond (at least 1).
	Burst int
}

// Unlimited, given as a Rate, turns that bucket off.
var Unlimited = Rate{PerSecond: math.Inf(1)}

// RateLimits bounds the requests a node serves per source. Every inbound
// request (not replies, which the node asked for) takes a token from the
// bucket of its source address, of the address's prefix (IPv4 /24, IPv6
// /64: a host's neighbours share it) and, once its signed sender record is
// verified, of its peer ID. A request that finds a bucket empty is refused
// with msgenc.CodeOverloaded, at most about once a second per source, and
// otherwise dropped: both are counted (Metrics().Refused, and Dropped under
// DropRateLimited). A refusal takes no token from the buckets it passed, so
// a source held back by one bucket is not charged by the others.
//
// A bucket refills at its rate whatever the source does while it is empty:
// a refused request costs nothing later, so peers restarting together
// behind one address are held back for about Burst/PerSecond seconds at
// most, never locked out (OpenDHT issue 869).
type RateLimits struct {
	// Peer is the bucket of each peer ID. Default: DefaultPeerRate.
	Peer Rate
	// Addr is the bucket of each IP address (or non-IP address, such as
	// the mem transport's). Default: DefaultAddrRate.
	Addr Rate
	// Prefix is the bucket of each IPv4 /24 and IPv6 /64. Default:
	// DefaultPrefixRate.
	Prefix Rate
	// Sources is how many sources of each kind (peers, addresses,
	// prefixes) keep a bucket; past it the node forgets one at random, so
	// a flood of spoofed sources costs bounded memory. Default:
	// DefaultRateSources.
	Sources int
}

// Rate limit defaults, scaled so that honest use never meets them (a
// client fetching a file many chunks at once, or a test network of dozens
// of nodes sharing one loopback address), while one source cannot take
// more than a fraction of what a small machine can serve.
var (
	DefaultPeerRate   = Rate{PerSecond: 500, Burst: 1000}
	DefaultAddrRate   = Rate{PerSecond: 1000, Burst: 2000}
	DefaultPrefixRate = Rate{PerSecond: 2500, Burst: 5000}
)

// DefaultRateSources is the default RateLimits.Sources: 4096 buckets of
// each kind, about 100 bytes each.
const DefaultRateSources = 4096

// NoRateLimits, given to Builder.RateLimits, serves every request.
func NoRateLimits() RateLimits {
	return RateLimits{Peer: Unlimited, Addr: Unlimited, Prefix: Unlimited}
}

// RateLimits sets the per-source request limits. Zero fields take their
// defaults; NoRateLimits turns them off. Default: every field's default.
func (b *Builder) RateLimits(l RateLimits) *Builder { b.cfg.rateLimits = l; return b }

// check fills the defaults of l and reports what is wrong with it.
func (l *RateLimits) check() []error {
	var errs []error
	fill := func(name string, r *Rate, def Rate) {
		switch {
		case r.PerSecond == 0 && r.Burst == 0:
			*r = def
		case r.PerSecond < 0 || math.IsNaN(r.PerSecond) || r.Burst < 0:
			errs = append(errs, fmt.Errorf("%w: %s rate %v/s burst %d: must not be negative", ErrConfig, name, r.PerSecond, r.Burst))
		case r.Burst == 0 && !math.IsInf(r.PerSecond, 1):
			r.Burst = max(1, int(min(2*r.PerSecond, math.MaxInt32)))
		}
	}
	fill("peer", &l.Peer, DefaultPeerRate)
	fill("address", &l.Addr, DefaultAddrRate)
	fill("prefix", &l.Prefix, DefaultPrefixRate)
	switch {
	case l.Sources == 0:
		l.Sources = DefaultRateSources
	case l.Sources < 0:
		errs = append(errs, fmt.Errorf("%w: rate limit sources must be positive, got %d", ErrConfig, l.Sources))
	}
	return errs
}

// sourceOf names where a frame came from: its IP address and prefix, or for
// a non-IP address its bytes and no prefix.
type source struct {
	addr, prefix string
}

// sourceOf finds the IP component of a. It does not allocate for IP
// addresses.
func sourceOf(a ma.Multiaddr) source {
	for i := range a {
		c := &a[i]
		switch c.Code() {
		case ma.P_IP4, ma.P_IP6:
			ip, ok := netip.AddrFromSlice(c.RawValue())
			if !ok {
				break
			}
			ip = ip.Unmap()
			bits := 64
			if ip.Is4() {
				bits = 24
			}
			p, _ := ip.Prefix(bits)
			return source{addr: string(c.RawValue()), prefix: p.Addr().String()}
		}
	}
	return source{addr: string(a.Bytes())}
}

// limiter holds the buckets of RateLimits.
type limiter struct {
	peers, addrs, prefixes *bucketMap
	now                    func() time.Time
}

func newLimiter(l RateLimits, now func() time.Time) *limiter {
	return &limiter{
		peers:    newBucketMap(l.Peer, l.Sources),
		addrs:    newBucketMap(l.Addr, l.Sources),
		prefixes: newBucketMap(l.Prefix, l.Sources),
		now:      now,
	}
}

// verdict is what the limiter says of a request.
type verdict uint8

const (
	admit  verdict = iota
	refuse         // answer with CodeOverloaded
	drop           // over the limit and recently told so: say nothing
)

// admitAddr takes a token from the buckets of src's address and prefix,
// before anything costly is done with the frame.
func (l *limiter) admitAddr(src source) verdict {
	now := l.now()
	ra, v := l.addrs.take(src.addr, now)
	if v != admit {
		return v
	}
	if src.prefix == "" {
		return admit
	}
	if _, v := l.prefixes.take(src.prefix, now); v != admit {
		if ra != nil {
			ra.CancelAt(now) // not charged for a request not served
		}
		return v
	}
	return admit
}

// blocked reports whether src's address or prefix bucket is empty and the
// source was refused lately: the source is being dropped, and its next frame can be dropped before it
// is even decoded, replies included. Decoding is most of what a flood
// costs; a source held back this way is let through again as soon as a
// token returns.
func (l *limiter) blocked(src source) bool {
	now := l.now()
	return l.addrs.empty(src.addr, now) || src.prefix != "" && l.prefixes.empty(src.prefix, now)
}

// admitPeer takes a token from the bucket of a verified peer ID.
func (l *limiter) admitPeer(id string) verdict {
	_, v := l.peers.take(id, l.now())
	return v
}

// bucketMap is a bounded map of token buckets in shards, each under its own
// lock. A full shard forgets an arbitrary bucket to make room: the source
// that loses its bucket gets a full one back, which errs towards serving.
type bucketMap struct {
	r      Rate
	off    bool
	max    int // buckets per shard
	seed   maphash.Seed
	shards [bucketShards]bucketShard
}

const bucketShards = 16

type bucketShard struct {
	mu sync.Mutex
	m  map[string]*bucket
}

// bucket is one source's tokens, and a second, slow bucket that decides
// whether a refusal is answered or the request silently dropped.
type bucket struct {
	tokens *rate.Limiter
	notify *rate.Limiter
}

// refusalRate is how often a limited source is told so; the rest of its
// requests are dropped, so that the node never sends one frame per frame
// of a flood.
const refusalRate = rate.Limit(1)

func newBucketMap(r Rate, sources int) *bucketMap {
	b := &bucketMap{r: r, off: math.IsInf(r.PerSecond, 1), max: max(1, sources/bucketShards), seed: maphash.MakeSeed()}
	for i := range b.shards {
		b.shards[i].m = make(map[string]*bucket)
	}
	return b
}

// take takes a token from key's bucket at now. An admitted request's
// reservation is returned so that a later bucket's refusal can give it
// back.
func (b *bucketMap) take(key string, now time.Time) (*rate.Reservation, verdict) {
	if b.off {
		return nil, admit
	}
	s := &b.shards[maphash.String(b.seed, key)%bucketShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.m[key]
	if !ok {
		if len(s.m) >= b.max {
			for victim := range s.m {
				delete(s.m, victim)
				break
			}
		}
		k = &bucket{
			tokens: rate.NewLimiter(rate.Limit(b.r.PerSecond), b.r.Burst),
			notify: rate.NewLimiter(refusalRate, 1),
		}
		s.m[key] = k
	}
	r := k.tokens.ReserveN(now, 1)
	if r.OK() && r.DelayFrom(now) == 0 {
		return r, admit
	}
	r.CancelAt(now)
	if k.notify.AllowN(now, 1) {
		return nil, refuse
	}
	return nil, drop
}

// empty reports whether key has a bucket with no token at now, and was
// told so lately: its frames are to be dropped unread. It makes no bucket.
func (b *bucketMap) empty(key string, now time.Time) bool {
	if b.off {
		return false
	}
	s := &b.shards[maphash.String(b.seed, key)%bucketShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.m[key]
	return ok && k.tokens.TokensAt(now) < 1 && k.notify.TokensAt(now) < 1
}

// len counts the buckets held, for tests.
func (b *bucketMap) len() int {
	n := 0
	for i := range b.shards {
		b.shards[i].mu.Lock()
		n += len(b.shards[i].m)
		b.shards[i].mu.Unlock()
	}
	return n
}
