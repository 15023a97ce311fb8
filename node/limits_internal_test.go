package node

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
)

// fakeTime is a clock the limiter reads; tests move it by hand.
type fakeTime struct{ t time.Time }

func (f *fakeTime) now() time.Time          { return f.t }
func (f *fakeTime) advance(d time.Duration) { f.t = f.t.Add(d) }
func newFakeTime() *fakeTime                { return &fakeTime{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }
func srcOf(t testing.TB, s string) source   { t.Helper(); return sourceOf(ma.StringCast(s)) }
func udpAddr(ip string) string              { return fmt.Sprintf("/ip4/%s/udp/4001", ip) }
func checkedLimits(t testing.TB, l RateLimits) RateLimits {
	t.Helper()
	require.Empty(t, l.check())
	return l
}

func TestSourceNamesTheAddressAndItsSlash24OrSlash64(t *testing.T) {
	a := srcOf(t, "/ip4/192.0.2.7/udp/4001")
	b := srcOf(t, "/ip4/192.0.2.200/tcp/9")
	c := srcOf(t, "/ip4/192.0.3.7/udp/4001")
	require.NotEqual(t, a.addr, b.addr)
	require.Equal(t, a.prefix, b.prefix, "one /24")
	require.NotEqual(t, a.prefix, c.prefix, "another /24")
	d := srcOf(t, "/ip6/2001:db8:1:2::1/udp/1")
	e := srcOf(t, "/ip6/2001:db8:1:2:ffff::9/udp/1")
	f := srcOf(t, "/ip6/2001:db8:1:3::1/udp/1")
	require.Equal(t, d.prefix, e.prefix, "one /64")
	require.NotEqual(t, d.prefix, f.prefix, "another /64")
	m := srcOf(t, "/memory/7")
	require.NotEmpty(t, m.addr)
	require.Empty(t, m.prefix, "a non-IP address has no prefix")
}

func TestRateLimitServesTheBurstThenRefusesOnceThenDropsUntilTokensReturn(t *testing.T) {
	clk := newFakeTime()
	l := newLimiter(checkedLimits(t, RateLimits{Addr: Rate{PerSecond: 10, Burst: 5}, Prefix: Unlimited, Peer: Unlimited}), clk.now)
	src := srcOf(t, udpAddr("192.0.2.1"))
	for i := range 5 {
		require.Equal(t, admit, l.admitAddr(src), "request %d of the burst", i)
	}
	require.Equal(t, refuse, l.admitAddr(src), "the first request over the limit is told so")
	for range 100 {
		require.Equal(t, drop, l.admitAddr(src), "later ones are dropped: the node does not answer a flood frame for frame")
	}
	clk.advance(100 * time.Millisecond) // one token at 10/s
	require.Equal(t, admit, l.admitAddr(src))
	require.NotEqual(t, admit, l.admitAddr(src))
	clk.advance(time.Second)
	require.Equal(t, admit, l.admitAddr(src), "refused requests cost nothing later: the bucket refilled")
	require.Equal(t, admit, l.admitAddr(srcOf(t, udpAddr("198.51.100.1"))), "another address has its own bucket")
}

func TestRateLimitPrefixBucketHoldsANeighbourhoodAndRefundsTheAddress(t *testing.T) {
	clk := newFakeTime()
	l := newLimiter(checkedLimits(t, RateLimits{Addr: Rate{PerSecond: 1, Burst: 3}, Prefix: Rate{PerSecond: 1, Burst: 4}, Peer: Unlimited}), clk.now)
	admitted := 0
	for i := range 4 {
		for range 3 {
			if l.admitAddr(srcOf(t, udpAddr(fmt.Sprintf("192.0.2.%d", i+1)))) == admit {
				admitted++
			}
		}
	}
	require.Equal(t, 4, admitted, "four addresses of one /24 share its burst of 4")
	require.Equal(t, admit, l.admitAddr(srcOf(t, udpAddr("192.0.3.1"))), "another /24 is not held back")
	// 192.0.2.4 was refused by its prefix three times: its own bucket
	// was refunded each time, so when the prefix refills it may use it.
	clk.advance(3 * time.Second)
	for range 3 {
		require.Equal(t, admit, l.admitAddr(srcOf(t, udpAddr("192.0.2.4"))))
	}
}

func TestRateLimitBucketsStayBoundedUnderSpoofedSources(t *testing.T) {
	clk := newFakeTime()
	l := newLimiter(checkedLimits(t, RateLimits{Sources: 256}), clk.now)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		ip := netip.AddrFrom4([4]byte{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())})
		require.NotEqual(t, drop, l.admitAddr(srcOf(t, udpAddr(ip.String()))))
		l.admitPeer(fmt.Sprint(rng.Uint64()))
	}
	require.LessOrEqual(t, l.addrs.len(), 256)
	require.LessOrEqual(t, l.prefixes.len(), 256)
	require.LessOrEqual(t, l.peers.len(), 256)
	require.Greater(t, l.addrs.len(), 128, "the maps are used, not emptied")
}

// TestAMassRestartBehindOneAddressIsServedAtTheLimitsRate plays OpenDHT's
// issue 869: many well-behaved peers behind one address restart at once and
// each needs a handful of requests answered to rejoin, resending a refused
// one after a second. The address's bucket must keep serving at its rate:
// every peer is back within the time the rate needs for all their requests,
// plus one resend interval, and no peer is shut out longer.
func TestAMassRestartBehindOneAddressIsServedAtTheLimitsRate(t *testing.T) {
	clk := newFakeTime()
	limits := checkedLimits(t, RateLimits{})
	l := newLimiter(limits, clk.now)
	const peers, need = 2000, 6 // requests each needs answered to rejoin
	src := srcOf(t, udpAddr("203.0.113.9"))
	rng := rand.New(rand.NewPCG(3, 4))
	type state struct {
		done int
		next time.Time
		back time.Duration // when the peer had all it needed
	}
	ps := make([]state, peers)
	start := clk.now()
	for i := range ps {
		ps[i].next = start.Add(time.Duration(rng.IntN(100)) * time.Millisecond)
	}
	const step = 10 * time.Millisecond
	for left := peers; left > 0; clk.advance(step) {
		require.Less(t, clk.now().Sub(start), 5*time.Minute, "peers are locked out")
		for i := range ps {
			p := &ps[i]
			if p.done == need || clk.now().Before(p.next) {
				continue
			}
			if l.admitAddr(src) == admit && l.admitPeer(fmt.Sprint(i)) == admit {
				if p.done++; p.done == need {
					p.back = clk.now().Sub(start)
					left--
				}
				continue
			}
			p.next = clk.now().Add(time.Second + time.Duration(rng.IntN(200))*time.Millisecond)
		}
	}
	var last time.Duration
	for _, p := range ps {
		last = max(last, p.back)
	}
	demand := float64(peers*need-limits.Addr.Burst) / limits.Addr.PerSecond
	bound := time.Duration(demand*float64(time.Second)) + 2*time.Second
	t.Logf("%d peers × %d requests behind one address: all back after %v (rate alone needs %.1fs)", peers, need, last, demand)
	require.LessOrEqual(t, last, bound, "the limiter must serve at its rate while peers resend, not lock them out")
}

func TestRateLimitsFillDefaultsAndRefuseNegatives(t *testing.T) {
	var l RateLimits
	require.Empty(t, l.check())
	require.Equal(t, DefaultAddrRate, l.Addr)
	require.Equal(t, DefaultRateSources, l.Sources)
	l = RateLimits{Peer: Rate{PerSecond: 3}}
	require.Empty(t, l.check())
	require.Equal(t, 6, l.Peer.Burst, "burst defaults to twice the rate")
	l = RateLimits{Addr: Rate{PerSecond: -1}, Sources: -2}
	require.Len(t, l.check(), 2)
	off := NoRateLimits()
	require.Empty(t, off.check())
	lim := newLimiter(off, newFakeTime().now)
	for range 10_000 {
		require.Equal(t, admit, lim.admitAddr(srcOf(t, udpAddr("192.0.2.1"))))
	}
	require.Zero(t, lim.addrs.len(), "an unlimited bucket keeps no state")
}

func TestASourceIsReadUntilToldThenDroppedUnreadUntilATokenReturns(t *testing.T) {
	clk := newFakeTime()
	l := newLimiter(checkedLimits(t, RateLimits{Addr: Rate{PerSecond: 10, Burst: 2}}), clk.now)
	src := srcOf(t, udpAddr("192.0.2.1"))
	require.False(t, l.blocked(src), "an unknown source is read")
	require.Equal(t, admit, l.admitAddr(src))
	require.Equal(t, admit, l.admitAddr(src))
	require.False(t, l.blocked(src), "an empty bucket not yet told so is still read, to be refused")
	require.Equal(t, refuse, l.admitAddr(src))
	require.True(t, l.blocked(src), "told once, the source's frames are dropped unread")
	require.False(t, l.blocked(srcOf(t, udpAddr("198.51.100.1"))), "others are read")
	clk.advance(time.Second)
	require.False(t, l.blocked(src), "a token came back")
	require.Equal(t, admit, l.admitAddr(src))
}

func TestRateLimitMapsAreMadeOnlyForSourcesSeen(t *testing.T) {
	clk := newFakeTime()
	l := newLimiter(checkedLimits(t, RateLimits{}), clk.now)
	for _, m := range []*bucketMap{l.peers, l.addrs, l.prefixes} {
		require.Nil(t, m.m, "an idle node keeps no bucket maps")
	}
	require.False(t, l.blocked(srcOf(t, udpAddr("192.0.2.1"))))
	require.Zero(t, l.addrs.len()+l.prefixes.len(), "asking about a source makes no bucket")
	require.Equal(t, admit, l.admitAddr(srcOf(t, udpAddr("192.0.2.1"))))
	require.Equal(t, 1, l.addrs.len())
	require.Equal(t, 1, l.prefixes.len())
}

func TestRateLimitBucketRefillsUpToItsBurstAndNotFromABackwardClock(t *testing.T) {
	clk := newFakeTime()
	l := newLimiter(checkedLimits(t, RateLimits{Peer: Rate{PerSecond: 2, Burst: 3}}), clk.now)
	for range 3 {
		require.Equal(t, admit, l.admitPeer("p"))
	}
	require.Equal(t, refuse, l.admitPeer("p"))
	clk.advance(-time.Hour)
	require.Equal(t, drop, l.admitPeer("p"), "a clock stepping back refills nothing")
	clk.advance(time.Hour + time.Hour) // an hour of refill is still only the burst
	for range 3 {
		require.Equal(t, admit, l.admitPeer("p"))
	}
	require.Equal(t, refuse, l.admitPeer("p"))
	clk.advance(500 * time.Millisecond) // one token at 2/s
	require.Equal(t, admit, l.admitPeer("p"))
	require.Equal(t, drop, l.admitPeer("p"), "told once a second at most")
}

func TestRateLimitMapsKeepOnlyTheSourcesHeldBack(t *testing.T) {
	clk := newFakeTime()
	l := newLimiter(checkedLimits(t, RateLimits{Peer: Rate{PerSecond: 10, Burst: 2}}), clk.now)
	// A flooder empties its bucket and is told so.
	require.Equal(t, admit, l.admitPeer("flooder"))
	require.Equal(t, admit, l.admitPeer("flooder"))
	require.Equal(t, refuse, l.admitPeer("flooder"))
	// Many peers ask once each, a while apart: a bucket refills in 100ms.
	for i := range 1000 {
		require.Equal(t, admit, l.admitPeer(fmt.Sprint("peer", i)))
		clk.advance(50 * time.Millisecond)
		if i%100 == 99 {
			// The flooder goes on: its bucket never refills.
			for l.admitPeer("flooder") == admit {
			}
		}
	}
	require.LessOrEqual(t, l.peers.len(), 2*sweepFrom, "buckets that refilled are swept out")
	require.Equal(t, drop, l.admitPeer("flooder"), "the flooder's empty bucket is kept through every sweep")

	// A swept peer is served as a new one would be: a full burst.
	require.Equal(t, admit, l.admitPeer("peer0"))
	require.Equal(t, admit, l.admitPeer("peer0"))
	require.Equal(t, refuse, l.admitPeer("peer0"))
}

// Peers that each ask now and then cost the map no allocation: the
// buckets that refilled are swept out in place.
func TestRateLimitMapOfOccasionalPeersDoesNotChurn(t *testing.T) {
	clk := newFakeTime()
	l := newLimiter(checkedLimits(t, RateLimits{Peer: Rate{PerSecond: 10, Burst: 2}}), clk.now)
	keys := make([]string, 5000)
	for i := range keys {
		keys[i] = fmt.Sprint("peer", i)
	}
	// AllocsPerRun rounds down, which would hide an allocation every
	// few sweeps: count them all.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, k := range keys {
		if l.admitPeer(k) != admit {
			t.Fatal("an occasional peer was held back")
		}
		clk.advance(time.Second)
	}
	runtime.ReadMemStats(&after)
	require.LessOrEqual(t, after.Mallocs-before.Mallocs, uint64(10), "%d peers, one at a time", len(keys))
	require.LessOrEqual(t, l.peers.len(), sweepFrom)
}

// After a burst of many peers, the next newcomer a second later leaves a
// map sized for the few still held back, not for the burst.
func TestRateLimitMapShrinksAfterABurst(t *testing.T) {
	clk := newFakeTime()
	l := newLimiter(checkedLimits(t, RateLimits{Peer: Rate{PerSecond: 10, Burst: 2}}), clk.now)
	for i := range 1000 {
		require.Equal(t, admit, l.admitPeer(fmt.Sprint("burst", i)))
	}
	require.Equal(t, admit, l.admitPeer("flooder"))
	require.Equal(t, admit, l.admitPeer("flooder"))
	require.Equal(t, 1001, l.peers.len(), "no bucket refilled yet: all kept")
	clk.advance(time.Second)
	for l.admitPeer("flooder") == admit {
	}
	require.Equal(t, admit, l.admitPeer("newcomer"))
	require.Equal(t, 2, l.peers.len(), "the flooder and the newcomer")
	require.Equal(t, 2, l.peers.peak, "moved to a map of their size")
	require.Equal(t, drop, l.admitPeer("flooder"))
}
