package node

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/msgenc"
)

// DropReason says why the node dropped something it received: a frame, or
// a value a peer sent. Stats.Dropped and Metrics.Dropped count by it.
type DropReason uint8

// Why the node drops what it receives.
const (
	DropDecode      DropReason = iota // not a valid frame for the codec
	DropBadRecord                     // a peer record failed verification
	DropUnsolicited                   // a reply nobody waits for, or from the wrong peer
	DropPolicy                        // a frame or value the trust policy refused
	DropOverloaded                    // too many forwarded queries in flight
	DropClient                        // a request to a client node
	DropUnexpected                    // a message of a kind that cannot arrive here
	DropBadValue                      // a value failed verification
	DropRateLimited                   // a request over its source's rate limit, not answered
	DropUnproven                      // even a refusal would be too large for an unproven address
	numDropReasons
)

var dropNames = [numDropReasons]string{
	"decode", "bad-record", "unsolicited", "policy", "overloaded", "client", "unexpected", "bad-value", "rate-limited", "unproven",
}

// String returns the reason's name, as metrics label it: "decode",
// "bad-record", "unsolicited", "policy", "overloaded", "client",
// "unexpected", "bad-value", "rate-limited" or "unproven".
func (r DropReason) String() string {
	if r < numDropReasons {
		return dropNames[r]
	}
	return "unknown"
}

type counters struct {
	sent, received, requests, served, forwarded atomic.Uint64
	sendErrors, timeouts, evictionPings         atomic.Uint64
	cut                                         atomic.Uint64 // answers too large for an unproven address
	sigChecks, unverified                       atomic.Uint64
	// rare holds the counts of what was dropped or refused, made on the
	// first: a node that meets neither does not carry them.
	rare lazy[rareCounts]

	// What Metrics reports: fixed arrays of atomics, so that counting on
	// the path of every frame neither locks nor allocates. Histograms are
	// made on their first observation (a node may never send a store or
	// start a lookup), so an idle node does not carry them all.
	sentKinds, receivedKinds [numKinds]atomic.Uint64
	rpcLatency               [len(requestKinds)]lazy[histogram]
	lookupHists              lazy[lookupHistograms]

	mu      sync.Mutex
	lookups LookupStats
}

// rareCounts count by drop reason and by refusal code.
type rareCounts struct {
	drops   [numDropReasons]atomic.Uint64
	refused [numCodes]atomic.Uint64
}

func (c *counters) drop(r DropReason) { c.rare.get().drops[r].Add(1) }

func (c *counters) lookup(rpcs, hops int, d time.Duration, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := &c.lookups
	l.Count++
	if !ok {
		l.Failed++
	}
	l.RPCs += uint64(rpcs)
	l.Hops += uint64(hops)
	l.Latency += d
	l.MaxHops = max(l.MaxHops, hops)
	h := c.lookupHists.get()
	h.latency.observe(&latencyBounds, int64(d))
	h.rpcs.observe(&countBounds, int64(rpcs))
	h.hops.observe(&hopBounds, int64(hops))
}

// lookupHistograms describe the lookups a node originated.
type lookupHistograms struct {
	latency, rpcs, hops histogram
}

// lazy holds a T made on first use, shared by every caller after.
type lazy[T any] struct {
	p atomic.Pointer[T]
}

// get returns the T, making it if this is its first use.
func (l *lazy[T]) get() *T {
	if v := l.p.Load(); v != nil {
		return v
	}
	l.p.CompareAndSwap(nil, new(T))
	return l.p.Load()
}

// peek returns the T, or a zero T not kept if it was never used.
func (l *lazy[T]) peek() *T {
	if v := l.p.Load(); v != nil {
		return v
	}
	return new(T)
}

// sentMsg counts a frame sent: in all, by kind, and, for an Error reply,
// by its code.
func (c *counters) sentMsg(m *msgenc.Message) {
	c.sent.Add(1)
	c.sentKinds[kindIndex(m.Kind)].Add(1)
	if m.Kind == msgenc.KindError && m.Error != nil {
		c.refuse(m.Error.Code)
	}
}

// refuse counts a request refused with code. Error replies are counted as
// they are sent; a refusal carried another way (a forwarded query's
// ForwardReply.Error) is counted by whoever makes it.
func (c *counters) refuse(code msgenc.ErrorCode) { c.rare.get().refused[codeIndex(code)].Add(1) }

// receivedMsg counts a frame that decoded, by kind.
func (c *counters) receivedMsg(k msgenc.Kind) { c.receivedKinds[kindIndex(k)].Add(1) }

// answered records how long a request of kind k waited for its answer.
func (c *counters) answered(k msgenc.Kind, d time.Duration) {
	if i := slices.Index(requestKinds[:], k); i >= 0 {
		c.rpcLatency[i].get().observe(&latencyBounds, int64(d))
	}
}

// LookupStats sums the cost of every lookup the node originated.
type LookupStats struct {
	Count, Failed uint64
	// RPCs, Hops and Latency are totals; divide by Count for means.
	RPCs, Hops uint64
	Latency    time.Duration
	MaxHops    int
}

// Stats is a snapshot of a node's counters.
type Stats struct {
	// RPCsSent counts frames sent; RPCsReceived frames received, valid or not.
	RPCsSent, RPCsReceived uint64
	// Requests counts requests this node originated; Served the requests it
	// answered; Forwarded the forwarded queries it handled as a hop.
	Requests, Served, Forwarded uint64
	SendErrors, Timeouts        uint64
	// EvictionPings counts pings sent to full buckets' eviction candidates.
	EvictionPings uint64
	// Refused counts the requests this node refused, each answered with an
	// error code (by code: Metrics().Refused).
	Refused uint64
	// Dropped counts what was dropped, by reason: incoming frames and
	// received values that failed verification (DropBadValue) or the
	// policy (DropPolicy). Reasons that never happened are left out.
	Dropped map[DropReason]uint64
	// Unproven counts answers replaced by a short refusal because they
	// would have been more than three times the request's size, to an
	// address that has not proved itself (see PaddedRequestSize).
	Unproven uint64
	// SignatureChecks counts peer records whose signature this node
	// checked: those seen for the first time, or again after the verified
	// cache forgot them.
	SignatureChecks uint64
	// UnverifiedSenders counts plain queries answered without checking
	// the sender, whom the table could not keep (see route.Admission).
	UnverifiedSenders uint64
	TableSize         int
	Records           int
	Lookups           LookupStats
}

// Stats returns a snapshot of the node's counters.
func (n *Node) Stats() Stats {
	s := Stats{
		RPCsSent: n.stats.sent.Load(), RPCsReceived: n.stats.received.Load(),
		Requests: n.stats.requests.Load(), Served: n.stats.served.Load(), Forwarded: n.stats.forwarded.Load(),
		SendErrors: n.stats.sendErrors.Load(), Timeouts: n.stats.timeouts.Load(),
		EvictionPings: n.stats.evictionPings.Load(), Refused: n.stats.refusedTotal(),
		Unproven:        n.stats.cut.Load(),
		SignatureChecks: n.stats.sigChecks.Load(), UnverifiedSenders: n.stats.unverified.Load(),
		Dropped:   make(map[DropReason]uint64, numDropReasons),
		TableSize: n.table.Len(),
	}
	rare := n.stats.rare.peek()
	for i := range rare.drops {
		if v := rare.drops[i].Load(); v > 0 {
			s.Dropped[DropReason(i)] = v
		}
	}
	if n.live() == nil {
		if l, err := n.cfg.store.Len(context.Background()); err == nil {
			s.Records = l
		}
	}
	n.stats.mu.Lock()
	s.Lookups = n.stats.lookups
	n.stats.mu.Unlock()
	return s
}

// numKinds sizes the counters by message kind; index 0 counts kinds
// msgenc does not know.
const numKinds = int(msgenc.KindForwardReply) + 1

func kindIndex(k msgenc.Kind) int {
	if k.Valid() && int(k) < numKinds {
		return int(k)
	}
	return 0
}

// numCodes sizes the counters by error code; index 0 counts codes msgenc
// does not know.
const numCodes = int(msgenc.CodeQuota) + 1

func codeIndex(c msgenc.ErrorCode) int {
	if c > 0 && int(c) < numCodes {
		return int(c)
	}
	return 0
}

// requestKinds are the kinds of request whose answers the node times.
var requestKinds = [...]msgenc.Kind{
	msgenc.KindPing, msgenc.KindFindNode, msgenc.KindFindValue, msgenc.KindStore, msgenc.KindForward,
}

// histBuckets is the number of bucket bounds of every histogram the node
// keeps; observations above the last bound fall in one more bucket.
const histBuckets = 16

// Bucket bounds: latencies in nanoseconds from loopback (100µs) to a lookup
// that waited out timeouts (10s); hops and RPC counts as small integers.
var (
	latencyBounds = [histBuckets]int64{
		int64(100 * time.Microsecond), int64(250 * time.Microsecond), int64(500 * time.Microsecond),
		int64(time.Millisecond), int64(2500 * time.Microsecond), int64(5 * time.Millisecond),
		int64(10 * time.Millisecond), int64(25 * time.Millisecond), int64(50 * time.Millisecond),
		int64(100 * time.Millisecond), int64(250 * time.Millisecond), int64(500 * time.Millisecond),
		int64(time.Second), int64(2500 * time.Millisecond), int64(5 * time.Second), int64(10 * time.Second),
	}
	hopBounds   = [histBuckets]int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 20, 32}
	countBounds = [histBuckets]int64{0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64}
)

// histogram counts observations in fixed buckets with atomics: observe
// neither locks nor allocates.
type histogram struct {
	counts [histBuckets + 1]atomic.Uint64
	sum    atomic.Int64
}

// observe adds v to the bucket of the first bound at or above it. Negative
// values count as 0.
func (h *histogram) observe(bounds *[histBuckets]int64, v int64) {
	v = max(v, 0)
	i, _ := slices.BinarySearch(bounds[:], v)
	h.counts[i].Add(1)
	h.sum.Add(v)
}

// snapshot returns the histogram with bounds and sum multiplied by scale.
// Buckets are read one by one while observations go on, so Sum may include
// an observation the counts do not yet show, or the reverse.
func (h *histogram) snapshot(bounds *[histBuckets]int64, scale float64) Histogram {
	out := Histogram{Bounds: make([]float64, histBuckets), Counts: make([]uint64, histBuckets+1)}
	for i, b := range bounds {
		out.Bounds[i] = float64(b) * scale
	}
	for i := range h.counts {
		out.Counts[i] = h.counts[i].Load()
		out.Count += out.Counts[i]
	}
	out.Sum = float64(h.sum.Load()) * scale
	return out
}

// Histogram is a snapshot of a distribution counted in fixed buckets.
type Histogram struct {
	// Bounds are the buckets' upper bounds, ascending.
	Bounds []float64
	// Counts[i] counts the observations v with Bounds[i-1] < v <= Bounds[i]
	// (v <= Bounds[0] for i = 0); Counts[len(Bounds)] counts those above
	// the last bound. Counts are per bucket, not cumulative.
	Counts []uint64
	// Count is the number of observations, the sum of Counts; Sum their
	// total.
	Count uint64
	Sum   float64
}

// Metrics is a detailed snapshot of a node's counters for monitoring; the
// Prometheus adapter (package metrics/prometheus) exports it. Where Stats
// leaves out zeros, Metrics lists every kind, reason and code, so that a
// monitoring series exists before its first event. Its maps and slices are
// fresh: the caller owns them.
type Metrics struct {
	// Sent counts frames sent by message kind, resends included; the
	// counts sum to Stats.RPCsSent.
	Sent map[msgenc.Kind]uint64
	// Received counts frames that decoded, by message kind. A frame that
	// did not decode counts only in Stats.RPCsReceived and
	// Dropped[DropDecode].
	Received map[msgenc.Kind]uint64
	// Dropped counts what was dropped by reason, as Stats.Dropped does,
	// with every reason listed.
	Dropped map[DropReason]uint64
	// Refused counts the requests this node answered with an Error, by
	// its code, every code msgenc names listed; codes it does not name
	// count under 0.
	Refused map[msgenc.ErrorCode]uint64
	// RPCLatency holds, for each kind of request the node sends (ping,
	// find-node, find-value, store, forward), the time in seconds from a
	// request's first send to its answer, resends included. A request
	// that gets no answer is not observed: it counts in Stats.Timeouts. A
	// direct-reply forward, answered by a peer other than the one asked,
	// is not observed either.
	RPCLatency map[msgenc.Kind]Histogram
	// LookupLatency (in seconds), LookupRPCs and LookupHops describe each
	// lookup the node originated, one observation per lookup, failed ones
	// included: the distributions of what Stats.Lookups sums.
	LookupLatency, LookupRPCs, LookupHops Histogram
	// Buckets[i] is the number of peers in the routing table that share
	// exactly i leading bits with the node's ID: the fill of Kademlia's
	// bucket i, whatever the table. It ends at the deepest non-empty
	// bucket; an empty table gives an empty slice.
	Buckets []int
	// StoredBytes is the size of the values in the store, keys and
	// metadata excluded, or -1 when the store cannot say: it does not
	// implement kvstore.Ranger, or the node is closed.
	StoredBytes int64
}

// Metrics returns a detailed snapshot of the node's counters. Unlike Stats
// it does work in proportion to what the node holds: it ranks the whole
// routing table to fill Buckets, and walks the store to sum StoredBytes.
// Call it when monitoring asks (a scrape every few seconds), not per
// operation.
func (n *Node) Metrics() Metrics {
	c := &n.stats
	m := Metrics{
		Sent:       make(map[msgenc.Kind]uint64, numKinds-1),
		Received:   make(map[msgenc.Kind]uint64, numKinds-1),
		Dropped:    make(map[DropReason]uint64, numDropReasons),
		Refused:    make(map[msgenc.ErrorCode]uint64, numCodes),
		RPCLatency: make(map[msgenc.Kind]Histogram, len(requestKinds)),
	}
	for k := msgenc.KindPing; k.Valid() && int(k) < numKinds; k++ {
		m.Sent[k] = c.sentKinds[k].Load()
		m.Received[k] = c.receivedKinds[k].Load()
	}
	rare := c.rare.peek()
	for i := range rare.drops {
		m.Dropped[DropReason(i)] = rare.drops[i].Load()
	}
	for i := range rare.refused {
		m.Refused[msgenc.ErrorCode(i)] = rare.refused[i].Load()
	}
	const seconds = 1 / float64(time.Second)
	for i, k := range requestKinds {
		m.RPCLatency[k] = c.rpcLatency[i].peek().snapshot(&latencyBounds, seconds)
	}
	lh := c.lookupHists.peek()
	m.LookupLatency = lh.latency.snapshot(&latencyBounds, seconds)
	m.LookupRPCs = lh.rpcs.snapshot(&countBounds, 1)
	m.LookupHops = lh.hops.snapshot(&hopBounds, 1)
	m.Buckets = n.bucketFill()
	m.StoredBytes = n.storedBytes()
	return m
}

// bucketFill counts the table's peers by the length of the prefix they
// share with the node's ID.
func (n *Node) bucketFill() []int {
	fill := []int{}
	for _, r := range n.table.Closest(n.id, n.table.Len()) {
		i := n.id.CommonPrefixLen(r.ID)
		for len(fill) <= i {
			fill = append(fill, 0)
		}
		fill[i]++
	}
	return fill
}

// storedBytes sums the sizes of the stored values, or returns -1 when the
// store cannot be walked.
func (n *Node) storedBytes() int64 {
	r, ok := n.cfg.store.(kvstore.Ranger)
	if !ok || n.live() != nil {
		return -1
	}
	var size int64
	err := r.Range(n.ctx, func(key []byte, rec kvstore.Record) bool {
		id, err := n.keyID(key)
		if err != nil {
			return true // not a value set: the node's own bookkeeping
		}
		es, err := decodeSet(id, rec.Value)
		if err != nil {
			return true
		}
		for _, e := range es {
			size += int64(len(e.v.Value))
		}
		return true
	})
	if err != nil {
		return -1
	}
	return size
}

func (c *counters) refusedTotal() uint64 {
	var sum uint64
	rare := c.rare.peek()
	for i := range rare.refused {
		sum += rare.refused[i].Load()
	}
	return sum
}
