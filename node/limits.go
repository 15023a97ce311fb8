package node

import (
	"fmt"
	"hash/maphash"
	"maps"
	"math"
	"net/netip"
	"sync"
	"time"

	ma "github.com/multiformats/go-multiaddr"
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
// each kind, under 100 bytes each.
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
	if v := l.addrs.take(src.addr, now); v != admit {
		return v
	}
	if src.prefix == "" {
		return admit
	}
	if v := l.prefixes.take(src.prefix, now); v != admit {
		l.addrs.giveBack(src.addr) // not charged for a request not served
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
	return l.peers.take(id, l.now())
}

// bucketMap is a bounded map of token buckets. A full map forgets an
// arbitrary bucket to make room: the source that loses its bucket gets a
// full one back, which errs towards serving.
//
// Every node keeps one bucket per peer that has sent it a request, so a
// bucket is plain numbers held in the map, not limiters behind pointers,
// keyed by a 64-bit hash of its source under the map's secret seed, not by
// a copy of the source's name, and the map is made only when its first
// source arrives. Two sources that share a hash (about one chance in 2^41
// among DefaultRateSources sources, and none a sender can aim for without
// the seed) share a bucket: each is held back by both one's requests,
// never let past its own limit.
//
// One map under one lock, not shards: the lock is held for a map lookup
// and some arithmetic, taken by the receive goroutines (one a transport),
// and each shard's map would cost an idle node a group of slots.
type bucketMap struct {
	r    Rate
	off  bool
	max  int // buckets
	seed maphash.Seed

	mu sync.Mutex
	m  map[uint64]tokenBucket
	// sweepAt is the size at which a new source first sweeps out the
	// buckets that have refilled (see sweep), lastSweep when it last did;
	// peak is the most buckets the map has held since it was made.
	sweepAt, peak int
	lastSweep     int64 // Unix nanoseconds
}

// sweepFrom is the smallest map that is swept: up to 8 sources fit the
// one group of slots a map starts with.
const sweepFrom = 8

// sweepEvery is how often a new source sweeps a map that has not doubled
// its peak: often enough that the map of a node whose burst of
// requests is over shrinks with the next newcomer, rarely enough that a
// flood of new sources pays for one pass over the map a second.
const sweepEvery = time.Second

// tokenBucket is one source's tokens, and a second, slow bucket (refusalRate
// a second, burst one) that decides whether a refusal is answered or the
// request silently dropped. Both refill from last, when they were last
// brought up to date.
type tokenBucket struct {
	tokens, notify float64
	last           int64 // Unix nanoseconds
}

// refusalRate is how often a limited source is told so; the rest of its
// requests are dropped, so that the node never sends one frame per frame
// of a flood.
const refusalRate = 1

// at brings k's buckets up to now: each refills at its rate, up to its
// burst. A clock that steps back refills nothing.
func (k *tokenBucket) at(r Rate, now int64) {
	if now <= k.last {
		return
	}
	dt := float64(now-k.last) / float64(time.Second)
	k.tokens = min(float64(r.Burst), k.tokens+dt*r.PerSecond)
	k.notify = min(1, k.notify+dt*refusalRate)
	k.last = now
}

func newBucketMap(r Rate, sources int) *bucketMap {
	return &bucketMap{r: r, off: math.IsInf(r.PerSecond, 1), max: max(1, sources), seed: maphash.MakeSeed()}
}

// take takes a token from key's bucket at now.
func (b *bucketMap) take(key string, now time.Time) verdict {
	if b.off {
		return admit
	}
	t := now.UnixNano()
	h := maphash.String(b.seed, key)
	b.mu.Lock()
	defer b.mu.Unlock()
	k, ok := b.m[h]
	if ok {
		k.at(b.r, t)
	} else {
		if b.m == nil {
			b.m = make(map[uint64]tokenBucket)
		}
		if len(b.m) >= sweepFrom && (len(b.m) >= b.sweepAt || t-b.lastSweep >= int64(sweepEvery)) {
			b.sweep(t)
		}
		if len(b.m) >= b.max {
			for victim := range b.m {
				delete(b.m, victim)
				break
			}
		}
		k = tokenBucket{tokens: float64(b.r.Burst), notify: 1, last: t}
	}
	v := drop
	switch {
	case k.tokens >= 1:
		k.tokens--
		v = admit
	case k.notify >= 1:
		k.notify--
		v = refuse
	}
	b.m[h] = k
	b.peak = max(b.peak, len(b.m))
	return v
}

// sweep drops the buckets that are full at now. A full bucket that was
// not refused lately is what a source without a bucket gets, so dropping
// it changes no verdict; it only keeps the map of a node whose peers ask
// now and then as small as the sources actually held back. A Go map never
// shrinks, so when a map that outgrew its first group of slots keeps
// fewer than a quarter of its peak, they move to a map of their size. The
// next sweep waits until the map has doubled its peak or sweepEvery has
// passed, so a sweep costs O(1) a source, or one pass a second, and the
// sources of a busy node find their buckets between sweeps. Called with
// b.mu held.
func (b *bucketMap) sweep(now int64) {
	for h, k := range b.m {
		if k.full(b.r, now) {
			delete(b.m, h)
		}
	}
	if b.peak > sweepFrom && len(b.m) < b.peak/4 { // a map of one group stays
		m := make(map[uint64]tokenBucket, len(b.m)) // not maps.Clone: it keeps the size
		maps.Copy(m, b.m)
		b.m, b.peak = m, len(m)
	}
	b.sweepAt, b.lastSweep = 2*b.peak, now
}

// full reports whether k at now holds as many tokens as a new bucket.
func (k tokenBucket) full(r Rate, now int64) bool {
	k.at(r, now)
	return k.tokens >= float64(r.Burst) && k.notify >= 1
}

// giveBack returns the token take just took from key's bucket.
func (b *bucketMap) giveBack(key string) {
	if b.off {
		return
	}
	h := maphash.String(b.seed, key)
	b.mu.Lock()
	defer b.mu.Unlock()
	if k, ok := b.m[h]; ok {
		k.tokens = min(float64(b.r.Burst), k.tokens+1)
		b.m[h] = k
	}
}

// empty reports whether key has a bucket with no token at now, and was
// told so lately: its frames are to be dropped unread. It makes no bucket.
func (b *bucketMap) empty(key string, now time.Time) bool {
	if b.off {
		return false
	}
	h := maphash.String(b.seed, key)
	b.mu.Lock()
	defer b.mu.Unlock()
	k, ok := b.m[h]
	if !ok {
		return false
	}
	k.at(b.r, now.UnixNano()) // a copy: reading changes no bucket
	return k.tokens < 1 && k.notify < 1
}

// len counts the buckets held, for tests.
func (b *bucketMap) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m)
}
