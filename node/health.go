package node

import (
	"hash/maphash"
	"math"
	"sync"
	"time"

	"github.com/dhtkit/dhtkit/peer"
)

// health remembers, for the peers this node has contacted, how long they
// take to answer and whether they recently stopped answering: every lookup
// then waits on each peer about as long as it needs, and none waits again
// on a peer that just failed, whether or not the peer is in the table.
//
// Timeouts follow TCP's (RFC 6298): SRTT and RTTVAR per peer, RTO =
// SRTT + 4·RTTVAR, kept between a floor and the RPC timeout; a peer never
// measured gets the node's estimate over all peers. A peer whose requests
// failed twice in a row is skipped for a backoff that doubles with each
// further failure (one lost exchange is not enough to write a peer off),
// and forgiven as soon as it answers.
type health struct {
	mu sync.Mutex
	// peers is keyed by key(id): 8 bytes a peer, not the 33 of an ID.
	peers   map[uint64]peerHealth
	seed    maphash.Seed
	all     rtt           // over every peer: the guess for one never measured
	ceiling time.Duration // the RPC timeout; the floor is worked out from it
}

// peerHealth is kept small, 16 bytes: the node holds one per peer it has
// contacted. Times are whole Unix seconds, which last until 2106; a
// backoff's end is rounded up, so a peer is skipped at most a second
// longer than its backoff. The count of failures shares a word with the
// smoothed round trip, which never needs more than rttBits.
type peerHealth struct {
	srttFails uint32 // srtt in µs (low rttBits) and failures (the bits above)
	rttvar    uint32
	downTill  uint32 // Unix seconds; 0 when not backing off
	seen      uint32 // Unix seconds of the last frame from the peer; 0 never
}

// rttBits holds a round trip of up to 268 s in microseconds; the 4 bits
// above it count failures up to maxFailures.
const (
	rttBits     = 28
	rttMask     = 1<<rttBits - 1
	maxFailures = 1<<(32-rttBits) - 1
)

// estimate is the peer's smoothed round trip.
func (e *peerHealth) estimate() rtt { return rtt{srtt: e.srttFails & rttMask, rttvar: e.rttvar} }

// measured folds a round-trip sample into the estimate.
func (e *peerHealth) measured(sample time.Duration) {
	r := e.estimate()
	r.add(sample)
	e.srttFails = e.srttFails&^rttMask | r.srtt
	e.rttvar = r.rttvar
}

// failures counts the requests in a row the peer did not answer, up to
// maxFailures: past 8 the backoff is maxBackoff anyway.
func (e *peerHealth) failures() int { return int(e.srttFails >> rttBits) }

func (e *peerHealth) setFailures(f int) {
	e.srttFails = e.srttFails&rttMask | uint32(min(f, maxFailures))<<rttBits
}

// unixSeconds is t in whole Unix seconds, rounded up when up is set, held
// within uint32 (a time before 1970 is 0, the same as never).
func unixSeconds(t time.Time, up bool) uint32 {
	s := t.Unix()
	if up && t.Nanosecond() > 0 {
		s++
	}
	return uint32(min(max(s, 0), math.MaxUint32))
}

// rtt is a smoothed round-trip estimate in microseconds. Samples are held
// to rttMask (268 s, more than any RPC timeout waits), so that srtt fits
// rttBits and the RTO cannot overflow.
type rtt struct {
	srtt, rttvar uint32
}

const (
	// maxHealthPeers bounds the peers remembered; beyond it an arbitrary
	// one is forgotten, which costs it only its estimate.
	maxHealthPeers = 2048
	// firstBackoff is how long a peer that failed once is skipped; it
	// doubles with every further failure, up to maxBackoff.
	firstBackoff = 15 * time.Second
	// downAfter is how many requests in a row a peer must fail to be
	// skipped.
	downAfter  = 2
	maxBackoff = 10 * time.Minute
)

func (h *health) init(rpcTimeout time.Duration) {
	h.peers = make(map[uint64]peerHealth)
	h.seed = maphash.MakeSeed()
	h.ceiling = rpcTimeout
}

// floor is the shortest timeout: well above a loopback round trip, so
// that a busy machine does not turn into peers that seem dead.
func (h *health) floor() time.Duration { return min(h.ceiling/4, 250*time.Millisecond) }

// key is id's key in peers: a 64-bit hash of it under the node's secret
// seed. Two peers that share one (about one chance in 2^43 among
// maxHealthPeers peers, and none a peer can aim for without the seed)
// share an estimate and a backoff: one may be waited on a little longer
// or skipped while the other is down, as after a lost packet. No bound
// and no check rests on it.
func (h *health) key(id peer.ID) uint64 {
	var b [peer.MaxIDLen]byte
	return maphash.Bytes(h.seed, id.AppendBytes(b[:0]))
}

func (r *rtt) add(sample time.Duration) {
	s := uint32(min(max(sample/time.Microsecond, 1), rttMask))
	if r.srtt == 0 {
		r.srtt, r.rttvar = s, s/2
		return
	}
	diff := int64(r.srtt) - int64(s)
	if diff < 0 {
		diff = -diff
	}
	r.rttvar = uint32((3*int64(r.rttvar) + diff) / 4)
	r.srtt = uint32((7*int64(r.srtt) + int64(s)) / 8)
}

func (r rtt) rto() time.Duration {
	return time.Duration(r.srtt+4*r.rttvar) * time.Microsecond
}

// timeout is how long to wait for id's first answer before resending or
// asking someone else.
func (h *health) timeout(id peer.ID) time.Duration {
	h.mu.Lock()
	p := h.peers[h.key(id)]
	e := p.estimate()
	if e.srtt == 0 {
		e = h.all
	}
	h.mu.Unlock()
	if e.srtt == 0 {
		return h.ceiling
	}
	return min(max(e.rto(), h.floor()), h.ceiling)
}

// answered records a reply from id that took d after a request sent once:
// a retransmitted request's reply is ambiguous (Karn) and not measured.
func (h *health) answered(id peer.ID, d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.all.add(d)
	if id.IsZero() {
		return
	}
	k := h.key(id)
	e := h.room(k)
	e.measured(d)
	e.setFailures(0)
	e.downTill = 0
	h.peers[k] = e
}

// heard forgives id: it answered a request of ours.
func (h *health) heard(id peer.ID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := h.key(id)
	if e, ok := h.peers[k]; ok && e.failures() > 0 {
		e.setFailures(0)
		e.downTill = 0
		h.peers[k] = e
	}
}

// saw records a verified frame from id at now.
func (h *health) saw(id peer.ID, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := h.key(id)
	e := h.room(k)
	e.seen = unixSeconds(now, false)
	h.peers[k] = e
}

// quiet reports whether nothing has been heard from id after since.
func (h *health) quiet(id peer.ID, since time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return int64(h.peers[h.key(id)].seen) <= since.Unix()
}

// failing reports whether id failed to answer a request and has not
// answered one since.
func (h *health) failing(id peer.ID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.peers[h.key(id)]
	return e.failures() > 0
}

// failed records that id did not answer a request and its retries.
func (h *health) failed(id peer.ID, now time.Time) {
	if id.IsZero() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	k := h.key(id)
	e := h.room(k)
	e.setFailures(e.failures() + 1)
	if f := e.failures(); f >= downAfter {
		e.downTill = unixSeconds(now.Add(min(firstBackoff<<(f-downAfter), maxBackoff)), true)
	}
	h.peers[k] = e
}

// down reports whether id failed recently enough to be skipped.
func (h *health) down(id peer.ID, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.peers[h.key(id)]
	return ok && int64(e.downTill) > now.Unix()
}

// room returns the entry of key k, making room for it if it is new.
// Called with h.mu held.
func (h *health) room(k uint64) peerHealth {
	if e, ok := h.peers[k]; ok {
		return e
	}
	if len(h.peers) >= maxHealthPeers {
		for old := range h.peers {
			delete(h.peers, old)
			break
		}
	}
	return peerHealth{}
}
